// Shards of a study: which one this process is (`--shard i/n`, or `--shard auto` from the
// cluster's job array), and whether a set of shard results makes exactly one whole study.
//
// `auto` reads what the scheduler puts in each array task's environment:
// - Slurm job arrays (sbatch --array=MIN-MAX): SLURM_ARRAY_TASK_ID, SLURM_ARRAY_TASK_MIN,
//   SLURM_ARRAY_TASK_COUNT (and SLURM_ARRAY_TASK_STEP, which must be 1: a stepped or partial
//   array would leave shards out); shard = ID - MIN of COUNT.
// - Kubernetes Indexed Jobs (completionMode: Indexed): JOB_COMPLETION_INDEX, 0 to completions-1;
//   the pod does not see the number of completions, so it comes from --shards N.

export type Shard = [number, number];

/** An unusable shard request or shard set, as one line. */
export class ShardError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ShardError';
  }
}

type Env = Record<string, string | undefined>;

function wholeNumber(env: Env, name: string): number | undefined {
  const v = env[name];
  if (v === undefined || v === '') return undefined;
  if (!/^\d+$/.test(v)) throw new ShardError(`--shard auto: ${name} is not a whole number (${v})`);
  return Number(v);
}

/** The shard from a Slurm job array or a Kubernetes Indexed Job; null when neither is there. */
export function shardFromEnvironment(env: Env, shards?: number): Shard | null {
  const id = wholeNumber(env, 'SLURM_ARRAY_TASK_ID');
  if (id !== undefined) {
    const count = wholeNumber(env, 'SLURM_ARRAY_TASK_COUNT');
    const min = wholeNumber(env, 'SLURM_ARRAY_TASK_MIN') ?? 0;
    const max = wholeNumber(env, 'SLURM_ARRAY_TASK_MAX');
    const step = wholeNumber(env, 'SLURM_ARRAY_TASK_STEP') ?? 1;
    if (count === undefined) throw new ShardError('--shard auto: SLURM_ARRAY_TASK_ID is set but SLURM_ARRAY_TASK_COUNT is not');
    if (step !== 1 || (max !== undefined && max - min + 1 !== count)) {
      throw new ShardError(`--shard auto: the Slurm array must be one range with step 1 (--array=0-${count - 1}), not ${min}-${max ?? '?'}:${step} with ${count} tasks`);
    }
    if (shards !== undefined && shards !== count) throw new ShardError(`--shard auto: --shards ${shards} but the Slurm array has ${count} tasks`);
    const i = id - min;
    if (i < 0 || i >= count) throw new ShardError(`--shard auto: SLURM_ARRAY_TASK_ID ${id} is outside the array (${min} + ${count} tasks)`);
    return [i, count];
  }
  const index = wholeNumber(env, 'JOB_COMPLETION_INDEX');
  if (index !== undefined) {
    if (shards === undefined) throw new ShardError('--shard auto in a Kubernetes Indexed Job needs --shards N (the Job\'s completions)');
    if (index >= shards) throw new ShardError(`--shard auto: JOB_COMPLETION_INDEX ${index} is not below --shards ${shards}`);
    return [index, shards];
  }
  return null;
}

/** `--shard i/n`, `--shard auto` (with the optional `--shards N`), or the whole study. */
export function parseShard(value: string | undefined, shards: number | undefined, env: Env = process.env): Shard {
  if (shards !== undefined && (!Number.isInteger(shards) || shards < 1)) throw new ShardError('--shards takes a positive whole number');
  if (value === undefined) {
    if (shards !== undefined) throw new ShardError('--shards goes with --shard auto');
    return [0, 1];
  }
  if (value === 'auto') {
    const s = shardFromEnvironment(env, shards);
    if (s === null) throw new ShardError('--shard auto needs a Slurm job array (SLURM_ARRAY_TASK_ID) or a Kubernetes Indexed Job (JOB_COMPLETION_INDEX, with --shards N)');
    return s;
  }
  const m = /^(\d+)\/(\d+)$/.exec(value);
  if (!m || Number(m[2]) < 1 || Number(m[1]) >= Number(m[2])) throw new ShardError('--shard takes i/n with 0 <= i < n (e.g. 0/4), or auto');
  if (shards !== undefined) throw new ShardError('--shards goes with --shard auto');
  return [Number(m[1]), Number(m[2])];
}

/**
 * Throws unless every part has the same settings as the first. `settings` names the fields that
 * make a study what it is; the message names the first that differs and the two files.
 */
export function checkSameStudy<T>(parts: T[], names: string[], settings: (p: T) => Record<string, unknown>): void {
  if (parts.length === 0) throw new ShardError('nothing to merge');
  const first = settings(parts[0]);
  parts.forEach((p, j) => {
    const s = settings(p);
    for (const field of Object.keys(first)) {
      if (JSON.stringify(s[field]) !== JSON.stringify(first[field])) {
        throw new ShardError(`${names[j]} is not a shard of the same study as ${names[0]}: ${field} ${show(s[field])} vs ${show(first[field])}`);
      }
    }
  });
}

function show(v: unknown): string {
  return typeof v === 'string' ? v : JSON.stringify(v ?? null);
}

/** Throws unless the shards are exactly 0..n-1 of the same n, each once; names them by number. */
export function checkShardSet(shards: Shard[], names: string[]): void {
  const n = shards[0][1];
  const byIndex = new Map<number, string[]>();
  shards.forEach(([i], j) => byIndex.set(i, [...(byIndex.get(i) ?? []), names[j]]));
  const problems: string[] = [];
  const duplicated = [...byIndex.entries()].filter(([, files]) => files.length > 1).sort((a, b) => a[0] - b[0]);
  for (const [i, files] of duplicated) problems.push(`shard ${i}/${n} given ${files.length} times (${files.join(', ')})`);
  const missing: number[] = [];
  for (let i = 0; i < n; i++) if (!byIndex.has(i)) missing.push(i);
  if (missing.length > 0) problems.push(`${missing.length === 1 ? 'shard' : 'shards'} ${abbreviate(missing)} of ${n} missing`);
  if (problems.length > 0) throw new ShardError(`cannot merge: ${problems.join('; ')}`);
}

/** 0, 2, 5-9: runs of consecutive numbers shortened. */
function abbreviate(xs: number[]): string {
  const out: string[] = [];
  for (let a = 0; a < xs.length;) {
    let b = a;
    while (b + 1 < xs.length && xs[b + 1] === xs[b] + 1) b++;
    out.push(b > a + 1 ? `${xs[a]}-${xs[b]}` : b === a + 1 ? `${xs[a]}, ${xs[b]}` : `${xs[a]}`);
    a = b + 1;
  }
  return out.join(', ');
}
