/**
 * The PS/2 keyboard and mouse behind the i8042, with QEMU 7.2's command responses (hw/input/ps2.c):
 * the keyboard is an MF2 keyboard (ID 0xAB 0x83, or 0xAB 0x41 while the controller translates), the
 * mouse a standard PS/2 mouse that becomes an IntelliMouse (ID 3) or IntelliMouse Explorer (ID 4)
 * after the usual sample-rate knocks. Each answers into its own byte queue, which the controller
 * drains one byte at a time. The host has no keyboard or mouse attached, so no key or motion events.
 */
const ACK = 0xfa, RESEND = 0xfe, POR = 0xaa;
/** Scan code set number as a translating controller reports it (QEMU's translate_table). */
const TRANSLATED_SET_ID = [0, 0x43, 0x41, 0x3f];
export const PS2_QUEUE_SIZE = 256;

abstract class Ps2Device {
  queue: number[] = [];
  /** Command byte waiting for its argument, or -1. */
  protected writeCmd = -1;
  onData: () => void = () => {};

  protected put(...bytes: number[]): void {
    for (const b of bytes) if (this.queue.length < PS2_QUEUE_SIZE) this.queue.push(b);
    this.onData();
  }

  abstract write(v: number): void;
}

export class Ps2Keyboard extends Ps2Device {
  translate = false;
  scanEnabled = true;
  scancodeSet = 2;
  leds = 0;

  private reset(): void { this.scanEnabled = true; this.scancodeSet = 2; this.queue = []; this.leds = 0; }

  write(v: number): void {
    switch (this.writeCmd) {
      case 0xf0: // select/read scan code set
        if (v === 0) this.put(ACK, this.translate ? TRANSLATED_SET_ID[this.scancodeSet] : this.scancodeSet);
        else if (v >= 1 && v <= 3) { this.scancodeSet = v; this.put(ACK); }
        else this.put(RESEND);
        this.writeCmd = -1;
        return;
      case 0xed: this.leds = v; this.put(ACK); this.writeCmd = -1; return;
      case 0xf3: case 0xfb: this.put(ACK); this.writeCmd = -1; return;
      default: break;
    }
    switch (v) {
      case 0x00: this.put(ACK); break;
      case 0x05: this.put(RESEND); break;
      case 0xf2: this.put(ACK, 0xab, this.translate ? 0x41 : 0x83); break; // get ID
      case 0xee: this.put(0xee); break;                                      // echo
      case 0xf4: this.scanEnabled = true; this.put(ACK); break;
      case 0xf0: case 0xed: case 0xf3: case 0xfb: this.writeCmd = v; this.put(ACK); break;
      case 0xf5: this.reset(); this.scanEnabled = false; this.put(ACK); break; // reset and disable
      case 0xf6: this.reset(); this.scanEnabled = true; this.put(ACK); break;  // reset and enable
      case 0xff: this.reset(); this.put(ACK, POR); break;                      // reset, self-test passed
      case 0xfa: this.put(ACK); break;
      default: this.put(RESEND); break;
    }
  }

  saveState(): object {
    return { queue: [...this.queue], writeCmd: this.writeCmd, translate: this.translate, scanEnabled: this.scanEnabled, scancodeSet: this.scancodeSet, leds: this.leds };
  }
  loadState(s: any): void { Object.assign(this, { ...s, queue: [...s.queue] }); }
}

const STATUS_REMOTE = 0x40, STATUS_ENABLED = 0x20, STATUS_SCALE21 = 0x10;

export class Ps2Mouse extends Ps2Device {
  status = 0; resolution = 2; sampleRate = 100; type = 0; wrap = false; detectState = 0;

  write(v: number): void {
    if (this.writeCmd === 0xf3) { // set sample rate; 200,100,80 and 200,200,80 switch the wheel modes on
      this.sampleRate = v;
      switch (this.detectState) {
        case 1: this.detectState = v === 100 ? 2 : v === 200 ? 3 : 0; break;
        case 2: if (v === 80) this.type = 3; this.detectState = 0; break;
        case 3: if (v === 80) this.type = 4; this.detectState = 0; break;
        default: if (v === 200) this.detectState = 1; break;
      }
      this.put(ACK); this.writeCmd = -1;
      return;
    }
    if (this.writeCmd === 0xe8) { this.resolution = v; this.put(ACK); this.writeCmd = -1; return; }
    if (this.wrap) {
      if (v === 0xec) { this.wrap = false; this.put(ACK); return; }
      if (v !== 0xff) { this.put(v); return; }
    }
    switch (v) {
      case 0xe6: this.status &= ~STATUS_SCALE21; this.put(ACK); break;
      case 0xe7: this.status |= STATUS_SCALE21; this.put(ACK); break;
      case 0xea: this.status &= ~STATUS_REMOTE; this.put(ACK); break;
      case 0xee: this.wrap = true; this.put(ACK); break;
      case 0xf0: this.status |= STATUS_REMOTE; this.put(ACK); break;
      case 0xf2: this.put(ACK, this.type); break;
      case 0xe8: case 0xf3: this.writeCmd = v; this.put(ACK); break;
      case 0xe9: this.put(ACK, this.status, this.resolution, this.sampleRate); break;
      case 0xeb: this.put(ACK, 0x08, 0, 0, ...(this.type === 3 || this.type === 4 ? [0] : [])); break; // poll: no motion
      case 0xf4: this.status |= STATUS_ENABLED; this.put(ACK); break;
      case 0xf5: this.status &= ~STATUS_ENABLED; this.put(ACK); break;
      case 0xf6: this.sampleRate = 100; this.resolution = 2; this.status = 0; this.put(ACK); break;
      case 0xff:
        this.sampleRate = 100; this.resolution = 2; this.status = 0; this.type = 0; this.wrap = false; this.queue = [];
        this.put(ACK, POR, this.type);
        break;
      default: break; // no answer
    }
  }

  saveState(): object {
    return { queue: [...this.queue], writeCmd: this.writeCmd, status: this.status, resolution: this.resolution, sampleRate: this.sampleRate, type: this.type, wrap: this.wrap, detectState: this.detectState };
  }
  loadState(s: any): void { Object.assign(this, { ...s, queue: [...s.queue] }); }
}
