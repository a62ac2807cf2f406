-- CreateTable
CREATE TABLE "DataVersion" (
    "table" TEXT NOT NULL PRIMARY KEY,
    "version" BIGINT NOT NULL DEFAULT 0
);

-- The versioned tables start at 0: each write to one adds 1 in the writer's own statement and
-- transaction (a trigger per table and kind of write: SQLite's triggers run for each row).
INSERT INTO "DataVersion" ("table") VALUES ('Enterprise'), ('Policy'), ('EnterpriseState'), ('ProgressReport'), ('Sector'), ('Unit'), ('SectorResponsibility'), ('Target');
CREATE TRIGGER "Enterprise_version_insert" AFTER INSERT ON "Enterprise" BEGIN UPDATE "DataVersion" SET "version" = "version" + 1 WHERE "table" = 'Enterprise'; END;
CREATE TRIGGER "Enterprise_version_update" AFTER UPDATE ON "Enterprise" BEGIN UPDATE "DataVersion" SET "version" = "version" + 1 WHERE "table" = 'Enterprise'; END;
CREATE TRIGGER "Enterprise_version_delete" AFTER DELETE ON "Enterprise" BEGIN UPDATE "DataVersion" SET "version" = "version" + 1 WHERE "table" = 'Enterprise'; END;
CREATE TRIGGER "Policy_version_insert" AFTER INSERT ON "Policy" BEGIN UPDATE "DataVersion" SET "version" = "version" + 1 WHERE "table" = 'Policy'; END;
CREATE TRIGGER "Policy_version_update" AFTER UPDATE ON "Policy" BEGIN UPDATE "DataVersion" SET "version" = "version" + 1 WHERE "table" = 'Policy'; END;
CREATE TRIGGER "Policy_version_delete" AFTER DELETE ON "Policy" BEGIN UPDATE "DataVersion" SET "version" = "version" + 1 WHERE "table" = 'Policy'; END;
CREATE TRIGGER "EnterpriseState_version_insert" AFTER INSERT ON "EnterpriseState" BEGIN UPDATE "DataVersion" SET "version" = "version" + 1 WHERE "table" = 'EnterpriseState'; END;
CREATE TRIGGER "EnterpriseState_version_update" AFTER UPDATE ON "EnterpriseState" BEGIN UPDATE "DataVersion" SET "version" = "version" + 1 WHERE "table" = 'EnterpriseState'; END;
CREATE TRIGGER "EnterpriseState_version_delete" AFTER DELETE ON "EnterpriseState" BEGIN UPDATE "DataVersion" SET "version" = "version" + 1 WHERE "table" = 'EnterpriseState'; END;
CREATE TRIGGER "ProgressReport_version_insert" AFTER INSERT ON "ProgressReport" BEGIN UPDATE "DataVersion" SET "version" = "version" + 1 WHERE "table" = 'ProgressReport'; END;
CREATE TRIGGER "ProgressReport_version_update" AFTER UPDATE ON "ProgressReport" BEGIN UPDATE "DataVersion" SET "version" = "version" + 1 WHERE "table" = 'ProgressReport'; END;
CREATE TRIGGER "ProgressReport_version_delete" AFTER DELETE ON "ProgressReport" BEGIN UPDATE "DataVersion" SET "version" = "version" + 1 WHERE "table" = 'ProgressReport'; END;
CREATE TRIGGER "Sector_version_insert" AFTER INSERT ON "Sector" BEGIN UPDATE "DataVersion" SET "version" = "version" + 1 WHERE "table" = 'Sector'; END;
CREATE TRIGGER "Sector_version_update" AFTER UPDATE ON "Sector" BEGIN UPDATE "DataVersion" SET "version" = "version" + 1 WHERE "table" = 'Sector'; END;
CREATE TRIGGER "Sector_version_delete" AFTER DELETE ON "Sector" BEGIN UPDATE "DataVersion" SET "version" = "version" + 1 WHERE "table" = 'Sector'; END;
CREATE TRIGGER "Unit_version_insert" AFTER INSERT ON "Unit" BEGIN UPDATE "DataVersion" SET "version" = "version" + 1 WHERE "table" = 'Unit'; END;
CREATE TRIGGER "Unit_version_update" AFTER UPDATE ON "Unit" BEGIN UPDATE "DataVersion" SET "version" = "version" + 1 WHERE "table" = 'Unit'; END;
CREATE TRIGGER "Unit_version_delete" AFTER DELETE ON "Unit" BEGIN UPDATE "DataVersion" SET "version" = "version" + 1 WHERE "table" = 'Unit'; END;
CREATE TRIGGER "SectorResponsibility_version_insert" AFTER INSERT ON "SectorResponsibility" BEGIN UPDATE "DataVersion" SET "version" = "version" + 1 WHERE "table" = 'SectorResponsibility'; END;
CREATE TRIGGER "SectorResponsibility_version_update" AFTER UPDATE ON "SectorResponsibility" BEGIN UPDATE "DataVersion" SET "version" = "version" + 1 WHERE "table" = 'SectorResponsibility'; END;
CREATE TRIGGER "SectorResponsibility_version_delete" AFTER DELETE ON "SectorResponsibility" BEGIN UPDATE "DataVersion" SET "version" = "version" + 1 WHERE "table" = 'SectorResponsibility'; END;
CREATE TRIGGER "Target_version_insert" AFTER INSERT ON "Target" BEGIN UPDATE "DataVersion" SET "version" = "version" + 1 WHERE "table" = 'Target'; END;
CREATE TRIGGER "Target_version_update" AFTER UPDATE ON "Target" BEGIN UPDATE "DataVersion" SET "version" = "version" + 1 WHERE "table" = 'Target'; END;
CREATE TRIGGER "Target_version_delete" AFTER DELETE ON "Target" BEGIN UPDATE "DataVersion" SET "version" = "version" + 1 WHERE "table" = 'Target'; END;
