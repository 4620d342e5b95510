/**
 * Inline semantics of the hot instruction forms, as JS source (64-bit code only). Each emitter
 * returns false when it does not cover the instruction; the translator then calls the interpreter's
 * handler. The semantics are the interpreter's (exec/arith.ts, logic.ts, shift.ts, dataMove.ts,
 * stack.ts, control.ts), including which flag record they leave and the order in which a fault can
 * interrupt them (memory first, registers after), so a translated block and the interpreter agree
 * on every bit of state.
 */
import { Mnemonic } from 'iced-x86';
import { OK_REG, OK_MEM, OK_IMM, OK_BRANCH } from '../decode/insn';
import { LAZY_ADD, LAZY_SUB, LAZY_RESULT, AF, CF, OF, ZF, SF, STATUS_FLAGS } from '../cpu/flags';
import { FORM } from '../exec/table';
import { effectiveAddress, load, store, InsnSite } from './memoryAccess';
import { SIZE_MASK } from '../exec/aluResult';

const SIGN: readonly number[] = [0, 0x80, 0x8000, 0, 0x80000000 | 0, 0, 0, 0, 0x80000000 | 0];

/** Read a register operand of `size` bytes (r: byte offset for size 1, else GPR). */
export function regOperand(s: InsnSite, size: number, r: number): [string, string] {
  if (size === 1) {
    const [l] = s.st.reg(r >> 3);
    return [(r & 1) !== 0 ? `((${l} >>> 8) & 0xff)` : `(${l} & 0xff)`, '0'];
  }
  const [l, h] = s.st.reg(r);
  if (size === 2) return [`(${l} & 0xffff)`, '0'];
  if (size === 4) return [l, '0'];
  return [l, h];
}

/** Write a register operand with the architecture's rules (32-bit writes clear the high half). */
export function setRegOperand(s: InsnSite, size: number, r: number, lo: string, hi: string): void {
  const st0 = s.st;
  if (size === 1) {
    const g = r >> 3, [l, h] = st0.reg(g);
    const v = s.st.tmp('b');
    s.out.push(`const ${v} = ${lo};`);
    if ((r & 1) !== 0) st0.setReg(g, `(${l} & ~0xff00) | ((${v} & 0xff) << 8)`, h);
    else st0.setReg(g, `(${l} & ~0xff) | (${v} & 0xff)`, h);
    return;
  }
  if (size === 2) {
    const [l, h] = st0.reg(r);
    const v = s.st.tmp('w');
    s.out.push(`const ${v} = ${lo};`);
    st0.setReg(r, `(${l} & ~0xffff) | (${v} & 0xffff)`, h);
    return;
  }
  if (size === 4) { st0.setReg(r, `${lo} | 0`, '0'); return; }
  st0.setReg(r, `${lo} | 0`, `${hi} | 0`);
}

/** Operand 1 at its own size (register, immediate or memory), as int32 locals/expressions. */
export function source(s: InsnSite): [string, string] | null {
  const d = s.d;
  if (d.k1 === OK_REG) return regOperand(s, d.s1, d.r1);
  if (d.k1 === OK_IMM) return [`${d.immLo | 0}`, `${d.immHi | 0}`];
  if (d.k1 === OK_MEM) {
    if (d.s1 !== 1 && d.s1 !== 2 && d.s1 !== 4 && d.s1 !== 8) return null;
    return load(s, d.s1, effectiveAddress(s));
  }
  return null;
}

/** Copy expressions into fresh consts (a record must not see later changes of a register local). */
export function fix(s: InsnSite, e: [string, string]): [string, string] {
  const l = s.st.tmp('x'), h = s.st.tmp('y');
  s.out.push(`const ${l} = ${e[0]} | 0, ${h} = ${e[1]} | 0;`);
  return [l, h];
}

const ARITH = new Map<number, string>([[Mnemonic.Add, 'add'], [Mnemonic.Sub, 'sub'], [Mnemonic.Cmp, 'cmp'],
  [Mnemonic.And, 'and'], [Mnemonic.Or, 'or'], [Mnemonic.Xor, 'xor'], [Mnemonic.Test, 'test'],
  [Mnemonic.Adc, 'adc'], [Mnemonic.Sbb, 'sbb']]);

