/**
 * Guest physical memory: one ArrayBuffer (default 128 MiB, like `qemu -m 128`) with byte and DataView
 * access, plus a per-page "has decoded code" bit (v86 TLB_HAS_CODE, blink smc.c): every write path
 * that lands on such a page calls `onCodeWrite(page)` so the block cache can drop what it decoded.
 * Addresses beyond RAM read as all-ones and ignore writes (open bus), like unassigned I/O memory.
 */
export const PAGE_SIZE = 4096;
export const PAGE_SHIFT = 12;

export class PhysicalMemory {
  readonly size: number;
  readonly buffer: ArrayBuffer;
  readonly u8: Uint8Array;
  readonly dv: DataView;
  /** Non-zero when the physical page holds decoded instructions. */
  readonly hasCode: Uint8Array;
  onCodeWrite: (page: number) => void = () => {};

  constructor(size = 128 * 1024 * 1024) {
    if (size % PAGE_SIZE !== 0 || size <= 0 || size >= 0xe0000000) throw new Error(`bad RAM size ${size}`);
    this.size = size;
    this.buffer = new ArrayBuffer(size);
    this.u8 = new Uint8Array(this.buffer);
    this.dv = new DataView(this.buffer);
    this.hasCode = new Uint8Array(size >>> PAGE_SHIFT);
  }

  inRam(pa: number, len: number): boolean { return pa >= 0 && pa + len <= this.size; }

  read8(pa: number): number { return pa < this.size ? this.u8[pa] : 0xff; }
  write8(pa: number, v: number): void {
    if (pa >= this.size) return;
    if (this.hasCode[pa >>> PAGE_SHIFT] !== 0) this.onCodeWrite(pa >>> PAGE_SHIFT);
    this.u8[pa] = v;
  }
  read32(pa: number): number {
    if (pa + 4 <= this.size) return this.dv.getUint32(pa, true);
    return (this.read8(pa) | (this.read8(pa + 1) << 8) | (this.read8(pa + 2) << 16) | (this.read8(pa + 3) << 24)) >>> 0;
  }
  write32(pa: number, v: number): void {
    for (let i = 0; i < 4; i++) this.write8(pa + i, (v >>> (8 * i)) & 0xff);
  }

  /** Copy bytes out (host API, loader); out-of-RAM bytes read as 0xff. */
  readBytes(pa: number, len: number): Uint8Array {
    const out = new Uint8Array(len);
    for (let i = 0; i < len; i++) out[i] = this.read8(pa + i);
    return out;
  }
  /** Copy bytes in (host API, loader), invalidating decoded code it overwrites. */
  writeBytes(pa: number, data: Uint8Array): void {
    if (pa < 0 || pa + data.length > this.size) throw new RangeError(`physical write 0x${pa.toString(16)}+${data.length} outside RAM`);
    const first = pa >>> PAGE_SHIFT, last = (pa + data.length - 1) >>> PAGE_SHIFT;
    for (let p = first; p <= last && data.length > 0; p++) if (this.hasCode[p] !== 0) this.onCodeWrite(p);
    this.u8.set(data, pa);
  }
}
