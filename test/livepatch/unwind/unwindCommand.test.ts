// `klp-lab unwind IMAGE --at N` through its yargs command module: output for the fixture kernel.

import * as path from 'path';
import yargs from 'yargs';
import { unwindCommand } from '../../../cli/commands/unwind';

const IMAGE = path.resolve(__dirname, '..', '..', '..', 'fixtures', 'kernel', 'kernel.elf');

async function run(args: string[]): Promise<{ out: string; err: unknown }> {
  let out = '';
  const spy = jest.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => {
    out += String(s);
    return true;
  });
  let err: unknown = null;
  try {
    await yargs(args).command(unwindCommand).strict().fail((msg, e) => { throw e ?? new Error(msg); }).parseAsync();
  } catch (e) {
    err = e;
  } finally {
    spy.mockRestore();
  }
  return { out, err };
}

test('unwind --at: every task with the ground truth beside the frame-pointer trace', async () => {
  const { out, err } = await run(['unwind', IMAGE, '--at', '1419139']);
  expect(err).toBeNull();
  const lines = out.split('\n');
  expect(lines[0]).toBe(`${IMAGE}: stopped after 1419139 instructions (kernel 6.1 rules)`);
  const heads = lines.filter((l) => l.startsWith('pid '));
  expect(heads.length).toBeGreaterThan(5);
  expect(heads[0]).toMatch(/^pid 0 swapper\/0 \[idle\]/);
  // every column header carries a verdict class judged against the truth
  const verdicts = lines.filter((l) => l.startsWith('  ground truth'));
  expect(verdicts.length).toBe(heads.length);
  for (const v of verdicts) expect(v).toMatch(/fp: (reliable|unreliable).*\[(correct_reliable|refused|wrong_reliable|wrong_refused)\]/);
  expect(out).toContain('ret_from_fork+0x');
}, 60000);

test('unwind --at past the end of the run is a one-line user error', async () => {
  const { err } = await run(['unwind', IMAGE, '--at', String(1e12)]);
  expect((err as Error).name).toBe('UserError');
  expect((err as Error).message).toMatch(/did not reach instruction 1000000000000: guest exited with status \d+ after \d+ instructions/);
}, 120000);
