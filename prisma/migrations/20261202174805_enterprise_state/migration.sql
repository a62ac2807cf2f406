-- CreateTable
CREATE TABLE "EnterpriseState" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "enterpriseId" INTEGER NOT NULL,
    "countyCode" TEXT NOT NULL,
    "validFrom" TEXT NOT NULL,
    "status" TEXT NOT NULL,
    "sectorId" INTEGER NOT NULL,
    "townshipId" INTEGER NOT NULL,
    "aboveScale" BOOLEAN NOT NULL,
    "employees" INTEGER NOT NULL,
    "added" BOOLEAN NOT NULL DEFAULT false,
    CONSTRAINT "EnterpriseState_enterpriseId_fkey" FOREIGN KEY ("enterpriseId") REFERENCES "Enterprise" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);

-- CreateIndex
CREATE INDEX "EnterpriseState_countyCode_validFrom_idx" ON "EnterpriseState"("countyCode", "validFrom");

-- CreateIndex
CREATE UNIQUE INDEX "EnterpriseState_enterpriseId_validFrom_key" ON "EnterpriseState"("enterpriseId", "validFrom");
