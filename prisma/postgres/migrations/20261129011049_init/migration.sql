-- CreateTable
CREATE TABLE "Campaign" (
    "id" SERIAL NOT NULL,
    "key" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "docNumber" TEXT NOT NULL,
    "issuer" TEXT NOT NULL,
    "issuedOn" TEXT NOT NULL,
    "effectiveOn" TEXT NOT NULL,
    "countyCode" TEXT NOT NULL,
    "countyName" TEXT NOT NULL,
    "reminders" TEXT NOT NULL DEFAULT '{}',
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "Campaign_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Sector" (
    "id" SERIAL NOT NULL,
    "campaignId" INTEGER NOT NULL,
    "code" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "aliases" TEXT NOT NULL,
    "highRisk" BOOLEAN NOT NULL,
    "sortOrder" INTEGER NOT NULL,

    CONSTRAINT "Sector_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Target" (
    "id" SERIAL NOT NULL,
    "campaignId" INTEGER NOT NULL,
    "scope" TEXT NOT NULL,
    "rateBp" INTEGER NOT NULL,
    "dueOn" TEXT NOT NULL,

    CONSTRAINT "Target_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Unit" (
    "id" SERIAL NOT NULL,
    "countyCode" TEXT NOT NULL,
    "code" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "kind" TEXT NOT NULL,
    "aliases" TEXT NOT NULL DEFAULT '',
    "statCode" TEXT,
    "sortOrder" INTEGER NOT NULL DEFAULT 0,

    CONSTRAINT "Unit_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "SectorResponsibility" (
    "id" SERIAL NOT NULL,
    "sectorId" INTEGER NOT NULL,
    "unitId" INTEGER NOT NULL,
    "role" TEXT NOT NULL,

    CONSTRAINT "SectorResponsibility_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Member" (
    "id" SERIAL NOT NULL,
    "userId" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "roles" TEXT NOT NULL,
    "unitId" INTEGER,
    "enterpriseId" INTEGER,
    "locale" TEXT,
    "active" BOOLEAN NOT NULL DEFAULT true,
    "isDemo" BOOLEAN NOT NULL DEFAULT false,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "Member_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "GroupChat" (
    "id" SERIAL NOT NULL,
    "chatId" TEXT,
    "webhookKey" TEXT,
    "name" TEXT NOT NULL,
    "unitId" INTEGER,
    "purpose" TEXT NOT NULL DEFAULT 'unit',
    "isDemo" BOOLEAN NOT NULL DEFAULT false,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "GroupChat_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Enterprise" (
    "id" SERIAL NOT NULL,
    "countyCode" TEXT NOT NULL,
    "creditCode" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "sectorId" INTEGER NOT NULL,
    "townshipId" INTEGER NOT NULL,
    "aboveScale" BOOLEAN NOT NULL DEFAULT false,
    "employees" INTEGER NOT NULL,
    "status" TEXT NOT NULL DEFAULT 'operating',
    "isDemo" BOOLEAN NOT NULL DEFAULT false,
    "coverFrom" TEXT,
    "coverUntil" TEXT,
    "coverHeadcount" INTEGER,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "Enterprise_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Policy" (
    "id" SERIAL NOT NULL,
    "policyNo" TEXT NOT NULL,
    "insurerId" INTEGER NOT NULL,
    "enterpriseId" INTEGER NOT NULL,
    "startOn" TEXT NOT NULL,
    "endOn" TEXT NOT NULL,
    "insuredHeadcount" INTEGER NOT NULL,
    "premiumFen" INTEGER,
    "liabilityPerPerson" INTEGER,
    "status" TEXT NOT NULL DEFAULT 'valid',
    "renewsPolicyId" INTEGER,
    "isDemo" BOOLEAN NOT NULL DEFAULT false,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "Policy_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "RuleSetting" (
    "id" SERIAL NOT NULL,
    "key" TEXT NOT NULL,
    "value" INTEGER NOT NULL,
    "effectiveOn" TEXT NOT NULL,
    "source" TEXT NOT NULL,

    CONSTRAINT "RuleSetting_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "ProgressReport" (
    "id" SERIAL NOT NULL,
    "campaignId" INTEGER NOT NULL,
    "unitId" INTEGER NOT NULL,
    "sectorId" INTEGER NOT NULL,
    "townshipId" INTEGER,
    "insured" INTEGER NOT NULL,
    "total" INTEGER NOT NULL,
    "note" TEXT,
    "reportedBy" TEXT NOT NULL,
    "chatId" TEXT,
    "reportedAt" TIMESTAMP(3) NOT NULL,
    "isDemo" BOOLEAN NOT NULL DEFAULT false,

    CONSTRAINT "ProgressReport_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Duty" (
    "id" SERIAL NOT NULL,
    "campaignId" INTEGER NOT NULL,
    "key" TEXT NOT NULL,
    "title" TEXT NOT NULL,
    "dueMonthDay" TEXT NOT NULL,
    "assignees" TEXT NOT NULL,
    "reportTo" TEXT,

    CONSTRAINT "Duty_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Obligation" (
    "id" SERIAL NOT NULL,
    "campaignId" INTEGER NOT NULL,
    "dutyId" INTEGER,
    "unitId" INTEGER NOT NULL,
    "sectorId" INTEGER,
    "title" TEXT NOT NULL,
    "period" TEXT NOT NULL,
    "dueOn" TEXT NOT NULL,
    "status" TEXT NOT NULL DEFAULT 'assigned',
    "requestedDueOn" TEXT,
    "requestReason" TEXT,
    "assignedBy" TEXT,
    "snoozedUntil" TEXT,
    "snoozeReason" TEXT,
    "doneAt" TIMESTAMP(3),
    "isDemo" BOOLEAN NOT NULL DEFAULT false,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "Obligation_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "ObligationEvent" (
    "id" SERIAL NOT NULL,
    "obligationId" INTEGER NOT NULL,
    "fromStatus" TEXT,
    "toStatus" TEXT NOT NULL,
    "actorUserId" TEXT,
    "note" TEXT,
    "dueOn" TEXT,
    "at" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "ObligationEvent_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "PreventionVisit" (
    "id" SERIAL NOT NULL,
    "enterpriseId" INTEGER NOT NULL,
    "insurerId" INTEGER NOT NULL,
    "serviceType" TEXT NOT NULL,
    "plannedOn" TEXT,
    "visitedOn" TEXT,
    "staff" TEXT,
    "findings" TEXT,
    "recordedBy" TEXT NOT NULL,
    "insurerConfirmedAt" TIMESTAMP(3),
    "insurerConfirmedBy" TEXT,
    "enterpriseConfirmedAt" TIMESTAMP(3),
    "enterpriseConfirmedBy" TEXT,
    "satisfaction" INTEGER,
    "comment" TEXT,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "PreventionVisit_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "AuditEvent" (
    "id" SERIAL NOT NULL,
    "at" TIMESTAMP(3) NOT NULL,
    "actorUserId" TEXT,
    "chatId" TEXT,
    "channel" TEXT NOT NULL,
    "command" TEXT,
    "action" TEXT NOT NULL,
    "outcome" TEXT NOT NULL,
    "detail" TEXT,
    "undo" TEXT,
    "undoneAt" TIMESTAMP(3),

    CONSTRAINT "AuditEvent_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "PendingAction" (
    "id" SERIAL NOT NULL,
    "userId" TEXT NOT NULL,
    "chatId" TEXT,
    "text" TEXT NOT NULL,
    "preview" TEXT NOT NULL,
    "state" TEXT NOT NULL DEFAULT 'pending',
    "createdAt" TIMESTAMP(3) NOT NULL,
    "expiresAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "PendingAction_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "ServicePlan" (
    "id" SERIAL NOT NULL,
    "insurerId" INTEGER NOT NULL,
    "year" INTEGER NOT NULL,
    "text" TEXT NOT NULL,
    "counts" TEXT,
    "recordedBy" TEXT NOT NULL,
    "recordedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "ServicePlan_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "InboundMessage" (
    "id" SERIAL NOT NULL,
    "dedupeKey" TEXT NOT NULL,
    "channel" TEXT NOT NULL,
    "fromUser" TEXT NOT NULL,
    "chatId" TEXT,
    "payload" TEXT NOT NULL,
    "state" TEXT NOT NULL DEFAULT 'received',
    "reply" TEXT,
    "receivedAt" TIMESTAMP(3) NOT NULL,
    "handledAt" TIMESTAMP(3),

    CONSTRAINT "InboundMessage_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "OutboxMessage" (
    "id" SERIAL NOT NULL,
    "channel" TEXT NOT NULL,
    "target" TEXT NOT NULL,
    "payload" TEXT NOT NULL,
    "state" TEXT NOT NULL DEFAULT 'pending',
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "nextAttemptAt" TIMESTAMP(3) NOT NULL,
    "lastError" TEXT,
    "createdAt" TIMESTAMP(3) NOT NULL,
    "sentAt" TIMESTAMP(3),

    CONSTRAINT "OutboxMessage_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "ReminderLedger" (
    "id" SERIAL NOT NULL,
    "rule" TEXT NOT NULL,
    "target" TEXT NOT NULL,
    "slot" TEXT NOT NULL,
    "state" TEXT NOT NULL DEFAULT 'queued',
    "outboxId" INTEGER,
    "createdAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "ReminderLedger_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "Campaign_key_key" ON "Campaign"("key");

-- CreateIndex
CREATE INDEX "Campaign_countyCode_idx" ON "Campaign"("countyCode");

-- CreateIndex
CREATE UNIQUE INDEX "Sector_campaignId_code_key" ON "Sector"("campaignId", "code");

-- CreateIndex
CREATE UNIQUE INDEX "Target_campaignId_scope_dueOn_key" ON "Target"("campaignId", "scope", "dueOn");

-- CreateIndex
CREATE UNIQUE INDEX "Unit_countyCode_code_key" ON "Unit"("countyCode", "code");

-- CreateIndex
CREATE UNIQUE INDEX "SectorResponsibility_sectorId_unitId_key" ON "SectorResponsibility"("sectorId", "unitId");

-- CreateIndex
CREATE UNIQUE INDEX "Member_userId_key" ON "Member"("userId");

-- CreateIndex
CREATE UNIQUE INDEX "GroupChat_chatId_key" ON "GroupChat"("chatId");

-- CreateIndex
CREATE UNIQUE INDEX "GroupChat_webhookKey_key" ON "GroupChat"("webhookKey");

-- CreateIndex
CREATE UNIQUE INDEX "Enterprise_creditCode_key" ON "Enterprise"("creditCode");

-- CreateIndex
CREATE INDEX "Enterprise_countyCode_sectorId_townshipId_idx" ON "Enterprise"("countyCode", "sectorId", "townshipId");

-- CreateIndex
CREATE INDEX "Enterprise_name_idx" ON "Enterprise"("name");

-- CreateIndex
CREATE INDEX "Policy_enterpriseId_status_endOn_idx" ON "Policy"("enterpriseId", "status", "endOn");

-- CreateIndex
CREATE UNIQUE INDEX "Policy_insurerId_policyNo_key" ON "Policy"("insurerId", "policyNo");

-- CreateIndex
CREATE UNIQUE INDEX "RuleSetting_key_effectiveOn_key" ON "RuleSetting"("key", "effectiveOn");

-- CreateIndex
CREATE INDEX "ProgressReport_campaignId_sectorId_townshipId_reportedAt_idx" ON "ProgressReport"("campaignId", "sectorId", "townshipId", "reportedAt");

-- CreateIndex
CREATE UNIQUE INDEX "Duty_campaignId_key_key" ON "Duty"("campaignId", "key");

-- CreateIndex
CREATE INDEX "Obligation_unitId_status_dueOn_idx" ON "Obligation"("unitId", "status", "dueOn");

-- CreateIndex
CREATE UNIQUE INDEX "Obligation_campaignId_dutyId_unitId_period_key" ON "Obligation"("campaignId", "dutyId", "unitId", "period");

-- CreateIndex
CREATE INDEX "ObligationEvent_obligationId_at_idx" ON "ObligationEvent"("obligationId", "at");

-- CreateIndex
CREATE INDEX "PreventionVisit_enterpriseId_visitedOn_idx" ON "PreventionVisit"("enterpriseId", "visitedOn");

-- CreateIndex
CREATE INDEX "AuditEvent_at_idx" ON "AuditEvent"("at");

-- CreateIndex
CREATE INDEX "AuditEvent_actorUserId_at_idx" ON "AuditEvent"("actorUserId", "at");

-- CreateIndex
CREATE INDEX "PendingAction_userId_state_idx" ON "PendingAction"("userId", "state");

-- CreateIndex
CREATE UNIQUE INDEX "ServicePlan_insurerId_year_key" ON "ServicePlan"("insurerId", "year");

-- CreateIndex
CREATE UNIQUE INDEX "InboundMessage_dedupeKey_key" ON "InboundMessage"("dedupeKey");

-- CreateIndex
CREATE INDEX "OutboxMessage_state_nextAttemptAt_idx" ON "OutboxMessage"("state", "nextAttemptAt");

-- CreateIndex
CREATE INDEX "OutboxMessage_channel_target_sentAt_idx" ON "OutboxMessage"("channel", "target", "sentAt");

-- CreateIndex
CREATE UNIQUE INDEX "ReminderLedger_rule_target_slot_key" ON "ReminderLedger"("rule", "target", "slot");

-- AddForeignKey
ALTER TABLE "Sector" ADD CONSTRAINT "Sector_campaignId_fkey" FOREIGN KEY ("campaignId") REFERENCES "Campaign"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Target" ADD CONSTRAINT "Target_campaignId_fkey" FOREIGN KEY ("campaignId") REFERENCES "Campaign"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "SectorResponsibility" ADD CONSTRAINT "SectorResponsibility_sectorId_fkey" FOREIGN KEY ("sectorId") REFERENCES "Sector"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "SectorResponsibility" ADD CONSTRAINT "SectorResponsibility_unitId_fkey" FOREIGN KEY ("unitId") REFERENCES "Unit"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Member" ADD CONSTRAINT "Member_unitId_fkey" FOREIGN KEY ("unitId") REFERENCES "Unit"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Member" ADD CONSTRAINT "Member_enterpriseId_fkey" FOREIGN KEY ("enterpriseId") REFERENCES "Enterprise"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "GroupChat" ADD CONSTRAINT "GroupChat_unitId_fkey" FOREIGN KEY ("unitId") REFERENCES "Unit"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Enterprise" ADD CONSTRAINT "Enterprise_sectorId_fkey" FOREIGN KEY ("sectorId") REFERENCES "Sector"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Enterprise" ADD CONSTRAINT "Enterprise_townshipId_fkey" FOREIGN KEY ("townshipId") REFERENCES "Unit"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Policy" ADD CONSTRAINT "Policy_insurerId_fkey" FOREIGN KEY ("insurerId") REFERENCES "Unit"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Policy" ADD CONSTRAINT "Policy_enterpriseId_fkey" FOREIGN KEY ("enterpriseId") REFERENCES "Enterprise"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Policy" ADD CONSTRAINT "Policy_renewsPolicyId_fkey" FOREIGN KEY ("renewsPolicyId") REFERENCES "Policy"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "ProgressReport" ADD CONSTRAINT "ProgressReport_campaignId_fkey" FOREIGN KEY ("campaignId") REFERENCES "Campaign"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "ProgressReport" ADD CONSTRAINT "ProgressReport_unitId_fkey" FOREIGN KEY ("unitId") REFERENCES "Unit"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "ProgressReport" ADD CONSTRAINT "ProgressReport_sectorId_fkey" FOREIGN KEY ("sectorId") REFERENCES "Sector"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "ProgressReport" ADD CONSTRAINT "ProgressReport_townshipId_fkey" FOREIGN KEY ("townshipId") REFERENCES "Unit"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Duty" ADD CONSTRAINT "Duty_campaignId_fkey" FOREIGN KEY ("campaignId") REFERENCES "Campaign"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Obligation" ADD CONSTRAINT "Obligation_campaignId_fkey" FOREIGN KEY ("campaignId") REFERENCES "Campaign"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Obligation" ADD CONSTRAINT "Obligation_dutyId_fkey" FOREIGN KEY ("dutyId") REFERENCES "Duty"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Obligation" ADD CONSTRAINT "Obligation_unitId_fkey" FOREIGN KEY ("unitId") REFERENCES "Unit"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Obligation" ADD CONSTRAINT "Obligation_sectorId_fkey" FOREIGN KEY ("sectorId") REFERENCES "Sector"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "ObligationEvent" ADD CONSTRAINT "ObligationEvent_obligationId_fkey" FOREIGN KEY ("obligationId") REFERENCES "Obligation"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "PreventionVisit" ADD CONSTRAINT "PreventionVisit_enterpriseId_fkey" FOREIGN KEY ("enterpriseId") REFERENCES "Enterprise"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "PreventionVisit" ADD CONSTRAINT "PreventionVisit_insurerId_fkey" FOREIGN KEY ("insurerId") REFERENCES "Unit"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
