-- AlterTable
ALTER TABLE "AuditEvent" ADD COLUMN "undo" TEXT;
ALTER TABLE "AuditEvent" ADD COLUMN "undoneAt" DATETIME;

-- AlterTable
ALTER TABLE "Obligation" ADD COLUMN "assignedBy" TEXT;
ALTER TABLE "Obligation" ADD COLUMN "requestReason" TEXT;
ALTER TABLE "Obligation" ADD COLUMN "requestedDueOn" TEXT;

-- AlterTable
ALTER TABLE "PreventionVisit" ADD COLUMN "comment" TEXT;

-- CreateTable
CREATE TABLE "PendingAction" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "userId" TEXT NOT NULL,
    "chatId" TEXT,
    "text" TEXT NOT NULL,
    "preview" TEXT NOT NULL,
    "state" TEXT NOT NULL DEFAULT 'pending',
    "createdAt" DATETIME NOT NULL,
    "expiresAt" DATETIME NOT NULL
);

-- CreateTable
CREATE TABLE "ServicePlan" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "insurerId" INTEGER NOT NULL,
    "year" INTEGER NOT NULL,
    "text" TEXT NOT NULL,
    "counts" TEXT,
    "recordedBy" TEXT NOT NULL,
    "recordedAt" DATETIME NOT NULL
);

-- RedefineTables
PRAGMA defer_foreign_keys=ON;
PRAGMA foreign_keys=OFF;
CREATE TABLE "new_Unit" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "countyCode" TEXT NOT NULL,
    "code" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "kind" TEXT NOT NULL,
    "aliases" TEXT NOT NULL DEFAULT '',
    "statCode" TEXT,
    "sortOrder" INTEGER NOT NULL DEFAULT 0
);
INSERT INTO "new_Unit" ("code", "countyCode", "id", "kind", "name", "sortOrder", "statCode") SELECT "code", "countyCode", "id", "kind", "name", "sortOrder", "statCode" FROM "Unit";
DROP TABLE "Unit";
ALTER TABLE "new_Unit" RENAME TO "Unit";
CREATE UNIQUE INDEX "Unit_countyCode_code_key" ON "Unit"("countyCode", "code");
PRAGMA foreign_keys=ON;
PRAGMA defer_foreign_keys=OFF;

-- CreateIndex
CREATE INDEX "PendingAction_userId_state_idx" ON "PendingAction"("userId", "state");

-- CreateIndex
CREATE UNIQUE INDEX "ServicePlan_insurerId_year_key" ON "ServicePlan"("insurerId", "year");