/**
 * CF as a 0/1 expression (exec/arith.ts adc/sbb read `f.carry()`): from the pending record when its
 * kind is known here (FlagState.cfLazy's rules), else from the FlagState.
 */
function carryIn(s: InsnSite): string {
  const f = s.st.flags;
  if (f === null) {
    s.out.push(s.st.flagsWriteBack()); // nothing to write; notes that the entry flags are read
    return 'fl.carry()';
  }
  // INC/DEC keep CF: the FlagState still holds the record it comes from (see CodeState.flagsWriteBack).
  if (f.cfKept === true) return 'fl.carry()';
  const cin = f.cin ?? '0';
  const u = (x: string): string => `(${x} >>> 0)`;
  if (f.kind === LAZY_ADD) {
    const lt = f.size === 8 ? `(${u(f.rHi)} !== ${u(f.aHi)} ? ${u(f.rHi)} < ${u(f.aHi)} : ${u(f.rLo)} < ${u(f.aLo)})` : `${u(f.rLo)} < ${u(f.aLo)}`;
    return cin === '0' ? `(${lt} ? 1 : 0)` : `(${lt} || (${cin} !== 0 && ${f.rLo} === ${f.aLo} && ${f.rHi} === ${f.aHi}) ? 1 : 0)`;
  }
  if (f.kind === LAZY_SUB) {
    const lt = f.size === 8 ? `(${u(f.aHi)} !== ${u(f.bHi)} ? ${u(f.aHi)} < ${u(f.bHi)} : ${u(f.aLo)} < ${u(f.bLo)})` : `${u(f.aLo)} < ${u(f.bLo)}`;
    return cin === '0' ? `(${lt} ? 1 : 0)` : `(${lt} || (${cin} !== 0 && ${f.aLo} === ${f.bLo} && ${f.aHi} === ${f.bHi}) ? 1 : 0)`;
  }
  return f.eager === '0' ? '0' : `((${f.eager}) & 1)`;
}

/** ADD ADC SUB SBB CMP AND OR XOR TEST with a register destination, or CMP/TEST with a memory operand 0. */
function alu(s: InsnSite, op: string): boolean {
  const d = s.d, size = d.size;
  if (d.lock !== 0 || d.k2 !== 0 || (size !== 1 && size !== 2 && size !== 4 && size !== 8)) return false;
  const writes = op !== 'cmp' && op !== 'test';
  if (d.k1 !== OK_REG && d.k1 !== OK_IMM && d.k1 !== OK_MEM) return false;
  if (d.k1 === OK_MEM && d.s1 !== size) return false;
  let a: [string, string];
  if (d.k0 === OK_REG) {
    if (d.k1 === OK_MEM) {
      // Memory source read first (it may fault), then the register.
      const b = source(s);
      if (b === null) return false;
      a = fix(s, regOperand(s, size, d.r0));
      aluCore(s, op, a, fix(s, b), writes);
      return true;
    }
    a = fix(s, regOperand(s, size, d.r0));
  } else if (d.k0 === OK_MEM && !writes && d.k1 !== OK_MEM) {
    if (d.msize !== size) return false;
    a = load(s, size, effectiveAddress(s));
  } else return false;
  const b = source(s);
  if (b === null) return false;
  aluCore(s, op, a, fix(s, b), writes);
  return true;
}

/**
 * The operation `op` on int32 operand expressions at d.size: the result as locals [lo, hi], its flag
 * record made the pending one; `writes`: the result goes to the register operand 0.
 */
