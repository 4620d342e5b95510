/**
 * The i8042 keyboard controller at ports 0x60 (data) and 0x64 (status/command), IRQ 1 (keyboard) and
 * IRQ 12 (aux), with QEMU 7.2's behaviour (hw/input/pckbd.c): controller commands (read/write the
 * command byte, self-test 0xAA -> 0x55, interface tests, enable/disable ports, write to the aux port
 * 0xD4, loop-back through either output buffer 0xD2/0xD3, read/write the output port, the 0xFE reset
 * pulse), one output buffer fed by the controller, then the keyboard, then the mouse (ps2Devices.ts),
 * each disabled port's data held back, and IRQ 1 or 12 while the buffer is full and the command byte
 * enables it. Starts as SeaBIOS leaves it: command byte 0x61 (keyboard interrupt, translation, aux
 * disabled), self-test passed, keyboard scanning.
 */
import type { PortDevice } from './ioBus';
import { Ps2Keyboard, Ps2Mouse } from './ps2Devices';

const STAT_OBF = 0x01, STAT_SELFTEST = 0x04, STAT_CMD = 0x08, STAT_UNLOCKED = 0x10, STAT_MOUSE_OBF = 0x20;
const MODE_KBD_INT = 0x01, MODE_MOUSE_INT = 0x02, MODE_DISABLE_KBD = 0x10, MODE_DISABLE_MOUSE = 0x20, MODE_KCC = 0x40;
const OUT_RESET = 0x01, OUT_A20 = 0x02, OUT_OBF = 0x10, OUT_MOUSE_OBF = 0x20, OUT_ONES = 0xcc;
/** Which source fills the output buffer next. */
const SRC_NONE = 0, SRC_CTRL = 1, SRC_KBD = 2, SRC_MOUSE = 3;

export class I8042 implements PortDevice {
  readonly kbd = new Ps2Keyboard();
  readonly mouse = new Ps2Mouse();
  private mode = 0x61;
  private status = STAT_CMD | STAT_UNLOCKED | STAT_SELFTEST;
  private outport = OUT_RESET | OUT_A20 | OUT_ONES;
  private writeCmd = 0;
  /** A controller byte waiting for the output buffer, and whether it is aux data. */
  private ctrlData = -1; private ctrlAux = false;
  private obSource = SRC_NONE; private obData = 0;
  /** Set the IRQ 1 and IRQ 12 lines (wired to the PIC). */
  irq: (irq: number, level: boolean) => void = () => {};
  /** A reset request (0xFE pulse, or output port bit 0 written as 0). */
  onReset: () => void = () => {};
  private kbdLevel = false; private mouseLevel = false;

  constructor() {
    this.kbd.translate = true;
    this.kbd.onData = () => this.safeUpdate();
    this.mouse.onData = () => this.safeUpdate();
  }

  /** The next source with data that may be delivered (controller first, then keyboard, then mouse). */
  private pendingSource(): number {
    if (this.ctrlData >= 0) return SRC_CTRL;
    if (this.kbd.queue.length > 0 && !(this.mode & MODE_DISABLE_KBD)) return SRC_KBD;
    if (this.mouse.queue.length > 0 && !(this.mode & MODE_DISABLE_MOUSE)) return SRC_MOUSE;
    return SRC_NONE;
  }

  private updateLines(): void {
    let kbd = false, mouse = false;
    if (this.status & STAT_OBF) {
      if (this.status & STAT_MOUSE_OBF) mouse = (this.mode & MODE_MOUSE_INT) !== 0;
      else kbd = (this.mode & MODE_KBD_INT) !== 0 && !(this.mode & MODE_DISABLE_KBD);
    }
    if (kbd !== this.kbdLevel) { this.kbdLevel = kbd; this.irq(1, kbd); }
    if (mouse !== this.mouseLevel) { this.mouseLevel = mouse; this.irq(12, mouse); }
  }

  /** Load the output buffer from the next source, setting OBF (and MOUSE_OBF for aux data). */
  private update(): void {
    this.status &= ~(STAT_OBF | STAT_MOUSE_OBF);
    this.outport &= ~(OUT_OBF | OUT_MOUSE_OBF);
    const src = this.pendingSource();
    this.obSource = src;
    if (src !== SRC_NONE) {
      this.status |= STAT_OBF; this.outport |= OUT_OBF;
      if (src === SRC_MOUSE || (src === SRC_CTRL && this.ctrlAux)) { this.status |= STAT_MOUSE_OBF; this.outport |= OUT_MOUSE_OBF; }
    }
    this.updateLines();
  }

