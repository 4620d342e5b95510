/**
 * gdb register numbers (targetDescription.ts) to the machine's host register ids (registerIds.ts).
 * Registers the host API does not expose (x87 and SSE state) read as unavailable (`xx` bytes, which gdb
 * shows as <unavailable>) and refuse writes; the segment selectors, cr0/cr4/efer are read-only through
 * the host API, so writing them is refused too rather than silently ignored.
 */
import type { Machine } from '../machine';
import type { RegisterId } from '../registerIds';
import { GDB_REGISTERS, REG_OFFSETS, G_PACKET_BYTES } from './targetDescription';
import { bytesToHex, leBytes } from './hexCodec';

const SOURCES: (RegisterId | null)[] = GDB_REGISTERS.map((r) => {
  switch (r.name) {
    case 'eflags': return 'rflags';
    case 'k_gs_base': return 'kernel_gs_base';
    default: break;
  }
  const known = ['rax', 'rbx', 'rcx', 'rdx', 'rsi', 'rdi', 'rbp', 'rsp', 'r8', 'r9', 'r10', 'r11', 'r12', 'r13', 'r14', 'r15',
    'rip', 'cs', 'ss', 'ds', 'es', 'fs', 'gs', 'fs_base', 'gs_base', 'cr0', 'cr2', 'cr3', 'cr4', 'cr8', 'efer'];
  return known.includes(r.name) ? (r.name as RegisterId) : null;
});

const WRITABLE = new Set<RegisterId>(['rax', 'rbx', 'rcx', 'rdx', 'rsi', 'rdi', 'rbp', 'rsp', 'r8', 'r9', 'r10', 'r11',
  'r12', 'r13', 'r14', 'r15', 'rip', 'rflags', 'fs_base', 'gs_base', 'kernel_gs_base', 'cr2', 'cr3', 'cr8']);

/** A register file as gdb sees it: one value or null (unavailable) per gdb register number. */
export type RegisterValues = (bigint | null)[];

export function readCpuRegisters(m: Machine): RegisterValues {
  return SOURCES.map((id) => (id === null ? null : m.regRead(id)));
}

export function isWritable(regno: number): boolean {
  const id = SOURCES[regno];
  return id !== undefined && id !== null && WRITABLE.has(id);
}

/** Write one register of the CPU; false when gdb may not write it. */
export function writeCpuRegister(m: Machine, regno: number, value: bigint): boolean {
  if (!isWritable(regno)) return false;
  m.regWrite(SOURCES[regno]!, value);
  return true;
}

export function registerSize(regno: number): number { return GDB_REGISTERS[regno].bitsize / 8; }

/** One register in target byte order as hex, `xx` pairs when unavailable. */
export function encodeRegister(values: RegisterValues, regno: number): string {
  const size = registerSize(regno);
  const v = values[regno];
  return v === null ? 'xx'.repeat(size) : bytesToHex(leBytes(v, size));
}

/** The whole `g` reply. */
export function encodeAllRegisters(values: RegisterValues): string {
  let s = '';
  for (let i = 0; i < GDB_REGISTERS.length; i++) s += encodeRegister(values, i);
  return s;
}

export { REG_OFFSETS, G_PACKET_BYTES };
