/**
 * The x86_64 target description gdb reads with qXfer:features:read:target.xml. The register set, its
 * order (the `g` packet layout) and the flag-field types follow what QEMU's x86_64 stub exposes
 * (observed from `maint print xml-tdesc` against qemu-system-x86_64 -s): the core registers, the six
 * segment selectors as 32-bit values, fs_base/gs_base/k_gs_base and cr0/cr2/cr3/cr4/cr8/efer in the
 * core feature, then x87 and SSE. The XML is generated from the table below, not copied.
 */

export interface GdbRegister {
  name: string;
  bitsize: number;
  type: string;
  group?: string;
}

const gpr = (name: string, type = 'int64'): GdbRegister => ({ name, bitsize: 64, type });

/** gdb register numbers are indexes into this table. */
export const GDB_REGISTERS: GdbRegister[] = [
  gpr('rax'), gpr('rbx'), gpr('rcx'), gpr('rdx'), gpr('rsi'), gpr('rdi'),
  gpr('rbp', 'data_ptr'), gpr('rsp', 'data_ptr'),
  gpr('r8'), gpr('r9'), gpr('r10'), gpr('r11'), gpr('r12'), gpr('r13'), gpr('r14'), gpr('r15'),
  gpr('rip', 'code_ptr'),
  { name: 'eflags', bitsize: 32, type: 'x64_eflags' },
  ...['cs', 'ss', 'ds', 'es', 'fs', 'gs'].map((name) => ({ name, bitsize: 32, type: 'int32' })),
  gpr('fs_base'), gpr('gs_base'), gpr('k_gs_base'),
  gpr('cr0', 'x64_cr0'), gpr('cr2'), gpr('cr3', 'x64_cr3'), gpr('cr4', 'x64_cr4'), gpr('cr8'), gpr('efer', 'x64_efer'),
  ...[0, 1, 2, 3, 4, 5, 6, 7].map((i) => ({ name: `st${i}`, bitsize: 80, type: 'i387_ext' })),
  ...['fctrl', 'fstat', 'ftag', 'fiseg', 'fioff', 'foseg', 'fooff', 'fop'].map((name) => ({ name, bitsize: 32, type: 'int', group: 'float' })),
  ...Array.from({ length: 16 }, (_, i) => ({ name: `xmm${i}`, bitsize: 128, type: 'vec128' })),
  { name: 'mxcsr', bitsize: 32, type: 'x64_mxcsr', group: 'vector' },
];

export const REG_RBX = 1, REG_RBP = 6, REG_RSP = 7, REG_R12 = 12, REG_R13 = 13, REG_R14 = 14, REG_R15 = 15, REG_RIP = 16;

/** Byte offset of each register in the `g` packet, and the packet's total size in bytes. */
export const REG_OFFSETS: number[] = [];
export let G_PACKET_BYTES = 0;
for (const r of GDB_REGISTERS) { REG_OFFSETS.push(G_PACKET_BYTES); G_PACKET_BYTES += r.bitsize / 8; }

type Field = [name: string, start: number, end?: number, type?: string];

// Architectural bit positions (Intel SDM vol. 3, 2.5 and 4.1; EFER from AMD APM vol. 2).
const FLAG_TYPES: [id: string, size: number, fields: Field[]][] = [
  ['x64_eflags', 4, [['', 22, 31, 'uint32'], ['ID', 21], ['VIP', 20], ['VIF', 19], ['AC', 18], ['VM', 17], ['RF', 16],
    ['', 15], ['NT', 14], ['IOPL', 12, 13, 'uint32'], ['OF', 11], ['DF', 10], ['IF', 9], ['TF', 8], ['SF', 7], ['ZF', 6],
    ['', 5], ['AF', 4], ['', 3], ['PF', 2], ['', 1], ['CF', 0]]],
  ['x64_cr0', 8, [['PG', 31], ['CD', 30], ['NW', 29], ['AM', 18], ['WP', 16], ['NE', 5], ['ET', 4], ['TS', 3], ['EM', 2], ['MP', 1], ['PE', 0]]],
  ['x64_cr3', 8, [['PDBR', 12, 63, 'uint64'], ['PCID', 0, 11, 'uint64']]],
  ['x64_cr4', 8, [['PKE', 22], ['SMAP', 21], ['SMEP', 20], ['OSXSAVE', 18], ['PCIDE', 17], ['FSGSBASE', 16], ['SMXE', 14],
    ['VMXE', 13], ['LA57', 12], ['UMIP', 11], ['OSXMMEXCPT', 10], ['OSFXSR', 9], ['PCE', 8], ['PGE', 7], ['MCE', 6],
    ['PAE', 5], ['PSE', 4], ['DE', 3], ['TSD', 2], ['PVI', 1], ['VME', 0]]],
  ['x64_efer', 8, [['TCE', 15], ['FFXSR', 14], ['LMSLE', 13], ['SVME', 12], ['NXE', 11], ['LMA', 10], ['LME', 8], ['SCE', 0]]],
];
const MXCSR_FIELDS: Field[] = [['IE', 0], ['DE', 1], ['ZE', 2], ['OE', 3], ['UE', 4], ['PE', 5], ['DAZ', 6], ['IM', 7],
  ['DM', 8], ['ZM', 9], ['OM', 10], ['UM', 11], ['PM', 12], ['FZ', 15]];

function flagsXml(id: string, size: number, fields: Field[]): string {
  const lines = fields.map(([name, start, end, type]) =>
    `    <field name="${name}" start="${start}" end="${end ?? start}" type="${type ?? 'bool'}"/>`);
  return `  <flags id="${id}" size="${size}">\n${lines.join('\n')}\n  </flags>`;
}

function buildXml(): string {
  const parts: string[] = ['<?xml version="1.0"?>', '<!DOCTYPE target SYSTEM "gdb-target.dtd">', '<target version="1.0">',
    '<architecture>i386:x86-64</architecture>', '<feature name="org.gnu.gdb.i386.core">'];
  for (const [id, size, fields] of FLAG_TYPES) parts.push(flagsXml(id, size, fields));
  for (const [id, type, count] of [['v4f', 'ieee_single', 4], ['v2d', 'ieee_double', 2], ['v16i8', 'int8', 16],
    ['v8i16', 'int16', 8], ['v4i32', 'int32', 4], ['v2i64', 'int64', 2]] as const) {
    parts.push(`  <vector id="${id}" type="${type}" count="${count}"/>`);
  }
  parts.push('  <union id="vec128">', ...[['v4_float', 'v4f'], ['v2_double', 'v2d'], ['v16_int8', 'v16i8'], ['v8_int16', 'v8i16'],
    ['v4_int32', 'v4i32'], ['v2_int64', 'v2i64'], ['uint128', 'uint128']].map(([n, t]) => `    <field name="${n}" type="${t}"/>`), '  </union>');
  parts.push(flagsXml('x64_mxcsr', 4, MXCSR_FIELDS));
  GDB_REGISTERS.forEach((r, i) => {
    parts.push(`  <reg name="${r.name}" bitsize="${r.bitsize}" type="${r.type}" regnum="${i}"${r.group ? ` group="${r.group}"` : ''}/>`);
  });
  parts.push('</feature>', '</target>');
  return parts.join('\n') + '\n';
}

export const TARGET_XML = buildXml();

/** The annexes qXfer:features:read serves. */
export const FEATURE_FILES: ReadonlyMap<string, string> = new Map([['target.xml', TARGET_XML]]);
