// The unwinder-reliability study: stop the guest at seeded random instruction counts, unwind
// every task with each unwinder under the kernel's reliable rules, and count each verdict
// against the ground truth, broken down by function and by cause. Wrong-but-reliable traces are
// attributed to the function whose frame went wrong, with the objtool warning that predicted
// it when objtool's golden output names that function.

import * as fs from 'fs';
import * as path from 'path';
import type { KernelImage } from '../unwind/kernelImage';
import { formatAddress } from '../unwind/textSymbols';
import { seededRandom } from '../../emulator/seededRandom';
import type { ReliableVersion } from '../unwind/reliableStackTrace';
import { StackInspector, type UnwinderName, type UnwinderRun } from '../unwind/stackInspector';
import type { StoppedGuest } from '../observe/stoppedGuest';
import { VERDICT_CLASSES, type VerdictClass } from '../unwind/verdict';
import { PTREGS_CS, PTREGS_SP, userModeCs } from '../unwind/ptRegs';
import { runningStackName } from '../unwind/stackInfo';
import { checkSameStudy, checkShardSet } from './shardSet';

export interface StudyOptions {
  samples: number;
  seed: number;
  unwinders: UnwinderName[];
  version: ReliableVersion;
  /** [i, n]: this process takes samples i, i+n, i+2n, ... */
  shard: [number, number];
  /** stop points lie in [1, maxInsns) after `origin`; default: the length of a full run */
  maxInsns?: number;
  /** retired instructions before the first possible stop point: a booted snapshot's count (default 0) */
  origin?: number;
  /** function -> the objtool warning that predicts a wrong trace there (default: the fixture kernel's golden warnings) */
  predictions?: Record<string, string>;
  progress?: (done: number, total: number) => void;
}

export interface UnwinderCounts {
  correct_reliable: number;
  refused: number;
  wrong_reliable: number;
  wrong_refused: number;
  /** reason (or unwind-error cause) of refusals */
  byCause: Record<string, number>;
  /** function -> class -> count, for the wrong classes */
  byFunction: Record<string, Partial<Record<VerdictClass, number>>>;
  /** the running task's verdicts by the stack it was on (TASK, IRQ, ENTRY_TRAMPOLINE, #DF..., user) */
  runningByStack?: Record<string, Partial<Record<VerdictClass, number>>>;
  /** a few wrong-but-reliable traces, for the report */
  examples: { at: number; task: string; function: string; entries: string[]; truth: string[] }[];
}

export interface StudyResult {
  image: string;
  seed: number;
  samples: number;
  shard: [number, number];
  maxInsns: number;
  /** stop points lie in [origin + 1, origin + maxInsns): retired instructions at the start (a snapshot's) */
  origin?: number;
  /** stop points actually taken by this shard (the guest may exit before the last ones) */
  stopPoints: number;
  tasksUnwound: number;
  version: ReliableVersion;
  unwinders: Partial<Record<UnwinderName, UnwinderCounts>>;
  /** function -> the objtool 6.1 warning about it (from test/golden/objtool-kernel) */
  objtoolWarnings: Record<string, string>;
}

/** The stop points of shard i/n, ascending: sample k is taken by shard k % n. */
export function stopPoints(samples: number, seed: number, maxInsns: number, shard: [number, number], origin = 0): number[] {
  const rnd = seededRandom(seed);
  const out: number[] = [];
  for (let k = 0; k < samples; k++) {
    const at = origin + 1 + Math.floor(rnd() * (maxInsns - 1));
    if (k % shard[1] === shard[0]) out.push(at);
  }
  return out.sort((a, b) => a - b);
}

function emptyCounts(): UnwinderCounts {
  return { correct_reliable: 0, refused: 0, wrong_reliable: 0, wrong_refused: 0, byCause: {}, byFunction: {}, examples: [] };
}

/** test/golden/objtool-kernel, from the sources (ts-jest) or from the build in dist/. */
function goldenDir(): string | null {
  for (const up of [['..', '..'], ['..', '..', '..']]) {
    const d = path.resolve(__dirname, ...up, 'test', 'golden', 'objtool-kernel');
    if (fs.existsSync(d)) return d;
  }
  return null;
}

