// Refused snapshots: truncated, flipped, of another version, image or machine, missing a component or
// with one of the wrong shape. Each is one SnapshotError line, never another exception, and the
// machine it was offered to is left as it was.
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { Machine } from '../../../emulator/machine';
import { loadPvh } from '../../../emulator/loader/pvh';
import { SnapshotError } from '../../../emulator/snapshot/snapshotError';
import { decodeSnapshot, encodeSnapshot } from '../../../emulator/snapshot/snapshotFormat';
import { seededRandom } from '../../../emulator/seededRandom';
import { FIXTURES } from '../../helpers/fixtures';

const bytes = fs.readFileSync(path.join(FIXTURES, 'kernel', 'kernel.elf'));
const sha256 = crypto.createHash('sha256').update(bytes).digest('hex');

const source = new Machine();
loadPvh(source, bytes, 'kernel.elf');
source.run(Infinity, 3_000_000);
const good = source.saveSnapshot({ name: 'kernel.elf', sha256 });

// One target for every refusal: each must leave it untouched.
const target = new Machine();
loadPvh(target, bytes, 'kernel.elf');
target.run(Infinity, 1_000_000);
const digest = (m: Machine) => JSON.stringify([crypto.createHash('sha256').update(m.mem.u8).digest('hex'), m.contextSave(), m.cpu.icount, m.pit.saveState()]);
const targetDigest = digest(target);

/** The error a restore gives, checked to be one SnapshotError line. */
function refusal(snap: Uint8Array, check: { sha256?: string } = {}): string {
  let err: unknown = null;
  try { target.restoreSnapshot(snap, check); } catch (e) { err = e; }
  expect(err).toBeInstanceOf(SnapshotError);
  const message = (err as Error).message;
  expect(message).not.toMatch(/\n/);
  expect(message.length).toBeGreaterThan(0);
  return message;
}

/** A snapshot re-encoded (valid checksum) after `edit` changed its states. */
function reencoded(edit: (states: Record<string, any>) => void, header: Partial<{ memory: number }> = {}): Uint8Array {
  const { header: h, states } = decodeSnapshot(good);
  edit(states);
  return encodeSnapshot({ ...h, machine: { ...h.machine, memory: header.memory ?? h.machine.memory } }, states);
}

afterAll(() => {
  expect(digest(target)).toBe(targetDigest);
});

test('the good snapshot restores (the refusals below are about what was changed)', () => {
  const m = new Machine();
  expect(m.restoreSnapshot(good, { sha256 }).virtualTime).toBe(3_000_000);
});

test('truncated at 300 lengths: refused', () => {
  const rnd = seededRandom(11);
  const lengths = [0, 1, 7, 8, 12, 16, 40, good.length - 33, good.length - 32, good.length - 1];
  for (let i = 0; i < 290; i++) lengths.push(Math.floor(rnd() * good.length));
  for (const n of lengths) expect(refusal(good.subarray(0, n))).toMatch(/snapshot/);
});

test('one byte flipped at 500 seeded offsets (header, parts and checksum): refused', () => {
  const rnd = seededRandom(2024);
  const offsets = [0, 7, 8, 11, 12, 15, 16, 100, good.length - 32, good.length - 1];
  for (let i = 0; i < 490; i++) offsets.push(Math.floor(rnd() * good.length));
  for (const at of offsets) {
    const bad = Uint8Array.from(good);
    bad[at] ^= 1 << Math.floor(rnd() * 8);
    expect(refusal(bad)).toMatch(/magic|version|checksum/);
  }
});

test('another format version, magic or a foreign file: refused by name', () => {
  const v2 = Uint8Array.from(good);
  new DataView(v2.buffer).setUint32(8, 2, true);
  expect(refusal(v2)).toMatch(/format version 2; this klp-lab reads version 1/);
  expect(refusal(bytes)).toMatch(/not a klp-lab snapshot/);
  expect(refusal(new Uint8Array(0))).toMatch(/not a klp-lab snapshot/);
});

