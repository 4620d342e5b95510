/**
 * The snapshot file:
 *
 *   magic "KLPSNAP\0" (8 bytes) | format version (uint32 LE) | header length H (uint32 LE)
 *   header: H bytes of JSON (image name and SHA-256, machine configuration, virtual time, the
 *           component names, and the stored and unpacked length of each part)
 *   parts:  part 0 is the components' states as JSON, parts 1.. the byte arrays those states refer
 *           to (memory pages); each part compressed with zlib (deflate)
 *   SHA-256 of everything above (32 bytes)
 *
 * In the states' JSON a Uint8Array is written as {"$blob": n} (part n + 1) and a number JSON cannot
 * spell (Infinity, NaN, -0) as {"$num": "Infinity"}. Reading checks magic, version, length and
 * checksum before it parses anything, and unpacks each part to exactly its recorded length.
 */
import * as crypto from 'crypto';
import * as zlib from 'zlib';
import { SnapshotError } from './snapshotError';

export const SNAPSHOT_MAGIC = Buffer.from('KLPSNAP\0', 'latin1');
export const SNAPSHOT_VERSION = 1;
const PREFIX = 16;
const DIGEST = 32;
/** Memory pages compress fast at level 1 and barely better at 6 (measured on a booted kernel). */
const COMPRESSION_LEVEL = 1;
/** zlib's output buffer: large, so that a 100 MiB part is not handled in 16 KiB steps. */
const CHUNK = 1 << 20;

export interface SnapshotHeader {
  image: { name: string; sha256: string };
  machine: { memory: number; cmdline: string };
  /** Virtual time (ns) and retired instructions at the snapshot. */
  virtualTime: number;
  instructions: number;
  components: string[];
  parts: { stored: number; length: number }[];
}

export interface DecodedSnapshot {
  header: SnapshotHeader;
  states: Record<string, unknown>;
}

export function encodeSnapshot(header: Omit<SnapshotHeader, 'parts'>, states: Record<string, unknown>): Uint8Array {
  const blobs: Uint8Array[] = [];
  const json = JSON.stringify(states, function (this: unknown, _key: string, value: unknown) {
    if (value instanceof Uint8Array) { blobs.push(value); return { $blob: blobs.length - 1 }; }
    if (typeof value === 'number' && (!Number.isFinite(value) || Object.is(value, -0))) return { $num: Object.is(value, -0) ? '-0' : String(value) };
    return value;
  });
  const raw = [Buffer.from(json, 'utf8'), ...blobs];
  const stored = raw.map((r) => zlib.deflateSync(r, { level: COMPRESSION_LEVEL, memLevel: 9, chunkSize: CHUNK }));
  const full: SnapshotHeader = { ...header, parts: raw.map((r, i) => ({ stored: stored[i].length, length: r.length })) };
  const headerBytes = Buffer.from(JSON.stringify(full), 'utf8');
  const prefix = Buffer.alloc(PREFIX);
  SNAPSHOT_MAGIC.copy(prefix, 0);
  prefix.writeUInt32LE(SNAPSHOT_VERSION, 8);
  prefix.writeUInt32LE(headerBytes.length, 12);
  // One copy of the parts into the file: the checksum is hashed piece by piece.
  const hash = crypto.createHash('sha256').update(prefix).update(headerBytes);
  for (const part of stored) hash.update(part);
  return Buffer.concat([prefix, headerBytes, ...stored, hash.digest()]);
}

