-- CreateTable
CREATE TABLE "BlacklistProposal" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "campaignId" INTEGER NOT NULL,
    "enterpriseId" INTEGER NOT NULL,
    "obligationId" INTEGER NOT NULL,
    "unitId" INTEGER NOT NULL,
    "reason" TEXT NOT NULL,
    "proposedBy" TEXT NOT NULL,
    "proposedAt" DATETIME NOT NULL,
    "state" TEXT NOT NULL DEFAULT 'proposed',
    "decidedBy" TEXT,
    "decidedAt" DATETIME,
    "decisionNote" TEXT,
    "isDemo" BOOLEAN NOT NULL DEFAULT false,
    "withdrawnAt" DATETIME,
    "withdrawnBy" TEXT
);

-- CreateIndex
CREATE INDEX "BlacklistProposal_campaignId_state_id_idx" ON "BlacklistProposal"("campaignId", "state", "id");

-- CreateIndex
CREATE INDEX "BlacklistProposal_obligationId_idx" ON "BlacklistProposal"("obligationId");
