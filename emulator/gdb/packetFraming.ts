/**
 * Packet framing of the GDB remote serial protocol: `$payload#cs` with a two-hex-digit modulo-256
 * checksum, `+`/`-` acknowledgements, and the bare 0x03 byte that is gdb's Ctrl-C. The reader is a
 * byte-at-a-time state machine that never throws: a bad checksum, a non-hex checksum digit or an
 * overlong packet becomes a `bad` event (the session answers it with a NAK); bytes outside a packet
 * that are none of the above are line noise and are dropped.
 */

/** Longest payload accepted (bytes between `$` and `#`). Advertised to gdb as PacketSize. */
export const MAX_PACKET = 0x4000;

export type FrameEvent =
  | { kind: 'packet'; payload: string }
  | { kind: 'ack' }
  | { kind: 'nak' }
  | { kind: 'interrupt' }
  | { kind: 'bad'; reason: string };

const S_IDLE = 0, S_BODY = 1, S_CS1 = 2, S_CS2 = 3;

function hexDigit(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  return -1;
}

export class PacketReader {
  private state = S_IDLE;
  private body: number[] = [];
  private sum = 0;
  private overlong = false;
  private cs = 0;
  private bad = '';

  constructor(private readonly maxPacket = MAX_PACKET) {}

  /** Feed received bytes; returns the complete events they finish, in order. */
  feed(data: Uint8Array): FrameEvent[] {
    const ev: FrameEvent[] = [];
    for (let i = 0; i < data.length; i++) {
      const c = data[i];
      switch (this.state) {
        case S_IDLE:
          if (c === 0x24) { this.startBody(); }
          else if (c === 0x2b) ev.push({ kind: 'ack' });
          else if (c === 0x2d) ev.push({ kind: 'nak' });
          else if (c === 0x03) ev.push({ kind: 'interrupt' });
          break;
        case S_BODY:
          if (c === 0x23) { this.state = S_CS1; break; }
          if (c === 0x24) { // a new packet start inside a packet: the old one was cut short
            ev.push({ kind: 'bad', reason: 'packet restarted before its checksum' });
            this.startBody();
            break;
          }
          this.sum = (this.sum + c) & 0xff;
          if (this.body.length < this.maxPacket) this.body.push(c);
          else this.overlong = true;
          break;
        case S_CS1: {
          const d = hexDigit(c);
          if (d < 0) this.bad = 'non-hex checksum digit';
          this.cs = d << 4;
          this.state = S_CS2;
          break;
        }
        case S_CS2: {
          const d = hexDigit(c);
          if (d < 0) this.bad = 'non-hex checksum digit';
          this.cs |= d;
          this.state = S_IDLE;
          if (this.bad !== '') ev.push({ kind: 'bad', reason: this.bad });
          else if (this.overlong) ev.push({ kind: 'bad', reason: `packet longer than ${this.maxPacket} bytes` });
          else if (this.cs !== this.sum) ev.push({ kind: 'bad', reason: `checksum mismatch (got ${this.cs.toString(16)}, computed ${this.sum.toString(16)})` });
          else ev.push({ kind: 'packet', payload: Buffer.from(this.body).toString('latin1') });
          this.body = [];
          break;
        }
      }
    }
    return ev;
  }

  private startBody(): void {
    this.state = S_BODY; this.body = []; this.sum = 0; this.overlong = false; this.bad = '';
  }
}

export function checksum(bytes: Uint8Array): number {
  let s = 0;
  for (let i = 0; i < bytes.length; i++) s = (s + bytes[i]) & 0xff;
  return s;
}

/**
 * Frame a reply. The payload is a latin1 string (binary-safe); `$ # } *` are escaped (`}` + byte^0x20)
 * so that gdb never reads them as framing or run-length markers.
 */
export function encodePacket(payload: string): Buffer {
  const raw = Buffer.from(payload, 'latin1');
  const out: number[] = [0x24];
  for (const b of raw) {
    if (b === 0x24 || b === 0x23 || b === 0x7d || b === 0x2a) out.push(0x7d, b ^ 0x20);
    else out.push(b);
  }
  const cs = checksum(Uint8Array.from(out.slice(1)));
  out.push(0x23);
  const h = cs.toString(16).padStart(2, '0');
  out.push(h.charCodeAt(0), h.charCodeAt(1));
  return Buffer.from(out);
}
