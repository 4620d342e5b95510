// saveState/loadState of every device: a machine's device state survives JSON, and a machine
// restored from it behaves exactly as the original from then on.
import { portIo, initPic, type PortIo } from './portIo';

/** Put every device in a non-reset state with events pending. */
function busy(io: PortIo): void {
  initPic(io);
  io.outb(0x21, 0xe8); io.outb(0xa1, 0xfe);
  io.outb(0x43, 0x34); io.outb(0x40, 0x9c); io.outb(0x40, 0x2e);   // PIT ch0, 100 Hz
  io.outb(0x61, 0x01); io.outb(0x43, 0xb0); io.outb(0x42, 0x00); io.outb(0x42, 0x80);
  io.outb(0x3fb, 0x83); io.outb(0x3f8, 0x01); io.outb(0x3fb, 0x03);
  io.outb(0x3fa, 0x47); io.outb(0x3f9, 0x01);
  io.m.uart.queueInput(Buffer.from('state'), 2_000_000);
  io.outb(0x70, 0x0b); io.outb(0x71, 0x12);                         // RTC update interrupts
  io.outb(0x64, 0x60); io.outb(0x60, 0x47); io.outb(0x60, 0xf2);     // keyboard answer pending
  io.outb(0xcf9, 0x02);
  io.idle(1_500_000);
}

function observe(io: PortIo): number[] {
  const out: number[] = [];
  for (let i = 0; i < 8; i++) {
    io.idle(400_000);
    out.push(io.inb(0x3fd), io.inb(0x3fa), io.inb(0x64), io.inb(0x60), io.inb(0x61) & 0x21, io.m.pic.master.irr, io.m.pic.slave.irr);
    io.outb(0x43, 0x00); out.push(io.inb(0x40), io.inb(0x40));
    if (io.inb(0x3fd) & 1) out.push(io.inb(0x3f8));
    io.outb(0x70, 0x0c); out.push(io.inb(0x71));
    if (io.m.pic.hasInterrupt()) { out.push(io.m.pic.acknowledge()); io.outb(0xa0, 0x20); io.outb(0x20, 0x20); }
  }
  io.idle(1e9);
  io.outb(0x70, 0x0c); out.push(io.inb(0x71));
  return out;
}

test('device state round-trips through JSON and the restored machine continues identically', () => {
  const a = portIo();
  busy(a);
  const saved = JSON.parse(JSON.stringify({ devices: a.m.saveDevices(), icount: a.m.cpu.icount, idle: a.m.cpu.idleNs }));
  const b = portIo();
  b.m.cpu.icount = saved.icount; b.m.cpu.idleNs = saved.idle;
  b.m.loadDevices(saved.devices);
  expect(JSON.stringify(b.m.saveDevices())).toBe(JSON.stringify(saved.devices));
  const ra = observe(a), rb = observe(b);
  expect(rb).toEqual(ra);
  expect(ra.filter((v) => v === 0x73).length).toBeGreaterThan(0); // 's' arrived: the line was restored
});
