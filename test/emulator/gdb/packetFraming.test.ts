// Packet framing and hex codecs of the gdb stub: checksums, escapes, NAK-worthy frames, line noise.
import { PacketReader, encodePacket, checksum, MAX_PACKET, type FrameEvent } from '../../../emulator/gdb/packetFraming';
import { hexToBytes, bytesToHex, parseHexU64, parseHexSmall, unescapeBinary, leBytes, fromLeBytes } from '../../../emulator/gdb/hexCodec';

const frame = (payload: string, cs?: string): Buffer => {
  const c = cs ?? checksum(Buffer.from(payload, 'latin1')).toString(16).padStart(2, '0');
  return Buffer.from(`$${payload}#${c}`, 'latin1');
};

describe('PacketReader', () => {
  test('a well-formed packet, acks, NAKs and Ctrl-C', () => {
    const r = new PacketReader();
    const ev = r.feed(Buffer.concat([Buffer.from('+'), frame('qSupported:multiprocess+'), Buffer.from('-\x03')]));
    expect(ev).toEqual([{ kind: 'ack' }, { kind: 'packet', payload: 'qSupported:multiprocess+' }, { kind: 'nak' }, { kind: 'interrupt' }]);
  });

  test('the checksum is the modulo-256 sum of the payload bytes, upper- or lower-case hex', () => {
    expect(checksum(Buffer.from('g'))).toBe(0x67);
    expect(checksum(Buffer.from('qC'))).toBe((0x71 + 0x43) & 0xff);
    expect(new PacketReader().feed(frame('m0,4', checksum(Buffer.from('m0,4')).toString(16).toUpperCase().padStart(2, '0'))))
      .toEqual([{ kind: 'packet', payload: 'm0,4' }]);
  });

  test('bad checksum, non-hex checksum digit, restarted packet and overlong packet are bad frames', () => {
    const r = new PacketReader();
    const kinds = (e: FrameEvent[]): string[] => e.map((x) => x.kind);
    expect(kinds(r.feed(frame('g', '00')))).toEqual(['bad']);
    expect(kinds(r.feed(frame('g', 'zz')))).toEqual(['bad']);
    expect(kinds(r.feed(Buffer.from('$qC$g#67')))).toEqual(['bad', 'packet']);
    expect(kinds(r.feed(frame('X'.repeat(MAX_PACKET + 1))))).toEqual(['bad']);
    // and the reader is still in step afterwards
    expect(r.feed(frame('?'))).toEqual([{ kind: 'packet', payload: '?' }]);
  });

  test('line noise outside packets is dropped; packets split across reads are reassembled', () => {
    const r = new PacketReader();
    const f = frame('vCont;c');
    expect(r.feed(Buffer.from('garbage\n'))).toEqual([]);
    expect(r.feed(f.subarray(0, 3))).toEqual([]);
    expect(r.feed(f.subarray(3, f.length - 1))).toEqual([]);
    expect(r.feed(f.subarray(f.length - 1))).toEqual([{ kind: 'packet', payload: 'vCont;c' }]);
  });

  test('binary payloads survive (latin1)', () => {
    const bin = String.fromCharCode(0, 0x80, 0xff, 0x7e);
    expect(new PacketReader().feed(frame(bin))).toEqual([{ kind: 'packet', payload: bin }]);
  });
});

describe('encodePacket', () => {
  test('escapes $ # } * and checksums the escaped bytes', () => {
    const out = encodePacket('a$b#c}d*e');
    const s = out.toString('latin1');
    expect(s.startsWith('$a}\x04b}\x03c}]d}\x0ae#')).toBe(true);
    const body = out.subarray(1, out.length - 3);
    expect(s.slice(-2)).toBe(checksum(body).toString(16).padStart(2, '0'));
    expect(Buffer.from(unescapeBinary(body)!).toString('latin1')).toBe('a$b#c}d*e');
  });

  test('reader and encoder agree on every byte value', () => {
    const all = String.fromCharCode(...Array.from({ length: 256 }, (_, i) => i).filter((c) => c !== 0x23 && c !== 0x24));
    const ev = new PacketReader().feed(encodePacket(all));
    expect(ev.length).toBe(1);
    const p = ev[0] as { kind: 'packet'; payload: string };
    expect(Buffer.from(unescapeBinary(Buffer.from(p.payload, 'latin1'))!).toString('latin1')).toBe(all);
  });
});

describe('hex codecs reject malformed input', () => {
  test('hexToBytes', () => {
    expect(Array.from(hexToBytes('00ff7A')!)).toEqual([0, 255, 0x7a]);
    expect(hexToBytes('abc')).toBeNull();
    expect(hexToBytes('zz')).toBeNull();
    expect(bytesToHex(Uint8Array.from([1, 0xab]))).toBe('01ab');
  });
  test('numbers', () => {
    expect(parseHexU64('ffffffff80001000')).toBe(0xffffffff80001000n);
    expect(parseHexU64('1ffffffff80001000')).toBeNull(); // 17 digits
    expect(parseHexU64('')).toBeNull();
    expect(parseHexU64('12g')).toBeNull();
    expect(parseHexSmall('10', 0xff)).toBe(16);
    expect(parseHexSmall('100', 0xff)).toBeNull();
    expect(parseHexSmall('-1', 0xff)).toBeNull();
  });
  test('little-endian values', () => {
    expect(Array.from(leBytes(0x1122334455667788n, 8))).toEqual([0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11]);
    expect(fromLeBytes(leBytes(0xfedcba9876543210n, 8))).toBe(0xfedcba9876543210n);
    expect(Array.from(leBytes(-1n, 4))).toEqual([255, 255, 255, 255]);
  });
  test('binary unescape rejects a dangling escape', () => {
    expect(unescapeBinary(Uint8Array.from([0x41, 0x7d]))).toBeNull();
  });
});
