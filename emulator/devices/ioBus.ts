/**
 * The port I/O bus: devices claim port ranges; unclaimed ports read as all-ones and ignore writes (as on
 * the PC). Port hooks (host API) see every access before the device.
 */
export interface PortDevice {
  read(port: number, size: number): number;
  write(port: number, size: number, value: number): void;
}

export type PortHook = (port: number, size: number, write: boolean, value: number) => void;

export class IoBus {
  /** Per port, 1 + the index of its device in `devices` (0: unclaimed). A byte per port keeps a machine's wiring small. */
  private readonly portDevice = new Uint8Array(0x10000);
  private readonly devices: PortDevice[] = [];
  hook: PortHook | null = null;
  /** Counts of accesses to unclaimed ports (for reports). */
  readonly unclaimed = new Map<number, number>();

  /** The counts of accesses to unclaimed ports (the run report shows them); the port map is wiring. */
  saveState(): { unclaimed: [number, number][] } {
    return { unclaimed: [...this.unclaimed] };
  }

  loadState(s: { unclaimed: [number, number][] }): void {
    this.unclaimed.clear();
    for (const [port, n] of s.unclaimed) this.unclaimed.set(port, n);
  }

  register(first: number, count: number, dev: PortDevice): void {
    let i = this.devices.indexOf(dev);
    if (i < 0) {
      if (this.devices.length === 255) throw new Error('the port I/O bus holds at most 255 devices');
      i = this.devices.push(dev) - 1;
    }
    for (let p = first; p < first + count; p++) this.portDevice[p] = i + 1;
  }

  read(port: number, size: number): number {
    port &= 0xffff;
    const i = this.portDevice[port];
    const dev = i !== 0 ? this.devices[i - 1] : undefined;
    const v = dev !== undefined ? dev.read(port, size) >>> 0
      : (this.unclaimed.set(port, (this.unclaimed.get(port) ?? 0) + 1), size === 4 ? 0xffffffff : size === 2 ? 0xffff : 0xff);
    if (this.hook !== null) this.hook(port, size, false, v);
    return v;
  }

  write(port: number, size: number, value: number): void {
    port &= 0xffff;
    value = size === 4 ? value >>> 0 : value & (size === 2 ? 0xffff : 0xff);
    if (this.hook !== null) this.hook(port, size, true, value);
    const i = this.portDevice[port];
    const dev = i !== 0 ? this.devices[i - 1] : undefined;
    if (dev !== undefined) dev.write(port, size, value);
    else this.unclaimed.set(port, (this.unclaimed.get(port) ?? 0) + 1);
  }
}