export function aluCore(s: InsnSite, op: string, a: [string, string], b: [string, string], writes: boolean): [string, string] {
  const d = s.d, size = d.size, st0 = s.st, out = s.out;
  const rl = st0.tmp('rl'), rh = st0.tmp('rh');
  const m = SIZE_MASK[size] | 0;
  let al = a[0], ah = a[1], bl = b[0], bh = b[1];
  if (size < 8) {
    const ml = st0.tmp('al'), nl = st0.tmp('bl');
    out.push(`const ${ml} = ${al} & ${m}, ${nl} = ${bl} & ${m};`);
    al = ml; bl = nl; ah = '0'; bh = '0';
  }
  if (op === 'add' || op === 'sub' || op === 'cmp' || op === 'adc' || op === 'sbb') {
    const add = op === 'add' || op === 'adc';
    const withCarry = op === 'adc' || op === 'sbb';
    let ci = '';
    if (withCarry) {
      const c = st0.tmp('ci');
      out.push(`const ${c} = ${carryIn(s)};`);
      ci = c;
    }
    const o = add ? '+' : '-';
    const plusCin = withCarry ? ` ${o} ${ci}` : '';
    if (size === 8) {
      const lo = st0.tmp('s');
      out.push(`const ${lo} = (${al} >>> 0) ${o} (${bl} >>> 0)${plusCin};`);
      out.push(`const ${rl} = ${lo} | 0, ${rh} = ((${ah} >>> 0) ${o} (${bh} >>> 0) ${add ? `+ (${lo} > 0xffffffff ? 1 : 0)` : `- (${lo} < 0 ? 1 : 0)`}) | 0;`);
    } else {
      out.push(`const ${rl} = ((${al} ${o} ${bl}${plusCin}) & ${m}) | 0, ${rh} = 0;`);
    }
    st0.flags = { kind: add ? LAZY_ADD : LAZY_SUB, size, aLo: al, aHi: ah, bLo: bl, bHi: bh, rLo: rl, rHi: rh, eager: '0' };
    if (withCarry) st0.flags.cin = ci;
  } else {
    const o = op === 'or' ? '|' : op === 'xor' ? '^' : '&';
    out.push(`const ${rl} = ${al} ${o} ${bl}, ${rh} = ${size === 8 ? `${ah} ${o} ${bh}` : '0'};`);
    st0.flags = { kind: LAZY_RESULT, size, aLo: '0', aHi: '0', bLo: '0', bHi: '0', rLo: rl, rHi: rh, eager: '0' };
  }
  if (writes) setRegOperand(s, size, d.r0, rl, rh);
  return [rl, rh];
}

/** MOV between registers, memory and immediates (no segment/control registers). */
function mov(s: InsnSite): boolean {
  const d = s.d, size = d.size;
  if (d.k0 === OK_REG) {
    if (d.k1 !== OK_REG && d.k1 !== OK_IMM && d.k1 !== OK_MEM) return false;
    if (d.k1 === OK_MEM && d.s1 !== size) return false;
    const v = source(s);
    if (v === null) return false;
    setRegOperand(s, size, d.r0, v[0], v[1]);
    return true;
  }
  if (d.k0 === OK_MEM) {
    if (d.k1 !== OK_REG && d.k1 !== OK_IMM) return false;
    if (d.msize !== size) return false;
    const v = fix(s, source(s)!);
    const va = effectiveAddress(s);
    store(s, size, va, v[0], v[1]);
    return true;
  }
  return false;
}

/** MOVZX r32/r64, r/m8 or r/m16 (a 16-bit destination goes to the interpreter). */
function movzx(s: InsnSite): boolean {
  const d = s.d;
  if ((d.size !== 4 && d.size !== 8) || (d.s1 !== 1 && d.s1 !== 2)) return false;
  const v = source(s);
  if (v === null) return false;
  setRegOperand(s, 4, d.r0, v[0], '0');
  return true;
}

/** LEA r32/r64 (exec/dataMove.ts lea). */
function lea(s: InsnSite): boolean {
  const d = s.d, st0 = s.st, out = s.out;
  if (d.size !== 4 && d.size !== 8) return false;
  const lo = st0.tmp('ll'), hi = st0.tmp('lh');
  if (d.ripRel !== 0) {
    const v = st0.tmp('lv');
    out.push(`const ${v} = (rip0 + ${s.next}) + ${d.disp}; let ${lo} = ${v} | 0, ${hi} = Math.floor(${v} / 4294967296) | 0;`);
  } else {
    let el = `${d.dispLo}`, eh = `${d.dispHi}`;
    if (d.base >= 0) { const [l, h] = st0.reg(d.base); el += ` + (${l} >>> 0)`; eh += ` + (${h} >>> 0)`; }
    if (d.index >= 0) { const [l, h] = st0.reg(d.index); el += ` + (${l} >>> 0) * ${d.scale}`; eh += ` + (${h} >>> 0) * ${d.scale}`; }
    const t = st0.tmp('lt');
    out.push(`const ${t} = ${el}; let ${lo} = ${t} | 0, ${hi} = (${eh} + Math.floor(${t} / 4294967296)) | 0;`);
    if (d.asz === 4) out.push(`${hi} = 0;`);
  }
  setRegOperand(s, d.size, d.r0, lo, hi);
  return true;
}

