// The 8259A pair through port I/O, as Linux's i8259 driver uses it: init_8259A, probe_8259A's mask
// read-back, mask_and_ack with specific EOIs, spurious IRQ 7/15 detection by reading ISR, the ELCR,
// poll mode, edge latching. Expected values are QEMU 7.2's (hw/intc/i8259.c; test/golden/pc).
import { portIo, initPic } from './portIo';

const isr = (io: ReturnType<typeof portIo>, port: number): number => { io.outb(port, 0x0b); const v = io.inb(port); io.outb(port, 0x0a); return v; };
const irr = (io: ReturnType<typeof portIo>, port: number): number => { io.outb(port, 0x0a); return io.inb(port); };

test('probe_8259A: the mask written is read back', () => {
  const io = portIo();
  io.outb(0xa1, 0xff); io.outb(0x21, 0xfb);
  expect([io.inb(0x21), io.inb(0xa1)]).toEqual([0xfb, 0xff]);
});

test('init_8259A, then an IRQ acknowledged, masked and acked with a specific EOI (mask_and_ack_8259A)', () => {
  const io = portIo();
  const pic = io.m.pic;
  initPic(io);
  io.outb(0x21, 0xf7);                        // unmask IRQ 3
  pic.setIrq(3, true);
  expect(pic.hasInterrupt()).toBe(true);
  expect(pic.acknowledge()).toBe(0x33);
  expect(isr(io, 0x20)).toBe(0x08);
  io.outb(0x21, 0xff);
  io.outb(0x20, 0x60 + 3);
  expect(isr(io, 0x20)).toBe(0);
  pic.setIrq(3, false);
});

test('slave IRQ 12: vector from the slave base, ISR on both chips, EOIs to slave then cascade', () => {
  const io = portIo();
  const pic = io.m.pic;
  initPic(io);
  io.outb(0x21, 0xfb); io.outb(0xa1, 0xef);
  pic.setIrq(12, true);
  expect(pic.acknowledge()).toBe(0x3c);
  expect([isr(io, 0x20), isr(io, 0xa0)]).toEqual([0x04, 0x10]);
  io.outb(0xa0, 0x60 + 4); io.outb(0x20, 0x60 + 2);
  expect([isr(io, 0x20), isr(io, 0xa0)]).toEqual([0, 0]);
});

test('spurious interrupts: IRQ 7 and IRQ 15 vectors with nothing set in ISR', () => {
  const io = portIo();
  const pic = io.m.pic;
  initPic(io);
  expect(pic.acknowledge()).toBe(0x37);       // nothing pending
  expect(isr(io, 0x20) & 0x80).toBe(0);
  io.outb(0x21, 0xfb); io.outb(0xa1, 0xef);
  pic.setIrq(12, true);                       // edge reaches the master's IRR via the cascade
  io.outb(0xa1, 0xff);                        // then the slave masks it before the CPU acknowledges
  expect(pic.acknowledge()).toBe(0x3f);
  expect(isr(io, 0xa0) & 0x80).toBe(0);
  expect(isr(io, 0x20)).toBe(0x04);           // the master did take IRQ 2 in service
});

test('edge-triggered requests stay in IRR when the line falls, and need a new rising edge', () => {
  const io = portIo();
  const pic = io.m.pic;
  initPic(io);
  pic.setIrq(1, true); pic.setIrq(1, false);
  expect(irr(io, 0x20) & 0x02).toBe(0x02);
  io.outb(0x21, 0xfd);
  expect(pic.acknowledge()).toBe(0x31);
  expect(irr(io, 0x20) & 0x02).toBe(0);
  io.outb(0x20, 0x20);
  pic.setIrq(1, true); pic.setIrq(1, true);   // one edge only
  expect(pic.acknowledge()).toBe(0x31);
  io.outb(0x20, 0x20);
  expect(pic.hasInterrupt()).toBe(false);
});

test('ELCR at 0x4d0/0x4d1: SeaBIOS leaves IRQs 10 and 11 level-triggered; writable bits f8/de; a level request stays', () => {
  const io = portIo();
  const pic = io.m.pic;
  expect([io.inb(0x4d0), io.inb(0x4d1)]).toEqual([0x00, 0x0c]);
  io.outb(0x4d0, 0xff); io.outb(0x4d1, 0xff);
  expect([io.inb(0x4d0), io.inb(0x4d1)]).toEqual([0xf8, 0xde]);
  initPic(io);
  io.outb(0x21, 0xfb); io.outb(0xa1, 0xfb);  // unmask IRQ 10
  pic.setIrq(10, true);
  expect(pic.acknowledge()).toBe(0x3a);
  expect(irr(io, 0xa0) & 0x04).toBe(0x04);    // still requested while the line is high
  io.outb(0xa0, 0x20); io.outb(0x20, 0x20);
  pic.setIrq(10, false);
  expect(irr(io, 0xa0) & 0x04).toBe(0);
});

test('poll mode acknowledges the highest request', () => {
  const io = portIo();
  const pic = io.m.pic;
  initPic(io);
  io.outb(0x21, 0x00);
  pic.setIrq(5, true); pic.setIrq(3, true);
  io.outb(0x20, 0x0c);                        // OCW3 poll
  expect(io.inb(0x20)).toBe(0x83);
  expect(isr(io, 0x20)).toBe(0x08);
  io.outb(0x20, 0x0c);
  expect(io.inb(0x20)).toBe(0);               // IRQ 5 is blocked by IRQ 3 in service
  io.outb(0x20, 0x20);                        // non-specific EOI ends IRQ 3
  initPic(io);
  expect(irr(io, 0x20)).toBe(0);
});

test('auto-EOI: nothing stays in service', () => {
  const io = portIo();
  const pic = io.m.pic;
  initPic(io, true);
  io.outb(0x21, 0xfe);
  pic.pulse(0);
  expect(pic.acknowledge()).toBe(0x30);
  expect(isr(io, 0x20)).toBe(0);
});
