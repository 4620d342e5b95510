// The decoder against objtool 6.1's table (arch/x86/decode.c, REFERENCE.md A.4): instruction
// kinds and stack operations for the encodings that matter, including the REX-dependent ones.

import { decodeSection, type DecodedInsn } from '../../objtool/decode/x86Decode';
import { InsnType, OpDest, OpSrc } from '../../objtool/decode/insnTypes';

function decodeOne(hex: string, symType = -1): DecodedInsn & { count: number } {
  const bytes = Uint8Array.from(Buffer.from(hex.replace(/ /g, ''), 'hex'));
  const out: DecodedInsn[] = [];
  const bad = decodeSection(bytes, { symbolTypeAt: () => symType }, (d) => out.push({ ...d }));
  expect(bad).toBe(-1);
  return { ...out[0], count: out.length };
}

/** dest:destReg:destOff<-src:srcReg:srcOff */
function ops(d: DecodedInsn): string[] {
  const dn = ['REG', 'REG_INDIRECT', 'MEM', 'PUSH', 'PUSHF'];
  const sn = ['REG', 'REG_INDIRECT', 'CONST', 'ADD', 'POP', 'POPF', 'AND'];
  return d.ops.map((o) => `${dn[o.destType]}:${o.destReg}:${o.destOffset}<-${sn[o.srcType]}:${o.srcReg}:${o.srcOffset}`);
}

test.each([
  ['55', 'push %rbp', InsnType.OTHER, ['PUSH:0:0<-REG:5:0']],
  ['41 57', 'push %r15', InsnType.OTHER, ['PUSH:0:0<-REG:15:0']],
  ['5d', 'pop %rbp', InsnType.OTHER, ['REG:5:0<-POP:0:0']],
  ['41 5c', 'pop %r12', InsnType.OTHER, ['REG:12:0<-POP:0:0']],
  ['6a 00', 'push $0', InsnType.OTHER, ['PUSH:0:0<-CONST:0:0']],
  ['48 89 e5', 'mov %rsp,%rbp', InsnType.OTHER, ['REG:5:0<-REG:4:0']],
  ['48 89 ec', 'mov %rbp,%rsp', InsnType.OTHER, ['REG:4:0<-REG:5:0']],
  ['89 e5', 'mov %esp,%ebp (no REX.W: untracked)', InsnType.OTHER, []],
  ['48 83 ec 28', 'sub $0x28,%rsp', InsnType.OTHER, ['REG:4:0<-ADD:4:-40']],
  ['48 81 c4 00 01 00 00', 'add $0x100,%rsp', InsnType.OTHER, ['REG:4:0<-ADD:4:256']],
  ['48 83 e4 c0', 'and $-64,%rsp', InsnType.OTHER, ['REG:4:0<-AND:4:-64']],
  ['48 29 c4', 'sub %rax,%rsp', InsnType.OTHER, ['REG:4:0<-ADD:0:0']],
  ['48 89 5c 24 08', 'mov %rbx,0x8(%rsp)', InsnType.OTHER, ['REG_INDIRECT:4:8<-REG:3:0']],
  ['48 89 5d f8', 'mov %rbx,-0x8(%rbp)', InsnType.OTHER, ['REG_INDIRECT:5:-8<-REG:3:0']],
  ['48 8b 5c 24 08', 'mov 0x8(%rsp),%rbx', InsnType.OTHER, ['REG:3:0<-REG_INDIRECT:4:8']],
  ['4c 8d 54 24 08', 'lea 0x8(%rsp),%r10', InsnType.OTHER, ['REG:10:0<-ADD:4:8']],
  ['49 8d 62 f8', 'lea -0x8(%r10),%rsp', InsnType.OTHER, ['REG:4:0<-ADD:10:-8']],
  ['48 8d 2c 24', 'lea (%rsp),%rbp', InsnType.OTHER, ['REG:5:0<-REG:4:0']],
  ['48 8d 05 00 00 00 00', 'lea 0(%rip),%rax (untracked)', InsnType.OTHER, []],
  ['41 ff 72 f8', 'push -0x8(%r10)', InsnType.OTHER, ['PUSH:0:0<-CONST:0:0']],
  ['8f 00', 'pop (%rax)', InsnType.OTHER, ['MEM:0:0<-POP:0:0']],
  ['9c', 'pushf', InsnType.OTHER, ['PUSHF:0:0<-CONST:0:0']],
  ['9d', 'popf', InsnType.OTHER, ['MEM:0:0<-POPF:0:0']],
  ['c9', 'leave', InsnType.OTHER, ['REG:4:0<-REG:5:0', 'REG:5:0<-POP:0:0']],
  ['c3', 'ret', InsnType.RETURN, []],
  ['c2 08 00', 'ret $8', InsnType.RETURN, []],
  ['cb', 'lret', InsnType.CONTEXT_SWITCH, []],
  ['0f 05', 'syscall', InsnType.CONTEXT_SWITCH, []],
  ['48 0f 07', 'sysretq', InsnType.CONTEXT_SWITCH, []],
  ['0f 0b', 'ud2', InsnType.BUG, []],
  ['90', 'nop', InsnType.NOP, []],
  ['0f 1f 44 00 00', 'nopl 0(%rax,%rax)', InsnType.NOP, []],
  ['f3 0f 1e fa', 'endbr64', InsnType.ENDBR, []],
  ['0f 01 ca', 'clac', InsnType.CLAC, []],
  ['0f 01 cb', 'stac', InsnType.STAC, []],
  ['fc', 'cld', InsnType.CLD, []],
  ['fd', 'std', InsnType.STD, []],
  ['cc', 'int3', InsnType.TRAP, []],
  ['74 05', 'je .+7', InsnType.JUMP_CONDITIONAL, []],
  ['0f 85 10 00 00 00', 'jne .+0x16', InsnType.JUMP_CONDITIONAL, []],
  ['e3 fe', 'jrcxz', InsnType.JUMP_CONDITIONAL, []],
  ['e2 fe', 'loop', InsnType.JUMP_CONDITIONAL, []],
  ['eb fe', 'jmp .', InsnType.JUMP_UNCONDITIONAL, []],
  ['e9 00 00 00 00', 'jmp rel32', InsnType.JUMP_UNCONDITIONAL, []],
  ['e8 00 00 00 00', 'call', InsnType.CALL, ['PUSH:0:0<-CONST:0:0']],
  ['ff d0', 'call *%rax', InsnType.CALL_DYNAMIC, []],
  ['ff e0', 'jmp *%rax', InsnType.JUMP_DYNAMIC, []],
  ['ff 24 c5 00 00 00 00', 'jmp *0(,%rax,8)', InsnType.JUMP_DYNAMIC, []],
  ['48 cf', 'iretq outside a function', InsnType.CONTEXT_SWITCH, []],
  ['c5 f8 77', 'vzeroupper (VEX: OTHER)', InsnType.OTHER, []],
])('%s  %s', (hex, _what, type, expectedOps) => {
  const d = decodeOne(hex);
  expect(d.count).toBe(1);
  expect(d.len).toBe(hex.split(' ').length);
  expect(d.type).toBe(type);
  expect(ops(d)).toEqual(expectedOps);
});