/** Warning lines of Linux 6.1 objtool on the fixture kernel's objects, by function name. */
export function loadObjtoolWarnings(dir = goldenDir()): Record<string, string> {
  const out: Record<string, string> = {};
  if (dir === null || !fs.existsSync(dir)) return out;
  for (const f of fs.readdirSync(dir).filter((x) => x.endsWith('.txt'))) {
    for (const line of fs.readFileSync(path.join(dir, f), 'utf8').split('\n')) {
      const m = /warning: objtool: ([A-Za-z0-9_.]+)\+0x[0-9a-f]+: (.*)$/.exec(line);
      if (m && !(m[1] in out)) out[m[1]] = `${m[1]}: ${m[2]}`;
    }
  }
  return out;
}

/**
 * The function whose frame the unwinder got wrong: the last frame it still had right (the next
 * step out of it went astray), or the innermost true frame when even the first was wrong.
 */
export function culprit(img: KernelImage, got: ArrayLike<number>, truth: ArrayLike<number>): string {
  let i = 0;
  while (i < got.length && i < truth.length && got[i] === truth[i]) i++;
  const a = i > 0 ? truth[i - 1] : truth.length > 0 ? truth[0] : NaN;
  if (Number.isNaN(a)) return '(empty truth)';
  return img.kallsyms.functionOf(a) ?? formatAddress(a);
}

export function accumulate(result: StudyResult, img: KernelImage, at: number, taskName: string, run: UnwinderRun, truth: number[], runningOn: string | null = null): void {
  const c = (result.unwinders[run.unwinder] ??= emptyCounts());
  const v = run.verdict as VerdictClass;
  c[v]++;
  if (runningOn !== null) {
    const slot = ((c.runningByStack ??= {})[runningOn] ??= {});
    slot[v] = (slot[v] ?? 0) + 1;
  }
  if (!run.reliable) {
    const cause = run.reason === 'unwind-error' ? `unwind-error: ${run.cause}` : (run.reason as string);
    c.byCause[cause] = (c.byCause[cause] ?? 0) + 1;
  }
  if (v === 'wrong_reliable' || v === 'wrong_refused') {
    const fn = culprit(img, run.reliable ? run.entries : run.walkIps, truth);
    const slot = (c.byFunction[fn] ??= {});
    slot[v] = (slot[v] ?? 0) + 1;
    if (v === 'wrong_reliable' && c.examples.length < 5) {
      c.examples.push({
        at,
        task: taskName,
        function: fn,
        entries: run.entries.map((a) => img.kallsyms.backtrace(a)),
        truth: truth.map((a) => img.kallsyms.backtrace(a)),
      });
    }
  }
}

/** The end of the range stop points are drawn from: --max-insns, or the length of a full run. */
export function studyLength(boot: () => StoppedGuest, maxInsns?: number): number {
  if (maxInsns !== undefined && maxInsns > 1) return maxInsns;
  const probe = boot();
  probe.runTo(Number.MAX_SAFE_INTEGER);
  return probe.at;
}

/** A result with no stop points taken yet. */
export function emptyStudy(image: string, opts: StudyOptions, maxInsns: number, objtoolWarnings: Record<string, string>): StudyResult {
  const result: StudyResult = {
    image,
    seed: opts.seed,
    samples: opts.samples,
    shard: opts.shard,
    maxInsns,
    ...(opts.origin ? { origin: opts.origin } : {}),
    stopPoints: 0,
    tasksUnwound: 0,
    version: opts.version,
    unwinders: {},
    objtoolWarnings,
  };
  for (const u of opts.unwinders) result.unwinders[u] = emptyCounts();
  return result;
}

/**
 * Stops `g` at each of `points` (ascending, none before the guest's current count) and adds the
 * verdicts to `result`. Returns false when the guest ended before a point (the later ones are
 * then unreachable too).
 */
