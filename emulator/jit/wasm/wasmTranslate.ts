/**
 * The WebAssembly tier: a decoded 64-bit block becomes one wasm function with the same contract as a
 * translated JS block (jit/translateBlock.ts): registers in i64 locals, written back where something
 * outside can look (slow paths, handler calls, exits); the status-flag record of the last flag-writing
 * instruction kept in locals and handed to the FlagState only there; the TLB hit path inline.
 * Instructions without a form here call the interpreter's handler through an import.
 *
 * V8 compiles such a module in one pass without type feedback (Liftoff), in microseconds, and the
 * code is fast from its first execution: that is why warm code, which the JS translator does not pay
 * for, is translated here (see emulator/jit/README.md, "The WebAssembly tier").
 *
 * Values: an operand of `size` bytes is an i64 local holding it zero-extended. RIP values are i64;
 * the function's f64 parameters are converted once. The state area (memory/stateArea.ts) is reached
 * from the `sb` parameter, so one module serves every machine.
 */
import { Mnemonic } from 'iced-x86';
import type { Insn } from '../../decode/insn';
import { OK_REG, OK_MEM, OK_IMM, OK_BRANCH } from '../../decode/insn';
import { LAZY_ADD, LAZY_SUB, LAZY_RESULT, STATUS_FLAGS, CF, OF, AF } from '../../cpu/flags';
import { flagsDeadAfter } from '../deadFlags';
import { FORM } from '../../exec/table';
import { TLB_MASK } from '../../memory/tlb';
import {
  STATE_REGS, STATE_FLAGS, FLAG_DIRTY, FLAG_KIND, FLAG_SIZE, FLAG_A_LO, FLAG_A_HI, FLAG_B_LO, FLAG_B_HI, FLAG_R_LO,
  FLAG_R_HI, FLAG_CIN, FLAG_EAGER, FLAG_MASK, STATE_EXIT_RIP, STATE_EXIT_START, STATE_EXIT_ICOUNT, STATE_HI,
  STATE_EXIT_FLAG, STATE_USER, TLB_SUP_R, TLB_SUP_W, TLB_PHYS, TLB_USR_R, STATE_EXEC_COUNTS, STATE_EXEC_LIMITS,
} from '../../memory/stateArea';
import { BLOCK_PARAMS, BLOCK_RESULTS, slotCountAddress } from './wasmChain';
import { WasmFunction, buildModule, Op, I32, I64, F64, type WasmImport } from './wasmCode';

/** The JS functions a translated block imports, in this order (jit/wasm/wasmTier.ts provides them). */
export const WASM_IMPORTS: readonly WasmImport[] = [
  // slowRead(va, size, insnStart, rip, icount) -> lo (hi in the state area)
  { name: 'rd', params: [F64, I32, F64, F64, F64], results: [I32] },
  // slowWrite(va, size, lo, hi, insnStart, rip, icount)
  { name: 'wr', params: [F64, I32, I32, I32, F64, F64, F64], results: [] },
  // the handler of instruction i, at (insnStart, rip, icount) -> icount after it
  { name: 'h', params: [I32, F64, F64, F64], results: [F64] },
  // FlagState.cond(cc) -> 0/1
  { name: 'cond', params: [I32], results: [I32] },
  // the interpreter's ea() of instruction i (raises its #GP/#SS for a non-canonical address)
  { name: 'ea', params: [I32, F64, F64, F64], results: [F64] },
  // #GP(0) at (insnStart, rip, icount): a non-canonical branch target
  { name: 'gp', params: [F64, F64, F64], results: [] },
  // hands the record in the state area to the FlagState (before a record that keeps some flags replaces it)
  { name: 'fl', params: [], results: [] },
];
const IM_RD = 0, IM_WR = 1, IM_H = 2, IM_COND = 3, IM_EA = 4, IM_GP = 5, IM_FL = 6;
/**
 * A translated block: (sb: state base, rip0, icount0, limit, slot) -> 0 (exit state in the state area)
 * or 1 (the CPU object is current). A block that branches back to its start runs its next iteration
 * itself while it fits below `limit` (the chain loop's instruction budget; 0: one iteration only) and
 * its count (by its table slot) is below the run loop's limit (wasmChain.ts).
 */
export const EXIT_SLOTS = 0, EXIT_CURRENT = 1;

const SIZE_MASK_LO = [0, 0xff, 0xffff, 0, 0xffffffff, 0, 0, 0, 0xffffffff];
const SIZE_MASK_HI = [0, 0, 0, 0, 0, 0, 0, 0, 0xffffffff];
const USER_TLB = TLB_USR_R - TLB_SUP_R;

interface Pending {
  kind: number; size: number;
  /** i64 locals (zero-extended operands and result); -1 for a constant 0. */
  a: number; b: number; r: number;
  /** i32 local of the eager CF|OF|AF bits (LAZY_RESULT), -1 for 0. */
  eager: number;
  mask: number;
}

const REG_NONE = 0, REG_CLEAN = 1, REG_DIRTY = 2;
const P_SB = 0, P_RIP = 1, P_IC = 2, P_LIMIT = 3, P_SLOT = 4;

