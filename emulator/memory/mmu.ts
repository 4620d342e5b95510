/**
 * Virtual memory access: the hot paths (one TLB tag compare, then a typed-array access into RAM) and
 * the slow path (page walk, TLB fill, page-crossing accesses, memory hooks, writes to code pages).
 * Virtual addresses are signed canonical numbers (see EMULATOR-CONTRACT.md); 64-bit values travel as
 * lo (return value) and hi (`mmu.hi`).
 */
import { PhysicalMemory } from './physicalMemory';
import { STATE_USER } from './stateArea';
import { Tlb, TLB_MASK, P_SW, P_UW } from './tlb';
import { pageWalk, PagingRegs, WalkResult, ACCESS_READ, ACCESS_WRITE, ACCESS_EXEC } from './pageWalk';

/** Called for every guest data access while memory hooks are installed (slow path only). */
export type MemAccessHook = (va: number, size: number, write: boolean, lo: number, hi: number) => void;

export class Mmu {
  readonly tlb: Tlb;
  private readonly stateUser: Int32Array;
  readonly u8: Uint8Array;
  readonly dv: DataView;
  /** Current-privilege tag arrays (swapped on CPL change). */
  tagR: Float64Array;
  tagW: Float64Array;
  tagX: Float64Array;
  readonly phys: Uint32Array;
  user = false;
  /** High half of the last 64-bit read. */
  hi = 0;
  /** When set, the TLB is never filled, so every access reaches the slow path and the hook. */
  memHook: MemAccessHook | null = null;
  private readonly walkOut = new WalkResult();
  walks = 0;

  constructor(readonly mem: PhysicalMemory, readonly regs: PagingRegs) {
    this.tlb = new Tlb(mem.buffer, mem.stateBase);
    this.stateUser = new Int32Array(mem.buffer, mem.stateBase + STATE_USER, 1);
    this.u8 = mem.u8;
    this.dv = mem.dv;
    this.phys = this.tlb.phys;
    this.tagR = this.tlb.supR; this.tagW = this.tlb.supW; this.tagX = this.tlb.supX;
  }

  setUser(user: boolean): void {
    this.user = user;
    this.stateUser[0] = user ? 1 : 0; // for translated WebAssembly code (memory/stateArea.ts)
    const t = this.tlb;
    if (user) { this.tagR = t.usrR; this.tagW = t.usrW; this.tagX = t.usrX; }
    else { this.tagR = t.supR; this.tagW = t.supW; this.tagX = t.supX; }
  }

  /** Bumped whenever translations may have changed (block links check it). */
  epoch = 0;
  flush(): void { this.tlb.flushAll(); this.epoch++; }
  invlpg(va: number): void { this.tlb.flushPage(Math.floor(va / 4096)); this.epoch++; }

