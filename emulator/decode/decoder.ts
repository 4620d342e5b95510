/**
 * iced-x86 → Insn. One iced Decoder per block build (over a copy of the bytes from the block start
 * to the page end plus the first bytes of the next page), one reused Instruction (`decodeOut`), every
 * bigint converted to numbers here, once. Nothing from iced is kept after the block is built.
 */
import { Decoder, DecoderOptions, Instruction, OpKind, Register, Code, Mnemonic, MemorySize, FlowControl } from 'iced-x86';
import { Insn, InsnBinder, OK_NONE, OK_REG, OK_MEM, OK_IMM, OK_XMM, OK_SEG, OK_CR, OK_DR, OK_STR, OK_BRANCH, OK_OTHER,
  END_NONE, END_BRANCH, END_SERIALIZING, END_INVALID } from './insn';

const CODE_NAMES: string[] = [];
for (const [k, v] of Object.entries(Code)) if (typeof v === 'number') CODE_NAMES[v] = k;
const MNEMONIC_NAMES: string[] = [];
for (const [k, v] of Object.entries(Mnemonic)) if (typeof v === 'number') MNEMONIC_NAMES[v] = k;
export function codeName(code: number): string { return CODE_NAMES[code] ?? `code${code}`; }
export function mnemonicName(m: number): string { return (MNEMONIC_NAMES[m] ?? `mnemonic${m}`).toLowerCase(); }

/** Bytes of each iced MemorySize (0 when not a plain data size). */
const MEM_BYTES: number[] = [];
for (const [k, v] of Object.entries(MemorySize)) {
  if (typeof v !== 'number') continue;
  let n = 0;
  const m = /^(?:U?Int|Float|Packed|Broadcast)(\d+)/.exec(k);
  if (m) n = Number(m[1]) / 8;
  if (k === 'SegPtr16') n = 4; else if (k === 'SegPtr32') n = 6; else if (k === 'SegPtr64') n = 10;
  else if (k === 'Fword6') n = 6; else if (k === 'Fword10') n = 10;
  else if (k === 'Fxsave_512Byte' || k === 'Fxsave64_512Byte') n = 512;
  else if (k === 'Bound32_DwordDword') n = 8; else if (k === 'Bound16_WordWord') n = 4;
  else if (k === 'Float80' || k === 'Bcd') n = 10;
  // Near indirect branches through memory (jmp/call *mem, e.g. gcc's jump tables) use these.
  else if (k === 'WordOffset') n = 2; else if (k === 'DwordOffset') n = 4; else if (k === 'QwordOffset') n = 8;
  MEM_BYTES[v] = n;
}

/** Stack-operand size by Code (push/pop/call/ret/...), 0 if not a stack instruction. */
const STACK_SIZE: number[] = [];
function stackSizeOf(code: number, bits: number): number {
  const cached = STACK_SIZE[code];
  if (cached !== undefined) return cached === 0 ? bits / 8 : cached;
  const name = codeName(code);
  let s = 0;
  let m = /^(Push|Pop|Pushf|Popf|Retn|Retf|Leave|Enter|Iret|Call|Jmp|Pusha|Popa)(w|d|q)/.exec(name);
  if (m) s = m[2] === 'w' ? 2 : m[2] === 'd' ? 4 : 8;
  else if ((m = /^(Push|Pop|Call|Jmp)_(?:r|rm|r32m16|r64m16)?(16|32|64)$/.exec(name))) s = Number(m[2]) / 8;
  else if ((m = /^(Call|Jmp)_rel\d+_(16|32|64)$/.exec(name))) s = Number(m[2]) / 8;
  STACK_SIZE[code] = s;
  return s === 0 ? bits / 8 : s;
}

const R = Register;
const ICED_RIP = R.RIP, ICED_EIP = R.EIP;

/** Map an iced GPR to [kind, index, size]; writes into the scratch below. */
let regKind = 0, regIndex = 0, regSize = 0;
function mapRegister(reg: number): void {
  if (reg >= R.AL && reg <= R.R15L) {
    regKind = OK_REG; regSize = 1;
    if (reg >= R.AH && reg <= R.BH) regIndex = ((reg - R.AH) << 3) | 1;
    else if (reg <= R.BL) regIndex = (reg - R.AL) << 3;
    else regIndex = (reg - R.SPL + 4) << 3;
  } else if (reg >= R.AX && reg <= R.R15W) { regKind = OK_REG; regSize = 2; regIndex = reg - R.AX; }
  else if (reg >= R.EAX && reg <= R.R15D) { regKind = OK_REG; regSize = 4; regIndex = reg - R.EAX; }
  else if (reg >= R.RAX && reg <= R.R15) { regKind = OK_REG; regSize = 8; regIndex = reg - R.RAX; }
  else if (reg >= R.ES && reg <= R.GS) { regKind = OK_SEG; regSize = 2; regIndex = reg - R.ES; }
  else if (reg >= R.XMM0 && reg <= R.XMM15) { regKind = OK_XMM; regSize = 16; regIndex = reg - R.XMM0; }
  else if (reg >= R.CR0 && reg <= R.CR15) { regKind = OK_CR; regSize = 8; regIndex = reg - R.CR0; }
  else if (reg >= R.DR0 && reg <= R.DR15) { regKind = OK_DR; regSize = 8; regIndex = reg - R.DR0; }
  else { regKind = OK_OTHER; regSize = 0; regIndex = reg; }
}

