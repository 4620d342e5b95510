// Runs a study's tasks on worker threads. Each worker is started once with the study's read-only
// inputs (settings, and the image bytes or snapshot in SharedArrayBuffers so that they are not
// copied per worker), then gets one task at a time, the next each time it finishes one. With
// `runHere` the main thread is one of the threads: it runs tasks between answering the workers,
// and each worker holds two tasks so that it never waits for the busy main thread. The pool hands
// the tasks out in the order given, so every thread sees its tasks in ascending order (the unwind
// study relies on that to run its guest only forward). Results come back by task index, so the
// caller assembles them in task order, whatever order the threads finished in: that is what makes
// `--jobs N` give the same study as `--jobs 1`.
//
// Ctrl-C (SIGINT) during the run terminates every worker and rejects with a StudyPoolError
// (status 130); the callers write their output files only after the pool resolved, so nothing
// partial is written. A task that throws rejects with its one-line message (status 1 when the
// study's inputs are at fault, 70 when klp-lab is).

import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Worker } from 'worker_threads';
import { taskRunner, type EarlyInit, type WorkerInit, type WorkerReply } from './studyTasks';
import { carryExecCounts, sharedExecCounts } from '../../emulator/jit/sharedCode';

export type { WorkerInit, WorkerReply } from './studyTasks';

/** Pool to worker: the study's inputs (to a worker started early), the next task, or the end. */
export type WorkerRequest = { init: WorkerInit } | { task: number; payload: unknown } | { done: true };

/** A failure of the study itself (a task threw, a worker died, Ctrl-C): one line for the user. */
export class StudyPoolError extends Error {
  constructor(message: string, readonly status = 1) {
    super(message);
    this.name = 'StudyPoolError';
  }
}

export const INTERRUPTED_STATUS = 130;
/** As cli/userError's INTERNAL_ERROR_STATUS (sysexits' EX_SOFTWARE): klp-lab's own fault. */
const INTERNAL_STATUS = 70;

/** The default of --jobs: the CPUs this process may use. */
export function defaultJobs(): number {
  return Math.max(1, os.availableParallelism());
}

/**
 * The compiled worker entry. From dist/ it sits beside this file; under ts-jest (which runs the
 * TypeScript sources) threads cannot load .ts files, so the build's copy in dist/ is used.
 */
export function workerEntryFile(): string {
  const here = __filename.endsWith('.ts') ? path.resolve(__dirname, '..', '..', 'dist', 'livepatch', 'study') : __dirname;
  const file = path.join(here, 'studyWorker.js');
  if (!fs.existsSync(file)) throw new StudyPoolError(`the study worker ${path.relative(process.cwd(), file)} is not built (npm run build)`);
  return file;
}

/** Copies bytes into memory that every worker can read without a copy of its own. */
export function sharedBytes(bytes: Uint8Array): SharedArrayBuffer {
  const shared = new SharedArrayBuffer(bytes.length);
  new Uint8Array(shared).set(bytes);
  return shared;
}

/**
 * A deep copy of plain data whose byte arrays are moved into shared memory: posted to workers, the
 * objects are cloned (they are small) but the bytes are not, so N workers cost one copy of them.
 */
export function sharedCopy<T>(value: T): T {
  if (value instanceof Uint8Array) {
    const copy = new Uint8Array(new SharedArrayBuffer(value.length));
    copy.set(value);
    return copy as T;
  }
  if (Array.isArray(value)) return value.map((x: unknown) => sharedCopy(x)) as T;
  if (value !== null && typeof value === 'object') {
    const copy: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) copy[k] = sharedCopy(v);
    return copy as T;
  }
  return value;
}

/**
 * Workers started before the study's inputs are ready (a real-kernel study sets its lab up for
 * seconds first): each loads its modules and parses the image meanwhile, and the pool hands them
 * the inputs when it starts. Until then they do not keep the process alive, so a set-up that fails
 * ends the process as before; `stop` ends them at once.
 */
export class EarlyWorkers {
  readonly workers: Worker[] = [];
  /** The first error a worker raised before the pool took them (the pool reports it). */
  failure: Error | null = null;

  constructor(count: number, early: EarlyInit) {
    const entry = workerEntryFile();
    for (let i = 0; i < count; i++) {
      const w = new Worker(entry, { workerData: { early } });
      w.unref();
      w.on('error', (e) => { this.failure ??= e; });
      this.workers.push(w);
    }
  }

  stop(): void {
    for (const w of this.workers) void w.terminate();
  }
}

export interface PoolOptions<P, R> {
  jobs: number;
  init: WorkerInit;
  /** The tasks' payloads, handed out in this order. */
  payloads: P[];
  /**
   * This thread runs tasks too, as one of the `jobs` (between them it answers the workers): a study
   * of short tasks then starts one worker fewer, and this thread, whose modules are loaded already,
   * starts on the first task at once. Only for short tasks: Ctrl-C waits for the task in hand.
   */
  runHere?: boolean;
  /** Called as each task finishes (in finishing order). */
  onResult?: (finished: number, total: number, result: R) => void;
  /** Workers started early: used instead of new ones, the surplus stopped. */
  early?: EarlyWorkers;
}

