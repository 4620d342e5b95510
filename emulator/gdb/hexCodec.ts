/**
 * Hex and binary payload codecs of the GDB remote serial protocol (gdb/doc "Overview" and "Packets"):
 * memory and register bytes travel as lowercase hex pairs; `X` packets carry raw binary where `#`, `$`,
 * `}` and `*` are escaped as `}` followed by the byte XOR 0x20. Every decoder validates its input and
 * returns null on anything malformed: a hostile packet yields an error reply, never an exception.
 */

const HEX = '0123456789abcdef';

export function hexNibble(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  return -1;
}

export function bytesToHex(b: Uint8Array): string {
  let s = '';
  for (let i = 0; i < b.length; i++) s += HEX[b[i] >> 4] + HEX[b[i] & 15];
  return s;
}

/** Hex pairs to bytes; null for odd length or a non-hex digit. */
export function hexToBytes(s: string): Uint8Array | null {
  if ((s.length & 1) !== 0) return null;
  const out = new Uint8Array(s.length >> 1);
  for (let i = 0; i < out.length; i++) {
    const hi = hexNibble(s.charCodeAt(2 * i)), lo = hexNibble(s.charCodeAt(2 * i + 1));
    if (hi < 0 || lo < 0) return null;
    out[i] = (hi << 4) | lo;
  }
  return out;
}

export function textToHex(s: string): string { return bytesToHex(Buffer.from(s, 'utf8')); }

export function hexToText(s: string): string | null {
  const b = hexToBytes(s);
  return b === null ? null : Buffer.from(b).toString('utf8');
}

/**
 * An unsigned hex number of at most 16 digits (a 64-bit address or length); null when empty, too long
 * or not hex. Returned as bigint: this is the protocol boundary.
 */
export function parseHexU64(s: string): bigint | null {
  if (s.length === 0 || s.length > 16) return null;
  for (let i = 0; i < s.length; i++) if (hexNibble(s.charCodeAt(i)) < 0) return null;
  return BigInt('0x' + s);
}

/** A small hex number (register numbers, lengths, thread ids, offsets): null above `max`. */
export function parseHexSmall(s: string, max: number): number | null {
  if (s.length === 0 || s.length > 13) return null;
  let v = 0;
  for (let i = 0; i < s.length; i++) {
    const d = hexNibble(s.charCodeAt(i));
    if (d < 0) return null;
    v = v * 16 + d;
  }
  return v > max ? null : v;
}

/** Little-endian bytes of a 64-bit value, `size` bytes long (target byte order for x86). */
export function leBytes(v: bigint, size: number): Uint8Array {
  const out = new Uint8Array(size);
  let x = BigInt.asUintN(size * 8, v);
  for (let i = 0; i < size; i++) { out[i] = Number(x & 0xffn); x >>= 8n; }
  return out;
}

export function fromLeBytes(b: Uint8Array): bigint {
  let v = 0n;
  for (let i = b.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[i]);
  return v;
}

/** Undo `}`-escaping of an `X` packet's binary data. Null on a dangling escape. */
export function unescapeBinary(b: Uint8Array): Uint8Array | null {
  const out = new Uint8Array(b.length);
  let n = 0;
  for (let i = 0; i < b.length; i++) {
    if (b[i] === 0x7d) {
      if (i + 1 >= b.length) return null;
      out[n++] = b[++i] ^ 0x20;
    } else out[n++] = b[i];
  }
  return out.subarray(0, n);
}
