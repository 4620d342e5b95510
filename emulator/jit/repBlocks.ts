/**
 * Blocks that end in REP STOS or REP MOVS (clear_page, memcpy) are translated early. Such a block
 * does a page's worth of iterations per execution, which the handler runs in bulk
 * (exec/stringBulk.ts: in-page elements as one fill or copy), so its instructions before the REP are
 * what is left to win, and they are worth translating long before the usual threshold.
 */
import type { Insn } from '../decode/insn';
import * as str from '../exec/string';

/** Executions before the threshold at which a block ending in REP STOS/MOVS is compiled anyway. */
const BULK_HEAD_START = 64;

/**
 * The execution count a new block starts from: `threshold - BULK_HEAD_START` for a 64-bit block that
 * ends in REP STOS or MOVS, so that it is compiled after BULK_HEAD_START executions, else 0.
 */
export function initialExecCount(insns: readonly Insn[], threshold: number): number {
  const last = insns[insns.length - 1];
  if (last === undefined || last.bits !== 64 || last.rep === 0 || (last.fn !== str.stos && last.fn !== str.movs)) return 0;
  return threshold > BULK_HEAD_START ? threshold - BULK_HEAD_START : 0;
}
