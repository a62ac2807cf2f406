-- AlterTable
ALTER TABLE "Obligation" ADD COLUMN     "withdrawnAt" TIMESTAMP(3),
ADD COLUMN     "withdrawnBy" TEXT;

-- AlterTable
ALTER TABLE "ObligationEvent" ADD COLUMN     "withdrawnAt" TIMESTAMP(3),
ADD COLUMN     "withdrawnBy" TEXT;

-- AlterTable
ALTER TABLE "Policy" ADD COLUMN     "withdrawnAt" TIMESTAMP(3),
ADD COLUMN     "withdrawnBy" TEXT;

-- AlterTable
ALTER TABLE "PreventionVisit" ADD COLUMN     "withdrawnAt" TIMESTAMP(3),
ADD COLUMN     "withdrawnBy" TEXT;

-- AlterTable
ALTER TABLE "ProgressReport" ADD COLUMN     "withdrawnAt" TIMESTAMP(3),
ADD COLUMN     "withdrawnBy" TEXT;
