-- CreateTable
CREATE TABLE "Claim" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "countyCode" TEXT NOT NULL,
    "enterpriseId" INTEGER NOT NULL,
    "insurerId" INTEGER NOT NULL,
    "accidentOn" TEXT NOT NULL,
    "reportedOn" TEXT NOT NULL,
    "claimedFen" INTEGER NOT NULL,
    "paidFen" INTEGER,
    "paidOn" TEXT,
    "note" TEXT,
    "recordedBy" TEXT NOT NULL,
    "recordedAt" DATETIME NOT NULL,
    "paidBy" TEXT,
    "paidAt" DATETIME,
    "isDemo" BOOLEAN NOT NULL DEFAULT false,
    "withdrawnAt" DATETIME,
    "withdrawnBy" TEXT,
    CONSTRAINT "Claim_enterpriseId_fkey" FOREIGN KEY ("enterpriseId") REFERENCES "Enterprise" ("id") ON DELETE CASCADE ON UPDATE CASCADE,
    CONSTRAINT "Claim_insurerId_fkey" FOREIGN KEY ("insurerId") REFERENCES "Unit" ("id") ON DELETE RESTRICT ON UPDATE CASCADE
);

-- CreateTable
CREATE TABLE "ClaimDispute" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "claimId" INTEGER NOT NULL,
    "coordinatorId" INTEGER NOT NULL,
    "reason" TEXT NOT NULL,
    "openedBy" TEXT NOT NULL,
    "openedAt" DATETIME NOT NULL,
    "outcome" TEXT,
    "outcomeNote" TEXT,
    "closedBy" TEXT,
    "closedAt" DATETIME,
    "withdrawnAt" DATETIME,
    "withdrawnBy" TEXT,
    CONSTRAINT "ClaimDispute_claimId_fkey" FOREIGN KEY ("claimId") REFERENCES "Claim" ("id") ON DELETE CASCADE ON UPDATE CASCADE,
    CONSTRAINT "ClaimDispute_coordinatorId_fkey" FOREIGN KEY ("coordinatorId") REFERENCES "Unit" ("id") ON DELETE RESTRICT ON UPDATE CASCADE
);

-- CreateTable
CREATE TABLE "AgencyFinding" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "countyCode" TEXT NOT NULL,
    "agencyId" INTEGER NOT NULL,
    "insurerId" INTEGER NOT NULL,
    "kind" TEXT NOT NULL,
    "enterpriseId" INTEGER NOT NULL,
    "claimId" INTEGER,
    "text" TEXT NOT NULL,
    "recordedBy" TEXT NOT NULL,
    "recordedAt" DATETIME NOT NULL,
    "withdrawnAt" DATETIME,
    "withdrawnBy" TEXT,
    CONSTRAINT "AgencyFinding_agencyId_fkey" FOREIGN KEY ("agencyId") REFERENCES "Unit" ("id") ON DELETE RESTRICT ON UPDATE CASCADE,
    CONSTRAINT "AgencyFinding_insurerId_fkey" FOREIGN KEY ("insurerId") REFERENCES "Unit" ("id") ON DELETE RESTRICT ON UPDATE CASCADE,
    CONSTRAINT "AgencyFinding_enterpriseId_fkey" FOREIGN KEY ("enterpriseId") REFERENCES "Enterprise" ("id") ON DELETE CASCADE ON UPDATE CASCADE,
    CONSTRAINT "AgencyFinding_claimId_fkey" FOREIGN KEY ("claimId") REFERENCES "Claim" ("id") ON DELETE SET NULL ON UPDATE CASCADE
);

-- CreateIndex
CREATE INDEX "Claim_countyCode_paidOn_reportedOn_idx" ON "Claim"("countyCode", "paidOn", "reportedOn");

-- CreateIndex
CREATE INDEX "Claim_insurerId_reportedOn_idx" ON "Claim"("insurerId", "reportedOn");

-- CreateIndex
CREATE INDEX "Claim_enterpriseId_accidentOn_idx" ON "Claim"("enterpriseId", "accidentOn");

-- CreateIndex
CREATE INDEX "ClaimDispute_claimId_closedAt_idx" ON "ClaimDispute"("claimId", "closedAt");

-- CreateIndex
CREATE INDEX "AgencyFinding_insurerId_recordedAt_idx" ON "AgencyFinding"("insurerId", "recordedAt");

-- CreateIndex
CREATE INDEX "AgencyFinding_enterpriseId_idx" ON "AgencyFinding"("enterpriseId");
