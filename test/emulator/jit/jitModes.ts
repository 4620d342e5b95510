// The two execution modes every guest-running differential test compares: the interpreter (the
// reference) and the JIT with a compile threshold of 2, so that every block that runs more than
// twice runs translated, together with the blocks its first run chained to (a trace; at a threshold
// of 1 a block is translated before it has any successor). The default threshold would leave short
// tests almost entirely interpreted.
import * as fs from 'fs';
import * as path from 'path';
import { Machine, type MachineOptions, type RunResult } from '../../../emulator/machine';
import { loadPvh } from '../../../emulator/loader/pvh';
import { startDirect64 } from '../../../emulator/loader/direct64';

export const JIT_MODES: [string, MachineOptions][] = [
  ['interpreter', { jit: false }],
  ['jit', { jit: true, compileThreshold: 2 }],
];
export const INTERPRETER: MachineOptions = JIT_MODES[0][1];
export const JIT_EVERY_BLOCK: MachineOptions = JIT_MODES[1][1];

/** A machine booted from a PVH image, or started in 64-bit mode for a flat binary (.bin). */
export function bootImage(image: string, opts: MachineOptions): Machine {
  const m = new Machine({ ...opts }); // console collected in m.consoleBytes
  const bytes = fs.readFileSync(image);
  if (path.extname(image) === '.bin') {
    startDirect64(m, { code: bytes });
    m.cpu.cr4 |= 0x200; // OSFXSR, as the benchmark starts it
  } else loadPvh(m, bytes, image);
  return m;
}

/** Everything a run leaves that the two modes must agree on (memory compared separately). */
export function machineState(m: Machine, r: RunResult): object {
  const c = m.cpu;
  return {
    result: r, console: m.consoleText, context: m.contextSave(), flags: c.flags.saveState(), rflags: c.flags.get(),
    icount: c.icount, idleNs: c.idleNs, insnStart: c.insnStart, cpl: c.cpl, bits: c.bits, halted: c.halted,
    unimplemented: [...c.unimplemented], devices: m.saveDevices(),
  };
}
