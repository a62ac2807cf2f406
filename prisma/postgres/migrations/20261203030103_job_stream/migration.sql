-- AlterTable
ALTER TABLE "Job" ADD COLUMN     "deliveredVia" TEXT,
ADD COLUMN     "streamId" TEXT,
ADD COLUMN     "streamReqId" TEXT,
ADD COLUMN     "streamUntil" TIMESTAMP(3);

-- CreateIndex
CREATE INDEX "Job_streamId_idx" ON "Job"("streamId");