  // ---- hot paths -------------------------------------------------------------------------------
  read8(va: number): number {
    const vp = Math.floor(va / 4096), i = vp & TLB_MASK;
    if (this.tagR[i] === vp) return this.u8[this.phys[i] + (va & 0xfff)];
    return this.slowRead(va, 1, this.user);
  }
  read16(va: number): number {
    const vp = Math.floor(va / 4096), i = vp & TLB_MASK, off = va & 0xfff;
    if (this.tagR[i] === vp && off <= 4094) return this.dv.getUint16(this.phys[i] + off, true);
    return this.slowRead(va, 2, this.user);
  }
  read32(va: number): number {
    const vp = Math.floor(va / 4096), i = vp & TLB_MASK, off = va & 0xfff;
    if (this.tagR[i] === vp && off <= 4092) return this.dv.getUint32(this.phys[i] + off, true);
    return this.slowRead(va, 4, this.user);
  }
  /** Returns the low half; the high half is left in `this.hi`. */
  read64(va: number): number {
    const vp = Math.floor(va / 4096), i = vp & TLB_MASK, off = va & 0xfff;
    if (this.tagR[i] === vp && off <= 4088) {
      const p = this.phys[i] + off;
      this.hi = this.dv.getUint32(p + 4, true);
      return this.dv.getUint32(p, true);
    }
    return this.slowRead(va, 8, this.user);
  }
  read(size: number, va: number): number {
    switch (size) {
      case 1: return this.read8(va);
      case 2: return this.read16(va);
      case 4: return this.read32(va);
      default: return this.read64(va);
    }
  }
  write8(va: number, v: number): void {
    const vp = Math.floor(va / 4096), i = vp & TLB_MASK;
    if (this.tagW[i] === vp) { this.u8[this.phys[i] + (va & 0xfff)] = v; return; }
    this.slowWrite(va, 1, v, 0, this.user);
  }
  write16(va: number, v: number): void {
    const vp = Math.floor(va / 4096), i = vp & TLB_MASK, off = va & 0xfff;
    if (this.tagW[i] === vp && off <= 4094) { this.dv.setUint16(this.phys[i] + off, v, true); return; }
    this.slowWrite(va, 2, v, 0, this.user);
  }
  write32(va: number, v: number): void {
    const vp = Math.floor(va / 4096), i = vp & TLB_MASK, off = va & 0xfff;
    if (this.tagW[i] === vp && off <= 4092) { this.dv.setUint32(this.phys[i] + off, v, true); return; }
    this.slowWrite(va, 4, v, 0, this.user);
  }
  write64(va: number, lo: number, hi: number): void {
    const vp = Math.floor(va / 4096), i = vp & TLB_MASK, off = va & 0xfff;
    if (this.tagW[i] === vp && off <= 4088) {
      const p = this.phys[i] + off;
      this.dv.setUint32(p, lo, true);
      this.dv.setUint32(p + 4, hi, true);
      return;
    }
    this.slowWrite(va, 8, lo, hi, this.user);
  }
  write(size: number, va: number, lo: number, hi: number): void {
    switch (size) {
      case 1: this.write8(va, lo); return;
      case 2: this.write16(va, lo); return;
      case 4: this.write32(va, lo); return;
      default: this.write64(va, lo, hi); return;
    }
  }
  /**
   * Check that a read-modify-write destination is writable before reading it, so that a fault leaves
   * nothing half done (and a locked RMW sees a writable page, like hardware).
   */
  probeWrite(va: number, size: number): void {
    const vp = Math.floor(va / 4096), i = vp & TLB_MASK;
    if (this.tagW[i] === vp && (va & 0xfff) + size <= 4096) return;
    this.translate(va, ACCESS_WRITE, this.user);
    if ((va & 0xfff) + size > 4096) this.translate(va + size - 1, ACCESS_WRITE, this.user);
  }

  // ---- translation -------------------------------------------------------------------------------
  /** Physical address of `va` for `access`, walking and filling the TLB on a miss; throws #PF/#GP. */
  translate(va: number, access: number, user: boolean): number {
    const vp = Math.floor(va / 4096), i = vp & TLB_MASK, t = this.tlb;
    const tags = access === ACCESS_READ ? (user ? t.usrR : t.supR)
      : access === ACCESS_WRITE ? (user ? t.usrW : t.supW) : (user ? t.usrX : t.supX);
    if (tags[i] === vp) return t.phys[i] + (va & 0xfff);
    this.walks++;
    const w = pageWalk(this.mem, this.regs, va, access, user, this.walkOut);
    if (w.physPage + 4096 <= this.mem.size) {
      // Every page the guest reaches through this translation (and through the TLB entry it fills)
      // counts as written: a released RAM buffer is zeroed only there (PhysicalMemory.written).
      this.mem.written[w.physPage >>> 12] = 1;
      if (this.memHook === null) {
        let perms = w.perms;
        if (this.mem.hasCode[w.physPage / 4096] !== 0) perms &= ~(P_SW | P_UW);
        t.fill(vp, w.physPage, perms);
      }
    }
    return w.physPage + (va & 0xfff);
  }

