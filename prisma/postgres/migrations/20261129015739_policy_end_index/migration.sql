-- CreateIndex
CREATE INDEX "Policy_status_endOn_idx" ON "Policy"("status", "endOn");