/** SHL/SHR/SAR with an immediate count on a 32- or 64-bit register (exec/shift.ts shl, shr, sar). */
function shiftImm(s: InsnSite, left: boolean, arith = false): boolean {
  const d = s.d, size = d.size, st0 = s.st, out = s.out;
  if (d.k0 !== OK_REG || d.k1 !== OK_IMM || (size !== 4 && size !== 8)) return false;
  const n = d.immLo & (size === 8 ? 0x3f : 0x1f);
  const [l, h] = st0.reg(d.r0);
  if (n === 0) { if (size === 4) st0.setReg(d.r0, l, '0'); return true; }
  const rl = st0.tmp('rl'), rh = st0.tmp('rh'), ef = st0.tmp('ef');
  let cf: string, of: string;
  if (arith) {
    // SAR: the vacated bits take the sign; OF = 0.
    if (size === 4) {
      out.push(`const ${rl} = ${l} >> ${n}, ${rh} = 0;`);
      cf = `((${l} >> ${n - 1}) & 1)`;
    } else {
      if (n < 32) out.push(`const ${rl} = (${l} >>> ${n}) | (${h} << ${32 - n}), ${rh} = ${h} >> ${n};`);
      else out.push(`const ${rl} = ${h} >> ${n - 32}, ${rh} = ${h} >> 31;`);
      const i = n - 1;
      cf = i < 32 ? `((${l} >>> ${i}) & 1)` : `((${h} >>> ${i - 32}) & 1)`;
    }
    of = '0';
  } else if (size === 4) {
    if (left) {
      out.push(`const ${rl} = ${l} << ${n}, ${rh} = 0;`);
      cf = `((${l} >>> ${32 - n}) & 1)`;
      of = `((${rl} >>> 31) ^ ${cf})`;
    } else {
      out.push(`const ${rl} = (${l} >>> ${n}) | 0, ${rh} = 0;`);
      cf = `((${l} >>> ${n - 1}) & 1)`;
      of = n === 1 ? `(${l} >>> 31)` : '0';
    }
  } else if (left) {
    if (n < 32) out.push(`const ${rl} = ${l} << ${n}, ${rh} = (${h} << ${n}) | (${l} >>> ${32 - n});`);
    else out.push(`const ${rl} = 0, ${rh} = ${l} << ${n - 32};`);
    const i = 64 - n; // the last bit shifted out
    cf = i < 32 ? `((${l} >>> ${i}) & 1)` : `((${h} >>> ${i - 32}) & 1)`;
    of = `((${rh} >>> 31) ^ ${cf})`;
  } else {
    if (n < 32) out.push(`const ${rl} = (${l} >>> ${n}) | (${h} << ${32 - n}), ${rh} = (${h} >>> ${n}) | 0;`);
    else out.push(`const ${rl} = (${h} >>> ${n - 32}) | 0, ${rh} = 0;`);
    const i = n - 1;
    cf = i < 32 ? `((${l} >>> ${i}) & 1)` : `((${h} >>> ${i - 32}) & 1)`;
    of = n === 1 ? `(${h} >>> 31)` : '0';
  }
  out.push(`const ${ef} = ${cf} | (${of} << 11) | ${AF};`);
  st0.flags = { kind: LAZY_RESULT, size, aLo: '0', aHi: '0', bLo: '0', bHi: '0', rLo: rl, rHi: rh, eager: ef };
  // A 32-bit result, or SHR by 32 or more: the high half is 0 (codeState highZero).
  const highZero = size === 4 || (!left && !arith && n >= 32);
  st0.setReg(d.r0, rl, highZero ? '0' : rh);
  return true;
}

/** PUSH r64: store first (a fault leaves RSP alone), then RSP -= 8 (cpu.ts push64). */
function push(s: InsnSite): boolean {
  const st0 = s.st, out = s.out;
  const v = fix(s, st0.reg(s.d.r0));
  const [sl, sh] = st0.reg(4);
  const va = st0.tmp('va');
  out.push(`const ${va} = ${sh} * 4294967296 + (${sl} >>> 0) - 8;`);
  store(s, 8, va, v[0], v[1]);
  st0.setReg(4, `${sl} - 8 | 0`, `(${sl} >>> 0) < 8 ? ${sh} - 1 | 0 : ${sh}`);
  return true;
}

