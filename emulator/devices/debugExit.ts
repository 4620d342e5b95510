/** QEMU's isa-debug-exit at 0xF4 (iosize 4): writing v stops the machine with status (v << 1) | 1. */
import type { PortDevice } from './ioBus';

export class DebugExit implements PortDevice {
  constructor(private readonly exit: (status: number) => void) {}
  read(): number { return 0xffffffff; }
  /** No state: a write acts at once. */
  saveState(): object { return {}; }
  loadState(_s: object): void {}
  write(_port: number, _size: number, v: number): void { this.exit(((v << 1) | 1) >>> 0); }
}
