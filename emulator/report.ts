/**
 * The run report printed when a run ends badly (instruction limit, triple fault, HLT deadlock): the
 * stop reason, RIP and its instruction, the registers, the last exceptions and the unimplemented
 * instructions met (so gaps are visible), plus block-cache statistics.
 */
import { Decoder, DecoderOptions, Formatter, FormatterSyntax, Instruction } from 'iced-x86';
import type { Machine, RunResult } from './machine';
import { GPR_NAMES } from './cpu/registers';
import { SEG_NAMES } from './cpu/modes';
import { EXCEPTION_NAMES } from './interrupts/guestFault';

function hex(v: number | bigint, width = 16): string {
  const b = typeof v === 'bigint' ? v : BigInt.asUintN(64, BigInt(Math.trunc(v)));
  return b.toString(16).padStart(width, '0');
}

/** Disassemble one instruction at virtual `va` (AT&T syntax), or a note when it is not readable. */
export function disassembleAt(m: Machine, va: number): string {
  const bytes = m.virtRead(va, 15) ?? m.virtRead(va, 1);
  if (bytes === null) return '(not mapped)';
  const dec = new Decoder(m.cpu.bits, bytes, DecoderOptions.None);
  const fmt = new Formatter(FormatterSyntax.Gas);
  const ins = new Instruction();
  try {
    dec.ip = BigInt.asUintN(64, BigInt(va));
    dec.decodeOut(ins);
    const raw = Array.from(bytes.subarray(0, ins.length), (b) => b.toString(16).padStart(2, '0')).join(' ');
    return `${fmt.format(ins)}   [${raw}]`;
  } finally {
    ins.free(); fmt.free(); dec.free();
  }
}

export function formatReport(m: Machine, r: RunResult, seed?: number): string {
  const c = m.cpu;
  const lines: string[] = [];
  lines.push(`klp-lab run: ${m.describeStop(r)} after ${m.instructions} instructions (virtual time ${(c.icount / 1e6).toFixed(3)} ms)`);
  if (seed !== undefined) lines.push(`seed ${seed}`);
  lines.push(`rip ${hex(c.rip)}  ${disassembleAt(m, c.rip)}`);
  lines.push(`mode ${c.bits}-bit, cpl ${c.cpl}, rflags ${hex(c.flags.get(), 8)}${c.halted ? ', halted' : ''}`);
  for (let i = 0; i < 16; i += 4) {
    lines.push(GPR_NAMES.slice(i, i + 4).map((n, k) => `${n.padStart(3)} ${hex(c.regs.getBig(i + k))}`).join('  '));
  }
  lines.push(SEG_NAMES.map((n, s) => `${n} ${hex(c.sel[s], 4)}`).join(' ') +
    `  fs.base ${hex(c.segBase[4])} gs.base ${hex(c.segBase[5])}`);
  lines.push(`cr0 ${hex(c.cr0, 8)} cr2 ${hex(c.cr2)} cr3 ${hex(c.cr3)} cr4 ${hex(c.cr4, 8)} efer ${hex(c.efer, 4)}`);
  const recent = m.intr.recent.slice(-8);
  if (recent.length > 0) {
    lines.push('last exceptions/interrupts:');
    for (const e of recent) {
      const name = EXCEPTION_NAMES[e.vector] ?? `vector 0x${e.vector.toString(16)}`;
      lines.push(`  @${e.icount} ${name}${e.errorCode >= 0 ? ` error 0x${e.errorCode.toString(16)}` : ''} rip ${hex(e.rip)} cpl ${e.cpl}${e.vector === 14 ? ` cr2 ${hex(e.cr2)}` : ''}`);
    }
  }
  const unimplementedCounts = c.unimplemented;
  if (unimplementedCounts.size > 0) {
    lines.push('unimplemented instructions (raised #UD): ' +
      [...unimplementedCounts].sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} x${v}`).join(', '));
  }
  const s = m.cache.stats;
  lines.push(`blocks: ${s.built} built, ${s.invalidatedBlocks} invalidated (${s.invalidatedPages} code pages written); TLB walks ${c.mmu.walks}`);
  return lines.join('\n') + '\n';
}
