-- CreateTable
CREATE TABLE "EnterpriseState" (
    "id" SERIAL NOT NULL,
    "enterpriseId" INTEGER NOT NULL,
    "countyCode" TEXT NOT NULL,
    "validFrom" TEXT NOT NULL,
    "status" TEXT NOT NULL,
    "sectorId" INTEGER NOT NULL,
    "townshipId" INTEGER NOT NULL,
    "aboveScale" BOOLEAN NOT NULL,
    "employees" INTEGER NOT NULL,
    "added" BOOLEAN NOT NULL DEFAULT false,

    CONSTRAINT "EnterpriseState_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "EnterpriseState_countyCode_validFrom_idx" ON "EnterpriseState"("countyCode", "validFrom");

-- CreateIndex
CREATE UNIQUE INDEX "EnterpriseState_enterpriseId_validFrom_key" ON "EnterpriseState"("enterpriseId", "validFrom");

-- AddForeignKey
ALTER TABLE "EnterpriseState" ADD CONSTRAINT "EnterpriseState_enterpriseId_fkey" FOREIGN KEY ("enterpriseId") REFERENCES "Enterprise"("id") ON DELETE CASCADE ON UPDATE CASCADE;
