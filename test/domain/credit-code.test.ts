import { describe, expect, it } from 'vitest';
import { creditCodeCheck, isCreditCode, normaliseCreditCode } from '../../src/domain/credit-code.ts';

describe('统一社会信用代码 (GB 32100-2015)', () => {
  it('accepts published codes and computes their check character', () => {
    for (const code of ['914403001922038216', '91110000100006485K', '9144030071526726XG', '91330100716105852F']) {
      expect(isCreditCode(code)).toBe(true);
      expect(creditCodeCheck(code.slice(0, 17))).toBe(code[17]);
    }
  });

  it('refuses a wrong check character, a letter outside the alphabet, and a wrong length', () => {
    expect(isCreditCode('914403001922038217')).toBe(false);
    expect(isCreditCode('91440300192203821')).toBe(false);
    expect(isCreditCode('9144030019220382I6')).toBe(false);
    expect(isCreditCode('91A403001922038216')).toBe(false);
  });

  it('normalises what people type', () => {
    expect(normaliseCreditCode(' 9144 0300-1922 03821x ')).toBe('91440300192203821X');
  });
});