/** POP r64 (cpu.ts pop64): RSP += 8 first, then the destination (so POP RSP loads the value). */
function pop(s: InsnSite): boolean {
  const st0 = s.st, out = s.out;
  const [sl, sh] = st0.reg(4);
  const va = st0.tmp('va');
  out.push(`const ${va} = ${sh} * 4294967296 + (${sl} >>> 0);`);
  const v = load(s, 8, va);
  const nl = st0.tmp('nl');
  out.push(`const ${nl} = (${sl} >>> 0) + 8;`);
  st0.setReg(4, `${nl} | 0`, `${nl} > 0xffffffff ? ${sh} + 1 | 0 : ${sh}`);
  st0.setReg(s.d.r0, v[0], v[1]);
  return true;
}

/** Canonical check of a branch target local, #GP at this instruction otherwise (control.ts relTarget). */
function checkTarget(s: InsnSite, t: string): void {
  s.out.push(`if (!(${t} >= -0x800000000000 && ${t} < 0x800000000000)) { ${s.st.syncAt(s.index, s.start, s.next)}throw new GuestFault(${13}, 0); }`);
}

/**
 * Ground truth (truth/callStacks.ts, exec/table.ts callRelTruth/retTruth): the observer runs right after
 * the CALL or RET, with the CPU object as the truth handler leaves it (registers written back, RIP at
 * the target, the instruction not yet counted).
 */
function observe(s: InsnSite, target: string, event: string): void {
  s.out.push(`${s.st.writeBackAll()}at(c, rip0 + ${s.start}, ${target}, ic0 + ${s.index}); c.truth.${event};`);
}

/** CALL rel (control.ts callRel): target check, push the return address, jump. Sets `nrip`. */
function call(s: InsnSite, truth: boolean): boolean {
  const st0 = s.st, out = s.out;
  const t = st0.tmp('ct');
  out.push(`const ${t} = (rip0 + ${s.next}) + ${s.d.target};`);
  checkTarget(s, t);
  const r = st0.tmp('ra');
  out.push(`const ${r} = rip0 + ${s.next};`);
  const [sl, sh] = st0.reg(4);
  const va = st0.tmp('va');
  out.push(`const ${va} = ${sh} * 4294967296 + (${sl} >>> 0) - 8;`);
  store(s, 8, va, `(${r} >>> 0)`, `(Math.floor(${r} / 4294967296) >>> 0)`);
  st0.setReg(4, `${sl} - 8 | 0`, `(${sl} >>> 0) < 8 ? ${sh} - 1 | 0 : ${sh}`);
  out.push(`nrip = ${t};`);
  if (truth) observe(s, t, `onCall(rip0 + ${s.start}, ${t})`);
  return true;
}

/** RET (near, no immediate, 64-bit stack) (control.ts ret). Sets `nrip`. */
function ret(s: InsnSite, truth: boolean): boolean {
  const st0 = s.st, out = s.out;
  const [sl, sh] = st0.reg(4);
  const va = st0.tmp('va');
  out.push(`const ${va} = ${sh} * 4294967296 + (${sl} >>> 0);`);
  const v = load(s, 8, va);
  const t = st0.tmp('rt');
  out.push(`const ${t} = ${v[1]} * 4294967296 + (${v[0]} >>> 0);`);
  checkTarget(s, t);
  const nl = st0.tmp('nl');
  out.push(`const ${nl} = (${sl} >>> 0) + 8;`);
  st0.setReg(4, `${nl} | 0`, `${nl} > 0xffffffff ? ${sh} + 1 | 0 : ${sh}`);
  out.push(`nrip = ${t};`);
  if (truth) observe(s, t, 'onRet()');
  return true;
}

/** JMP rel. Sets `nrip`. */
function jmp(s: InsnSite): boolean {
  const t = s.st.tmp('jt');
  s.out.push(`const ${t} = (rip0 + ${s.next}) + ${s.d.target};`);
  checkTarget(s, t);
  s.out.push(`nrip = ${t};`);
  return true;
}

