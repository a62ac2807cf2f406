-- DropIndex
DROP INDEX "Enterprise_countyCode_sectorId_townshipId_idx";

-- AlterTable
ALTER TABLE "Enterprise" ADD COLUMN "coverFrom" TEXT;
ALTER TABLE "Enterprise" ADD COLUMN "coverHeadcount" INTEGER;
ALTER TABLE "Enterprise" ADD COLUMN "coverUntil" TEXT;

-- CreateIndex
CREATE INDEX "Enterprise_countyCode_sectorId_townshipId_status_aboveScale_employees_isDemo_coverHeadcount_idx" ON "Enterprise"("countyCode", "sectorId", "townshipId", "status", "aboveScale", "employees", "isDemo", "coverHeadcount");

-- CreateIndex
CREATE INDEX "Enterprise_coverFrom_idx" ON "Enterprise"("coverFrom");

-- CreateIndex
CREATE INDEX "Enterprise_coverUntil_idx" ON "Enterprise"("coverUntil");