/** Translation-time state of one block's function (jit/codeState.ts's counterpart). */
class Emitter {
  readonly f = new WasmFunction(BLOCK_PARAMS, BLOCK_RESULTS);
  private readonly regLocal = new Int32Array(16).fill(-1);
  private readonly regState = new Uint8Array(16);
  pending: Pending | null = null;
  /** i64: RIP at entry (the P_RIP parameter, which positions use as it is); the next RIP (branches set it). */
  readonly rip0 = this.f.local(I64);
  readonly nrip = this.f.local(I64);
  /** i32: the user/supervisor offset into the TLB's tag arrays. */
  readonly ub = this.f.local(I32);
  private readonly scratch = new Map<number, number[]>();
  private readonly scratchUsed: [number, number][] = [];
  /** Whether the current instruction took a slow path that may have set c.exit. */
  slow = false;
  index = 0; start = 0; next = 0;
  /** The module-wide number of the block's first instruction (the h and ea imports take base + index). */
  base = 0;
  /** The block's instructions (forms that set only some flags ask whether later ones replace them unseen). */
  insns: readonly Insn[] = [];

  constructor() {
    const f = this.f;
    f.get(P_RIP).op(Op.i64_trunc_f64_s).set(this.rip0);
    this.loadUser();
  }

  loadUser(): void {
    const f = this.f;
    f.get(P_SB).mem(Op.i32_load, STATE_USER).i32(USER_TLB).op(Op.i32_mul).set(this.ub);
  }

  /** A temporary local of `type` for this instruction (freed by endInsn). */
  tmp(type: number): number {
    const free = this.scratch.get(type);
    const l = free !== undefined && free.length > 0 ? free.pop()! : this.f.local(type as typeof I32);
    this.scratchUsed.push([type, l]);
    return l;
  }
  endInsn(): void {
    for (const [t, l] of this.scratchUsed) {
      let free = this.scratch.get(t);
      if (free === undefined) { free = []; this.scratch.set(t, free); }
      free.push(l);
    }
    this.scratchUsed.length = 0;
  }

  /** Local of GPR r (loaded from the register file on first use). */
  reg(r: number): number {
    if (this.regLocal[r] < 0) this.regLocal[r] = this.f.local(I64);
    if (this.regState[r] === REG_NONE) {
      this.f.get(P_SB).mem(Op.i64_load, STATE_REGS + 8 * r).set(this.regLocal[r]);
      this.regState[r] = REG_CLEAN;
    }
    return this.regLocal[r];
  }
  /** Pops an i64 into GPR r. */
  setReg(r: number): void {
    if (this.regLocal[r] < 0) this.regLocal[r] = this.f.local(I64);
    this.f.set(this.regLocal[r]);
    this.regState[r] = REG_DIRTY;
  }
  /** The GPRs the function has a local for. */
  registersUsed(): number[] {
    const used: number[] = [];
    for (let r = 0; r < 16; r++) if (this.regLocal[r] >= 0) used.push(r);
    return used;
  }
  regWriteBack(): void {
    for (let r = 0; r < 16; r++) {
      if (this.regState[r] === REG_DIRTY) this.f.get(P_SB).get(this.regLocal[r]).mem(Op.i64_store, STATE_REGS + 8 * r);
    }
  }
  forgetAll(): void { this.regState.fill(REG_NONE); this.pending = null; }

  /** Stores the pending record into the state area's flag slots for the FlagState (wasmTier applyFlags). */
  flagsWriteBack(): void {
    const p = this.pending, f = this.f;
    if (p === null) return;
    const i32 = (slot: number, v: number) => f.get(P_SB).i32(v).mem(Op.i32_store, STATE_FLAGS + 4 * slot);
    const half = (slot: number, l: number, high: boolean) => {
      f.get(P_SB);
      if (l < 0) f.i32(0);
      else { f.get(l); if (high) f.i64(32, 0).op(Op.i64_shr_u); f.op(Op.i32_wrap_i64); }
      f.mem(Op.i32_store, STATE_FLAGS + 4 * slot);
    };
    // A record that keeps some flags (INC, DEC: CF) completes the one before it, which a chained block
    // may have left in the state area (wasmChain.ts): that one goes to the FlagState first.
    if (p.mask !== STATUS_FLAGS) f.get(P_SB).mem(Op.i32_load, STATE_FLAGS + 4 * FLAG_DIRTY).if_().call(IM_FL).end();
    i32(FLAG_KIND, p.kind); i32(FLAG_SIZE, p.size); i32(FLAG_CIN, 0); i32(FLAG_MASK, p.mask);
    half(FLAG_A_LO, p.a, false); half(FLAG_A_HI, p.a, true);
    half(FLAG_B_LO, p.b, false); half(FLAG_B_HI, p.b, true);
    half(FLAG_R_LO, p.r, false); half(FLAG_R_HI, p.r, true);
    f.get(P_SB);
    if (p.eager < 0) f.i32(0); else f.get(p.eager);
    f.mem(Op.i32_store, STATE_FLAGS + 4 * FLAG_EAGER);
    i32(FLAG_DIRTY, 1);
  }

