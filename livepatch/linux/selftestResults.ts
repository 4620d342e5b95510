// The verdicts of Linux's livepatch selftest harness in a console: "TEST: NAME ... ok", or
// "not ok" with its diff, or "SKIP: why". A kernel message can land between "... " and the verdict
// (printk writes to the console while the script does): such lines are skipped.
export interface SelftestResult { script: string; name: string; verdict: string }

export function selftestResults(console: string): SelftestResult[] {
  const out: SelftestResult[] = [];
  let script = '';
  let pending: string | null = null;
  for (const raw of console.split('\n')) {
    const line = raw.replace(/\r$/, '');
    const s = /^# (test-[\w-]+\.sh)$/.exec(line);
    if (s !== null) { script = s[1]; continue; }
    const t = /^TEST: (.*?) \.\.\. ?(.*)$/.exec(line);
    let rest: string;
    if (t !== null) { pending = t[1]; rest = t[2]; } else if (pending !== null) rest = line; else continue;
    rest = rest.replace(/^\[\s*\d+\.\d+\] .*$/, '').trim();
    if (rest === '') continue;
    out.push({ script, name: pending!, verdict: rest.startsWith('ok') ? 'ok' : rest.startsWith('not ok') ? 'not ok' : rest });
    pending = null;
  }
  return out;
}
