-- CreateTable
CREATE TABLE "BlacklistProposal" (
    "id" SERIAL NOT NULL,
    "campaignId" INTEGER NOT NULL,
    "enterpriseId" INTEGER NOT NULL,
    "obligationId" INTEGER NOT NULL,
    "unitId" INTEGER NOT NULL,
    "reason" TEXT NOT NULL,
    "proposedBy" TEXT NOT NULL,
    "proposedAt" TIMESTAMP(3) NOT NULL,
    "state" TEXT NOT NULL DEFAULT 'proposed',
    "decidedBy" TEXT,
    "decidedAt" TIMESTAMP(3),
    "decisionNote" TEXT,
    "isDemo" BOOLEAN NOT NULL DEFAULT false,
    "withdrawnAt" TIMESTAMP(3),
    "withdrawnBy" TEXT,

    CONSTRAINT "BlacklistProposal_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "BlacklistProposal_campaignId_state_id_idx" ON "BlacklistProposal"("campaignId", "state", "id");

-- CreateIndex
CREATE INDEX "BlacklistProposal_obligationId_idx" ON "BlacklistProposal"("obligationId");
