-- AlterTable
ALTER TABLE "Obligation" ADD COLUMN     "holderUserId" TEXT;

-- CreateTable
CREATE TABLE "Stranger" (
    "id" SERIAL NOT NULL,
    "userId" TEXT NOT NULL,
    "chatId" TEXT,
    "channel" TEXT NOT NULL,
    "lastText" TEXT NOT NULL,
    "attempts" INTEGER NOT NULL DEFAULT 1,
    "firstAt" TIMESTAMP(3) NOT NULL,
    "lastAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "Stranger_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "Stranger_userId_key" ON "Stranger"("userId");

-- CreateIndex
CREATE INDEX "Stranger_lastAt_idx" ON "Stranger"("lastAt");
