-- RedefineTables
PRAGMA defer_foreign_keys=ON;
PRAGMA foreign_keys=OFF;
CREATE TABLE "new_Campaign" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "key" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "docNumber" TEXT NOT NULL,
    "issuer" TEXT NOT NULL,
    "issuedOn" TEXT NOT NULL,
    "effectiveOn" TEXT NOT NULL,
    "countyCode" TEXT NOT NULL,
    "countyName" TEXT NOT NULL,
    "reminders" TEXT NOT NULL DEFAULT '{}',
    "assessment" TEXT NOT NULL DEFAULT '{}',
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" DATETIME NOT NULL
);
INSERT INTO "new_Campaign" ("countyCode", "countyName", "createdAt", "docNumber", "effectiveOn", "id", "issuedOn", "issuer", "key", "name", "reminders", "updatedAt") SELECT "countyCode", "countyName", "createdAt", "docNumber", "effectiveOn", "id", "issuedOn", "issuer", "key", "name", "reminders", "updatedAt" FROM "Campaign";
DROP TABLE "Campaign";
ALTER TABLE "new_Campaign" RENAME TO "Campaign";
CREATE UNIQUE INDEX "Campaign_key_key" ON "Campaign"("key");
CREATE INDEX "Campaign_countyCode_idx" ON "Campaign"("countyCode");
PRAGMA foreign_keys=ON;
PRAGMA defer_foreign_keys=OFF;
