-- AlterTable
ALTER TABLE "Job" ADD COLUMN "deliveredVia" TEXT;
ALTER TABLE "Job" ADD COLUMN "streamId" TEXT;
ALTER TABLE "Job" ADD COLUMN "streamReqId" TEXT;
ALTER TABLE "Job" ADD COLUMN "streamUntil" DATETIME;

-- CreateIndex
CREATE INDEX "Job_streamId_idx" ON "Job"("streamId");