  /** Update only if the guest has read the previous byte (the output buffer holds one byte). */
  private safeUpdate(): void {
    if (this.status & STAT_OBF) return;
    if (this.pendingSource() !== SRC_NONE) this.update();
  }

  private queueCtrl(b: number, aux: boolean): void {
    this.ctrlData = b & 0xff; this.ctrlAux = aux;
    this.safeUpdate();
  }

  read(port: number): number {
    if (port === 0x64) return this.status;
    if (this.status & STAT_OBF) {
      this.status &= ~(STAT_OBF | STAT_MOUSE_OBF);
      this.outport &= ~(OUT_OBF | OUT_MOUSE_OBF);
      this.updateLines();
      if (this.obSource === SRC_CTRL) { this.obData = this.ctrlData; this.ctrlData = -1; }
      else if (this.obSource === SRC_KBD) this.obData = this.kbd.queue.shift()!;
      else if (this.obSource === SRC_MOUSE) this.obData = this.mouse.queue.shift()!;
      this.obSource = SRC_NONE;
      this.safeUpdate();
    }
    return this.obData;
  }

  write(port: number, _size: number, v: number): void {
    v &= 0xff;
    if (port === 0x64) { this.command(v); return; }
    switch (this.writeCmd) {
      case 0:
        this.kbd.write(v);
        this.mode &= ~MODE_DISABLE_KBD; // talking to the keyboard re-enables its port
        this.safeUpdate();
        break;
      case 0x60: this.setMode(v); break;
      case 0xd2: this.queueCtrl(v, false); break;
      case 0xd3: this.queueCtrl(v, true); break;
      case 0xd1: this.writeOutport(v); break;
      case 0xd4:
        this.mouse.write(v);
        this.mode &= ~MODE_DISABLE_MOUSE;
        this.safeUpdate();
        break;
      default: break;
    }
    this.writeCmd = 0;
  }

  private setMode(v: number): void {
    this.mode = v;
    this.kbd.translate = (v & MODE_KCC) !== 0;
    this.update();
  }

  private writeOutport(v: number): void {
    this.outport = v;
    if (!(v & OUT_RESET)) this.onReset();
  }

  private command(v: number): void {
    // 0xF0-0xFF pulse output port bits 3-0 low; only bit 0 (reset) does anything.
    if ((v & 0xf0) === 0xf0) v = (v & 1) === 0 ? 0xfe : 0xff;
    switch (v) {
      case 0x20: this.queueCtrl(this.mode, false); break;
      case 0x60: case 0xd1: case 0xd2: case 0xd3: case 0xd4: this.writeCmd = v; break;
      case 0xa7: this.mode |= MODE_DISABLE_MOUSE; break;
      case 0xa8: this.mode &= ~MODE_DISABLE_MOUSE; this.safeUpdate(); break;
      case 0xa9: this.queueCtrl(0x00, false); break; // aux interface test: no error
      case 0xaa: this.status |= STAT_SELFTEST; this.outport |= OUT_RESET; this.queueCtrl(0x55, false); break;
      case 0xab: this.queueCtrl(0x00, false); break; // keyboard interface test: no error
      case 0xad: this.mode |= MODE_DISABLE_KBD; this.update(); break;
      case 0xae: this.mode &= ~MODE_DISABLE_KBD; this.update(); break;
      case 0xc0: this.queueCtrl(0x80, false); break; // input port: keyboard not inhibited
      case 0xd0: this.queueCtrl(this.outport, false); break;
      case 0xdd: this.outport &= ~OUT_A20; break;
      case 0xdf: this.outport |= OUT_A20; break;
      case 0xfe: this.onReset(); break;
      default: break; // 0xFF and unknown commands: ignored
    }
  }

  saveState(): object {
    return {
      mode: this.mode, status: this.status, outport: this.outport, writeCmd: this.writeCmd, ctrlData: this.ctrlData,
      ctrlAux: this.ctrlAux, obSource: this.obSource, obData: this.obData, kbdLevel: this.kbdLevel, mouseLevel: this.mouseLevel,
      kbd: this.kbd.saveState(), mouse: this.mouse.saveState(),
    };
  }

  loadState(s: any): void {
    Object.assign(this, {
      mode: s.mode, status: s.status, outport: s.outport, writeCmd: s.writeCmd, ctrlData: s.ctrlData, ctrlAux: s.ctrlAux,
      obSource: s.obSource, obData: s.obData, kbdLevel: s.kbdLevel, mouseLevel: s.mouseLevel,
    });
    this.kbd.loadState(s.kbd); this.mouse.loadState(s.mouse);
  }
}
