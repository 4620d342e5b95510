// Bounds-checked little-endian reads over a file image. Every read past the end becomes an
// ElfError naming the file, so parsers above it never see a RangeError.

import { ElfError } from './elfError';

const TWO_32 = 0x1_0000_0000;

export class ByteReader {
  private readonly view: DataView;

  constructor(private readonly bytes: Uint8Array, private readonly fileName: string) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  get length(): number {
    return this.bytes.length;
  }

  /** Checks that [offset, offset + size) lies inside the file. */
  need(offset: number, size: number, what: string): void {
    if (offset < 0 || size < 0 || offset > this.bytes.length || size > this.bytes.length - offset) {
      throw new ElfError(this.fileName, `${what} at offset 0x${offset.toString(16)} (size 0x${size.toString(16)}) extends past the end of the file (size 0x${this.bytes.length.toString(16)})`);
    }
  }

  u8(at: number): number {
    this.need(at, 1, 'read');
    return this.view.getUint8(at);
  }

  u16(at: number): number {
    this.need(at, 2, 'read');
    return this.view.getUint16(at, true);
  }

  u32(at: number): number {
    this.need(at, 4, 'read');
    return this.view.getUint32(at, true);
  }

  u64(at: number): bigint {
    this.need(at, 8, 'read');
    return this.view.getBigUint64(at, true);
  }

  s64(at: number): bigint {
    this.need(at, 8, 'read');
    return this.view.getBigInt64(at, true);
  }

  /** A 64-bit field that must be an exact number (an offset, size or count). */
  u64Number(at: number, what: string): number {
    this.need(at, 8, 'read');
    const lo = this.view.getUint32(at, true);
    const hi = this.view.getUint32(at + 4, true);
    if (hi >= 0x200000) throw new ElfError(this.fileName, `${what} 0x${(BigInt(hi) << 32n | BigInt(lo)).toString(16)} is absurdly large`);
    return hi * TWO_32 + lo;
  }

  /** Bytes from `at` up to the first NUL before `limit` (or up to `limit`). */
  cString(at: number, limit: number): string {
    let end = at;
    while (end < limit && this.bytes[end] !== 0) end++;
    return Buffer.from(this.bytes.buffer, this.bytes.byteOffset + at, end - at).toString('latin1');
  }
}
