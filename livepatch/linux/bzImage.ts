// The ELF vmlinux inside an x86 bzImage: the boot protocol header says where the compressed payload
// is (setup_sects at 0x1f1, payload_offset at 0x248, payload_length at 0x24c; Linux's
// Documentation/x86/boot.rst), and Debian's cloud kernel compresses it as an LZ4 legacy frame
// followed by the 4-byte uncompressed size the kernel's build appends.

const LZ4_LEGACY_MAGIC = 0x184c2102;

export class BzImageError extends Error {}

/** The compressed payload of a bzImage (with its trailing size word). */
export function bzImagePayload(image: Uint8Array): Uint8Array {
  const b = Buffer.from(image.buffer, image.byteOffset, image.byteLength);
  if (b.length < 0x260 || b.toString('latin1', 0x202, 0x206) !== 'HdrS') throw new BzImageError('not a bzImage (no HdrS boot header)');
  const setupSects = b[0x1f1] === 0 ? 4 : b[0x1f1];
  const start = (setupSects + 1) * 512 + b.readUInt32LE(0x248);
  const length = b.readUInt32LE(0x24c);
  if (start + length > b.length) throw new BzImageError(`bzImage payload (offset 0x${start.toString(16)}, 0x${length.toString(16)} bytes) extends past the end of the file`);
  return image.subarray(start, start + length);
}

/** Decompresses an LZ4 legacy frame whose uncompressed size is the little-endian word after it. */
export function lz4LegacyDecompress(payload: Uint8Array): Uint8Array {
  const b = Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength);
  if (b.length < 8 || b.readUInt32LE(0) !== LZ4_LEGACY_MAGIC) throw new BzImageError('payload is not an LZ4 legacy frame');
  const size = b.readUInt32LE(b.length - 4);
  const out = new Uint8Array(size);
  let o = 0, p = 4;
  const end = b.length - 4;
  while (p + 4 <= end) {
    const blockSize = b.readUInt32LE(p);
    p += 4;
    if (blockSize === LZ4_LEGACY_MAGIC) continue; // a concatenated frame starts again
    if (p + blockSize > end) throw new BzImageError('truncated LZ4 block');
    o = decodeBlock(payload, p, p + blockSize, out, o);
    p += blockSize;
  }
  if (o !== size) throw new BzImageError(`LZ4 payload gave ${o} bytes, the size word says ${size}`);
  return out;
}

/** One LZ4 block (sequences of literals and back-references); returns the new output position. */
function decodeBlock(src: Uint8Array, p: number, end: number, out: Uint8Array, o: number): number {
  while (p < end) {
    const token = src[p++];
    let lit = token >>> 4;
    if (lit === 15) { let x; do { x = src[p++]; lit += x; } while (x === 255); }
    if (p + lit > end || o + lit > out.length) throw new BzImageError('corrupt LZ4 block (literals)');
    out.set(src.subarray(p, p + lit), o);
    p += lit; o += lit;
    if (p >= end) break; // the last sequence has literals only
    const offset = src[p] | (src[p + 1] << 8);
    p += 2;
    let len = (token & 15) + 4;
    if ((token & 15) === 15) { let x; do { x = src[p++]; len += x; } while (x === 255); }
    if (offset === 0 || offset > o || o + len > out.length) throw new BzImageError('corrupt LZ4 block (match)');
    if (offset >= len) out.copyWithin(o, o - offset, o - offset + len);
    else for (let k = 0; k < len; k++) out[o + k] = out[o + k - offset]; // overlapping copy repeats the pattern
    o += len;
  }
  return o;
}

/** The ELF vmlinux of a bzImage. */
export function extractVmlinux(image: Uint8Array): Uint8Array {
  const elf = lz4LegacyDecompress(bzImagePayload(image));
  if (elf[0] !== 0x7f || elf[1] !== 0x45 || elf[2] !== 0x4c || elf[3] !== 0x46) throw new BzImageError('decompressed payload is not an ELF file');
  return elf;
}