test('iretq inside an STT_FUNC is sync_core()\'s IRET-to-self: add $40,%rsp', () => {
  const d = decodeOne('48 cf', 2);
  expect(d.type).toBe(InsnType.OTHER);
  expect(ops(d)).toEqual(['REG:4:0<-ADD:4:40']);
});

test('branch immediates are the displacement from the next instruction', () => {
  expect(decodeOne('eb fe').immediate).toBe(-2);
  expect(decodeOne('e8 10 00 00 00').immediate).toBe(16);
  expect(decodeOne('0f 84 f0 ff ff ff').immediate).toBe(-16);
});

test('opcodes invalid in 64-bit mode decode as their 32-bit form, as the kernel decoder does', () => {
  expect(decodeOne('06').len).toBe(1); // push %es
  expect(decodeOne('ea 00 00 00 00 10 00').len).toBe(7); // ljmp ptr16:32
});

test('a register-form LEA decodes by its shape and is flagged (objtool warns "invalid LEA encoding")', () => {
  const d = decodeOne('48 8d c0');
  expect(d.len).toBe(3);
  expect(d.invalidLea).toBe(true);
  expect(d.ops).toEqual([]);
});

test('a truncated instruction at the end of a section cannot be decoded', () => {
  const bytes = Uint8Array.from([0xc3, 0x48, 0x8b]);
  const seen: number[] = [];
  expect(decodeSection(bytes, { symbolTypeAt: () => -1 }, (d) => seen.push(d.offset))).toBe(1);
  expect(seen).toEqual([0]);
});

test('OpDest/OpSrc numbering used in the op strings', () => {
  expect([OpDest.REG, OpDest.PUSHF, OpSrc.AND]).toEqual([0, 4, 6]);
});

test('a VEX instruction after a call has no stack operation of its own (the record is reused between instructions)', () => {
  // call; vmovdqa 0x0(%rip),%ymm0; vpxor %ymm3,%ymm3,%ymm3 — as in raid6_avx21_gen_syndrome
  const bytes = Uint8Array.from(Buffer.from('e800000000c5fd6f0500000000c5e5efdb', 'hex'));
  const out: DecodedInsn[] = [];
  expect(decodeSection(bytes, { symbolTypeAt: () => -1 }, (d) => out.push({ ...d }))).toBe(-1);
  expect(out.map((d) => [d.offset, d.type, ops(d).length])).toEqual([
    [0, InsnType.CALL, 1],
    [5, InsnType.OTHER, 0],
    [13, InsnType.OTHER, 0],
  ]);
});
