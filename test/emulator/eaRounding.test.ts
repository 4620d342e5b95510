// A memory operand [base + index] whose registers are far outside the canonical range but cancel to
// a canonical address: the access must reach exactly that address, as on the CPU (the effective
// address is computed modulo 2^64). Added as doubles, such registers round: 2^62 + 0x200001 becomes
// 2^62 + 0x200000, and the load read the byte before. Checked in the interpreter, the JS translator
// and the WebAssembly tier.
import { Machine, STOP_HALTED, type MachineOptions } from '../../emulator/machine';
import { startDirect64 } from '../../emulator/loader/direct64';
import { JIT_MODES, WASM_MODE } from './jit/jitModes';

// Ten times: rax = [rdi + rsi]; rbx += rax; rdx = rdi + rsi (LEA, no memory access); then HLT.
const CODE = [
  0xb9, 0x0a, 0x00, 0x00, 0x00, //       mov ecx, 10
  0x48, 0x8b, 0x04, 0x37, //       loop: mov rax, [rdi + rsi]
  0x48, 0x01, 0xc3, //                   add rbx, rax
  0x48, 0x8d, 0x14, 0x37, //             lea rdx, [rdi + rsi]
  0xff, 0xc9, //                         dec ecx
  0x75, 0xf1, //                         jnz loop
  0xf4, //                               hlt
];
const TARGET = 0x200001;
const MARK = 0x1122334455667788n;
const MASK = (1n << 64n) - 1n;

function run(opts: MachineOptions, base: bigint, index: bigint): { rax: bigint; rbx: bigint; rdx: bigint } {
  const m = new Machine({ memory: 16 << 20, ...opts });
  startDirect64(m, { code: Uint8Array.from(CODE) });
  const bytes = new Uint8Array(16);
  new DataView(bytes.buffer).setBigUint64(0, 0xa5a5a5a5a5a5a5a5n, true); // the bytes just below
  new DataView(bytes.buffer).setBigUint64(8, MARK, true);
  m.physWrite(TARGET - 8, bytes);
  m.regWrite('rdi', base & MASK);
  m.regWrite('rsi', index & MASK);
  expect(m.run(1000).reason).toBe(STOP_HALTED);
  return { rax: m.regRead('rax'), rbx: m.regRead('rbx'), rdx: m.regRead('rdx') };
}

describe.each([...JIT_MODES, WASM_MODE])('%s', (_name, opts) => {
  test.each([
    ['2^62 + target and -2^62', (1n << 62n) + BigInt(TARGET), -(1n << 62n)],
    ['-2^63 + target and 2^63 (as -2^63)', -(1n << 63n) + BigInt(TARGET), -(1n << 63n)],
    ['2^53 + 1 and -2^53 + target - 1', (1n << 53n) + 1n, -(1n << 53n) + BigInt(TARGET) - 1n],
    ['a small base and index', BigInt(TARGET) - 0x1000n, 0x1000n],
  ])('[base + index] with %s reaches the canonical address', (_label, base, index) => {
    const r = run(opts, base, index);
    expect(r.rdx).toBe(BigInt(TARGET));
    expect(r.rax).toBe(MARK);
    expect(r.rbx).toBe((MARK * 10n) & MASK);
  });
});