  /** Pushes the position arguments of the current instruction: insnStart, rip after it, icount before it. */
  position(): void {
    const f = this.f;
    f.get(P_RIP).f64(this.start).op(Op.f64_add);
    f.get(P_RIP).f64(this.next).op(Op.f64_add);
    f.get(P_IC).f64(this.index).op(Op.f64_add);
  }
  /** Everything the CPU object needs before the current instruction may fault (codeState syncAt). */
  sync(): void { this.regWriteBack(); this.flagsWriteBack(); }

  /** Exit with RIP `nripLocal` after instruction `count - 1` (exit slots, return 0). */
  exit(count: number, lastStart: number): void {
    const f = this.f;
    this.regWriteBack(); this.flagsWriteBack();
    f.get(P_SB).get(this.nrip).op(Op.f64_convert_i64_s).mem(Op.f64_store, STATE_EXIT_RIP);
    f.get(P_SB).get(P_RIP).f64(lastStart).op(Op.f64_add).mem(Op.f64_store, STATE_EXIT_START);
    f.get(P_SB).get(P_IC).f64(count).op(Op.f64_add).mem(Op.f64_store, STATE_EXIT_ICOUNT);
    f.i32(EXIT_SLOTS).op(Op.return);
  }

  // ---- memory ----------------------------------------------------------------------------------

  /** Local (i64) of the memory operand's linear address (eaFast forms only). */
  address(d: Insn): number {
    const f = this.f, va = this.tmp(I64);
    if (d.ripRel !== 0) f.get(this.rip0).i64(this.next + d.disp, (this.next + d.disp) < 0 ? -1 : 0).op(Op.i64_add);
    else f.i64(d.dispLo, d.dispHi);
    if (d.base >= 0) f.get(this.reg(d.base)).op(Op.i64_add);
    if (d.index >= 0) {
      f.get(this.reg(d.index));
      if (d.scale !== 1) f.i64(Math.log2(d.scale), 0).op(Op.i64_shl);
      f.op(Op.i64_add);
    }
    f.set(va);
    return va;
  }

  /** Pushes the f64 address for a slow path: exact when canonical, else the interpreter's ea() (which faults). */
  private slowAddress(va: number): void {
    const f = this.f;
    f.get(va).i64(16, 0).op(Op.i64_shl).i64(16, 0).op(Op.i64_shr_s).get(va).op(Op.i64_eq);
    f.if_(F64).get(va).op(Op.f64_convert_i64_s).else_().i32(this.base + this.index);
    this.position();
    f.call(IM_EA).end();
  }

  /** The TLB hit test for an access of `size` at `va` (i64 local): leaves i32 on the stack; sets ti/off. */
  private tlbHit(va: number, size: number, tagOffset: number, ti: number, off: number): void {
    const f = this.f;
    const vp = this.tmp(I64);
    f.get(va).i64(12, 0).op(Op.i64_shr_s).tee(vp).op(Op.i32_wrap_i64).i32(TLB_MASK).op(Op.i32_and).set(ti);
    f.get(va).op(Op.i32_wrap_i64).i32(0xfff).op(Op.i32_and).set(off);
    f.get(P_SB).get(this.ub).op(Op.i32_add).get(ti).i32(3).op(Op.i32_shl).op(Op.i32_add).mem(Op.f64_load, tagOffset);
    f.get(vp).op(Op.f64_convert_i64_s).op(Op.f64_eq);
    if (size > 1) f.get(off).i32(4096 - size).op(Op.i32_le_u).op(Op.i32_and);
  }
  /** Pushes the host address of the hit entry's byte (i32). */
  private hostAddress(ti: number, off: number): void {
    this.f.get(P_SB).get(ti).i32(2).op(Op.i32_shl).op(Op.i32_add).mem(Op.i32_load, TLB_PHYS).get(off).op(Op.i32_add);
  }

  /** Loads `size` bytes at `va` into a new i64 local (zero-extended). */
  load(size: number, va: number): number {
    const f = this.f, v = this.tmp(I64), ti = this.tmp(I32), off = this.tmp(I32);
    this.tlbHit(va, size, TLB_SUP_R, ti, off);
    f.if_();
    this.hostAddress(ti, off);
    f.mem(size === 1 ? Op.i64_load8_u : size === 2 ? Op.i64_load16_u : size === 4 ? Op.i64_load32_u : Op.i64_load, 0).set(v);
    f.else_();
    this.sync();
    this.slowAddress(va);
    f.i32(size);
    this.position();
    f.call(IM_RD).op(Op.i64_extend_i32_u);
    if (size === 8) f.get(P_SB).mem(Op.i64_load32_u, STATE_HI).i64(32, 0).op(Op.i64_shl).op(Op.i64_or);
    f.set(v);
    this.loadUser();
    f.end();
    this.slow = true;
    return v;
  }

  /** Stores the low `size` bytes of i64 local `v` at `va`. */
  store(size: number, va: number, v: number): void {
    const f = this.f, ti = this.tmp(I32), off = this.tmp(I32);
    this.tlbHit(va, size, TLB_SUP_W, ti, off);
    f.if_();
    this.hostAddress(ti, off);
    f.get(v).mem(size === 1 ? Op.i64_store8 : size === 2 ? Op.i64_store16 : size === 4 ? Op.i64_store32 : Op.i64_store, 0);
    f.else_();
    this.sync();
    this.slowAddress(va);
    f.i32(size);
    f.get(v).op(Op.i32_wrap_i64);
    f.get(v).i64(32, 0).op(Op.i64_shr_u).op(Op.i32_wrap_i64);
    this.position();
    f.call(IM_WR);
    this.loadUser();
    f.end();
    this.slow = true;
  }