/** GPR number of a base/index register of any width, -1 for none. */
function addrReg(reg: number): number {
  if (reg === R.None) return -1;
  if (reg >= R.RAX && reg <= R.R15) return reg - R.RAX;
  if (reg >= R.EAX && reg <= R.R15D) return reg - R.EAX;
  if (reg >= R.AX && reg <= R.R15W) return reg - R.AX;
  return -2;
}

const MASK64 = (1n << 64n) - 1n;

/** Signed number from a bigint holding a 64-bit two's-complement value. */
function signed64(v: bigint): number { return Number(BigInt.asIntN(64, v)); }

export class InsnDecoder {
  private readonly instr = new Instruction();
  decoded = 0;
  /** Use the ground-truth call/ret forms (Machine.enableTruth). */
  truth = false;

  /** `bind` gives each decoded instruction its form (exec/table.ts bindForm). */
  constructor(private readonly bind: InsnBinder) {}

  /**
   * Decode instructions from `bytes` (which start at virtual address `va`) until a block end, the
   * end of `limit` bytes (the page end), or `max` instructions. Instructions that start before `limit`
   * but extend past it are allowed when `bytes` holds them. Returns the records.
   */
  decodeBlock(bytes: Uint8Array, va: number, bits: number, limit: number, max: number): Insn[] {
    const out: Insn[] = [];
    const dec = new Decoder(bits, bytes, DecoderOptions.None);
    try {
      const ip0 = BigInt.asUintN(64, BigInt(va));
      dec.ip = ip0;
      let pos = 0;
      while (pos < limit && out.length < max) {
        dec.position = pos;
        dec.ip = (ip0 + BigInt(pos)) & MASK64;
        dec.decodeOut(this.instr);
        const d = this.convert(this.instr, bits);
        // An instruction cut short by the end of the copied bytes is invalid: let the caller decide.
        if (d.end === END_INVALID && pos + 15 > bytes.length && out.length > 0) break;
        out.push(d);
        pos += d.len;
        if (d.end !== END_NONE) break;
      }
    } finally {
      dec.free();
    }
    return out;
  }

