import { describe, expect, it } from 'vitest';
import { loadRules } from '../../src/schedule/rule.ts';

describe('the reminder rules', () => {
  it('are loaded one per file of src/schedule/rules/, in the order of the files’ names, each by its name', async () => {
    expect((await loadRules()).map((r) => r.name)).toEqual([
      'obligationReminders',
      'targetCountdowns',
      'policyExpiries',
      'silentUnits',
      'unconfirmedVisits',
      'overdueClaims',
      'weeklyDigest',
      'calendarCheck',
    ]);
  });
});