  // ---- operands --------------------------------------------------------------------------------

  /** New i64 local with register operand (size, r) zero-extended. */
  regOperand(size: number, r: number): number {
    const f = this.f, v = this.tmp(I64);
    if (size === 1) {
      f.get(this.reg(r >> 3));
      if ((r & 1) !== 0) f.i64(8, 0).op(Op.i64_shr_u);
      f.i64(0xff, 0).op(Op.i64_and);
    } else {
      f.get(this.reg(r));
      if (size < 8) f.i64(SIZE_MASK_LO[size], 0).op(Op.i64_and);
    }
    f.set(v);
    return v;
  }

  /** Writes i64 local `v` to register operand (size, r) with the architecture's rules. */
  setRegOperand(size: number, r: number, v: number): void {
    const f = this.f;
    if (size === 1) {
      const g = r >> 3, sh = (r & 1) !== 0 ? 8 : 0;
      f.get(this.reg(g)).i64(~(0xff << sh), -1).op(Op.i64_and);
      f.get(v).i64(0xff, 0).op(Op.i64_and);
      if (sh !== 0) f.i64(8, 0).op(Op.i64_shl);
      f.op(Op.i64_or);
      this.setReg(g);
      return;
    }
    if (size === 2) {
      f.get(this.reg(r)).i64(~0xffff, -1).op(Op.i64_and).get(v).i64(0xffff, 0).op(Op.i64_and).op(Op.i64_or);
      this.setReg(r);
      return;
    }
    f.get(v);
    if (size === 4) f.i64(0xffffffff, 0).op(Op.i64_and);
    this.setReg(r);
  }

  /** Operand 1 (register, immediate or memory) as a new i64 local at size d.s1 (immediates at d.size). */
  source(d: Insn): number | null {
    const f = this.f;
    if (d.k1 === OK_REG) return this.regOperand(d.s1, d.r1);
    if (d.k1 === OK_IMM) {
      const v = this.tmp(I64);
      const size = d.size;
      f.i64(d.immLo & SIZE_MASK_LO[size], d.immHi & SIZE_MASK_HI[size]).set(v);
      return v;
    }
    if (d.k1 === OK_MEM) {
      if (d.eaFast === 0 || (d.s1 !== 1 && d.s1 !== 2 && d.s1 !== 4 && d.s1 !== 8)) return null;
      return this.load(d.s1, this.address(d));
    }
    return null;
  }

  // ---- conditions ------------------------------------------------------------------------------

  /** Pushes condition cc (i32 0/1), from the pending record where its kind allows, else through cond(). */
  condition(cc: number): void {
    const f = this.f, p = this.pending, t = cc >> 1;
    let done = false;
    if (p !== null) {
      const zero = () => { f.get(p.r).op(Op.i64_eqz); };
      const sign = () => { f.get(p.r).i64(p.size * 8 - 1, 0).op(Op.i64_shr_u).op(Op.i32_wrap_i64).i32(1).op(Op.i32_and); };
      const ext = (l: number) => {
        f.get(l);
        if (p.size === 1) f.op(Op.i64_extend8_s); else if (p.size === 2) f.op(Op.i64_extend16_s); else if (p.size === 4) f.op(Op.i64_extend32_s);
      };
      const cfKept = p.mask !== STATUS_FLAGS;
      if (t === 2) { zero(); done = true; } else if (t === 4) { sign(); done = true; } else if (p.kind === LAZY_SUB && !(cfKept && (t === 1 || t === 3))) {
        if (t === 1) { f.get(p.a).get(p.b).op(Op.i64_lt_u); done = true; }
        else if (t === 3) { f.get(p.a).get(p.b).op(Op.i64_le_u); done = true; }
        else if (t === 6) { ext(p.a); ext(p.b); f.op(Op.i64_lt_s); done = true; }
        else if (t === 7) { ext(p.a); ext(p.b); f.op(Op.i64_le_s); done = true; }
      } else if (p.kind === LAZY_RESULT && p.eager < 0) {
        if (t === 0 || t === 1) { f.i32(0); done = true; }
        else if (t === 3) { zero(); done = true; }
        else if (t === 6) { sign(); done = true; }
        else if (t === 7) { zero(); sign(); f.op(Op.i32_or); done = true; }
      }
    }
    if (!done) {
      this.flagsWriteBack();
      this.pending = null;
      f.i32(cc).call(IM_COND);
      return;
    }
    if ((cc & 1) !== 0) f.op(Op.i32_eqz);
  }

  /** Raises #GP(0) unless i64 local `t` is canonical (control.ts relTarget). */
  checkTarget(t: number): void {
    const f = this.f;
    f.get(t).i64(16, 0).op(Op.i64_shl).i64(16, 0).op(Op.i64_shr_s).get(t).op(Op.i64_ne).if_();
    this.sync();
    this.position();
    f.call(IM_GP).op(Op.unreachable).end();
  }
}

