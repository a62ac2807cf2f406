import type { Tx } from '../db/client.ts';
import { wordTable } from '../core/words.ts';

// Third-party agencies' findings (第三方机构, the plan's §二(三)) on insurers' service: a prevention
// visit late or missing, the handling of a claim, or other. A finding is about one enterprise the
// insurer insures or insured, and for claims about one of its claims; it is told to the insurer
// and the county office and counts in the insurer's figures (src/domain/claims.ts).

export const FINDING_KINDS = ['visit_late', 'visit_missing', 'claim', 'other'] as const;
export type FindingKind = (typeof FINDING_KINDS)[number];

/** The words people type for each kind. */
const KIND_WORDS = wordTable<FindingKind>({
  visit_late: ['走访迟', '走访不及时', '走访延迟', '迟到走访'],
  visit_missing: ['走访缺', '未走访', '缺少走访', '走访缺失'],
  claim: ['理赔', '赔付', '理赔服务'],
  other: ['其他', '其它'],
});

export const parseFindingKind = (word: string): FindingKind | null => KIND_WORDS.code(word);

/** Whether the insurer has ever held a policy on the enterprise (withdrawn ones aside). */
export async function hasInsured(db: Tx, insurerId: number, enterpriseId: number): Promise<boolean> {
  return (await db.policy.count({ where: { insurerId, enterpriseId, status: { not: 'withdrawn' } } })) > 0;
}

export function recordFinding(
  db: Tx,
  f: {
    countyCode: string;
    agencyId: number;
    insurerId: number;
    kind: FindingKind;
    enterpriseId: number;
    claimId: number | null;
    text: string;
    by: string;
    at: Date;
  },
) {
  return db.agencyFinding.create({
    data: {
      countyCode: f.countyCode,
      agencyId: f.agencyId,
      insurerId: f.insurerId,
      kind: f.kind,
      enterpriseId: f.enterpriseId,
      claimId: f.claimId,
      text: f.text,
      recordedBy: f.by,
      recordedAt: f.at,
    },
  });
}
