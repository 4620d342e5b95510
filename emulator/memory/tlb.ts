/**
 * Software TLB (blink `tlb`, v86 `tlb_data`): direct-mapped, indexed by the low bits of the virtual
 * page number, held in typed arrays. One fill records, for one virtual page, the physical page and
 * six permission tags (read/write/execute for supervisor and for user). A tag equals the virtual page
 * number when the access is allowed without a walk, NaN otherwise (NaN never compares equal), so the
 * hot path is one compare. Write tags are only set once the dirty bit is set and when the physical
 * page holds no decoded code, so such writes take the slow path (which sets D / invalidates code).
 */
import { TLB_ENTRIES, STATE_END, TLB_SUP_R, TLB_SUP_W, TLB_SUP_X, TLB_USR_R, TLB_USR_W, TLB_USR_X, TLB_VPAGE, TLB_PHYS } from './stateArea';

export const TLB_BITS = 10;
export const TLB_SIZE = TLB_ENTRIES;
if (TLB_SIZE !== 1 << TLB_BITS) throw new Error('TLB_ENTRIES must be 1 << TLB_BITS');
export const TLB_MASK = TLB_SIZE - 1;

export class Tlb {
  readonly supR: Float64Array;
  readonly supW: Float64Array;
  readonly supX: Float64Array;
  readonly usrR: Float64Array;
  readonly usrW: Float64Array;
  readonly usrX: Float64Array;
  /** Physical address of the page start, per index. */
  readonly phys: Uint32Array; // unsigned: RAM may reach 3.5 GiB
  /** Virtual page cached at each index (NaN if none), for flushPage and code-page write revocation. */
  readonly vpage: Float64Array;
  flushes = 0;

  /** The arrays live in `buffer` at the state area `base` (memory/stateArea.ts), or in their own buffer. */
  constructor(buffer: ArrayBuffer = new ArrayBuffer(STATE_END), base = 0) {
    const f64 = (at: number) => new Float64Array(buffer, base + at, TLB_SIZE).fill(NaN);
    this.supR = f64(TLB_SUP_R); this.supW = f64(TLB_SUP_W); this.supX = f64(TLB_SUP_X);
    this.usrR = f64(TLB_USR_R); this.usrW = f64(TLB_USR_W); this.usrX = f64(TLB_USR_X);
    this.vpage = f64(TLB_VPAGE);
    this.phys = new Uint32Array(buffer, base + TLB_PHYS, TLB_SIZE).fill(0);
  }

  flushAll(): void {
    this.supR.fill(NaN); this.supW.fill(NaN); this.supX.fill(NaN);
    this.usrR.fill(NaN); this.usrW.fill(NaN); this.usrX.fill(NaN);
    this.vpage.fill(NaN);
    this.flushes++;
  }

  flushPage(vp: number): void {
    const i = vp & TLB_MASK;
    if (this.vpage[i] === vp) {
      this.supR[i] = NaN; this.supW[i] = NaN; this.supX[i] = NaN;
      this.usrR[i] = NaN; this.usrW[i] = NaN; this.usrX[i] = NaN;
      this.vpage[i] = NaN;
    }
  }

  /** Drop write permission for every entry that maps physical page `pp` (it now holds code). */
  revokeWrites(pp: number): void {
    const base = pp * 4096;
    for (let i = 0; i < TLB_SIZE; i++) {
      if (this.phys[i] === base) { this.supW[i] = NaN; this.usrW[i] = NaN; }
    }
  }

  fill(vp: number, physPage: number, perms: number): void {
    const i = vp & TLB_MASK;
    this.vpage[i] = vp;
    this.phys[i] = physPage;
    this.supR[i] = perms & P_SR ? vp : NaN;
    this.supW[i] = perms & P_SW ? vp : NaN;
    this.supX[i] = perms & P_SX ? vp : NaN;
    this.usrR[i] = perms & P_UR ? vp : NaN;
    this.usrW[i] = perms & P_UW ? vp : NaN;
    this.usrX[i] = perms & P_UX ? vp : NaN;
  }
}

/** Permission bits computed by the page walk. */
export const P_SR = 1, P_SW = 2, P_SX = 4, P_UR = 8, P_UW = 16, P_UX = 32;
