-- DropIndex
DROP INDEX "Inspection_campaignId_inspectedOn_sectorId_idx";

-- CreateIndex
CREATE INDEX "Inspection_campaignId_inspectedOn_enterpriseId_withdrawnAt_idx" ON "Inspection"("campaignId", "inspectedOn", "enterpriseId", "withdrawnAt");