test('a snapshot of another image: refused when the image is checked', () => {
  expect(refusal(good, { sha256: '0'.repeat(64) })).toMatch(/another image \(kernel\.elf/);
});

test('another memory size: refused', () => {
  const m = new Machine({ memory: 64 << 20 });
  expect(() => m.restoreSnapshot(good)).toThrow(/134217728 bytes of memory, this machine 67108864/);
  expect(refusal(reencoded(() => {}, { memory: 64 << 20 }))).toMatch(/memory/);
});

test('a component missing, unknown, or of the wrong shape: refused, naming it', () => {
  expect(refusal(reencoded((s) => { delete s.pit; }))).toMatch(/component 'pit' is missing/);
  expect(refusal(reencoded((s) => { s.floppy = {}; }))).toMatch(/unknown component 'floppy'/);
  expect(refusal(reencoded((s) => { s.cpu.gpr.pop(); }))).toMatch(/'cpu'.*cpu\.gpr has 31 entries, not 32/);
  expect(refusal(reencoded((s) => { s.cpu.flags.lazy = 'x'; }))).toMatch(/cpu\.flags\.lazy is not a number/);
  expect(refusal(reencoded((s) => { delete s.uart.ier; }))).toMatch(/uart\.ier is missing/);
  expect(refusal(reencoded((s) => { s.pic.master.extra = 1; }))).toMatch(/pic\.master\.extra is unknown/);
  expect(refusal(reencoded((s) => { s.pit.ch.push(s.pit.ch[0]); }))).toMatch(/pit\.ch has 4 entries/);
  expect(refusal(reencoded((s) => { s.uart.recv = [{}]; }))).toMatch(/uart\.recv\[0\]/);
  expect(refusal(reencoded((s) => { s.i8042.kbd.queue = ['x']; }))).toMatch(/i8042\.kbd\.queue\[0\]/);
  expect(refusal(reencoded((s) => { s.memory.bytes = new Uint8Array(4096); }))).toMatch(/'memory'.*pages mapped but 4096 bytes stored/);
  expect(refusal(reencoded((s) => { s.memory.present = new Uint8Array(10); }))).toMatch(/page map of the wrong size/);
  expect(refusal(reencoded((s) => { s.memory = 5; }))).toMatch(/memory is not an object/);
});

/** `good` with bytes [at, at + n) replaced and its checksum made right again (a crafted file). */
function crafted(at: number, replacement: Uint8Array, removeLength = replacement.length): Uint8Array {
  const body = Buffer.concat([Buffer.from(good.subarray(0, at)), Buffer.from(replacement), Buffer.from(good.subarray(at + removeLength, good.length - 32))]);
  return Buffer.concat([body, crypto.createHash('sha256').update(body).digest()]);
}

test('crafted files with a right checksum: bad header, parts that do not unpack or do not fill the file', () => {
  const headerLength = Buffer.from(good).readUInt32LE(12);
  expect(refusal(crafted(16, Buffer.from('{'.repeat(headerLength))))).toMatch(/unreadable snapshot header/);
  const header = JSON.parse(Buffer.from(good.subarray(16, 16 + headerLength)).toString('utf8'));
  const withHeader = (h: unknown) => {
    const text = Buffer.from(JSON.stringify(h));
    const lengthField = Buffer.alloc(4);
    lengthField.writeUInt32LE(text.length);
    return crafted(12, Buffer.concat([lengthField, text]), 4 + headerLength);
  };
  expect(refusal(withHeader({ ...header, machine: { memory: 'big' } }))).toMatch(/bad snapshot header: machine/);
  for (const memory of ['big', 0, 4095, 0x80000000, -4096]) {
    expect(refusal(withHeader({ ...header, machine: { ...header.machine, memory } }))).toMatch(/bad snapshot header: memory size/);
  }
  expect(refusal(withHeader({ ...header, parts: [] }))).toMatch(/bad snapshot header: parts/);
  expect(refusal(withHeader({ ...header, parts: [{ stored: 1, length: 1 }] }))).toMatch(/do not fill the file/);
  const parts = header.parts as { stored: number; length: number }[];
  expect(refusal(withHeader({ ...header, parts: parts.map((p, i) => (i === 1 ? { ...p, length: p.length - 1 } : p)) }))).toMatch(/part 1/);
  expect(refusal(crafted(16 + headerLength, new Uint8Array(8).fill(0x55)))).toMatch(/part 0 does not unpack/);
});
