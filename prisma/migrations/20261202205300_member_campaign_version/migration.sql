-- Every message reads its member (with its unit) and its campaign: kept between messages while
-- neither table is written (src/db/versions.ts), so they are versioned like the ledger's tables.
INSERT INTO "DataVersion" ("table") VALUES ('Member'), ('Campaign');
CREATE TRIGGER "Member_version_insert" AFTER INSERT ON "Member" BEGIN UPDATE "DataVersion" SET "version" = "version" + 1 WHERE "table" = 'Member'; END;
CREATE TRIGGER "Member_version_update" AFTER UPDATE ON "Member" BEGIN UPDATE "DataVersion" SET "version" = "version" + 1 WHERE "table" = 'Member'; END;
CREATE TRIGGER "Member_version_delete" AFTER DELETE ON "Member" BEGIN UPDATE "DataVersion" SET "version" = "version" + 1 WHERE "table" = 'Member'; END;
CREATE TRIGGER "Campaign_version_insert" AFTER INSERT ON "Campaign" BEGIN UPDATE "DataVersion" SET "version" = "version" + 1 WHERE "table" = 'Campaign'; END;
CREATE TRIGGER "Campaign_version_update" AFTER UPDATE ON "Campaign" BEGIN UPDATE "DataVersion" SET "version" = "version" + 1 WHERE "table" = 'Campaign'; END;
CREATE TRIGGER "Campaign_version_delete" AFTER DELETE ON "Campaign" BEGIN UPDATE "DataVersion" SET "version" = "version" + 1 WHERE "table" = 'Campaign'; END;