/**
 * With every core running a study thread, counts carry over between runs only when each thread has
 * more tasks than this: then what the carried counts make V8 compile pays back within the study.
 * Fixture-kernel livepatch studies at --jobs 2 on 2 cores, carrying against not: 48 runs 3.10-3.24 s
 * against 2.71-2.80 s; 200 runs 6.61-6.77 s against 6.48-6.77 s; 400 runs 10.24-10.36 s against
 * 11.23-11.32 s; 1,000 runs 22.2 s against 24.9 s.
 */
const CARRY_TASKS_PER_THREAD = 100;

/** Whether a study of `tasks` tasks on `threads` threads and `cpus` CPUs carries execution counts over. */
export function carriesCounts(threads: number, tasks: number, cpus: number): boolean {
  return threads < cpus || tasks / threads > CARRY_TASKS_PER_THREAD;
}

/** Tasks a worker holds when this thread runs tasks too: the next is there when it finishes one. */
const QUEUED_WHILE_BUSY = 2;

/** Runs every payload on `jobs` threads; the results come back in payload order. */
export function runPool<P, R>(opts: PoolOptions<P, R>): Promise<R[]> {
  const total = opts.payloads.length;
  const results: R[] = new Array(total);
  if (total === 0) {
    opts.early?.stop();
    return Promise.resolve(results);
  }
  const threads = Math.max(1, Math.min(opts.jobs, total));
  const here = opts.runHere === true;
  const workerCount = here ? threads - 1 : threads;
  const early = opts.early?.workers ?? [];
  for (const w of early.slice(workerCount)) void w.terminate();
  const entry = workerCount > early.length ? workerEntryFile() : '';
  const queued = here ? QUEUED_WHILE_BUSY : 1;
  // Every thread counts its guest code's executions in one buffer, so each compiles what the whole
  // study runs often, unless the threads fill every core and each has too few tasks for the compiles
  // to pay (sharedCode.ts carryExecCounts). The results do not depend on it: translated code runs as
  // the interpreter does.
  const carryCounts = carriesCounts(threads, total, os.availableParallelism());
  const carriedBefore = here ? carryExecCounts(carryCounts) : null;
  const init: WorkerInit = { ...opts.init, execCounts: sharedExecCounts(), carryCounts };
  return new Promise<R[]>((resolve, reject) => {
    const workers: Worker[] = [];
    let next = 0;
    let finished = 0;
    let settled = false;
    const finish = (err: Error | null) => {
      if (settled) return;
      settled = true;
      if (carriedBefore !== null) carryExecCounts(carriedBefore);
      process.removeListener('SIGINT', onSigint);
      for (const w of workers) void w.terminate();
      if (err) reject(err);
      else resolve(results);
    };
    const onSigint = () => finish(new StudyPoolError('interrupted; no output written', INTERRUPTED_STATUS));
    process.on('SIGINT', onSigint);
    const feed = (w: Worker) => {
      if (next < total) {
        const task = next++;
        w.postMessage({ task, payload: opts.payloads[task] } satisfies WorkerRequest);
      } else {
        w.postMessage({ done: true } satisfies WorkerRequest);
      }
    };
    /** A task's reply, from a worker or from this thread; false when the study ended with it. */
    const take = (m: WorkerReply): boolean => {
      if (settled) return false;
      if ('error' in m) {
        finish(m.userError ? new StudyPoolError(m.error) : new StudyPoolError(`internal error in a study worker: ${m.error}`, INTERNAL_STATUS));
        return false;
      }
      results[m.task] = m.result as R;
      finished++;
      opts.onResult?.(finished, total, m.result as R);
      if (finished === total) finish(null);
      return !settled;
    };
    for (let i = 0; i < workerCount; i++) {
      let w: Worker;
      if (i < early.length) {
        w = early[i];
        w.ref();
        w.postMessage({ init } satisfies WorkerRequest);
      } else {
        w = new Worker(entry, { workerData: init });
      }
      workers.push(w);
      w.on('message', (m: WorkerReply) => {
        if (take(m)) feed(w);
      });
      w.on('error', (e) => finish(new StudyPoolError(`internal error in a study worker: ${firstLine(e.message)}`, INTERNAL_STATUS)));
      w.on('exit', (code) => {
        if (!settled && code !== 0) finish(new StudyPoolError(`internal error: a study worker exited with status ${code}`, INTERNAL_STATUS));
      });
      for (let q = 0; q < queued; q++) feed(w);
    }
    const earlyFailure = opts.early?.failure;
    if (earlyFailure) finish(new StudyPoolError(`internal error in a study worker: ${firstLine(earlyFailure.message)}`, INTERNAL_STATUS));
    if (here) {
      // One task at a time, then back to the event loop: the workers' replies and Ctrl-C are
      // handled between this thread's tasks.
      let answer: ((task: number, payload: unknown) => WorkerReply) | null = null;
      const runNext = () => {
        if (settled || next >= total) return;
        const task = next++;
        try {
          answer ??= taskRunner(opts.init);
        } catch (e) {
          finish(new StudyPoolError(`internal error in the study: ${firstLine(e instanceof Error ? e.message : String(e))}`, INTERNAL_STATUS));
          return;
        }
        if (take(answer(task, opts.payloads[task]))) setImmediate(runNext);
      };
      setImmediate(runNext);
    }
  });
}

function firstLine(text: string): string {
  return text.split('\n').find((l) => l.trim() !== '')?.trim() ?? text;
}
