-- AlterTable
ALTER TABLE "Obligation" ADD COLUMN "withdrawnAt" DATETIME;
ALTER TABLE "Obligation" ADD COLUMN "withdrawnBy" TEXT;

-- AlterTable
ALTER TABLE "ObligationEvent" ADD COLUMN "withdrawnAt" DATETIME;
ALTER TABLE "ObligationEvent" ADD COLUMN "withdrawnBy" TEXT;

-- AlterTable
ALTER TABLE "Policy" ADD COLUMN "withdrawnAt" DATETIME;
ALTER TABLE "Policy" ADD COLUMN "withdrawnBy" TEXT;

-- AlterTable
ALTER TABLE "PreventionVisit" ADD COLUMN "withdrawnAt" DATETIME;
ALTER TABLE "PreventionVisit" ADD COLUMN "withdrawnBy" TEXT;

-- AlterTable
ALTER TABLE "ProgressReport" ADD COLUMN "withdrawnAt" DATETIME;
ALTER TABLE "ProgressReport" ADD COLUMN "withdrawnBy" TEXT;
