// Drives real gdb in batch mode for the stub tests: one `echo @@@S<n>` marker before each command, so
// the output splits into sections (section 0 = `target remote`, section n = the n-th command), stdout
// and stderr in one pipe (their order preserved), every wait bounded, Ctrl-C as SIGINT to gdb.
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';

export const ROOT = path.resolve(__dirname, '..', '..', '..');
export const GOLDEN_DIR = path.join(ROOT, 'test', 'golden', 'gdb');

export interface Difference { section: number; qemu: string; klp: string; reason: string }
export interface Scenario {
  name: string;
  image: string;
  commands: string[];
  interruptSection?: number;
  differences: Difference[];
}

export function loadScenarios(): Scenario[] {
  return (JSON.parse(fs.readFileSync(path.join(GOLDEN_DIR, 'scenarios.json'), 'utf8')) as { scenarios: Scenario[] }).scenarios;
}

export function gdbArgs(image: string, port: number, commands: string[]): string[] {
  const args = ['-batch', '-nx', image, '-ex', 'echo @@@S0\\n', '-ex', `target remote 127.0.0.1:${port}`];
  commands.forEach((c, i) => { args.push('-ex', `echo @@@S${i + 1}\\n`, '-ex', c); });
  return args;
}

export interface GdbRun { output: string; code: number | null; timedOut: boolean }

/**
 * Run gdb; resolves with its combined output. `interruptWhen` is polled every 20 ms once the output
 * reached section `interruptSection`: when it returns true gdb gets one SIGINT (Ctrl-C).
 */
export function runGdb(args: string[], opts: { timeoutMs?: number; interruptSection?: number; interruptWhen?: () => boolean } = {}): Promise<GdbRun> {
  return new Promise((resolve) => {
    const child = spawn('sh', ['-c', 'exec gdb "$@" 2>&1', 'sh', ...args], { stdio: ['ignore', 'pipe', 'ignore'] });
    let out = '';
    let timedOut = false;
    let interrupted = false;
    const timer = setTimeout(() => { timedOut = true; child.kill('SIGKILL'); }, opts.timeoutMs ?? 60000);
    let poll: NodeJS.Timeout | null = null;
    if (opts.interruptSection !== undefined) {
      const marker = `@@@S${opts.interruptSection}\n`;
      poll = setInterval(() => {
        if (interrupted || !out.includes(marker)) return;
        if (opts.interruptWhen === undefined || opts.interruptWhen()) { interrupted = true; child.kill('SIGINT'); }
      }, 20);
    }
    child.stdout!.on('data', (d: Buffer) => { out += d.toString('utf8'); });
    child.on('close', (code) => {
      clearTimeout(timer);
      if (poll !== null) clearInterval(poll);
      resolve({ output: out, code, timedOut });
    });
  });
}

/** Split marked output into sections (index = marker number). */
export function sections(output: string): string[] {
  const parts = output.split(/@@@S(\d+)\n/);
  const res: string[] = [];
  for (let i = 1; i + 1 < parts.length; i += 2) res[Number(parts[i])] = parts[i + 1];
  return res;
}

export function gdbAvailable(): boolean {
  return (process.env.PATH ?? '').split(':').some((d) => fs.existsSync(path.join(d, 'gdb')));
}
