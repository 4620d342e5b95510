// The worker thread of a parallel study (see workerPool.ts): it makes the study's task runner from
// the inputs it was started with (studyTasks.ts), answers each task the pool sends with its reply,
// and closes its port when the pool says it is done.

import { parentPort, workerData } from 'worker_threads';
import { taskRunner, type WorkerInit } from './studyTasks';
import type { WorkerRequest } from './workerPool';

function start(): void {
  const port = parentPort;
  if (port === null) throw new Error('studyWorker runs only as a worker thread');
  const answer = taskRunner(workerData as WorkerInit);
  port.on('message', (m: WorkerRequest) => {
    if ('done' in m) {
      port.close();
      return;
    }
    port.postMessage(answer(m.task, m.payload));
  });
}

start();
