-- AlterTable
ALTER TABLE "Duty" ADD COLUMN     "counts" TEXT;

-- AlterTable
ALTER TABLE "Obligation" ADD COLUMN     "finding" TEXT,
ADD COLUMN     "inspectionId" INTEGER;

-- CreateTable
CREATE TABLE "Inspection" (
    "id" SERIAL NOT NULL,
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
    "recordedAt" TIMESTAMP(3) NOT NULL,
    "isDemo" BOOLEAN NOT NULL DEFAULT false,
    "withdrawnAt" TIMESTAMP(3),
    "withdrawnBy" TEXT,

    CONSTRAINT "Inspection_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "Inspection_campaignId_inspectedOn_sectorId_idx" ON "Inspection"("campaignId", "inspectedOn", "sectorId");

-- CreateIndex
CREATE INDEX "Inspection_enterpriseId_inspectedOn_idx" ON "Inspection"("enterpriseId", "inspectedOn");

-- CreateIndex
CREATE INDEX "Obligation_inspectionId_idx" ON "Obligation"("inspectionId");

-- AddForeignKey
ALTER TABLE "Obligation" ADD CONSTRAINT "Obligation_inspectionId_fkey" FOREIGN KEY ("inspectionId") REFERENCES "Inspection"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Inspection" ADD CONSTRAINT "Inspection_enterpriseId_fkey" FOREIGN KEY ("enterpriseId") REFERENCES "Enterprise"("id") ON DELETE CASCADE ON UPDATE CASCADE;