export function takeStopPoints(g: StoppedGuest, insp: StackInspector, result: StudyResult, points: number[], progress?: () => void): boolean {
  for (const at of points) {
    if (!g.runTo(at)) return false;
    for (const t of g.view.tasks()) {
      const tu = insp.unwindTask(t, g.truth, false);
      result.tasksUnwound++;
      const on = tu.regs === null ? null : runningStackName(g.view, t, tu.regs[PTREGS_SP / 8], userModeCs(tu.regs[PTREGS_CS / 8]));
      for (const run of tu.runs) accumulate(result, g.image, at, t.name, run, tu.truth ?? [], on);
    }
    result.stopPoints++;
    progress?.();
  }
  return true;
}

/** Runs the study in this thread: `boot` gives a fresh stopped guest at instruction 0. */
export function runStudy(boot: () => StoppedGuest, image: string, opts: StudyOptions): StudyResult {
  const maxInsns = studyLength(boot, opts.maxInsns);
  const g = boot();
  const result = emptyStudy(image, opts, maxInsns, opts.predictions ?? loadObjtoolWarnings());
  const points = stopPoints(opts.samples, opts.seed, maxInsns, opts.shard, opts.origin ?? 0);
  const insp = new StackInspector(g.view, g.image, opts.unwinders, opts.version);
  let done = 0;
  takeStopPoints(g, insp, result, points, () => {
    done++;
    if (opts.progress && (done % 50 === 0 || done === points.length)) opts.progress(done, points.length);
  });
  return result;
}

/**
 * Adds `part` (the verdicts of later stop points of the same study) to `into`, as if they had
 * been taken in the same pass: keys keep their first-seen order and the examples their limit.
 */
export function addStudyPart(into: StudyResult, part: StudyResult): void {
  into.stopPoints += part.stopPoints;
  into.tasksUnwound += part.tasksUnwound;
  for (const [u, c] of Object.entries(part.unwinders) as [UnwinderName, UnwinderCounts][]) {
    const o = (into.unwinders[u] ??= emptyCounts());
    for (const k of VERDICT_CLASSES) o[k] += c[k];
    for (const [cause, n] of Object.entries(c.byCause)) o.byCause[cause] = (o.byCause[cause] ?? 0) + n;
    for (const [fn, cls] of Object.entries(c.byFunction)) {
      const slot = (o.byFunction[fn] ??= {});
      for (const [k, n] of Object.entries(cls) as [VerdictClass, number][]) slot[k] = (slot[k] ?? 0) + n;
    }
    for (const [stack, cls] of Object.entries(c.runningByStack ?? {})) {
      const slot = ((o.runningByStack ??= {})[stack] ??= {});
      for (const [k, n] of Object.entries(cls) as [VerdictClass, number][]) slot[k] = (slot[k] ?? 0) + n;
    }
    o.examples.push(...c.examples.slice(0, Math.max(0, 5 - o.examples.length)));
  }
}

/**
 * Joins the shards of one study (same image, rules, seed, samples, range and unwinders; every
 * shard i of n exactly once) into the whole study. Throws a one-line Error otherwise.
 */
export function mergeStudies(parts: StudyResult[], names: string[] = parts.map((_, i) => `result ${i + 1}`)): StudyResult {
  checkSameStudy(parts, names, (p) => ({
    image: p.image,
    'kernel rules': p.version,
    seed: p.seed,
    samples: p.samples,
    'max instructions': p.maxInsns,
    'first instruction': p.origin ?? 0,
    unwinders: Object.keys(p.unwinders).join(','),
    shards: p.shard[1],
  }));
  checkShardSet(parts.map((p) => p.shard), names);
  const ordered = [...parts].sort((x, y) => x.shard[0] - y.shard[0]);
  const out: StudyResult = JSON.parse(JSON.stringify(ordered[0]));
  for (const p of ordered.slice(1)) addStudyPart(out, p);
  out.shard = [0, 1];
  return out;
}

/** The JSON that runs and shards exchange. */
export function studyJson(r: StudyResult): object {
  return r;
}

