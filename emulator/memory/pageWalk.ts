/**
 * The 4-level page walk (Intel SDM vol. 3 §4.5) with accessed/dirty updates, 2 MiB and 1 GiB pages,
 * CR0.WP, EFER.NXE and CR4.SMEP/SMAP, and the flat (paging off) case used by the PVH entry. Legacy
 * 32-bit paging is not implemented: the PVH boot path enables PAE and LME before CR0.PG.
 */
import { PhysicalMemory } from './physicalMemory';
import { P_SR, P_SW, P_SX, P_UR, P_UW, P_UX } from './tlb';
import { CR0_PG, CR0_WP, CR4_PAE, CR4_SMAP, CR4_SMEP, EFER_LMA, EFER_NXE } from '../cpu/modes';
import { GuestFault, PF, GP } from '../interrupts/guestFault';

export const ACCESS_READ = 0, ACCESS_WRITE = 1, ACCESS_EXEC = 2;

export const PTE_P = 1, PTE_RW = 2, PTE_US = 4, PTE_A = 0x20, PTE_D = 0x40, PTE_PS = 0x80;

export interface PagingRegs {
  cr0: number; cr3: number; cr4: number; efer: number;
  /** RFLAGS.AC, consulted for SMAP. */
  acFlag(): boolean;
}

/** Result of a successful walk. */
export class WalkResult {
  /** Physical address of the 4 KiB frame holding the byte. */
  physPage = 0;
  /** P_* permission bits valid for TLB filling. */
  perms = 0;
}

export class UnsupportedPagingMode extends Error {}

/**
 * Translate `va` for `access` at privilege `user`; on success fills `out` and returns it, else throws
 * #PF (with CR2 = va and the SDM error code) or #GP for non-canonical addresses.
 */
export function pageWalk(mem: PhysicalMemory, r: PagingRegs, va: number, access: number, user: boolean,
  out: WalkResult): WalkResult {
  if ((r.cr0 & CR0_PG) === 0) {
    out.physPage = (va - (va & 0xfff)) % 4294967296;
    if (out.physPage < 0) out.physPage += 4294967296;
    out.perms = P_SR | P_SW | P_SX | P_UR | P_UW | P_UX;
    return out;
  }
  if ((r.efer & EFER_LMA) === 0 || (r.cr4 & CR4_PAE) === 0) {
    throw new UnsupportedPagingMode('legacy 32-bit paging (CR0.PG without EFER.LMA) is not implemented');
  }
  if (va < -0x800000000000 || va >= 0x800000000000) throw new GuestFault(GP, 0);
  const nxe = (r.efer & EFER_NXE) !== 0;
  let table = (r.cr3 - (r.cr3 % 4096)) % 0x10000000000000;
  let rw = true, us = true, nx = false;
  const write = access === ACCESS_WRITE;
  const pageNum = Math.floor(va / 4096); // signed virtual page number
  let entryAddr = 0, lo = 0, hi = 0, level = 4, frame = 0;
  for (; level >= 1; level--) {
    const shift = 9 * (level - 1);
    const idx = Math.floor(pageNum / 2 ** shift) & 511;
    entryAddr = table + idx * 8;
    lo = mem.read32(entryAddr); hi = mem.read32(entryAddr + 4);
    if ((lo & PTE_P) === 0) throw pf(va, access, user, false, nxe, r);
    if (nxe && (hi & 0x80000000) !== 0) nx = true;
    if (!nxe && (hi & 0x80000000) !== 0) throw pf(va, access, user, true, nxe, r, true);
    if ((lo & PTE_RW) === 0) rw = false;
    if ((lo & PTE_US) === 0) us = false;
    const addr = (hi & 0x000fffff) * 4294967296 + ((lo & 0xfffff000) >>> 0);
    const large = (lo & PTE_PS) !== 0 && (level === 2 || level === 3);
    if (level === 4 && (lo & PTE_PS) !== 0) throw pf(va, access, user, true, nxe, r, true);
    if (level === 1 || large) {
      if (large) {
        const span = level === 3 ? 0x40000000 : 0x200000;
        const base = addr - (addr % span); // PAT bit 12 is not an address bit for large pages
        frame = base + (((pageNum % (span / 4096)) + span / 4096) % (span / 4096)) * 4096;
      } else {
        frame = addr;
      }
      break;
    }
    // Set A in the non-leaf entry.
    if ((lo & PTE_A) === 0) mem.write32(entryAddr, (lo | PTE_A) >>> 0);
    table = addr;
  }
  // Permission check (SDM 4.6).
  const wp = (r.cr0 & CR0_WP) !== 0;
  const smep = (r.cr4 & CR4_SMEP) !== 0;
  const smapOn = (r.cr4 & CR4_SMAP) !== 0 && !r.acFlag();
  let ok: boolean;
  if (user) {
    ok = us && (!write || rw) && !(access === ACCESS_EXEC && nx);
  } else {
    ok = !(write && !rw && wp) && !(access === ACCESS_EXEC && (nx || (smep && us))) &&
      !(access !== ACCESS_EXEC && us && smapOn);
  }
  if (!ok) throw pf(va, access, user, true, nxe, r);
  let leaf = lo | PTE_A;
  if (write) leaf |= PTE_D;
  if (leaf !== lo) mem.write32(entryAddr, leaf >>> 0);
  let perms = 0;
  const dirty = (leaf & PTE_D) !== 0;
  perms |= (smapOn && us) ? 0 : P_SR;
  if ((rw || !wp) && dirty && !(smapOn && us)) perms |= P_SW;
  if (!nx && !(smep && us)) perms |= P_SX;
  if (us) {
    perms |= P_UR;
    if (rw && dirty) perms |= P_UW;
    if (!nx) perms |= P_UX;
  }
  out.physPage = frame;
  out.perms = perms;
  return out;
}

function pf(va: number, access: number, user: boolean, present: boolean, nxe: boolean, r: PagingRegs,
  rsvd = false): GuestFault {
  let ec = present ? 1 : 0;
  if (access === ACCESS_WRITE) ec |= 2;
  if (user) ec |= 4;
  if (rsvd) ec |= 8 | 1;
  if (access === ACCESS_EXEC && (nxe || (r.cr4 & CR4_SMEP) !== 0)) ec |= 16;
  return new GuestFault(PF, ec, va);
}
