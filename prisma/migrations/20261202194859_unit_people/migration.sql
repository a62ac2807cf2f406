-- AlterTable
ALTER TABLE "Obligation" ADD COLUMN "holderUserId" TEXT;

-- CreateTable
CREATE TABLE "Stranger" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "userId" TEXT NOT NULL,
    "chatId" TEXT,
    "channel" TEXT NOT NULL,
    "lastText" TEXT NOT NULL,
    "attempts" INTEGER NOT NULL DEFAULT 1,
    "firstAt" DATETIME NOT NULL,
    "lastAt" DATETIME NOT NULL
);

-- CreateIndex
CREATE UNIQUE INDEX "Stranger_userId_key" ON "Stranger"("userId");

-- CreateIndex
CREATE INDEX "Stranger_lastAt_idx" ON "Stranger"("lastAt");
