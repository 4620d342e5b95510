/**
 * SSE/SSE2/SSE3 floating-point arithmetic on XMM registers: ADD SUB MUL DIV SQRT MIN MAX in the PS,
 * SS, PD and SD forms, ADDSUBPS/PD, HADDPS/PD, HSUBPS/PD (SSE3), RCPPS/SS and RSQRTPS/SS. Every lane
 * is computed before anything is written, so an unmasked exception leaves the destination unchanged.
 */
import type { Cpu } from '../cpu/cpu';
import type { Insn } from '../decode/insn';
import { sseAvailable, commitFlags } from './sse/mxcsr';
import { beginFp, fp } from './sse/softFloat';
import { lane32, lane64, out64, OP_ADD, OP_SUB, OP_MUL, OP_DIV, OP_MIN, OP_MAX, OP_SQRT, isNaN32 } from './sse/floatLanes';
import { src, dst, res, loadSource, loadDest, storeDest, requireXmmDest } from './sse/xmmOperands';

/** PS (4 lanes), SS (lane 0), PD (2 lanes), SD (lane 0). */
const PS = 0, SS = 1, PD = 2, SD = 3;

function arith(c: Cpu, d: Insn, op: number, form: number): void {
  sseAvailable(c);
  requireXmmDest(d);
  const packed = form === PS || form === PD;
  loadSource(c, d, form === SS ? 4 : form === SD ? 8 : 16, packed);
  loadDest(c, d);
  beginFp(c.mxcsr);
  res[0] = dst[0]; res[1] = dst[1]; res[2] = dst[2]; res[3] = dst[3];
  if (form === PS || form === SS) {
    const n = form === PS ? 4 : 1;
    for (let i = 0; i < n; i++) res[i] = lane32(op, dst[i], src[i]);
  } else {
    const n = form === PD ? 2 : 1;
    for (let i = 0; i < n; i++) {
      lane64(op, dst[2 * i], dst[2 * i + 1], src[2 * i], src[2 * i + 1]);
      res[2 * i] = out64.lo; res[2 * i + 1] = out64.hi;
    }
  }
  commitFlags(c, fp.pre, fp.post);
  storeDest(c, d, res);
}

export const addps = (c: Cpu, d: Insn): void => arith(c, d, OP_ADD, PS);
export const addss = (c: Cpu, d: Insn): void => arith(c, d, OP_ADD, SS);
export const addpd = (c: Cpu, d: Insn): void => arith(c, d, OP_ADD, PD);
export const addsd = (c: Cpu, d: Insn): void => arith(c, d, OP_ADD, SD);
export const subps = (c: Cpu, d: Insn): void => arith(c, d, OP_SUB, PS);
export const subss = (c: Cpu, d: Insn): void => arith(c, d, OP_SUB, SS);
export const subpd = (c: Cpu, d: Insn): void => arith(c, d, OP_SUB, PD);
export const subsd = (c: Cpu, d: Insn): void => arith(c, d, OP_SUB, SD);
export const mulps = (c: Cpu, d: Insn): void => arith(c, d, OP_MUL, PS);
export const mulss = (c: Cpu, d: Insn): void => arith(c, d, OP_MUL, SS);
export const mulpd = (c: Cpu, d: Insn): void => arith(c, d, OP_MUL, PD);
export const mulsd = (c: Cpu, d: Insn): void => arith(c, d, OP_MUL, SD);
export const divps = (c: Cpu, d: Insn): void => arith(c, d, OP_DIV, PS);
export const divss = (c: Cpu, d: Insn): void => arith(c, d, OP_DIV, SS);
export const divpd = (c: Cpu, d: Insn): void => arith(c, d, OP_DIV, PD);
export const divsd = (c: Cpu, d: Insn): void => arith(c, d, OP_DIV, SD);
export const minps = (c: Cpu, d: Insn): void => arith(c, d, OP_MIN, PS);
export const minss = (c: Cpu, d: Insn): void => arith(c, d, OP_MIN, SS);
export const minpd = (c: Cpu, d: Insn): void => arith(c, d, OP_MIN, PD);
export const minsd = (c: Cpu, d: Insn): void => arith(c, d, OP_MIN, SD);
export const maxps = (c: Cpu, d: Insn): void => arith(c, d, OP_MAX, PS);
export const maxss = (c: Cpu, d: Insn): void => arith(c, d, OP_MAX, SS);
export const maxpd = (c: Cpu, d: Insn): void => arith(c, d, OP_MAX, PD);
export const maxsd = (c: Cpu, d: Insn): void => arith(c, d, OP_MAX, SD);
export const sqrtps = (c: Cpu, d: Insn): void => arith(c, d, OP_SQRT, PS);
export const sqrtss = (c: Cpu, d: Insn): void => arith(c, d, OP_SQRT, SS);
export const sqrtpd = (c: Cpu, d: Insn): void => arith(c, d, OP_SQRT, PD);
export const sqrtsd = (c: Cpu, d: Insn): void => arith(c, d, OP_SQRT, SD);