const ARITH = new Map<number, string>([[Mnemonic.Add, 'add'], [Mnemonic.Sub, 'sub'], [Mnemonic.Cmp, 'cmp'],
  [Mnemonic.And, 'and'], [Mnemonic.Or, 'or'], [Mnemonic.Xor, 'xor'], [Mnemonic.Test, 'test']]);

/** Emits instruction d inline; false (nothing emitted) when its handler must run it. */
function emitInsn(e: Emitter, d: Insn): boolean {
  if (d.bits !== 64) return false;
  const op = ARITH.get(d.mnemonic);
  if (op !== undefined) return alu(e, d, op);
  if (d.form === FORM.jcc) return d.k0 === OK_BRANCH && d.cc >= 0 && jcc(e, d);
  switch (d.mnemonic) {
    case Mnemonic.Mov: return mov(e, d);
    case Mnemonic.Movzx: return movx(e, d, false);
    case Mnemonic.Movsx: case Mnemonic.Movsxd: return movx(e, d, true);
    case Mnemonic.Lea: return lea(e, d);
    case Mnemonic.Inc: return incDec(e, d, LAZY_ADD);
    case Mnemonic.Dec: return incDec(e, d, LAZY_SUB);
    case Mnemonic.Nop: return d.form === FORM.nop;
    case Mnemonic.Rol: case Mnemonic.Ror: return rotate(e, d);
    case Mnemonic.Shl: case Mnemonic.Sal: case Mnemonic.Shr: case Mnemonic.Sar: return shift(e, d);
    case Mnemonic.Imul: return imul(e, d);
    default: break;
  }
  if (d.form === FORM.pushR64 && d.k0 === OK_REG && d.ssz === 8) return push(e, d);
  if (d.form === FORM.popR64 && d.k0 === OK_REG && d.ssz === 8) return pop(e, d);
  if (d.form === FORM.callRel && d.k0 === OK_BRANCH && d.ssz === 8) return call(e, d);
  if (d.form === FORM.ret && d.k0 === 0 && d.ssz === 8) return ret(e);
  if (d.form === FORM.jmpRel && d.k0 === OK_BRANCH) return jmp(e, d);
  return false;
}

/** ADD SUB CMP AND OR XOR TEST: register destination, or CMP/TEST with memory operand 0 (forms.ts alu). */
function alu(e: Emitter, d: Insn, op: string): boolean {
  const size = d.size, f = e.f;
  if (d.lock !== 0 || d.k2 !== 0 || (size !== 1 && size !== 2 && size !== 4 && size !== 8)) return false;
  const writes = op !== 'cmp' && op !== 'test';
  if (d.k1 !== OK_REG && d.k1 !== OK_IMM && d.k1 !== OK_MEM) return false;
  if (d.k1 === OK_MEM && (d.s1 !== size || d.eaFast === 0)) return false;
  let a: number, b: number;
  if (d.k0 === OK_REG) {
    if (d.k1 === OK_MEM) { b = e.source(d)!; a = e.regOperand(size, d.r0); }
    else { a = e.regOperand(size, d.r0); b = e.source(d)!; }
  } else if (d.k0 === OK_MEM && !writes && d.k1 !== OK_MEM) {
    if (d.msize !== size || d.eaFast === 0) return false;
    a = e.load(size, e.address(d));
    b = e.source(d)!;
  } else return false;
  // Records keep their operands: fresh locals, not the (reused) temporaries.
  const ra = f.local(I64), rb = f.local(I64), rr = f.local(I64);
  f.get(a).set(ra); f.get(b).set(rb);
  f.get(ra).get(rb);
  if (op === 'add') f.op(Op.i64_add);
  else if (op === 'sub' || op === 'cmp') f.op(Op.i64_sub);
  else if (op === 'and' || op === 'test') f.op(Op.i64_and);
  else if (op === 'or') f.op(Op.i64_or);
  else f.op(Op.i64_xor);
  if (size < 8) f.i64(SIZE_MASK_LO[size], 0).op(Op.i64_and);
  f.set(rr);
  if (op === 'add' || op === 'sub' || op === 'cmp') {
    e.pending = { kind: op === 'add' ? LAZY_ADD : LAZY_SUB, size, a: ra, b: rb, r: rr, eager: -1, mask: STATUS_FLAGS };
  } else e.pending = { kind: LAZY_RESULT, size, a: -1, b: -1, r: rr, eager: -1, mask: STATUS_FLAGS };
  if (writes) e.setRegOperand(size, d.r0, rr);
  return true;
}

/** The masked count of a shift or rotate of a 32- or 64-bit register by an immediate, or -1 (another form). */
function immediateCount(d: Insn): number {
  if (d.k0 !== OK_REG || d.k1 !== OK_IMM || (d.size !== 4 && d.size !== 8)) return -1;
  return d.immLo & (d.size === 8 ? 0x3f : 0x1f);
}

/**
 * ROL/ROR of a 32- or 64-bit register by an immediate, when later instructions of the block replace
 * CF and OF unseen (deadFlags.ts; ChaCha20 and BLAKE2s: ADD, XOR, rotate); otherwise the handler runs
 * it. A count of 0 changes nothing but a 32-bit destination's zero-extension.
 */
