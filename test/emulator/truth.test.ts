// Ground truth on the fixture kernel: with truth on, at every entry of __switch_to_asm the innermost
// recorded frame of the current stack must be that very call (return slot at RSP), every recorded
// call frame must hold a return address just after its call instruction, and the console output must
// still match QEMU's (instrumented call/ret handlers change nothing).
import * as fs from 'fs';
import * as path from 'path';
import { Machine, STOP_EXIT, HOOK_CODE } from '../../emulator/machine';
import { loadPvh } from '../../emulator/loader/pvh';
import { ElfFile } from '../../elf/elfFile';
import { FRAME_CALL, FRAME_INTERRUPT } from '../../emulator/truth/callStacks';

const ROOT = path.resolve(__dirname, '..', '..');

test('kernel: truth frames agree with the stacks at every context switch', () => {
  const elfPath = path.join(ROOT, 'fixtures', 'kernel', 'kernel.elf');
  const bytes = fs.readFileSync(elfPath);
  const elf = ElfFile.parse(bytes, elfPath);
  const sym = elf.symbols().find((s) => s.name === '__switch_to_asm');
  expect(sym).toBeDefined();
  const at = Number(BigInt.asIntN(64, sym!.value));
  const m = new Machine();
  loadPvh(m, bytes, elfPath);
  const truth = m.enableTruth(16384);
  let hits = 0, depthSum = 0, interruptFrames = 0;
  const problems: string[] = [];
  m.hookAdd(HOOK_CODE, () => {
    hits++;
    const rsp = m.cpu.regs.addr(4);
    const frames = truth.framesAt(rsp);
    depthSum += frames.length;
    if (frames.length === 0 || frames[0].kind !== FRAME_CALL || frames[0].sp !== rsp || frames[0].to !== at) {
      problems.push(`switch #${hits}: innermost frame ${JSON.stringify(frames[0])} rsp ${rsp.toString(16)}`);
    }
    for (const f of frames) {
      if (f.kind === FRAME_INTERRUPT) { interruptFrames++; continue; }
      const ret = m.virtRead(f.sp, 8);
      const v = ret === null ? NaN : Number(BigInt.asIntN(64, Buffer.from(ret).readBigUInt64LE(0)));
      if (!(v > f.from && v <= f.from + 7)) problems.push(`switch #${hits}: frame at ${f.sp.toString(16)} holds ${v.toString(16)}, call at ${f.from.toString(16)}`);
    }
  }, at, at);
  const r = m.run(300_000_000);
  expect(problems.slice(0, 5)).toEqual([]);
  expect(hits).toBeGreaterThan(20);
  expect(depthSum / hits).toBeGreaterThan(2);
  expect(r.reason).toBe(STOP_EXIT);
  expect(m.consoleText).toBe(fs.readFileSync(path.join(ROOT, 'test', 'golden', 'qemu', 'kernel', 'kernel.txt'), 'latin1'));
  expect(interruptFrames).toBeGreaterThan(0); // some switches happen inside timer interrupts (preemption)
}, 120000);
