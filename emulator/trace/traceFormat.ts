/**
 * The klp-lab trace file (`klp-lab run IMAGE --trace FILE`, read back by `klp-lab trace FILE`).
 *
 * The writer records blocks, not instructions: one small record each time the run loop enters a
 * decoded block, plus the block's description (address, instruction lengths, code bytes) the first
 * time it is entered. Every timed record carries the retired-instruction delta since the previous
 * timed record, so the reader knows how many instructions of the previous block really ran (a fault,
 * an instruction limit or a host stop can cut a block short) and expands them one by one. Because the
 * code bytes are in the file, the reader disassembles exactly what ran, even without the image.
 *
 *   header   "KLPTRACE" | u16 version | u16 0 | varint start (retired instructions when tracing began)
 *            | string image name | 32 bytes image SHA-256 (zero when unknown)
 *   records  one tag byte, then:
 *     0x80|d BLOCK_SHORT  timed, delta d (0..127); varint block id
 *     0x01   BLOCK        timed: varint delta; varint block id
 *     0x02   BLOCK_DEF    varint id; i64 va; u8 bitness; varint n; n x u8 length; the code bytes
 *     0x03   EVENT        timed: varint delta; u8 vector; u8 kind (EV_*); varint error code + 1 (0: none);
 *                         i64 rip; u8 cpl; i64 cr2 (vector 14 only)
 *     0x04   TASK         timed: varint delta; i64 value of the current-task word (0: no task yet)
 *     0x05   TASK_INFO    i64 task pointer; i32 pid; string comm   (what that pointer stands for from now on)
 *     0x06   END          timed: varint delta; varint records before END; string why the run ended
 *   string = varint byte length + UTF-8; i64 = little-endian two's complement; varint = unsigned LEB128.
 *
 * END is always the last record: a file without it was cut short.
 */

export const TRACE_MAGIC = 'KLPTRACE';
export const TRACE_VERSION = 1;
export const DIGEST_BYTES = 32;

export const TAG_BLOCK_SHORT = 0x80;
export const TAG_BLOCK = 0x01;
export const TAG_BLOCK_DEF = 0x02;
export const TAG_EVENT = 0x03;
export const TAG_TASK = 0x04;
export const TAG_TASK_INFO = 0x05;
export const TAG_END = 0x06;

/** Largest record other than BLOCK_DEF (EVENT: tag + 2 varints + 3 bytes + two i64). */
export const MAX_SMALL_RECORD = 64;

/** A trace file that cannot be read: one line saying where and why. */
export class TraceFormatError extends Error {
  constructor(readonly file: string, message: string) {
    super(`${file}: ${message}`);
    this.name = 'TraceFormatError';
  }
}

/** Unsigned LEB128 of a non-negative integer below 2^53; returns the position after it. */
export function putVarint(buf: Uint8Array, pos: number, v: number): number {
  while (v >= 128) {
    buf[pos++] = (v % 128) | 128;
    v = Math.floor(v / 128);
  }
  buf[pos++] = v;
  return pos;
}

/** A canonical address or other signed 64-bit value held exactly in a number (|v| < 2^53). */
export function putI64(buf: Uint8Array, pos: number, v: number): number {
  const hi = Math.floor(v / 4294967296);
  const lo = v - hi * 4294967296;
  buf[pos] = lo & 0xff; buf[pos + 1] = (lo >>> 8) & 0xff; buf[pos + 2] = (lo >>> 16) & 0xff; buf[pos + 3] = lo >>> 24;
  buf[pos + 4] = hi & 0xff; buf[pos + 5] = (hi >>> 8) & 0xff; buf[pos + 6] = (hi >>> 16) & 0xff; buf[pos + 7] = (hi >>> 24) & 0xff;
  return pos + 8;
}

export function putString(buf: Uint8Array, pos: number, bytes: Uint8Array): number {
  pos = putVarint(buf, pos, bytes.length);
  buf.set(bytes, pos);
  return pos + bytes.length;
}

/** Bounds-checked reading of the format's fields; a read past the end is a TraceFormatError. */
export class TraceBytes {
  pos = 0;
  private readonly dv: DataView;

  constructor(readonly bytes: Uint8Array, readonly file: string) {
    this.dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  get atEnd(): boolean { return this.pos >= this.bytes.length; }

  fail(what: string, at = this.pos): never {
    throw new TraceFormatError(this.file, `${what} (offset 0x${at.toString(16)})`);
  }

  private need(n: number, what: string): void {
    if (this.pos + n > this.bytes.length) this.fail(`truncated trace: ${what} runs past the end of the file`);
  }

  u8(what: string): number {
    this.need(1, what);
    return this.bytes[this.pos++];
  }

  varint(what: string): number {
    const start = this.pos;
    let v = 0, scale = 1;
    for (;;) {
      if (this.pos >= this.bytes.length) this.fail(`truncated trace: ${what} runs past the end of the file`, start);
      const b = this.bytes[this.pos++];
      v += (b & 127) * scale;
      if (b < 128) return v;
      scale *= 128;
      if (scale > 2 ** 56) this.fail(`bad trace: ${what} is not a valid number`, start);
    }
  }

  i32(what: string): number {
    this.need(4, what);
    const v = this.dv.getInt32(this.pos, true);
    this.pos += 4;
    return v;
  }

  i64(what: string): number {
    this.need(8, what);
    const v = this.dv.getInt32(this.pos + 4, true) * 4294967296 + this.dv.getUint32(this.pos, true);
    this.pos += 8;
    return v;
  }

  take(n: number, what: string): Uint8Array {
    this.need(n, what);
    const out = this.bytes.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  string(what: string): string {
    const n = this.varint(what);
    return Buffer.from(this.take(n, what)).toString('utf8');
  }
}