function rotate(e: Emitter, d: Insn): boolean {
  const n = immediateCount(d), f = e.f;
  if (n < 0) return false;
  if (n !== 0 && !flagsDeadAfter(e.insns, e.index, CF | OF)) return false;
  const left = d.mnemonic === Mnemonic.Rol, v = e.tmp(I64);
  f.get(e.reg(d.r0));
  if (n !== 0) {
    if (d.size === 8) f.i64(n, 0).op(left ? Op.i64_rotl : Op.i64_rotr);
    else f.op(Op.i32_wrap_i64).i32(n).op(left ? Op.i32_rotl : Op.i32_rotr).op(Op.i64_extend_i32_u);
  }
  f.set(v);
  e.setRegOperand(d.size, d.r0, v);
  return true;
}

/**
 * SHL/SHR/SAR of a 32- or 64-bit register by an immediate (exec/shift.ts shl, shr, sar): the result
 * gives ZF, SF and PF; CF is the last bit shifted out, OF as the interpreter sets it, AF 1.
 */
function shift(e: Emitter, d: Insn): boolean {
  const n = immediateCount(d), f = e.f, size = d.size;
  if (n < 0) return false;
  if (n === 0) { e.setRegOperand(size, d.r0, e.regOperand(size, d.r0)); return true; }
  const left = d.mnemonic === Mnemonic.Shl || d.mnemonic === Mnemonic.Sal, arith = d.mnemonic === Mnemonic.Sar;
  const a = e.regOperand(size, d.r0), rr = f.local(I64), ef = f.local(I32), cf = e.tmp(I32);
  const bits = size * 8;
  // The result, zero-extended.
  if (size === 8) f.get(a).i64(n, 0).op(left ? Op.i64_shl : arith ? Op.i64_shr_s : Op.i64_shr_u);
  else f.get(a).op(Op.i32_wrap_i64).i32(n).op(left ? Op.i32_shl : arith ? Op.i32_shr_s : Op.i32_shr_u).op(Op.i64_extend_i32_u);
  f.set(rr);
  // CF: bit (width - n) of the operand shifted left, bit (n - 1) shifted right (the sign for SAR past it).
  f.get(a).i64(left ? bits - n : n - 1, 0).op(Op.i64_shr_u).op(Op.i32_wrap_i64).i32(1).op(Op.i32_and).set(cf);
  f.get(cf);
  if (left) {
    // OF = the result's MSB ^ CF
    f.get(rr).i64(bits - 1, 0).op(Op.i64_shr_u).op(Op.i32_wrap_i64).i32(1).op(Op.i32_and).get(cf).op(Op.i32_xor);
    f.i32(11).op(Op.i32_shl).op(Op.i32_or);
  } else if (!arith && n === 1) {
    // SHR by 1: OF = the operand's MSB
    f.get(a).i64(bits - 1, 0).op(Op.i64_shr_u).op(Op.i32_wrap_i64).i32(1).op(Op.i32_and);
    f.i32(11).op(Op.i32_shl).op(Op.i32_or);
  }
  f.i32(AF).op(Op.i32_or).set(ef);
  e.pending = { kind: LAZY_RESULT, size, a: -1, b: -1, r: rr, eager: ef, mask: STATUS_FLAGS };
  e.setRegOperand(size, d.r0, rr);
  return true;
}

/**
 * IMUL r, r/m and IMUL r, r/m, imm (32- and 64-bit), when later instructions of the block replace
 * CF and OF unseen (deadFlags.ts; real Linux's 64x64 -> 128 multiplies by 32-bit halves): the low
 * half of the product. Otherwise the handler runs it.
 */
function imul(e: Emitter, d: Insn): boolean {
  const size = d.size, f = e.f;
  if (d.k0 !== OK_REG || (size !== 4 && size !== 8) || d.k1 !== OK_REG || (d.k2 !== 0 && d.k2 !== OK_IMM)) return false;
  if (d.s1 !== size || !flagsDeadAfter(e.insns, e.index, CF | OF)) return false;
  const p = e.tmp(I64);
  f.get(e.regOperand(size, d.r1));
  if (d.k2 === OK_IMM) f.i64(d.immLo, d.immHi);
  else f.get(e.regOperand(size, d.r0));
  f.op(Op.i64_mul);
  if (size === 4) f.i64(0xffffffff, 0).op(Op.i64_and);
  f.set(p);
  e.setRegOperand(size, d.r0, p);
  return true;
}

/** INC/DEC of a register: CF kept (exec/arith.ts inc, dec). */
function incDec(e: Emitter, d: Insn, kind: number): boolean {
  const size = d.size, f = e.f;
  if (d.k0 !== OK_REG || d.lock !== 0 || (size !== 1 && size !== 2 && size !== 4 && size !== 8)) return false;
  const ra = f.local(I64), rb = f.local(I64), rr = f.local(I64);
  f.get(e.regOperand(size, d.r0)).set(ra);
  f.i64(1, 0).set(rb);
  f.get(ra).get(rb).op(kind === LAZY_ADD ? Op.i64_add : Op.i64_sub);
  if (size < 8) f.i64(SIZE_MASK_LO[size], 0).op(Op.i64_and);
  f.set(rr);
  // The record before keeps CF: it goes to the state area first, and from there to the FlagState
  // before this one (flagsWriteBack).
  e.flagsWriteBack();
  e.pending = { kind, size, a: ra, b: rb, r: rr, eager: -1, mask: STATUS_FLAGS & ~CF };
  e.setRegOperand(size, d.r0, rr);
  return true;
}

