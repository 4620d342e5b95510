// Real gdb (batch mode) against klp-lab's stub, compared section by section with QEMU's answers to the
// same commands (test/golden/gdb/*.qemu.txt, recorded by test/golden/gdb/record.js). The only allowed
// differences are the ones scenarios.json lists with their reasons. Then what QEMU cannot show: guest
// tasks as gdb threads, checked against an independent walk of the task list in guest memory.
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { ElfFile } from '../../../elf/elfFile';
import { Machine } from '../../../emulator/machine';
import { loadPvh } from '../../../emulator/loader/pvh';
import { GdbServer } from '../../../emulator/gdb/gdbServer';
import { GuestTasks } from '../../../emulator/gdb/guestTasks';
import { ROOT, GOLDEN_DIR, loadScenarios, gdbArgs, runGdb, sections, gdbAvailable } from './gdbDriver';

jest.setTimeout(120000);

async function serve(image: string): Promise<{ m: Machine; server: GdbServer; elf: ElfFile }> {
  const bytes = fs.readFileSync(image);
  const m = new Machine({ onConsole: () => undefined });
  loadPvh(m, bytes, image);
  const elf = ElfFile.parse(bytes, image);
  const server = await GdbServer.listen(m, { port: 0, wait: true, tasks: GuestTasks.fromElf(elf) });
  return { m, server, elf };
}

const manifest = new Map(fs.readFileSync(path.join(GOLDEN_DIR, 'MANIFEST'), 'utf8').trim().split('\n')
  .map((l) => l.split(' ')).map(([name, , sha]) => [name, sha]));

test('gdb is installed (CI installs it; the stub is tested against the real client)', () => {
  expect(gdbAvailable()).toBe(true);
});

describe.each(loadScenarios().map((s) => [s.name, s] as const))('scenario %s: klp-lab answers gdb like QEMU', (_name, sc) => {
  test('same output per command, except the listed differences', async () => {
    const image = path.join(ROOT, sc.image);
    const sha = crypto.createHash('sha256').update(fs.readFileSync(image)).digest('hex');
    // Fixture rebuilds that do not move anything gdb prints leave the golden valid; if the image changed
    // and the output differs, the failure says to re-record QEMU's side first.
    const stale = manifest.get(sc.name) !== sha
      ? `\n(${sc.image} changed since ${sc.name}.qemu.txt was recorded: re-record with node test/golden/gdb/record.js)` : '';
    const golden = sections(fs.readFileSync(path.join(GOLDEN_DIR, `${sc.name}.qemu.txt`), 'utf8'));
    const { server } = await serve(image);
    const run = await runGdb(gdbArgs(image, server.port, sc.commands), {
      interruptSection: sc.interruptSection, interruptWhen: () => server.clientRunning,
    });
    const result = await server.done;
    expect(run.timedOut).toBe(false);
    expect(result.how).toBe('killed');
    const got = sections(run.output);
    expect(got.length).toBe(sc.commands.length + 1);
    for (let i = 0; i < golden.length; i++) {
      let want = golden[i];
      for (const d of sc.differences.filter((x) => x.section === i)) {
        expect(want).toContain(d.qemu); // the documented difference is really in QEMU's output
        want = want.replace(d.qemu, d.klp);
      }
      const command = (i === 0 ? 'target remote' : sc.commands[i - 1]) + stale;
      expect({ section: i, command, text: got[i] }).toEqual({ section: i, command, text: want });
    }
  });
});

