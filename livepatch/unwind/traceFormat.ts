// Text for `klp-lab unwind`: per task, the ground truth beside each unwinder's reliable trace
// and verdict, symbolized as %pB prints return addresses; a running task's first entry is the
// CPU's RIP, not a return address, and is printed as %pS (at a function's first instruction
// %pB would name the function before it).

import type { TextSymbols } from './textSymbols';
import { formatAddress } from './textSymbols';
import { PTREGS_IP } from './ptRegs';
import type { TaskUnwind, UnwinderRun } from './stackInspector';

function verdictText(r: UnwinderRun): string {
  if (r.reliable) return `reliable, ${r.ret} ${r.ret === 1 ? 'entry' : 'entries'}`;
  const why = r.reason === 'unwind-error' ? `unwind error (${r.cause})` : r.reason;
  return `unreliable: ${why}${r.failIp !== 0 && r.reason !== 'unwind-error' ? ` at ${formatAddress(r.failIp)}` : ''}`;
}

function sym(ks: TextSymbols, a: number): string {
  return Number.isNaN(a) ? '?' : ks.backtrace(a);
}

/** Entry i of a trace: the RIP of a running task (entry 0) as %pS, every other one as %pB. */
function entrySym(ks: TextSymbols, a: number, i: number, rip: number): string {
  return i === 0 && a === rip ? ks.symbol(a) : sym(ks, a);
}

export function formatTaskUnwind(t: TaskUnwind, ks: TextSymbols): string {
  const task = t.task;
  const lines: string[] = [];
  const where = task.running ? 'running' : task.hasStack ? `asleep, thread.sp ${formatAddress(task.threadSp)}` : 'no stack';
  lines.push(`pid ${task.pid} ${task.name || '?'} [${task.kind}] ${where}`);
  const cols: { head: string; rows: string[] }[] = [];
  const rip = task.running && t.regs !== null ? t.regs[PTREGS_IP / 8] : NaN;
  if (t.truth !== null) cols.push({ head: 'ground truth', rows: t.truth.map((a, i) => entrySym(ks, a, i, rip)) });
  for (const r of t.runs) {
    // the reliable trace as stored; when refused, the plain walk in brackets after it
    const rows = r.entries.map((a, i) => entrySym(ks, a, i, rip));
    if (!r.reliable) {
      const extra = r.walk.frames.slice(rows.length).map((f, k) => `(${f.kind === 'user-regs' ? 'user regs' : entrySym(ks, f.ip, rows.length + k, rip)}${f.kind === 'regs' ? ' regs' : ''})`);
      rows.push(...extra);
    }
    cols.push({ head: `${r.unwinder}: ${verdictText(r)}${r.verdict ? ` [${r.verdict}]` : ''}`, rows });
  }
  const widths = cols.map((c) => Math.max(c.head.length, ...c.rows.map((x) => x.length)));
  const n = Math.max(0, ...cols.map((c) => c.rows.length));
  const pad = (s: string, w: number) => s + ' '.repeat(Math.max(0, w - s.length));
  lines.push('  ' + cols.map((c, i) => pad(c.head, widths[i])).join(' | ').trimEnd());
  for (let i = 0; i < n; i++) {
    lines.push('  ' + cols.map((c, j) => pad(c.rows[i] ?? '', widths[j])).join(' | ').trimEnd());
  }
  return lines.join('\n');
}
