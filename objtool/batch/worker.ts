// A worker thread of a many-object objtool run: runs objtool on each file the main thread
// sends and posts back what it printed. The options were parsed and checked once by the main
// thread; each file gets its own copy (runObjtoolOnFile), so files never affect each other.

import { parentPort, workerData } from 'worker_threads';
import { runObjtoolOnFile } from '../objtool';
import type { Options } from '../options';
import { runGuarded, type FileJob } from './runOne';

interface Setup {
  opts: Options;
  cwd: string;
}

const setup = workerData as Setup;

parentPort!.on('message', (job: FileJob) => {
  parentPort!.postMessage(runGuarded(job, () => runObjtoolOnFile(setup.opts, job.path, setup.cwd)));
});
