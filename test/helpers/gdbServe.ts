// Starts `klp-lab run IMAGE --gdb 0 --wait` (the built command line) and waits for the port it
// announces on stderr, for tests that attach real gdb to it.

import { spawn, type ChildProcessWithoutNullStreams } from 'child_process';
import * as path from 'path';
import { REPO_ROOT } from './fixtures';

export interface ServedGuest {
  child: ChildProcessWithoutNullStreams;
  port: number;
  /** Resolves with the exit code once the process ends. */
  exited: Promise<number | null>;
}

export async function serveUnderGdb(image: string, timeoutMs = 20_000): Promise<ServedGuest> {
  const child = spawn('node', [path.join(REPO_ROOT, 'dist', 'cli', 'main.js'), 'run', image, '--gdb', '0', '--wait']);
  let stderr = '';
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no port announced: ${stderr}`)), timeoutMs);
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      const m = /listening on 127\.0\.0\.1:(\d+)/.exec(stderr);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    });
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, port, exited };
}
