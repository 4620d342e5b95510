// Reads and writes of the fixture kernel's memory for the livepatch core: reads go through the
// unwinders' side-effect-free page walk (MachineGuestView), writes through the machine, as a
// debugger writes (page protections do not apply, decoded code is invalidated). Values are
// signed JS numbers: canonical kernel addresses are exact.

import type { Machine } from '../../emulator/machine';
import type { MachineGuestView } from '../observe/machineGuestView';

/** A guest address that should be mapped and is not: a broken image or a host bug. */
export class GuestAccessError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'GuestAccessError';
  }
}

export function hex(address: number): string {
  return '0x' + BigInt.asUintN(64, BigInt(address)).toString(16);
}

export class GuestAccess {
  constructor(readonly machine: Machine, readonly view: MachineGuestView) {}

  bytes(address: number, len: number): Uint8Array {
    const b = this.view.readBytes(address, len);
    if (!b) throw new GuestAccessError(`guest memory at ${hex(address)} (${len} bytes) is not mapped`);
    return b;
  }

  /** A 64-bit word as a signed number. */
  u64(address: number): number {
    const v = this.view.readWord(address);
    if (v === undefined) throw new GuestAccessError(`guest memory at ${hex(address)} (8 bytes) is not mapped`);
    return v;
  }

  i32(address: number): number {
    return new DataView(this.bytes(address, 4).buffer).getInt32(0, true);
  }

  write(address: number, data: Uint8Array): void {
    if (!this.machine.virtWrite(address, data)) throw new GuestAccessError(`guest memory at ${hex(address)} (${data.length} bytes) is not mapped`);
    this.view.refresh();
  }

  writeU64(address: number, value: number): void {
    const b = new Uint8Array(8);
    const v = new DataView(b.buffer);
    v.setUint32(0, value >>> 0, true);
    v.setUint32(4, Math.floor(value / 0x1_0000_0000) >>> 0, true);
    this.write(address, b);
  }

  writeI32(address: number, value: number): void {
    const b = new Uint8Array(4);
    new DataView(b.buffer).setInt32(0, value, true);
    this.write(address, b);
  }
}
