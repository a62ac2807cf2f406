-- CreateTable
CREATE TABLE "ImportRun" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "kind" TEXT NOT NULL,
    "campaignId" INTEGER NOT NULL,
    "countyCode" TEXT NOT NULL,
    "day" TEXT NOT NULL,
    "source" TEXT NOT NULL,
    "actor" TEXT,
    "state" TEXT NOT NULL,
    "counts" TEXT,
    "startedAt" DATETIME NOT NULL,
    "aliveAt" DATETIME NOT NULL,
    "finishedAt" DATETIME
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

    PRIMARY KEY ("runId", "row"),
    CONSTRAINT "ImportRosterRow_runId_fkey" FOREIGN KEY ("runId") REFERENCES "ImportRun" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);

-- CreateIndex
CREATE INDEX "ImportRun_state_idx" ON "ImportRun"("state");
