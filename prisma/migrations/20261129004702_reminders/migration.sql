-- AlterTable
ALTER TABLE "Obligation" ADD COLUMN "snoozeReason" TEXT;
ALTER TABLE "Obligation" ADD COLUMN "snoozedUntil" TEXT;

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
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" DATETIME NOT NULL
);
INSERT INTO "new_Campaign" ("countyCode", "countyName", "createdAt", "docNumber", "effectiveOn", "id", "issuedOn", "issuer", "key", "name", "updatedAt") SELECT "countyCode", "countyName", "createdAt", "docNumber", "effectiveOn", "id", "issuedOn", "issuer", "key", "name", "updatedAt" FROM "Campaign";
DROP TABLE "Campaign";
ALTER TABLE "new_Campaign" RENAME TO "Campaign";
CREATE UNIQUE INDEX "Campaign_key_key" ON "Campaign"("key");
CREATE INDEX "Campaign_countyCode_idx" ON "Campaign"("countyCode");
CREATE TABLE "new_ReminderLedger" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "rule" TEXT NOT NULL,
    "target" TEXT NOT NULL,
    "slot" TEXT NOT NULL,
    "state" TEXT NOT NULL DEFAULT 'queued',
    "outboxId" INTEGER,
    "createdAt" DATETIME NOT NULL
);
INSERT INTO "new_ReminderLedger" ("createdAt", "id", "outboxId", "rule", "slot", "target") SELECT "createdAt", "id", "outboxId", "rule", "slot", "target" FROM "ReminderLedger";
DROP TABLE "ReminderLedger";
ALTER TABLE "new_ReminderLedger" RENAME TO "ReminderLedger";
CREATE UNIQUE INDEX "ReminderLedger_rule_target_slot_key" ON "ReminderLedger"("rule", "target", "slot");
PRAGMA foreign_keys=ON;
PRAGMA defer_foreign_keys=OFF;

-- CreateIndex
CREATE INDEX "OutboxMessage_channel_target_sentAt_idx" ON "OutboxMessage"("channel", "target", "sentAt");