/**
 * SSE3 lane pairings. ADDSUB: even lanes subtract, odd lanes add (dest op src). HADD/HSUB: the low
 * half of the result combines adjacent dest lanes, the high half adjacent source lanes.
 */
function horizontal(c: Cpu, d: Insn, kind: 'addsub' | 'hadd' | 'hsub', double: boolean): void {
  sseAvailable(c);
  requireXmmDest(d);
  loadSource(c, d, 16, true);
  loadDest(c, d);
  beginFp(c.mxcsr);
  if (!double) {
    if (kind === 'addsub') {
      for (let i = 0; i < 4; i++) res[i] = lane32(i % 2 === 0 ? OP_SUB : OP_ADD, dst[i], src[i]);
    } else {
      const op = kind === 'hadd' ? OP_ADD : OP_SUB;
      res[0] = lane32(op, dst[0], dst[1]); res[1] = lane32(op, dst[2], dst[3]);
      res[2] = lane32(op, src[0], src[1]); res[3] = lane32(op, src[2], src[3]);
    }
  } else if (kind === 'addsub') {
    lane64(OP_SUB, dst[0], dst[1], src[0], src[1]); res[0] = out64.lo; res[1] = out64.hi;
    lane64(OP_ADD, dst[2], dst[3], src[2], src[3]); res[2] = out64.lo; res[3] = out64.hi;
  } else {
    const op = kind === 'hadd' ? OP_ADD : OP_SUB;
    lane64(op, dst[0], dst[1], dst[2], dst[3]); res[0] = out64.lo; res[1] = out64.hi;
    lane64(op, src[0], src[1], src[2], src[3]); res[2] = out64.lo; res[3] = out64.hi;
  }
  commitFlags(c, fp.pre, fp.post);
  storeDest(c, d, res);
}
export const addsubps = (c: Cpu, d: Insn): void => horizontal(c, d, 'addsub', false);
export const addsubpd = (c: Cpu, d: Insn): void => horizontal(c, d, 'addsub', true);
export const haddps = (c: Cpu, d: Insn): void => horizontal(c, d, 'hadd', false);
export const haddpd = (c: Cpu, d: Insn): void => horizontal(c, d, 'hadd', true);
export const hsubps = (c: Cpu, d: Insn): void => horizontal(c, d, 'hsub', false);
export const hsubpd = (c: Cpu, d: Insn): void => horizontal(c, d, 'hsub', true);

const f32 = new Float32Array(1);
const b32 = new Uint32Array(f32.buffer);

/**
 * RCP and RSQRT approximations. The SDM only bounds their error (|relative error| <= 1.5 * 2^-12) and
 * every CPU family has its own table; like QEMU, this computes the correctly rounded binary32 of the
 * exact 1/x and 1/sqrt(x), which is within the bound but differs from hardware in the low bits. They
 * raise no MXCSR flags; denormal inputs count as zeros (giving infinities) and results below the
 * normal range are flushed to zero, as on hardware.
 */
function approximate(x: number, rsqrt: boolean): number {
  if (isNaN32(x)) return (x | 0x400000) >>> 0;
  const neg = (x & 0x80000000) !== 0;
  if ((x & 0x7f800000) === 0) return neg ? 0xff800000 : 0x7f800000; // ±0 and denormals
  if (rsqrt && neg) return 0xffc00000;
  b32[0] = x;
  const v = f32[0];
  const r = rsqrt ? 1 / Math.sqrt(v) : 1 / v;
  f32[0] = r;
  if ((b32[0] & 0x7f800000) === 0) return neg ? 0x80000000 : 0; // below the normal range
  return b32[0];
}
function recip(c: Cpu, d: Insn, rsqrt: boolean, scalar: boolean): void {
  sseAvailable(c);
  requireXmmDest(d);
  loadSource(c, d, scalar ? 4 : 16, !scalar);
  loadDest(c, d);
  res[0] = dst[0]; res[1] = dst[1]; res[2] = dst[2]; res[3] = dst[3];
  for (let i = 0; i < (scalar ? 1 : 4); i++) res[i] = approximate(src[i], rsqrt);
  storeDest(c, d, res);
}
export const rcpps = (c: Cpu, d: Insn): void => recip(c, d, false, false);
export const rcpss = (c: Cpu, d: Insn): void => recip(c, d, false, true);
export const rsqrtps = (c: Cpu, d: Insn): void => recip(c, d, true, false);
export const rsqrtss = (c: Cpu, d: Insn): void => recip(c, d, true, true);
