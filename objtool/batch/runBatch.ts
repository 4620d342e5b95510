// klp-lab's many-object objtool: `objtool [actions] [options] FILE|DIR ...` in one process.
//
// Each file gets exactly what Linux 6.1's objtool prints and returns for that file alone (the
// options are parsed and checked once, as objtool would for each run; every file gets its own
// copy of them). Files run on worker threads, the largest first, and their output is printed
// in argument order, each file's together, whatever the number of threads. The exit status is
// the largest of the files'. With one thread (or one file) everything runs on the main thread.

import * as fs from 'fs';
import * as os from 'os';
import * as pathMod from 'path';
import { Worker } from 'worker_threads';
import { writeFileAtomic } from '../../elf/atomicWrite';
import { refuseUnimplemented, runObjtoolOnFile } from '../objtool';
import { parseObjtoolArgsMany, type Options } from '../options';
import { expandOperands, type BatchFile } from './operands';
import { runGuarded, type FileDone, type FileJob } from './runOne';
import { buildReport, formatSummary, reportJson, type FileOutcome } from './summary';

export interface BatchSettings {
  /** Worker threads; 1 runs everything on the calling thread. */
  jobs: number;
  /** Print the warnings table after the output. */
  summary: boolean;
  /** Write the report as JSON to this path (relative to cwd), atomically. */
  jsonPath: string | null;
}

export interface OutputSink {
  stdout(text: string): void;
  stderr(text: string): void;
}

/** The default number of worker threads: the CPUs this process may use. */
export function defaultJobs(): number {
  return typeof os.availableParallelism === 'function' ? os.availableParallelism() : Math.max(1, os.cpus().length);
}

/** The arguments without the file operands (what every file is run with), for the report. */
function optionArgs(argv: string[], files: string[]): string[] {
  const rest = [...argv];
  for (const f of files) {
    const i = rest.lastIndexOf(f);
    if (i >= 0) rest.splice(i, 1);
  }
  return rest.filter((a) => a !== '--');
}

/**
 * Runs objtool over every file named or found under the directories named in `argv`
 * (objtool's own arguments). Returns the combined exit status.
 */
export async function runObjtoolBatch(
  argv: string[],
  settings: BatchSettings,
  sink: OutputSink,
  env: NodeJS.ProcessEnv = process.env,
  cwd: string = process.cwd(),
): Promise<number> {
  const parsed = parseObjtoolArgsMany(argv, env.OBJTOOL_ARGS);
  if (!parsed.ok) {
    sink.stderr(parsed.stderr);
    return parsed.status;
  }
  const refused = refuseUnimplemented(parsed.opts);
  if (refused) {
    sink.stderr(refused.stderr);
    return refused.status;
  }
  const files = expandOperands(parsed.files, cwd);
  const outcomes: FileOutcome[] = new Array(files.length);
  let next = 0;
  const done = (r: FileDone): void => {
    const f = files[r.index];
    outcomes[r.index] = { path: f.path, status: r.status, stdout: r.stdout, stderr: r.stderr };
    // Print every finished file up to the first one still running, in argument order.
    while (next < files.length && outcomes[next]) {
      const o = outcomes[next++];
      if (o.stdout) sink.stdout(o.stdout);
      if (o.stderr) sink.stderr(o.stderr);
    }
  };
  const jobs = Math.max(1, Math.min(settings.jobs, files.length));
  if (jobs === 1) {
    files.forEach((f, index) => done(runGuarded({ index, path: f.path, error: f.error }, () => runObjtoolOnFile(parsed.opts, f.path, cwd))));
  } else {
    await runOnWorkers(files, parsed.opts, cwd, jobs, done);
  }

  const report = buildReport(optionArgs(argv, parsed.files), outcomes);
  let status = report.status;
  if (settings.summary) sink.stdout(formatSummary(report));
  if (settings.jsonPath !== null) {
    try {
      writeFileAtomic(pathMod.resolve(cwd, settings.jsonPath), Buffer.from(reportJson(report)));
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      sink.stderr(`error: objtool: can't write '${settings.jsonPath}': ${err.code ?? err.message}\n`);
      status = Math.max(status, 1);
    }
  }
  return status;
}

const YOUNG_GENERATION_MB = 64;

/** The compiled worker beside this module (the CLI runs from the build). */
function workerScript(): string {
  const js = pathMod.join(__dirname, 'worker.js');
  if (!fs.existsSync(js)) throw new Error(`objtool worker threads need the built JavaScript (${js} is missing: npm run build)`);
  return js;
}

/** Runs the files on `jobs` worker threads, largest first, reporting each through `done`. */
function runOnWorkers(files: BatchFile[], opts: Options, cwd: string, jobs: number, done: (r: FileDone) => void): Promise<void> {
  const script = workerScript();
  const order = files.map((_, i) => i).sort((a, b) => files[b].size - files[a].size || a - b);
  let dispatched = 0;
  let finished = 0;
  return new Promise((resolve) => {
    const nextJob = (): FileJob | null => {
      if (dispatched >= order.length) return null;
      const index = order[dispatched++];
      return { index, path: files[index].path, error: files[index].error };
    };
    const start = (): void => {
      const first = nextJob();
      if (!first) return;
      let current: FileJob = first;
      // A young generation large enough for one big module's instructions and CFI states: they
      // then die young instead of being copied into the old generation (a quarter of the time
      // went to garbage collection with V8's default size).
      const worker = new Worker(script, { workerData: { opts, cwd }, resourceLimits: { maxYoungGenerationSizeMb: YOUNG_GENERATION_MB } });
      const finish = (r: FileDone): void => {
        done(r);
        if (++finished === files.length) resolve();
      };
      worker.on('message', (r: FileDone) => {
        const job = nextJob();
        if (job) {
          current = job;
          worker.postMessage(job);
        } else {
          void worker.terminate();
        }
        finish(r);
      });
      // A worker that dies (out of memory, say) loses only its current file; a new one goes on.
      worker.on('error', (e) => {
        finish(runGuarded(current, () => {
          throw e;
        }));
        start();
      });
      worker.postMessage(current);
    };
    for (let i = 0; i < jobs; i++) start();
  });
}
