// The worker thread of a parallel study (see workerPool.ts): it makes the study's task runner from
// the inputs it was started with (studyTasks.ts), answers each task the pool sends with its reply,
// and closes its port when the pool says it is done. A worker started early (workerData
// `{ early }`) does what it can before its inputs come (loads its modules, parses the image), then
// takes them from its first message.

import { parentPort, workerData } from 'worker_threads';
import { prepareEarly, taskRunner, type EarlyInit, type Prepared, type WorkerInit, type WorkerReply } from './studyTasks';
import type { WorkerRequest } from './workerPool';

function start(): void {
  const port = parentPort;
  if (port === null) throw new Error('studyWorker runs only as a worker thread');
  const data = workerData as WorkerInit | { early: EarlyInit };
  let prepared: Prepared | undefined;
  let answer: ((task: number, payload: unknown) => WorkerReply) | null = null;
  if ('early' in data) prepared = prepareEarly(data.early);
  else answer = taskRunner(data);
  port.on('message', (m: WorkerRequest) => {
    if ('done' in m) {
      port.close();
      return;
    }
    if ('init' in m) {
      answer = taskRunner(m.init, prepared);
      return;
    }
    if (answer === null) throw new Error('a study task came before the study\'s inputs');
    port.postMessage(answer(m.task, m.payload));
  });
}

start();
