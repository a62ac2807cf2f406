-- CreateTable
CREATE TABLE "LongConnMedia" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "key" TEXT NOT NULL,
    "mediaId" TEXT NOT NULL,
    "expiresAt" DATETIME NOT NULL
);

-- CreateIndex
CREATE UNIQUE INDEX "LongConnMedia_key_key" ON "LongConnMedia"("key");

-- CreateIndex
CREATE INDEX "LongConnMedia_expiresAt_idx" ON "LongConnMedia"("expiresAt");