/** MOV between registers, memory and immediates. */
function mov(e: Emitter, d: Insn): boolean {
  const size = d.size;
  if (size !== 1 && size !== 2 && size !== 4 && size !== 8) return false;
  if (d.k0 === OK_REG) {
    if (d.k1 !== OK_REG && d.k1 !== OK_IMM && d.k1 !== OK_MEM) return false;
    if (d.k1 === OK_MEM && (d.s1 !== size || d.eaFast === 0)) return false;
    if (d.k1 === OK_REG && d.s1 !== size) return false;
    const v = e.source(d)!;
    e.setRegOperand(size, d.r0, v);
    return true;
  }
  if (d.k0 === OK_MEM) {
    if ((d.k1 !== OK_REG && d.k1 !== OK_IMM) || d.msize !== size || d.eaFast === 0) return false;
    if (d.k1 === OK_REG && d.s1 !== size) return false;
    const v = e.source(d)!;
    e.store(size, e.address(d), v);
    return true;
  }
  return false;
}

/** MOVZX / MOVSX / MOVSXD r32/r64, r/m8/16/32. */
function movx(e: Emitter, d: Insn, signed: boolean): boolean {
  if (d.k0 !== OK_REG || (d.size !== 4 && d.size !== 8) || (d.s1 !== 1 && d.s1 !== 2 && d.s1 !== 4)) return false;
  if (!signed && d.s1 === 4) return false;
  if (d.k1 !== OK_REG && (d.k1 !== OK_MEM || d.eaFast === 0)) return false;
  const v = e.source(d)!, f = e.f;
  if (signed) {
    f.get(v).op(d.s1 === 1 ? Op.i64_extend8_s : d.s1 === 2 ? Op.i64_extend16_s : Op.i64_extend32_s).set(v);
  }
  e.setRegOperand(d.size, d.r0, v);
  return true;
}

/** LEA r32/r64 with 64-bit addressing (exec/dataMove.ts lea: the sum wraps, no canonical check). */
function lea(e: Emitter, d: Insn): boolean {
  if (d.k0 !== OK_REG || (d.size !== 4 && d.size !== 8) || d.asz !== 8) return false;
  e.setRegOperand(d.size, d.r0, e.address(d));
  return true;
}

/** PUSH r64: store first (a fault leaves RSP alone), then RSP -= 8. */
function push(e: Emitter, d: Insn): boolean {
  const f = e.f, v = e.tmp(I64), va = e.tmp(I64);
  f.get(e.reg(d.r0)).set(v);
  f.get(e.reg(4)).i64(8, 0).op(Op.i64_sub).set(va);
  e.store(8, va, v);
  f.get(va);
  e.setReg(4);
  return true;
}

/** POP r64: RSP += 8, then the destination (POP RSP loads the value). */
function pop(e: Emitter, d: Insn): boolean {
  const f = e.f;
  const v = e.load(8, e.reg(4));
  f.get(e.reg(4)).i64(8, 0).op(Op.i64_add);
  e.setReg(4);
  f.get(v);
  e.setReg(d.r0);
  return true;
}

/** CALL rel: target check, push the return address, jump. */
function call(e: Emitter, d: Insn): boolean {
  const f = e.f, t = e.tmp(I64), ra = e.tmp(I64), va = e.tmp(I64);
  f.get(e.rip0).i64(e.next + d.target, e.next + d.target < 0 ? -1 : 0).op(Op.i64_add).set(t);
  e.checkTarget(t);
  f.get(e.rip0).i64(e.next, 0).op(Op.i64_add).set(ra);
  f.get(e.reg(4)).i64(8, 0).op(Op.i64_sub).set(va);
  e.store(8, va, ra);
  f.get(va);
  e.setReg(4);
  f.get(t).set(e.nrip);
  return true;
}

/** RET (near, no immediate). */
function ret(e: Emitter): boolean {
  const f = e.f;
  const t = e.load(8, e.reg(4));
  e.checkTarget(t);
  f.get(e.reg(4)).i64(8, 0).op(Op.i64_add);
  e.setReg(4);
  f.get(t).set(e.nrip);
  return true;
}

function jmp(e: Emitter, d: Insn): boolean {
  const f = e.f, t = e.tmp(I64);
  f.get(e.rip0).i64(e.next + d.target, e.next + d.target < 0 ? -1 : 0).op(Op.i64_add).set(t);
  e.checkTarget(t);
  f.get(t).set(e.nrip);
  return true;
}

function jcc(e: Emitter, d: Insn): boolean {
  const f = e.f, t = e.tmp(I64);
  e.condition(d.cc);
  f.if_();
  f.get(e.rip0).i64(e.next + d.target, e.next + d.target < 0 ? -1 : 0).op(Op.i64_add).set(t);
  e.checkTarget(t);
  f.get(t).set(e.nrip);
  f.end();
  return true;
}

