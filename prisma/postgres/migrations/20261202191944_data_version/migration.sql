-- CreateTable
CREATE TABLE "DataVersion" (
    "table" TEXT NOT NULL,
    "version" BIGINT NOT NULL DEFAULT 0,

    CONSTRAINT "DataVersion_pkey" PRIMARY KEY ("table")
);

-- The versioned tables start at 0: each statement that writes one adds 1 in the writer's own
-- transaction (its row stays locked until then, so writers of one table commit their bumps in turn).
INSERT INTO "DataVersion" ("table") VALUES ('Enterprise'), ('Policy'), ('EnterpriseState'), ('ProgressReport'), ('Sector'), ('Unit'), ('SectorResponsibility'), ('Target');
-- The body is an escaped string with its semicolons written \073: Prisma's shadow database (npm run
-- db:migration, db:check) runs a migration as statements split at every semicolon.
CREATE FUNCTION "bump_data_version"() RETURNS trigger LANGUAGE plpgsql AS
  E'BEGIN UPDATE "DataVersion" SET "version" = "version" + 1 WHERE "table" = TG_TABLE_NAME\073 RETURN NULL\073 END';
CREATE TRIGGER "Enterprise_version" AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON "Enterprise" FOR EACH STATEMENT EXECUTE FUNCTION "bump_data_version"();
CREATE TRIGGER "Policy_version" AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON "Policy" FOR EACH STATEMENT EXECUTE FUNCTION "bump_data_version"();
CREATE TRIGGER "EnterpriseState_version" AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON "EnterpriseState" FOR EACH STATEMENT EXECUTE FUNCTION "bump_data_version"();
CREATE TRIGGER "ProgressReport_version" AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON "ProgressReport" FOR EACH STATEMENT EXECUTE FUNCTION "bump_data_version"();
CREATE TRIGGER "Sector_version" AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON "Sector" FOR EACH STATEMENT EXECUTE FUNCTION "bump_data_version"();
CREATE TRIGGER "Unit_version" AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON "Unit" FOR EACH STATEMENT EXECUTE FUNCTION "bump_data_version"();
CREATE TRIGGER "SectorResponsibility_version" AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON "SectorResponsibility" FOR EACH STATEMENT EXECUTE FUNCTION "bump_data_version"();
CREATE TRIGGER "Target_version" AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON "Target" FOR EACH STATEMENT EXECUTE FUNCTION "bump_data_version"();