  private convert(ins: Instruction, bits: number): Insn {
    this.decoded++;
    const d = new Insn();
    const code = ins.code;
    d.code = code;
    d.mnemonic = ins.mnemonic;
    d.len = ins.length;
    d.bits = bits;
    if (code === Code.INVALID) {
      d.len = Math.max(1, d.len);
      d.end = END_INVALID;
      this.bind(d, false);
      return d;
    }
    const nextIp = ins.nextIP;
    const n = ins.opCount;
    let size = 0;
    for (let i = 0; i < n && i < 3; i++) {
      const kind = ins.opKind(i);
      let k = OK_OTHER, r = 0, s = 0;
      if (kind === OpKind.Register) {
        mapRegister(ins.opRegister(i));
        k = regKind; r = regIndex; s = regSize;
      } else if (kind === OpKind.Memory) {
        k = OK_MEM;
        s = MEM_BYTES[ins.memorySize] ?? 0;
        this.memory(ins, d, bits, nextIp);
      } else if (kind >= OpKind.MemorySegSI && kind <= OpKind.MemoryESRDI) {
        k = OK_STR;
        s = MEM_BYTES[ins.memorySize] ?? 0;
        d.msize = s;
        d.asz = (kind === OpKind.MemorySegRSI || kind === OpKind.MemorySegRDI || kind === OpKind.MemoryESRDI) ? 8
          : (kind === OpKind.MemorySegESI || kind === OpKind.MemorySegEDI || kind === OpKind.MemoryESEDI) ? 4 : 2;
        if (kind <= OpKind.MemorySegRSI) d.seg = ins.memorySegment - R.ES;
      } else if (kind === OpKind.NearBranch16 || kind === OpKind.NearBranch32 || kind === OpKind.NearBranch64) {
        k = OK_BRANCH;
        const t = ins.nearBranchTarget;
        d.target = bits === 64 ? signed64(t - nextIp) : Number(BigInt.asIntN(32, t - nextIp));
        s = kind === OpKind.NearBranch16 ? 2 : kind === OpKind.NearBranch32 ? 4 : 8;
      } else if (kind === OpKind.FarBranch16 || kind === OpKind.FarBranch32) {
        k = OK_BRANCH;
        d.imm2 = ins.farBranchSelector;
        d.immLo = kind === OpKind.FarBranch16 ? ins.farBranch16 : ins.farBranch32;
        s = kind === OpKind.FarBranch16 ? 2 : 4;
      } else if (kind === OpKind.Immediate8_2nd) {
        k = OK_IMM; s = 1; d.imm2 = ins.immediate8_2nd;
      } else {
        // Immediate8/16/32/64 and the sign-extended forms: iced gives the value as a u64.
        k = OK_IMM;
        const v = ins.immediate(i) & MASK64;
        d.immLo = Number(v & 0xffffffffn);
        d.immHi = Number(v >> 32n);
        s = kind === OpKind.Immediate8 ? 1 : kind === OpKind.Immediate16 ? 2 :
          kind === OpKind.Immediate32 ? 4 : 8;
      }
      if (i === 0) { d.k0 = k; d.r0 = r; d.s0 = s; size = s; }
      else if (i === 1) { d.k1 = k; d.r1 = r; d.s1 = s; }
      else { d.k2 = k; d.r2 = r; d.s2 = s; }
    }
    // Immediates of the operation size: truncate to the destination size (hi only for 8).
    if (size === 0 || d.k0 === OK_STR || d.k0 === OK_BRANCH) size = d.k1 === OK_STR ? d.s1 : size;
    d.size = size;
    if (d.k1 === OK_IMM || d.k2 === OK_IMM) {
      if (size < 8 && size > 0) { d.immHi = 0; if (size < 4) d.immLo &= size === 1 ? 0xff : 0xffff; }
    }
    d.cc = ins.conditionCode - 1; // iced: None = 0, o = 1 ... g = 16
    d.rep = ins.hasRepePrefix || ins.hasRepPrefix ? 1 : ins.hasRepnePrefix ? 2 : 0;
    d.lock = ins.hasLockPrefix ? 1 : 0;
    d.ssz = stackSizeOf(code, bits);
    const fc = ins.flowControl;
    if (fc !== FlowControl.Next) d.end = END_BRANCH;
    else if (ins.isPrivileged) d.end = END_SERIALIZING;
    // A REP string instruction may hand back to the run loop between iterations (exec/string.ts).
    else if (d.rep !== 0 && (d.k0 === OK_STR || d.k1 === OK_STR)) d.end = END_SERIALIZING;
    // The form decides the handler, and whether a non-branching instruction ends the block.
    this.bind(d, this.truth);
    if (ECX_COUNTER.has(code)) d.asz = 4;
    return d;
  }

  private memory(ins: Instruction, d: Insn, bits: number, nextIp: bigint): void {
    const base = ins.memoryBase, index = ins.memoryIndex;
    d.seg = ins.memorySegment - R.ES;
    d.scale = ins.memoryIndexScale;
    d.index = addrReg(index);
    d.msize = MEM_BYTES[ins.memorySize] ?? 0;
    let asz = bits === 64 ? 8 : 4;
    if ((base >= R.EAX && base <= R.R15D) || (index >= R.EAX && index <= R.R15D) || base === ICED_EIP) asz = 4;
    d.asz = asz;
    if (base === ICED_RIP || base === ICED_EIP) {
      d.ripRel = 1;
      d.base = -1;
      const t = ins.memoryDisplacementU64;
      d.disp = asz === 8 ? signed64(t - nextIp) : Number(BigInt.asIntN(32, t - nextIp));
      d.eaFast = asz === 8 && d.seg < 4 && d.index === -1 ? 1 : 0;
      return;
    }
    d.base = addrReg(base);
    d.eaFast = asz === 8 && d.seg < 4 && d.base >= -1 && d.index >= -1 ? 1 : 0;
    const disp = ins.memoryDisplacementU64 & MASK64;
    if (asz === 8) {
      d.dispLo = Number(disp & 0xffffffffn);
      d.dispHi = Number(disp >> 32n);
      d.disp = signed64(disp);
    } else {
      d.dispLo = Number(disp & 0xffffffffn);
      d.dispHi = 0;
      d.disp = d.dispLo;
    }
  }
}

/** LOOP/JECXZ forms that count in ECX (32-bit address size). */
const ECX_COUNTER = new Set<number>();
for (let i = 0; i < CODE_NAMES.length; i++) {
  const n = CODE_NAMES[i];
  if (n !== undefined && /^(Loop|Loope|Loopne)_rel8_(16|32|64)_ECX$|^Jecxz/.test(n)) ECX_COUNTER.add(i);
}

void OK_NONE;