/** Magic, version, checksum and header, without unpacking the parts. */
export function readHeader(bytes: Uint8Array): SnapshotHeader {
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (b.length < SNAPSHOT_MAGIC.length || !b.subarray(0, SNAPSHOT_MAGIC.length).equals(SNAPSHOT_MAGIC)) {
    throw new SnapshotError('not a klp-lab snapshot (bad magic)');
  }
  if (b.length < PREFIX + DIGEST) throw new SnapshotError('truncated snapshot');
  const version = b.readUInt32LE(8);
  if (version !== SNAPSHOT_VERSION) throw new SnapshotError(`snapshot format version ${version}; this klp-lab reads version ${SNAPSHOT_VERSION}`);
  const digest = crypto.createHash('sha256').update(b.subarray(0, b.length - DIGEST)).digest();
  if (!digest.equals(b.subarray(b.length - DIGEST))) throw new SnapshotError('snapshot checksum mismatch (corrupt or truncated file)');
  const headerLength = b.readUInt32LE(12);
  if (PREFIX + headerLength > b.length - DIGEST) throw new SnapshotError('truncated snapshot header');
  let header: unknown;
  try { header = JSON.parse(b.subarray(PREFIX, PREFIX + headerLength).toString('utf8')); } catch {
    throw new SnapshotError('unreadable snapshot header');
  }
  const why = headerProblem(header);
  if (why !== null) throw new SnapshotError(`bad snapshot header: ${why}`);
  const h = header as SnapshotHeader;
  const total = h.parts.reduce((a, p) => a + p.stored, 0);
  if (PREFIX + headerLength + total !== b.length - DIGEST) throw new SnapshotError('snapshot parts do not fill the file');
  return h;
}

export function decodeSnapshot(bytes: Uint8Array): DecodedSnapshot {
  const header = readHeader(bytes);
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let at = PREFIX + b.readUInt32LE(12);
  const parts: Buffer[] = [];
  for (const [i, p] of header.parts.entries()) {
    let raw: Buffer;
    try {
      raw = p.length === 0 ? Buffer.alloc(0) : zlib.inflateSync(b.subarray(at, at + p.stored), { maxOutputLength: p.length, chunkSize: CHUNK });
    } catch {
      throw new SnapshotError(`snapshot part ${i} does not unpack`);
    }
    if (raw.length !== p.length) throw new SnapshotError(`snapshot part ${i} unpacks to ${raw.length} bytes, not ${p.length}`);
    parts.push(raw);
    at += p.stored;
  }
  let states: unknown;
  try {
    states = JSON.parse(parts[0].toString('utf8'), (_key, value: unknown) => {
      if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
        const o = value as Record<string, unknown>;
        const keys = Object.keys(o);
        if (keys.length === 1 && keys[0] === '$blob') {
          const n = o.$blob;
          if (typeof n !== 'number' || !Number.isInteger(n) || n < 0 || n + 1 >= parts.length) throw new SnapshotError('bad part reference');
          const part = parts[n + 1];
          return new Uint8Array(part.buffer, part.byteOffset, part.length);
        }
        if (keys.length === 1 && keys[0] === '$num') {
          if (o.$num === '-0') return -0;
          if (o.$num === 'Infinity' || o.$num === '-Infinity' || o.$num === 'NaN') return Number(o.$num);
          throw new SnapshotError('bad number');
        }
      }
      return value;
    });
  } catch (e) {
    throw new SnapshotError(`unreadable component states${e instanceof SnapshotError ? ` (${e.message})` : ''}`);
  }
  if (states === null || typeof states !== 'object' || Array.isArray(states)) throw new SnapshotError('unreadable component states');
  return { header, states: states as Record<string, unknown> };
}

function headerProblem(h: unknown): string | null {
  const o = h as Record<string, Record<string, unknown>>;
  if (h === null || typeof h !== 'object') return 'not an object';
  if (typeof o.image !== 'object' || o.image === null || typeof o.image.name !== 'string' || typeof o.image.sha256 !== 'string') return 'image';
  if (typeof o.machine !== 'object' || o.machine === null || typeof o.machine.cmdline !== 'string') return 'machine';
  // A memory size PhysicalMemory accepts: whole pages, up to 2 GiB.
  const memory = o.machine.memory;
  if (!Number.isSafeInteger(memory) || (memory as number) <= 0 || (memory as number) % 4096 !== 0 || (memory as number) > 0x7ffff000) return 'memory size';
  if (typeof o.virtualTime !== 'number' || typeof o.instructions !== 'number') return 'virtual time';
  if (!Array.isArray(o.components) || !o.components.every((c) => typeof c === 'string')) return 'components';
  const parts = o.parts as unknown;
  if (!Array.isArray(parts) || parts.length < 1) return 'parts';
  for (const p of parts) {
    if (p === null || typeof p !== 'object' || !Number.isSafeInteger(p.stored) || !Number.isSafeInteger(p.length) ||
      p.stored < 0 || p.length < 0 || p.length > 0x80000000) return 'parts';
  }
  return null;
}
