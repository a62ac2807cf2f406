-- AlterTable
ALTER TABLE "Duty" ADD COLUMN "counts" TEXT;

-- CreateTable
CREATE TABLE "Inspection" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "campaignId" INTEGER NOT NULL,
    "enterpriseId" INTEGER NOT NULL,
    "unitId" INTEGER NOT NULL,
    "sectorId" INTEGER NOT NULL,
    "townshipId" INTEGER NOT NULL,
    "inspectedOn" TEXT NOT NULL,
    "findings" TEXT NOT NULL,
    "note" TEXT,
    "rectifyBy" TEXT,
    "penaltyNo" TEXT,
    "penaltyFen" INTEGER,
    "recordedBy" TEXT NOT NULL,
    "recordedAt" DATETIME NOT NULL,
    "isDemo" BOOLEAN NOT NULL DEFAULT false,
    "withdrawnAt" DATETIME,
    "withdrawnBy" TEXT,
    CONSTRAINT "Inspection_enterpriseId_fkey" FOREIGN KEY ("enterpriseId") REFERENCES "Enterprise" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);

-- RedefineTables
PRAGMA defer_foreign_keys=ON;
PRAGMA foreign_keys=OFF;
CREATE TABLE "new_Obligation" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "campaignId" INTEGER NOT NULL,
    "dutyId" INTEGER,
    "unitId" INTEGER NOT NULL,
    "sectorId" INTEGER,
    "title" TEXT NOT NULL,
    "period" TEXT NOT NULL,
    "dueOn" TEXT NOT NULL,
    "status" TEXT NOT NULL DEFAULT 'assigned',
    "requestedDueOn" TEXT,
    "requestReason" TEXT,
    "assignedBy" TEXT,
    "snoozedUntil" TEXT,
    "snoozeReason" TEXT,
    "inspectionId" INTEGER,
    "finding" TEXT,
    "doneAt" DATETIME,
    "isDemo" BOOLEAN NOT NULL DEFAULT false,
    "withdrawnAt" DATETIME,
    "withdrawnBy" TEXT,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" DATETIME NOT NULL,
    CONSTRAINT "Obligation_campaignId_fkey" FOREIGN KEY ("campaignId") REFERENCES "Campaign" ("id") ON DELETE CASCADE ON UPDATE CASCADE,
    CONSTRAINT "Obligation_dutyId_fkey" FOREIGN KEY ("dutyId") REFERENCES "Duty" ("id") ON DELETE SET NULL ON UPDATE CASCADE,
    CONSTRAINT "Obligation_unitId_fkey" FOREIGN KEY ("unitId") REFERENCES "Unit" ("id") ON DELETE RESTRICT ON UPDATE CASCADE,
    CONSTRAINT "Obligation_sectorId_fkey" FOREIGN KEY ("sectorId") REFERENCES "Sector" ("id") ON DELETE SET NULL ON UPDATE CASCADE,
    CONSTRAINT "Obligation_inspectionId_fkey" FOREIGN KEY ("inspectionId") REFERENCES "Inspection" ("id") ON DELETE SET NULL ON UPDATE CASCADE
);
INSERT INTO "new_Obligation" ("assignedBy", "campaignId", "createdAt", "doneAt", "dueOn", "dutyId", "id", "isDemo", "period", "requestReason", "requestedDueOn", "sectorId", "snoozeReason", "snoozedUntil", "status", "title", "unitId", "updatedAt", "withdrawnAt", "withdrawnBy") SELECT "assignedBy", "campaignId", "createdAt", "doneAt", "dueOn", "dutyId", "id", "isDemo", "period", "requestReason", "requestedDueOn", "sectorId", "snoozeReason", "snoozedUntil", "status", "title", "unitId", "updatedAt", "withdrawnAt", "withdrawnBy" FROM "Obligation";
DROP TABLE "Obligation";
ALTER TABLE "new_Obligation" RENAME TO "Obligation";
CREATE INDEX "Obligation_unitId_status_dueOn_idx" ON "Obligation"("unitId", "status", "dueOn");
CREATE INDEX "Obligation_inspectionId_idx" ON "Obligation"("inspectionId");
CREATE UNIQUE INDEX "Obligation_campaignId_dutyId_unitId_period_key" ON "Obligation"("campaignId", "dutyId", "unitId", "period");
PRAGMA foreign_keys=ON;
PRAGMA defer_foreign_keys=OFF;

-- CreateIndex
CREATE INDEX "Inspection_campaignId_inspectedOn_sectorId_idx" ON "Inspection"("campaignId", "inspectedOn", "sectorId");

-- CreateIndex
CREATE INDEX "Inspection_enterpriseId_inspectedOn_idx" ON "Inspection"("enterpriseId", "inspectedOn");