export interface WasmTranslation { fn: WasmFunction; inline: number; handlers: number; loop: boolean }

/** The module of one 64-bit block (see the file comment). */
export function translateWasm(insns: readonly Insn[], base: number): WasmTranslation {
  let off = 0;
  for (const d of insns) off += d.len;
  const lastInsn = insns[insns.length - 1];
  // A block whose last instruction (JMP or Jcc) branches to its own start: a loop. When no handler
  // can change registers behind its locals, its registers are loaded before the loop, so that
  // iterations keep them in locals (a first translation finds them).
  const selfLoop = lastInsn !== undefined && lastInsn.k0 === OK_BRANCH && off + lastInsn.target === 0 &&
    (lastInsn.form === FORM.jmpRel || lastInsn.form === FORM.jcc);
  if (!selfLoop) return emitBlock(insns, base, null);
  const plain = emitBlock(insns, base, null);
  return emitBlock(insns, base, plain.handlers === 0 ? plain.registers : []);
}

/** The block's function; with `loopRegisters`, as a loop with those registers loaded before it. */
function emitBlock(insns: readonly Insn[], base: number, loopRegisters: number[] | null): WasmTranslation & { registers: number[] } {
  const e = new Emitter(), f = e.f;
  e.base = base;
  e.insns = insns;
  let off = 0;
  for (const d of insns) off += d.len;
  const len = insns.length;
  const selfLoop = loopRegisters !== null;
  if (selfLoop) {
    for (const r of loopRegisters) e.reg(r);
    f.loop();
  }
  f.get(e.rip0).i64(off, 0).op(Op.i64_add).set(e.nrip);
  let inline = 0, lastStart = 0, lastInline = true;
  off = 0;
  for (let i = 0; i < insns.length; i++) {
    const d = insns[i];
    e.index = i; e.start = off; e.next = off + d.len; lastStart = off;
    off = e.next;
    const last = i === insns.length - 1;
    e.slow = false;
    const mark = f.code.length;
    const ok = emitInsn(e, d);
    e.endInsn();
    if (ok) {
      inline++;
      lastInline = true;
      if (e.slow && !last) {
        // A slow path may have set c.exit (a code write, a hook's stop): leave after this instruction.
        f.get(P_SB).mem(Op.i32_load, STATE_EXIT_FLAG).if_();
        f.get(e.rip0).i64(e.next, 0).op(Op.i64_add).set(e.nrip);
        e.exit(i + 1, e.start);
        f.end();
      }
      continue;
    }
    if (f.code.length !== mark) throw new Error(`wasm: inline form of instruction ${i} gave up half-way`);
    lastInline = false;
    e.sync();
    f.i32(base + i);
    e.position();
    f.call(IM_H);
    // A handler may retire more than one count (REP): icount is re-based on what it left.
    f.f64(i + 1).op(Op.f64_sub).set(P_IC);
    e.forgetAll();
    e.loadUser();
    if (last) { f.i32(EXIT_CURRENT).op(Op.return); break; }
    f.get(P_SB).mem(Op.i32_load, STATE_EXIT_FLAG).if_().i32(EXIT_CURRENT).op(Op.return).end();
  }
  if (selfLoop && lastInline) {
    // The next iteration here, when it branched back, fits in the budget and stays below the count
    // at which the run loop hands the block to the JS translator (wasmChain.ts); it is counted.
    const count = f.local(I32);
    slotCountAddress(f, P_SB, P_SLOT);
    f.set(count);
    f.get(e.nrip).get(e.rip0).op(Op.i64_eq);
    f.get(P_IC).f64(2 * len).op(Op.f64_add).get(P_LIMIT).op(Op.f64_le).op(Op.i32_and);
    f.get(count).mem(Op.i32_load, STATE_EXEC_COUNTS).get(count).mem(Op.i32_load, STATE_EXEC_LIMITS).op(Op.i32_lt_s).op(Op.i32_and);
    f.if_();
    // Registers: in memory as in their locals, which the loop's start takes as loaded. The flag
    // record: unless the loop's instructions replace every flag before any reads one or may fault.
    e.regWriteBack();
    if (!flagsDeadAfter(insns, -1, STATUS_FLAGS)) e.flagsWriteBack();
    f.get(count).get(count).mem(Op.i32_load, STATE_EXEC_COUNTS).i32(1).op(Op.i32_add).mem(Op.i32_store, STATE_EXEC_COUNTS);
    f.get(P_IC).f64(len).op(Op.f64_add).set(P_IC);
    f.br(1);
    f.end();
  }
  // (A last instruction run by its handler has returned already.)
  if (lastInline) e.exit(insns.length, lastStart);
  if (selfLoop) f.end().op(Op.unreachable);
  return { fn: f, inline, handlers: insns.length - inline, loop: selfLoop && lastInline, registers: e.registersUsed() };
}

/**
 * The module of translated blocks `fns`, which places them in the machine's function table from slot
 * `env.base` on (wasmChain.ts runs them from there).
 */
export function wasmModuleBytes(fns: readonly WasmFunction[]): Uint8Array {
  return buildModule({ functions: WASM_IMPORTS, memPages: 1, table: true }, fns);
}
