// Line-by-line comparison of two kernel consoles with the printk timestamps taken off: the lines
// each side has that the other lacks (a longest-common-subsequence alignment), and, among the lines
// both have, how many carry a different timestamp.

const TIMESTAMP = /^\[\s*(\d+\.\d+)\] /;

export interface ConsoleLine { text: string; stamp: string | null }

export function consoleLines(console: string): ConsoleLine[] {
  const lines = console.replace(/\r/g, '').split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  return lines.map((l) => {
    const m = TIMESTAMP.exec(l);
    return m ? { text: l.slice(m[0].length), stamp: m[1] } : { text: l, stamp: null };
  });
}

export interface ConsoleDiff {
  /** Lines of the reference (QEMU) that klp-lab's console lacks, in order. */
  onlyReference: string[];
  /** Lines of klp-lab's console that the reference lacks, in order. */
  onlyKlp: string[];
  /** Lines both have at aligned places. */
  common: number;
  /** Aligned lines whose printk timestamps differ. */
  stampsDiffer: number;
  /** The first aligned line whose timestamp differs (reference, klp-lab), if any. */
  firstStampDiff: [string, string] | null;
  /** How many leading lines are equal, timestamps aside. */
  equalPrefix: number;
}

export function diffConsoles(reference: string, klp: string): ConsoleDiff {
  const a = consoleLines(reference), b = consoleLines(klp);
  const n = a.length, m = b.length;
  // lcs[i][j] = LCS length of a[i..] and b[j..], one row of Uint32 per i.
  const lcs: Uint32Array[] = [];
  for (let i = 0; i <= n; i++) lcs.push(new Uint32Array(m + 1));
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) {
      lcs[i][j] = a[i].text === b[j].text ? lcs[i + 1][j + 1] + 1 : Math.max(lcs[i + 1][j], lcs[i][j + 1]);
    }
  }
  const d: ConsoleDiff = { onlyReference: [], onlyKlp: [], common: 0, stampsDiffer: 0, firstStampDiff: null, equalPrefix: 0 };
  let i = 0, j = 0;
  while (i < n && j < m) {
    if (a[i].text === b[j].text) {
      d.common++;
      if (a[i].stamp !== b[j].stamp) {
        d.stampsDiffer++;
        d.firstStampDiff ??= [`[${a[i].stamp}] ${a[i].text}`, `[${b[j].stamp}] ${b[j].text}`];
      }
      i++; j++;
    } else if (lcs[i + 1][j] >= lcs[i][j + 1]) d.onlyReference.push(a[i++].text);
    else d.onlyKlp.push(b[j++].text);
  }
  while (i < n) d.onlyReference.push(a[i++].text);
  while (j < m) d.onlyKlp.push(b[j++].text);
  while (d.equalPrefix < Math.min(n, m) && a[d.equalPrefix].text === b[d.equalPrefix].text) d.equalPrefix++;
  return d;
}

/** A readable report of a comparison (printed by the tests and the bring-up script). */
export function formatConsoleDiff(d: ConsoleDiff): string {
  const out = [`common lines ${d.common}, only in QEMU ${d.onlyReference.length}, only in klp-lab ${d.onlyKlp.length}, ` +
    `equal prefix ${d.equalPrefix}, timestamps differing ${d.stampsDiffer}`];
  for (const l of d.onlyReference) out.push(`- ${l}`);
  for (const l of d.onlyKlp) out.push(`+ ${l}`);
  if (d.firstStampDiff) out.push(`first timestamp difference: QEMU ${d.firstStampDiff[0]}`, `                            klp-lab ${d.firstStampDiff[1]}`);
  return out.join('\n');
}
