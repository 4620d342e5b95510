// The two execution modes every guest-running differential test compares: the interpreter (the
// reference) and the JIT with a compile threshold of 2, so that every block that runs more than
// twice runs translated, together with the blocks its first run chained to (a trace; at a threshold
// of 1 a block is translated before it has any successor). The default threshold would leave short
// tests almost entirely interpreted.
import * as fs from 'fs';
import * as path from 'path';
import { Machine, STOP_HALTED, STOP_LIMIT, type MachineOptions, type RunResult } from '../../../emulator/machine';
import { loadPvh } from '../../../emulator/loader/pvh';
import { startDirect64 } from '../../../emulator/loader/direct64';

export const JIT_MODES: [string, MachineOptions][] = [
  ['interpreter', { jit: false }],
  ['jit', { jit: true, compileThreshold: 2 }],
];
export const INTERPRETER: MachineOptions = JIT_MODES[0][1];
export const JIT_EVERY_BLOCK: MachineOptions = JIT_MODES[1][1];
/**
 * The WebAssembly tier alone (emulator/jit/wasm): every 64-bit block is queued after its first
 * execution and translated at its second (a batch waits for twice the threshold), the JS translator off.
 */
export const WASM_TIER: MachineOptions = { jit: true, compileThreshold: 0, wasmThreshold: 1 };
export const WASM_MODE: [string, MachineOptions] = ['wasm', WASM_TIER];

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

/**
 * A 64-bit program at `entry` (direct start, 16 MiB), its registers set, run in `run()` slices of
 * `slice` instructions until it halts (an odd slice cuts REP instructions and loops anywhere).
 */
export function runSliced(opts: MachineOptions, code: number[], regs: Record<string, bigint>, slice: number, entry = 0x100000) {
  const m = new Machine({ memory: 16 << 20, ...opts });
  startDirect64(m, { code: Uint8Array.from(code), entry });
  for (const [r, v] of Object.entries(regs)) m.regWrite(r as never, v);
  let r = m.run(slice), slices = 1;
  while (r.reason === STOP_LIMIT) { r = m.run(slice); slices++; }
  if (r.reason !== STOP_HALTED) throw new Error(`the program stopped with reason ${r.reason}, not HLT`);
  return { m, state: machineState(m, r), slices };
}

/**
 * A loop whose last block falls through to its start (the insertion sort's inner loop in cpubench):
 * jmp again; next: store; test; je out; again: ...; cmp; jb next; out: hlt. rax counts down,
 * rdi is the array, rsi the key.
 */
export const FALL_THROUGH_LOOP = [
  0xeb, 0x0a,                               // jmp again
  0x48, 0x89, 0x54, 0xc7, 0x08,             // next: mov [rdi+rax*8+0x8], rdx
  0x48, 0x85, 0xc0,                         // test rax, rax
  0x74, 0x10,                               // je out (falls through to again, the trace's start)
  0x48, 0x89, 0xc1,                         // again: mov rcx, rax
  0x48, 0x8d, 0x40, 0xff,                   // lea rax, [rax-0x1]
  0x48, 0x8b, 0x14, 0xc7,                   // mov rdx, [rdi+rax*8]
  0x48, 0x39, 0xf2,                         // cmp rdx, rsi
  0x72, 0xe6,                               // jb next
  0xf4,                                     // out: hlt
];
