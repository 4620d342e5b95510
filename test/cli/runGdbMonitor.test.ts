// Real gdb (batch mode) against `klp-lab run fixtures/kernel/kernel.elf --gdb 0 --wait`: the livepatch
// monitor commands for the thread gdb has selected. First stop: a breakpoint on chain_a4, reached by the
// kworker/chain-a kthread. Second stop: kworker/chain-b in chain_b_sleep, with chain-a asleep inside
// chain_a4; gdb then selects chain-a's thread (tid = pid + 1 = 6).
import * as path from 'path';
import { FIXTURES, haveTool } from '../helpers/fixtures';
import { serveUnderGdb } from '../helpers/gdbServe';
import { gdbArgs, runGdb, sections } from '../emulator/gdb/gdbDriver';

jest.setTimeout(120_000);

function symbols(lines: string[]): string[] {
  return lines.map((l) => l.trim().replace(/^\(/, '').replace(/\+.*$/, ''));
}

/** The rows of one column of a `monitor unwind` table (0: ground truth, 1: fp), without the header. */
function column(text: string, col: number): string[] {
  const rows = text.split('\n').filter((l) => l.startsWith('  ')).map((l) => (l.split(' | ')[col] ?? '').trim());
  return rows.slice(1).filter((r) => r !== '');
}

test('monitor unwind and monitor lp-state for the gdb-selected task', async () => {
  expect(haveTool('gdb')).toBe(true);
  const image = path.join(FIXTURES, 'kernel', 'kernel.elf');
  const { port, exited } = await serveUnderGdb(image);
  const commands = [
    'break chain_a4', 'continue', 'monitor unwind', 'monitor lp-state',
    'delete', 'break chain_b_sleep', 'continue',
    'python [t.switch() for t in gdb.selected_inferior().threads() if t.ptid[1] == 6]', 'thread',
    'monitor unwind', 'monitor lp-state', 'monitor help', 'kill',
  ];
  const run = await runGdb(gdbArgs(image, port, commands));
  await exited;
  expect(run.timedOut).toBe(false);
  const s = sections(run.output);
  expect(s[2]).toMatch(/hit Breakpoint 1, 0x[0-9a-f]+ in chain_a4 \(\)/);

  // On the breakpoint: chain-a is on the CPU, stopped on chain_a4's first instruction.
  expect(s[3]).toContain('orc: the image has no ORC tables (orc_init false): frame pointers only');
  expect(s[3]).toContain('pid 5 kworker/chain-a [kthread] running');
  expect(symbols(column(s[3], 0)).slice(0, 5)).toEqual(['chain_a4', 'chain_a3', 'chain_a2', 'chain_a1', 'kworker_chain_a']);
  expect(s[3]).toMatch(/fp: unreliable: kernel-regs at 0xffffffff[0-9a-f]+ \[wrong_refused\]/);

  // lp-state: no transition, every kthread KLP_UNDEFINED without TIF_PATCH_PENDING; chain-a selected.
  expect(s[4]).toContain('klp_target_state -1 KLP_UNDEFINED (no transition in progress)');
  const kthreads = s[4].split('\n').filter((l) => / kthread /.test(l));
  expect(kthreads.map((l) => l.trim().replace(/^[*>]+ */, '').split(/ +/)[1]).sort())
    .toEqual(['init', 'kbroken', 'kconsumer', 'kcpuhog', 'khostcall', 'kproducer', 'kworker/chain-a', 'kworker/chain-b'].sort());
  for (const l of kthreads) expect(l).toMatch(/ kthread  -1 KLP_UNDEFINED +-$/);
  expect(s[4]).toMatch(/\n\*> +5  kworker\/chain-a /);

  // Second stop: chain-b runs; gdb selects chain-a, asleep in msleep called from chain_a4.
  expect(s[7]).toMatch(/hit Breakpoint 2, 0x[0-9a-f]+ in chain_b_sleep \(\)/);
  expect(s[9]).toContain('Thread 1.6');
  expect(s[10]).toContain('pid 5 kworker/chain-a [kthread] asleep');
  expect(s[10]).toMatch(/fp: reliable, \d+ entries \[correct_reliable\]/);
  const fp = symbols(column(s[10], 1));
  const at = fp.indexOf('chain_a4');
  expect(fp.slice(at, at + 5)).toEqual(['chain_a4', 'chain_a3', 'chain_a2', 'chain_a1', 'kworker_chain_a']);
  expect(fp[fp.length - 1]).toBe('ret_from_fork');
  expect(s[11]).toMatch(/\n\*  +5  kworker\/chain-a /);
  expect(s[11]).toMatch(/\n >  +6  kworker\/chain-b /);
  expect(s[12]).toMatch(/^lp-state +livepatch state/m);
  expect(s[12]).toMatch(/^unwind +unwinders' reliable traces/m);
});
