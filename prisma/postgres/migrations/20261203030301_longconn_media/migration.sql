-- CreateTable
CREATE TABLE "LongConnMedia" (
    "id" SERIAL NOT NULL,
    "key" TEXT NOT NULL,
    "mediaId" TEXT NOT NULL,
    "expiresAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "LongConnMedia_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "LongConnMedia_key_key" ON "LongConnMedia"("key");

-- CreateIndex
CREATE INDEX "LongConnMedia_expiresAt_idx" ON "LongConnMedia"("expiresAt");
