// One file of a many-object run, as the main thread and the workers both run it.

import type { ObjtoolResult } from '../objtool';

export interface FileJob {
  index: number;
  path: string;
  /** A directory that could not be listed: this line is the file's whole output. */
  error?: string;
}

export interface FileDone extends ObjtoolResult {
  index: number;
}

/**
 * Runs `run` for the job. A failure that objtool itself does not report (a defect of this
 * port) becomes that file's one error line and status 1, so the other files still run.
 */
export function runGuarded(job: FileJob, run: () => ObjtoolResult): FileDone {
  if (job.error) return { index: job.index, stdout: '', stderr: job.error + '\n', status: 1 };
  try {
    return { index: job.index, ...run() };
  } catch (e) {
    const why = e instanceof Error ? e.message.split('\n')[0] : String(e);
    return { index: job.index, stdout: '', stderr: `error: objtool: ${job.path}: klp-lab objtool failed on this file: ${why}\n`, status: 1 };
  }
}
