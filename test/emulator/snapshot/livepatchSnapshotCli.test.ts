// `klp-lab livepatch IMAGE PATCH.o --snapshot-save FILE` then `--snapshot FILE`: the same report
// (log, timeline, consistency line, exit status); `livepatch study --snapshot FILE` errors are one line.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { livepatchRunCommand } from '../../../cli/commands/livepatch/run';
import { livepatchStudyCommand } from '../../../cli/commands/livepatch/study';
import { UserError } from '../../../cli/userError';
import { FIXTURES } from '../../helpers/fixtures';

const KERNEL = path.join(FIXTURES, 'kernel', 'kernel.elf');
const CHAIN = path.join(FIXTURES, 'livepatch', 'klp_chain_a2.o');

function invoke(handler: unknown, args: Record<string, unknown>): { out: string; err: string; status: number | undefined } {
  let out = '', err = '';
  const o = jest.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => { out += String(s); return true; });
  const e = jest.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => { err += String(s); return true; });
  const saved = process.exitCode;
  process.exitCode = undefined;
  try {
    (handler as (a: unknown) => void)(args);
    return { out, err, status: process.exitCode as number | undefined };
  } finally {
    o.mockRestore(); e.mockRestore();
    process.exitCode = saved;
  }
}

const runDefaults = {
  image: KERNEL, patch: CHAIN, kernel: '6.1', unwinder: 'fp', cmdline: 'scale=2 nap=20000', jitter: 200000,
  at: '9ms', 'max-wait': 60, seed: 3, 'debug-switch': true,
};

let dir: string;
beforeAll(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'klp-lab-snapshot-')); });
afterAll(() => { fs.rmSync(dir, { recursive: true, force: true }); });

test('livepatch --snapshot-save at the patch time, then --snapshot: the same report and status', async () => {
  const file = path.join(dir, 'lab.snap');
  const saving = invoke(livepatchRunCommand.handler, { ...runDefaults, 'snapshot-save': file });
  expect(saving.status).toBeUndefined();
  expect(saving.out).toContain("livepatch: 'klp_chain_a2': patching complete");
  expect(fs.statSync(file).size).toBeGreaterThan(1000);
  const restored = invoke(livepatchRunCommand.handler, { ...runDefaults, snapshot: file });
  expect(restored.out).toBe(saving.out);
  expect(restored.status).toBe(saving.status);
  // A study from it: a window before the snapshot is refused in one line.
  let err: unknown = null;
  try {
    // The study handler is async (its runs may go to worker threads): the refusal is a rejection.
    await (livepatchStudyCommand.handler as (a: unknown) => Promise<void>)({
      ...runDefaults, runs: 1, seed: 1, from: '1ms', to: '2ms', 'max-wait': 30, progress: false, snapshot: file, jobs: 1,
    });
  } catch (e) { err = e; }
  expect(err).toBeInstanceOf(UserError);
  expect((err as Error).message).toMatch(/lab\.snap: taken at 9\.000 ms of virtual time, after the patch time/);
  expect(() => invoke(livepatchRunCommand.handler, { ...runDefaults, snapshot: path.join(dir, 'none.snap') })).toThrow(/none\.snap: No such file/);
}, 120_000);
