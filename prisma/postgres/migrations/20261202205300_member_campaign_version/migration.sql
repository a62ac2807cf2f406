-- Every message reads its member (with its unit) and its campaign: kept between messages while
-- neither table is written (src/db/versions.ts), so they are versioned like the ledger's tables.
INSERT INTO "DataVersion" ("table") VALUES ('Member'), ('Campaign');
CREATE TRIGGER "Member_version" AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON "Member" FOR EACH STATEMENT EXECUTE FUNCTION "bump_data_version"();
CREATE TRIGGER "Campaign_version" AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON "Campaign" FOR EACH STATEMENT EXECUTE FUNCTION "bump_data_version"();