/** A condition on the pending flag record, or on the FlagState when the record is not known here. */
export function condition(s: InsnSite, cc: number): string {
  const f = s.st.flags;
  const neg = (cc & 1) !== 0;
  const t = cc >> 1;
  let e: string | null = null;
  if (f !== null) {
    const zero = `((${f.rLo} | ${f.rHi}) === 0)`;
    const sign = `((${f.size === 8 ? f.rHi : f.rLo} & ${SIGN[f.size]}) !== 0)`;
    if (t === 2) e = zero;
    else if (t === 4) e = sign;
    else if (f.kind === LAZY_SUB && (f.cin ?? '0') === '0' && !(f.cfKept === true && (t === 1 || t === 3))) {
      const ult = f.size === 8
        ? `((${f.aHi} >>> 0) !== (${f.bHi} >>> 0) ? (${f.aHi} >>> 0) < (${f.bHi} >>> 0) : (${f.aLo} >>> 0) < (${f.bLo} >>> 0))`
        : `((${f.aLo} >>> 0) < (${f.bLo} >>> 0))`;
      const sh = f.size === 4 ? 0 : f.size === 2 ? 16 : 24;
      const slt = f.size === 8
        ? `((${f.aHi} | 0) !== (${f.bHi} | 0) ? (${f.aHi} | 0) < (${f.bHi} | 0) : (${f.aLo} >>> 0) < (${f.bLo} >>> 0))`
        : `((${f.aLo} << ${sh}) >> ${sh} < (${f.bLo} << ${sh}) >> ${sh})`;
      if (t === 1) e = ult;
      else if (t === 3) e = `(${ult} || ${zero})`;
      else if (t === 6) e = slt;
      else if (t === 7) e = `(${slt} || ${zero})`;
    } else if (f.kind === LAZY_RESULT && f.eager === '0') {
      // logic ops: CF = OF = 0
      if (t === 0 || t === 1) e = 'false';
      else if (t === 3) e = zero;
      else if (t === 6) e = sign;
      else if (t === 7) e = `(${zero} || ${sign})`;
    }
  }
  if (e === null) {
    // Anything else (parity, overflow of an add, ...): let the FlagState decide.
    s.out.push(s.st.flagsWriteBack());
    s.st.flags = null;
    return `fl.cond(${cc})`;
  }
  return neg ? `!${e}` : e;
}

/** Jcc rel. Sets `nrip`. */
function jcc(s: InsnSite): boolean {
  const c = condition(s, s.d.cc);
  const t = s.st.tmp('jt');
  s.out.push(`if (${c}) { const ${t} = (rip0 + ${s.next}) + ${s.d.target};`);
  checkTarget(s, t);
  s.out.push(`nrip = ${t}; }`);
  return true;
}

/** Emit the inline form of s.d; false when the interpreter's handler must run it. */
export function emitInline(s: InsnSite): boolean {
  const d = s.d;
  if (d.bits !== 64) return false;
  const m = d.mnemonic;
  const op = ARITH.get(m);
  if (op !== undefined) return alu(s, op);
  if (d.form === FORM.jcc) return d.k0 === OK_BRANCH && d.cc >= 0 && jcc(s);
  switch (m) {
    case Mnemonic.Mov: return mov(s);
    case Mnemonic.Movzx: return d.k0 === OK_REG && movzx(s);
    case Mnemonic.Lea: return d.k0 === OK_REG && lea(s);
    case Mnemonic.Shl: case Mnemonic.Sal: return shiftImm(s, true);
    case Mnemonic.Shr: return shiftImm(s, false);
    case Mnemonic.Sar: return shiftImm(s, false, true);
    case Mnemonic.Nop: return d.form === FORM.nop;
    default: break;
  }
  if (d.form === FORM.pushR64 && d.k0 === OK_REG && d.ssz === 8) return push(s);
  if (d.form === FORM.popR64 && d.k0 === OK_REG && d.ssz === 8) return pop(s);
  if ((d.form === FORM.callRel || d.form === FORM.callRelTruth) && d.k0 === OK_BRANCH && d.ssz === 8) {
    return call(s, d.form === FORM.callRelTruth);
  }
  if ((d.form === FORM.ret || d.form === FORM.retTruth) && d.k0 === 0 && d.ssz === 8) return ret(s, d.form === FORM.retTruth);
  if (d.form === FORM.jmpRel && d.k0 === OK_BRANCH) return jmp(s);
  return false;
}

export { CF, OF, ZF, SF, STATUS_FLAGS };
