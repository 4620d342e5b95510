/**
 * Specialised ALU handlers for the operand forms a profile of compiled C ranks highest (register
 * destination, register or immediate source, 32- or 64-bit): no operand-kind tests, direct register-file
 * access. The pure operations are the generic forms' (aluInsns.ts ALU_OPS). Chosen per instruction by the
 * instruction table (exec/table.ts).
 *
 * Profile (fixtures/emu cpubench + bench, share of executed instructions): mov r/m64,r64 13%, add 64-bit
 * forms 11%, cmp 64-bit forms 13%, test r64 3.6%, xor 32/64 6.6%, sub 1.3%.
 *
 * The table is operation × width × source kind (blink's kAlu[op][width]), each entry instantiated
 * from one template (handlerTemplate.ts) with the width's register access and the source's operand
 * expressions, plus its flag-free variant.
 */
import type { Cpu } from '../cpu/cpu';
import type { Handler, Insn } from '../decode/insn';
import { res } from './aluResult';
import { ALU_OPS, ALU_ADD, ALU_SUB, ALU_AND, ALU_OR, ALU_XOR } from './aluInsns';
import { instantiate } from './handlerTemplate';

export const SRC_REG = 0, SRC_IMM = 1;

/** Destination reads and writes by width (4: the write zero-extends; 8: both halves). */
const DEST = {
  4: { hi: '0', writeHi: '0' },
  8: { hi: 'u[a | 1]', writeHi: 'res.hi' },
} as const;
/** Source operand (lo, hi) and the locals it needs, by width and source kind. */
const SOURCE = {
  4: [{ locals: '', lo: 'u[d.r1 << 1]', hi: '0' }, { locals: '', lo: 'd.immLo', hi: '0' }],
  8: [{ locals: ', b = d.r1 << 1', lo: 'u[b]', hi: 'u[b | 1]' }, { locals: '', lo: 'd.immLo', hi: 'd.immHi' }],
} as const;

/**
 * Flag-free results by operation and width, over `u`, the destination index `a` and the source
 * (SL, SH). Used only by compiled blocks (exec/threadedBlock.ts) for an instruction whose status flags
 * are dead; CMP and TEST then do nothing at all.
 */
const FLAG_FREE: Partial<Record<number, { 4: string; 8: string }>> = {
  [ALU_ADD]: { 8: 'const lo = u[a] + SL; u[a] = lo; u[a | 1] = u[a | 1] + SH + (lo > 0xffffffff ? 1 : 0);', 4: 'u[a] = u[a] + SL; u[a | 1] = 0;' },
  [ALU_SUB]: { 8: 'const lo = u[a] - SL; u[a] = lo; u[a | 1] = u[a | 1] - SH - (lo < 0 ? 1 : 0);', 4: 'u[a] = u[a] - SL; u[a | 1] = 0;' },
  [ALU_AND]: { 8: 'u[a] &= SL; u[a | 1] &= SH;', 4: 'u[a] = u[a] & SL; u[a | 1] = 0;' },
  [ALU_OR]: { 8: 'u[a] |= SL; u[a | 1] |= SH;', 4: 'u[a] = u[a] | SL; u[a | 1] = 0;' },
  [ALU_XOR]: { 8: 'u[a] ^= SL; u[a | 1] ^= SH;', 4: 'u[a] = u[a] ^ SL; u[a | 1] = 0;' },
};

/** CMP/TEST whose flags are dead do nothing at all. */
export function flagsOnlyNF(_c: Cpu, _d: Insn): void { /* dead compare */ }

export interface FastAlu { run: Handler; flagFree: Handler }

function build(opIndex: number, width: 4 | 8, src: number): FastAlu | null {
  const { name, op, writes } = ALU_OPS[opIndex];
  const nf = FLAG_FREE[opIndex];
  if (writes && nf === undefined) return null; // ADC and SBB read CF: not specialised
  const bits = width * 8, s = SOURCE[width][src], dest = DEST[width];
  const handlerName = `${name}R${bits}${src === SRC_REG ? `R${bits}` : 'I'}`;
  const head = `const u = c.regs.u32, a = d.r0 << 1${s.locals};\n`;
  const run = instantiate(handlerName,
    `${head}op(c.flags, ${width}, u[a], ${dest.hi}, ${s.lo}, ${s.hi});` +
    (writes ? ` u[a] = res.lo; u[a | 1] = ${dest.writeHi};` : ''), { op, res });
  const flagFree = nf === undefined ? flagsOnlyNF
    : instantiate(`${handlerName}NF`, head + nf[width].replace(/SL/g, s.lo).replace(/SH/g, s.hi), {});
  return { run, flagFree };
}

/** FAST_ALU[op][width === 8 ? 1 : 0][source kind]: the specialised handler and its flag-free variant, or null. */
export const FAST_ALU: readonly (readonly (readonly (FastAlu | null)[])[])[] = ALU_OPS.map((_, op) =>
  ([4, 8] as const).map((width) => [SRC_REG, SRC_IMM].map((src) => build(op, width, src))));

/** The specialised form of `op` at `width` bytes (4 or 8) from a source of `src` kind. */
export function fastAlu(op: number, width: number, src: number): FastAlu {
  const f = FAST_ALU[op][width === 8 ? 1 : 0][src];
  if (f === null) throw new Error(`aluFast: no specialised form for ${ALU_OPS[op].name} at width ${width}`);
  return f;
}