  translateExec(va: number): number {
    const vp = Math.floor(va / 4096), i = vp & TLB_MASK;
    if (this.tagX[i] === vp) return this.phys[i] + (va & 0xfff);
    return this.translate(va, ACCESS_EXEC, this.user);
  }

  /** Read with explicit privilege (implicit supervisor accesses to GDT/IDT/TSS use user=false). */
  slowRead(va: number, size: number, user: boolean): number {
    let lo = 0, hi = 0;
    if ((va & 0xfff) + size <= 4096) {
      const pa = this.translate(va, ACCESS_READ, user);
      const m = this.mem;
      if (pa + size <= m.size) {
        switch (size) {
          case 1: lo = m.u8[pa]; break;
          case 2: lo = m.dv.getUint16(pa, true); break;
          case 4: lo = m.dv.getUint32(pa, true); break;
          default: lo = m.dv.getUint32(pa, true); hi = m.dv.getUint32(pa + 4, true);
        }
      } else {
        lo = size >= 4 ? 0xffffffff : (1 << (size * 8)) - 1;
        hi = size === 8 ? 0xffffffff : 0;
      }
    } else {
      // Page-crossing: translate both pages first so a fault leaves no partial state.
      const pa0 = this.translate(va, ACCESS_READ, user);
      const pa1 = this.translate(va + size - 1 - ((va + size - 1) & 0xfff), ACCESS_READ, user);
      const first = 4096 - (va & 0xfff);
      for (let k = 0; k < size; k++) {
        const b = k < first ? this.mem.read8(pa0 + k) : this.mem.read8(pa1 + k - first);
        if (k < 4) lo |= b << (8 * k); else hi |= b << (8 * (k - 4));
      }
      lo >>>= 0; hi >>>= 0;
    }
    this.hi = hi;
    if (this.memHook !== null) this.memHook(va, size, false, lo, hi);
    this.hi = hi;
    return lo;
  }

  slowWrite(va: number, size: number, lo: number, hi: number, user: boolean): void {
    if (this.memHook !== null) this.memHook(va, size, true, lo >>> 0, hi >>> 0);
    const m = this.mem;
    if ((va & 0xfff) + size <= 4096) {
      const pa = this.translate(va, ACCESS_WRITE, user);
      if (pa + size > m.size) return;
      if (m.hasCode[pa >>> 12] !== 0) m.onCodeWrite(pa >>> 12);
      switch (size) {
        case 1: m.u8[pa] = lo; break;
        case 2: m.dv.setUint16(pa, lo, true); break;
        case 4: m.dv.setUint32(pa, lo, true); break;
        default: m.dv.setUint32(pa, lo, true); m.dv.setUint32(pa + 4, hi, true);
      }
      return;
    }
    const pa0 = this.translate(va, ACCESS_WRITE, user);
    const pa1 = this.translate(va + size - 1 - ((va + size - 1) & 0xfff), ACCESS_WRITE, user);
    const first = 4096 - (va & 0xfff);
    for (let k = 0; k < size; k++) {
      const b = (k < 4 ? lo >>> (8 * k) : hi >>> (8 * (k - 4))) & 0xff;
      if (k < first) m.write8(pa0 + k, b); else m.write8(pa1 + k - first, b);
    }
  }

  /** Supervisor-privilege 64-bit read/write for descriptor tables, TSS and IDT delivery. */
  sysRead64(va: number): number { return this.slowRead(va, 8, false); }
  sysRead32(va: number): number { return this.slowRead(va, 4, false); }
  sysRead16(va: number): number { return this.slowRead(va, 2, false); }
  sysWrite64(va: number, lo: number, hi: number): void { this.slowWrite(va, 8, lo, hi, false); }
  sysWrite32(va: number, v: number): void { this.slowWrite(va, 4, v, 0, false); }
}

export { ACCESS_READ, ACCESS_WRITE, ACCESS_EXEC };
