-- CreateTable
CREATE TABLE "Claim" (
    "id" SERIAL NOT NULL,
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
    "recordedAt" TIMESTAMP(3) NOT NULL,
    "paidBy" TEXT,
    "paidAt" TIMESTAMP(3),
    "isDemo" BOOLEAN NOT NULL DEFAULT false,
    "withdrawnAt" TIMESTAMP(3),
    "withdrawnBy" TEXT,

    CONSTRAINT "Claim_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "ClaimDispute" (
    "id" SERIAL NOT NULL,
    "claimId" INTEGER NOT NULL,
    "coordinatorId" INTEGER NOT NULL,
    "reason" TEXT NOT NULL,
    "openedBy" TEXT NOT NULL,
    "openedAt" TIMESTAMP(3) NOT NULL,
    "outcome" TEXT,
    "outcomeNote" TEXT,
    "closedBy" TEXT,
    "closedAt" TIMESTAMP(3),
    "withdrawnAt" TIMESTAMP(3),
    "withdrawnBy" TEXT,

    CONSTRAINT "ClaimDispute_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "AgencyFinding" (
    "id" SERIAL NOT NULL,
    "countyCode" TEXT NOT NULL,
    "agencyId" INTEGER NOT NULL,
    "insurerId" INTEGER NOT NULL,
    "kind" TEXT NOT NULL,
    "enterpriseId" INTEGER NOT NULL,
    "claimId" INTEGER,
    "text" TEXT NOT NULL,
    "recordedBy" TEXT NOT NULL,
    "recordedAt" TIMESTAMP(3) NOT NULL,
    "withdrawnAt" TIMESTAMP(3),
    "withdrawnBy" TEXT,

    CONSTRAINT "AgencyFinding_pkey" PRIMARY KEY ("id")
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

-- AddForeignKey
ALTER TABLE "Claim" ADD CONSTRAINT "Claim_enterpriseId_fkey" FOREIGN KEY ("enterpriseId") REFERENCES "Enterprise"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Claim" ADD CONSTRAINT "Claim_insurerId_fkey" FOREIGN KEY ("insurerId") REFERENCES "Unit"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "ClaimDispute" ADD CONSTRAINT "ClaimDispute_claimId_fkey" FOREIGN KEY ("claimId") REFERENCES "Claim"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "ClaimDispute" ADD CONSTRAINT "ClaimDispute_coordinatorId_fkey" FOREIGN KEY ("coordinatorId") REFERENCES "Unit"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "AgencyFinding" ADD CONSTRAINT "AgencyFinding_agencyId_fkey" FOREIGN KEY ("agencyId") REFERENCES "Unit"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "AgencyFinding" ADD CONSTRAINT "AgencyFinding_insurerId_fkey" FOREIGN KEY ("insurerId") REFERENCES "Unit"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "AgencyFinding" ADD CONSTRAINT "AgencyFinding_enterpriseId_fkey" FOREIGN KEY ("enterpriseId") REFERENCES "Enterprise"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "AgencyFinding" ADD CONSTRAINT "AgencyFinding_claimId_fkey" FOREIGN KEY ("claimId") REFERENCES "Claim"("id") ON DELETE SET NULL ON UPDATE CASCADE;