export function formatStudy(r: StudyResult): string {
  const lines: string[] = [];
  const from = r.origin ?? 0;
  lines.push(`unwinder study of ${r.image}: seed ${r.seed}, ${r.samples} samples (shard ${r.shard[0]}/${r.shard[1]}), stop points in [${from + 1}, ${from + r.maxInsns}), kernel ${r.version} rules`);
  lines.push(`${r.stopPoints} stop points taken, ${r.tasksUnwound} task stacks unwound`);
  for (const [u, c] of Object.entries(r.unwinders) as [string, UnwinderCounts][]) {
    lines.push('');
    lines.push(`${u}: correct_reliable ${c.correct_reliable}, refused ${c.refused}, wrong_reliable ${c.wrong_reliable}, wrong_refused ${c.wrong_refused}`);
    const stacks = Object.entries(c.runningByStack ?? {});
    if (stacks.length > 0) {
      lines.push(`  the running task, by the stack it was on: ${stacks.map(([k, cls]) => `${k} ${VERDICT_CLASSES.filter((v) => cls[v]).map((v) => `${v} ${cls[v]}`).join(' ')}`).join('; ')}`);
    }
    const causes = Object.entries(c.byCause).sort((a, b) => b[1] - a[1]);
    if (causes.length > 0) lines.push(`  refusals by cause: ${causes.map(([k, n]) => `${k} ${n}`).join(', ')}`);
    const fns = Object.entries(c.byFunction).sort((a, b) => (b[1].wrong_reliable ?? 0) - (a[1].wrong_reliable ?? 0));
    for (const [fn, cls] of fns) {
      const warn = r.objtoolWarnings[fn];
      lines.push(`  ${fn}: wrong_reliable ${cls.wrong_reliable ?? 0}, wrong_refused ${cls.wrong_refused ?? 0}${warn ? `  <- objtool: ${warn}` : ''}`);
    }
  }
  return lines.join('\n');
}

const CLASS_COLORS: Record<VerdictClass, string> = {
  correct_reliable: '#4caf50',
  refused: '#90caf9',
  wrong_refused: '#ffb74d',
  wrong_reliable: '#e53935',
};

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** A stacked bar per unwinder (share of task stacks in each class), as a standalone SVG. */
export function studySvg(r: StudyResult): string {
  const rows = Object.entries(r.unwinders) as [string, UnwinderCounts][];
  const W = 640;
  const barX = 60;
  const barW = W - barX - 20;
  const rowH = 44;
  const top = 40;
  const H = top + rows.length * rowH + 50;
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif" font-size="12">`);
  out.push(`<text x="10" y="20" font-size="14">${esc(`unwinder study: ${path.basename(r.image)}, seed ${r.seed}, ${r.tasksUnwound} task stacks at ${r.stopPoints} stop points`)}</text>`);
  rows.forEach(([name, c], i) => {
    const y = top + i * rowH;
    const total = VERDICT_CLASSES.reduce((s, k) => s + c[k], 0) || 1;
    out.push(`<text x="10" y="${y + 18}">${esc(name)}</text>`);
    let x = barX;
    for (const k of VERDICT_CLASSES) {
      const w = (c[k] / total) * barW;
      if (w > 0) out.push(`<rect x="${x.toFixed(1)}" y="${y}" width="${w.toFixed(1)}" height="26" fill="${CLASS_COLORS[k]}"><title>${k}: ${c[k]}</title></rect>`);
      x += w;
    }
    out.push(`<text x="${barX}" y="${y + 40}" font-size="10">${VERDICT_CLASSES.map((k) => `${k} ${c[k]}`).join('   ')}</text>`);
  });
  let lx = 10;
  const ly = H - 16;
  for (const k of VERDICT_CLASSES) {
    out.push(`<rect x="${lx}" y="${ly - 10}" width="12" height="12" fill="${CLASS_COLORS[k]}"/><text x="${lx + 16}" y="${ly}">${k}</text>`);
    lx += 150;
  }
  out.push('</svg>');
  return out.join('\n') + '\n';
}

/** Reads a study JSON written by `klp-lab unwind study --json` (throws on a foreign file). */
export function parseStudyJson(text: string, name: string): StudyResult {
  const r = JSON.parse(text) as StudyResult;
  if (typeof r !== 'object' || r === null || typeof r.image !== 'string' || typeof r.unwinders !== 'object' || !Array.isArray(r.shard)) {
    throw new Error(`${name}: not a klp-lab unwind study result`);
  }
  return r;
}
