// The CFI state machine (update_cfi_state) on instruction sequences, from function entry:
// frame setup and teardown, callee-saved saves, GCC's DRAP realignment, the stack swizzle,
// and the warnings it raises itself.

import { decodeSection, type DecodedInsn } from '../../objtool/decode/x86Decode';
import { CFI_BP, CFI_CFA, CFI_R10, CFI_SP, CFI_SP_INDIRECT, CFI_UNDEFINED, CFI_BX, CFI_BP_INDIRECT } from '../../objtool/decode/insnTypes';
import type { Instruction } from '../../objtool/model/instruction';
import { Reporter } from '../../objtool/report/warnings';
import { CFA_BASE, CFA_OFFSET, DRAP, DRAP_REG, initCfi, REGS, setFuncState, STACK_SIZE, type Cfi } from '../../objtool/validate/cfiState';
import { updateCfiState } from '../../objtool/validate/updateCfi';

function run(hex: string, c: Cfi = funcEntry()): { cfi: Cfi; warnings: string[] } {
  const bytes = Uint8Array.from(Buffer.from(hex.replace(/ /g, ''), 'hex'));
  const insns: DecodedInsn[] = [];
  decodeSection(bytes, { symbolTypeAt: () => -1 }, (d) => insns.push({ ...d }));
  const rep = new Reporter('t.o', false);
  const sec = { name: '.text', flags: 6, tree: [], maxEnd: null };
  for (const d of insns) {
    const insn = { sec, offset: d.offset, func: { name: 'f' }, hint: false } as unknown as Instruction;
    for (const op of d.ops) if (updateCfiState(rep, true, insn, null, c, op)) return { cfi: c, warnings: rep.lines };
  }
  return { cfi: c, warnings: rep.lines };
}

function funcEntry(): Cfi {
  const c = initCfi();
  setFuncState(c);
  return c;
}

const cfa = (c: Cfi) => [c[CFA_BASE], c[CFA_OFFSET]];
const reg = (c: Cfi, r: number) => [c[REGS + 2 * r], c[REGS + 2 * r + 1]];

test('push %rbp; mov %rsp,%rbp: the CFA moves to BP+16, rbp saved at CFA-16', () => {
  const { cfi } = run('55 48 89 e5');
  expect(cfa(cfi)).toEqual([CFI_BP, 16]);
  expect(reg(cfi, CFI_BP)).toEqual([CFI_CFA, -16]);
  expect(cfi[STACK_SIZE]).toBe(16);
});

test('and back: leave restores CFA = SP+8 and the entry register rules', () => {
  const { cfi } = run('55 48 89 e5 53 48 83 ec 18 48 83 c4 18 5b c9');
  const entry = funcEntry();
  expect(cfa(cfi)).toEqual([CFI_SP, 8]);
  expect(Array.from(cfi.subarray(REGS, REGS + 34))).toEqual(Array.from(entry.subarray(REGS, REGS + 34)));
});

test('callee-saved pushes are recorded once; other registers are not', () => {
  const { cfi } = run('53 50 53');
  expect(reg(cfi, CFI_BX)).toEqual([CFI_CFA, -16]);
  expect(reg(cfi, 0)).toEqual([CFI_UNDEFINED, 0]);
  expect(cfa(cfi)).toEqual([CFI_SP, 32]);
});

test('mov %rbx,8(%rsp) after sub records the save CFA-relative; the reload restores it', () => {
  const saved = run('48 83 ec 28 48 89 5c 24 08').cfi;
  expect(reg(saved, CFI_BX)).toEqual([CFI_CFA, -40]);
  const restored = run('48 83 ec 28 48 89 5c 24 08 48 8b 5c 24 08').cfi;
  expect(reg(restored, CFI_BX)).toEqual([CFI_UNDEFINED, 0]);
});

test("GCC's DRAP sequence: lea 8(%rsp),%r10; and $-64,%rsp; push -8(%r10); push %rbp; mov %rsp,%rbp; push %r10", () => {
  const { cfi, warnings } = run('4c 8d 54 24 08 48 83 e4 c0 41 ff 72 f8 55 48 89 e5 41 52');
  expect(warnings).toEqual([]);
  expect(cfi[DRAP]).toBe(1);
  expect(cfi[DRAP_REG]).toBe(CFI_R10);
  expect(cfa(cfi)).toEqual([CFI_BP_INDIRECT, -8]);
  expect(reg(cfi, CFI_BP)).toEqual([CFI_BP, 0]);
});

test('stack swizzle: mov %rsp,(%rdi); mov %rdi,%rsp; ...; pop %rsp', () => {
  const swz = run('48 89 27 48 89 fc').cfi;
  expect(cfa(swz)).toEqual([CFI_SP_INDIRECT, 8]);
  const back = run('48 89 27 48 89 fc 5c').cfi;
  expect(cfa(back)).toEqual([CFI_SP, 8]);
});

test('and $-16,%rsp with an SP-based CFA and no DRAP: unsupported stack pointer realignment', () => {
  expect(run('53 48 83 e4 f0').warnings).toEqual(['t.o: warning: objtool: .text+0x1: unsupported stack pointer realignment']);
});

test('mov %rdi,%rsp loses the CFA; the next stack operation is "undefined stack state"', () => {
  const { cfi, warnings } = run('48 89 fc 50');
  expect(cfa(cfi)).toEqual([CFI_UNDEFINED, 0]);
  expect(warnings).toEqual(['t.o: warning: objtool: .text+0x3: undefined stack state']);
});

test('push %rbp without a frame marks BP as a scratch register', () => {
  expect(run('55').cfi[CFA_BASE + 0]).toBe(CFI_SP);
  expect(run('55').cfi[REGS + 2 * CFI_BP]).toBe(CFI_CFA);
  // bp_scratch is the field after TYPE; check through the state layout
  const c = run('55').cfi;
  expect(c[c.length - 2]).toBe(1);
  expect(run('55 48 89 e5').cfi[c.length - 2]).toBe(0);
  void CFI_SP;
});
