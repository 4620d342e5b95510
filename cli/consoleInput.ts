// Console input for `klp-lab run`, as QEMU's `-serial stdio`: host bytes go to the UART's receiver.
//
// - stdin not a terminal (pipe, file, CI): `PipeSource` is pulled by the UART only while the guest
//   listens (IER.RDI set) and its receiver is empty, one byte per character time of virtual time;
//   a pull blocks until the host has a byte or end of input. Guest time does not advance while
//   waiting, so the guest sees each byte at the same virtual time on every run. End of input leaves
//   the receiver idle.
// - stdin a terminal: raw mode; bytes are queued at the virtual time they arrive (interactive, so
//   not reproducible), and `EscapeDecoder` handles QEMU's Ctrl-A escapes (C-a x quits, C-a h prints
//   help, C-a C-a sends one C-a).
import * as fs from 'fs';
import type { SerialInputSource } from '../emulator/devices/uart16550';

/** Blocking reads of a file descriptor (stdin), buffered. */
export class PipeSource implements SerialInputSource {
  private readonly buf = Buffer.alloc(4096);
  private pos = 0; private len = 0; private ended = false;

  constructor(private readonly fd = 0) {}

  readByte(): number {
    if (this.pos < this.len) return this.buf[this.pos++];
    if (this.ended) return -1;
    for (;;) {
      let n: number;
      try {
        n = fs.readSync(this.fd, this.buf, 0, this.buf.length, null);
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code === 'EAGAIN') { Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 5); continue; }
        if (code === 'EOF') n = 0; else { this.ended = true; return -1; }
      }
      if (n === 0) { this.ended = true; return -1; }
      this.pos = 1; this.len = n;
      return this.buf[0];
    }
  }
}

export const CTRL_A = 0x01;
/** Printed on C-a h (raw mode keeps the terminal's newline translation). */
export const ESCAPE_HELP =
  'C-a h    print this help\n' +
  'C-a x    exit emulator\n' +
  'C-a C-a  sends C-a\n';

/** QEMU's mux escapes on a raw terminal: returns the bytes for the guest; `quit`/`help` on commands. */
export class EscapeDecoder {
  private pending = false;

  constructor(private readonly quit: () => void, private readonly help: () => void) {}

  feed(data: Uint8Array): number[] {
    const out: number[] = [];
    for (const b of data) {
      if (this.pending) {
        this.pending = false;
        if (b === CTRL_A) out.push(CTRL_A);
        else if (b === 0x78 || b === 0x58) { this.quit(); return out; } // x
        else if (b === 0x68 || b === 0x48 || b === 0x3f) this.help();   // h, ?
        continue; // other escapes are ignored
      }
      if (b === CTRL_A) this.pending = true; else out.push(b);
    }
    return out;
  }
}