/** The task list walked straight from guest memory with the image's symbols (independent of the stub). */
function walkTasks(m: Machine, elf: ElfFile): { pid: number; comm: string; addr: bigint; sp: bigint }[] {
  const sym = new Map(elf.symbols().map((s) => [s.name, s.value]));
  const v = (n: string): bigint => { const x = sym.get(n); if (x === undefined) throw new Error(n); return x; };
  const rd = (a: bigint, n: number): Uint8Array => {
    const b = m.virtRead(Number(BigInt.asIntN(64, a)), n);
    if (b === null) throw new Error(`unmapped ${a.toString(16)}`);
    return b;
  };
  const u64 = (a: bigint): bigint => Buffer.from(rd(a, 8)).readBigUInt64LE(0);
  const out = [];
  const head = v('init_task') + v('TASK_tasks');
  let task = v('init_task');
  for (let i = 0; i < 64; i++) {
    const comm = Buffer.from(rd(task + v('TASK_comm'), Number(v('TASK_comm_len')))).toString('latin1').replace(/\0.*$/s, '');
    out.push({ pid: Buffer.from(rd(task + v('TASK_pid'), 4)).readInt32LE(0), comm, addr: task, sp: u64(task + v('TASK_sp')) });
    const next = u64(task + v('TASK_tasks') + v('LIST_next'));
    if (next === head) break;
    task = next - v('TASK_tasks');
  }
  return out;
}

describe('guest tasks as gdb threads (klp-lab only: QEMU shows one CPU thread)', () => {
  test('info threads lists the task list; a sleeping task\'s registers come from its inactive_task_frame', async () => {
    const image = path.join(ROOT, 'fixtures/kernel/kernel.elf');
    const { m, server, elf } = await serve(image);
    const cmds = ['break consumer_wait', 'continue', 'continue', 'info threads', 'thread apply all info registers rip rsp rbp',
      'thread apply all bt 1', 'monitor tasks', 'kill'];
    const run = await runGdb(gdbArgs(image, server.port, cmds));
    await server.done;
    expect(run.timedOut).toBe(false);
    const s = sections(run.output);
    expect(s[3]).toMatch(/Breakpoint 1, 0x[0-9a-f]+ in consumer_wait \(\)/);
    const tasks = walkTasks(m, elf);
    expect(tasks.length).toBeGreaterThan(5);
    const frameSize = elf.symbols().find((x) => x.name === 'FRAME_size')!.value;
    const off = (n: string): bigint => elf.symbols().find((x) => x.name === n)!.value;
    const cur = Buffer.from(m.virtRead(Number(BigInt.asIntN(64, elf.symbols().find((x) => x.name === 'current_task')!.value)), 8)!).readBigUInt64LE(0);
    let checkedSleepers = 0;
    for (const t of tasks) {
      // info threads: "Thread 1.<pid+1> (pid <pid> <comm> <state>)"
      const line = s[4].split('\n').find((l) => l.includes(`Thread 1.${t.pid + 1} (pid ${t.pid} ${t.comm} `));
      expect({ pid: t.pid, line: line !== undefined }).toEqual({ pid: t.pid, line: true });
      const running = BigInt.asUintN(64, t.addr) === cur;
      expect(line!.includes(' running)')).toBe(running);
      // thread apply all: this task's registers
      const block = s[5].split(/\nThread /).find((b) => b.includes(`(Thread 1.${t.pid + 1} (pid ${t.pid} `));
      expect(block).toBeDefined();
      const reg = (name: string): bigint => BigInt(new RegExp(`\\n${name}\\s+(0x[0-9a-f]+)`).exec('\n' + block!)![1]);
      if (running) {
        expect(reg('rip')).toBe(m.regRead('rip'));
        expect(reg('rsp')).toBe(m.regRead('rsp'));
      } else {
        const sp = BigInt.asUintN(64, t.sp);
        const frame = Buffer.from(m.virtRead(Number(BigInt.asIntN(64, sp)), Number(frameSize))!);
        expect(reg('rsp')).toBe(sp + frameSize);
        expect(reg('rip')).toBe(frame.readBigUInt64LE(Number(off('FRAME_ret_addr'))));
        expect(reg('rbp')).toBe(frame.readBigUInt64LE(Number(off('FRAME_bp'))));
        checkedSleepers++;
      }
    }
    expect(checkedSleepers).toBeGreaterThan(3);
    // A sleeping task's innermost frame is context_switch's (the switch returns there; fixtures/README).
    expect(s[6]).toMatch(/\(pid 0 swapper\/0 [a-z]+\)\):\n#0 +0x[0-9a-f]+ in context_switch \(\)/);
    expect(s[7]).toContain('swapper/0');
  });
});
