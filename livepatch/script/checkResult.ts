// check_result of the selftests' functions.sh: the kernel log lines that appeared since the
// test started, those containing "livepatch:" or "test_klp", without the taint notices and the
// timestamps, must equal the expected block exactly; otherwise the harness prints a unified
// diff (diff -upr --label expected --label result).

import type { KlpLog } from '../klpLog';

/** The filter of check_result, applied to log texts (timestamps are not part of them). */
export function resultLines(texts: readonly string[]): string[] {
  return texts.filter((t) => (t.includes('livepatch:') || t.includes('test_klp')) && !/(tainting|taints) kernel/.test(t));
}

/** The kernel log texts from entry `from` on. */
export function logSince(log: KlpLog, from: number): string[] {
  return log.entries.slice(from).map((e) => e.text);
}

export interface CheckOutcome {
  ok: boolean;
  expected: string[];
  result: string[];
  /** The unified diff when not ok. */
  diff: string;
}

export function checkResult(expected: string, texts: readonly string[]): CheckOutcome {
  // bash compares "$expect" with "$(...)": trailing newlines of both sides do not count.
  const exp = expected.replace(/\n+$/, '').split('\n');
  const result = resultLines(texts);
  const ok = exp.length === result.length && exp.every((l, i) => l === result[i]);
  return { ok, expected: exp, result, diff: ok ? '' : unifiedDiff(exp, result, 'expected', 'result') };
}

/** A unified diff with three lines of context, as diff -u prints it. */
export function unifiedDiff(a: readonly string[], b: readonly string[], labelA: string, labelB: string): string {
  // Longest common subsequence table (the blocks are small).
  const n = a.length;
  const m = b.length;
  const lcs: number[][] = Array.from({ length: n + 1 }, () => new Array<number>(m + 1).fill(0));
  for (let i = n - 1; i >= 0; i--) for (let j = m - 1; j >= 0; j--) lcs[i][j] = a[i] === b[j] ? lcs[i + 1][j + 1] + 1 : Math.max(lcs[i + 1][j], lcs[i][j + 1]);
  const ops: Array<{ op: ' ' | '-' | '+'; text: string; ai: number; bi: number }> = [];
  let i = 0;
  let j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && a[i] === b[j]) ops.push({ op: ' ', text: a[i], ai: i++, bi: j++ });
    // diff -u lists what goes before what comes in.
    else if (i < n && (j >= m || lcs[i + 1][j] >= lcs[i][j + 1])) ops.push({ op: '-', text: a[i], ai: i++, bi: j });
    else ops.push({ op: '+', text: b[j], ai: i, bi: j++ });
  }
  const out = [`--- ${labelA}`, `+++ ${labelB}`];
  const CONTEXT = 3;
  let k = 0;
  while (k < ops.length) {
    if (ops[k].op === ' ') { k++; continue; }
    let start = Math.max(0, k - CONTEXT);
    let end = k;
    // extend the hunk while changes are within 2*CONTEXT of each other
    for (let q = k; q < ops.length; q++) {
      if (ops[q].op !== ' ') end = q;
      else if (q - end > 2 * CONTEXT) break;
    }
    const stop = Math.min(ops.length, end + CONTEXT + 1);
    const hunk = ops.slice(start, stop);
    const aStart = hunk[0].ai;
    const bStart = hunk[0].bi;
    const aLen = hunk.filter((o) => o.op !== '+').length;
    const bLen = hunk.filter((o) => o.op !== '-').length;
    const range = (s: number, l: number) => (l === 1 ? `${s + 1}` : `${l === 0 ? s : s + 1},${l}`);
    out.push(`@@ -${range(aStart, aLen)} +${range(bStart, bLen)} @@`);
    for (const o of hunk) out.push(o.op + o.text);
    k = stop;
    start = stop;
  }
  return out.join('\n');
}
