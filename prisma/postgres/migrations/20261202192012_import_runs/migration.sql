-- CreateTable
CREATE TABLE "ImportRun" (
    "id" SERIAL NOT NULL,
    "kind" TEXT NOT NULL,
    "campaignId" INTEGER NOT NULL,
    "countyCode" TEXT NOT NULL,
    "day" TEXT NOT NULL,
    "source" TEXT NOT NULL,
    "actor" TEXT,
    "state" TEXT NOT NULL,
    "counts" TEXT,
    "startedAt" TIMESTAMP(3) NOT NULL,
    "aliveAt" TIMESTAMP(3) NOT NULL,
    "finishedAt" TIMESTAMP(3),

    CONSTRAINT "ImportRun_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "ImportRosterRow" (
    "runId" INTEGER NOT NULL,
    "row" INTEGER NOT NULL,
    "op" TEXT NOT NULL,
    "creditCode" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "sectorId" INTEGER NOT NULL,
    "townshipId" INTEGER NOT NULL,
    "aboveScale" BOOLEAN,
    "employees" INTEGER NOT NULL,
    "status" TEXT,
    "keepState" BOOLEAN NOT NULL,

    CONSTRAINT "ImportRosterRow_pkey" PRIMARY KEY ("runId","row")
);

-- CreateIndex
CREATE INDEX "ImportRun_state_idx" ON "ImportRun"("state");

-- AddForeignKey
ALTER TABLE "ImportRosterRow" ADD CONSTRAINT "ImportRosterRow_runId_fkey" FOREIGN KEY ("runId") REFERENCES "ImportRun"("id") ON DELETE CASCADE ON UPDATE CASCADE;
