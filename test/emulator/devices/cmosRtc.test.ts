// The CMOS RTC through ports 0x70/0x71 as Linux's mc146818 code and rtc-cmos use it: time in BCD and
// binary, 12/24 hours, update-in-progress, SET, update/alarm/periodic flags and IRQ 8, CMOS memory.
// Expected values are QEMU 7.2's (hw/rtc/mc146818rtc.c, hw/i386/pc.c; test/golden/pc/pcprobe-*.txt).
import { portIo, initPic } from './portIo';
import { UIP_HOLD_NS } from '../../../emulator/devices/cmosRtc';

const BASE = Date.UTC(2024, 0, 1, 0, 0, 0) / 1000;

function rtc(opts: { memory?: number } = {}) {
  const io = portIo({ rtcBase: BASE, ...opts });
  const read = (i: number): number => { io.outb(0x70, i); return io.inb(0x71); };
  const write = (i: number, v: number): void => { io.outb(0x70, i); io.outb(0x71, v); };
  return { io, read, write };
}

test('time at boot from the rtc base, in BCD with 24 hours (QEMU -rtc base=2024-01-01,clock=vm)', () => {
  const { read } = rtc();
  expect([0x32, 9, 8, 7, 4, 2, 0, 6].map(read)).toEqual([0x20, 0x24, 0x01, 0x01, 0x00, 0x00, 0x00, 0x02]);
  expect([0x0a, 0x0b, 0x0d].map(read)).toEqual([0x26, 0x02, 0x80]);
});

test('the clock advances with virtual time; UIP is set in the last 244 us of each second', () => {
  const { io, read } = rtc();
  io.idle(61e9 + 5e8);
  expect([4, 2, 0].map(read)).toEqual([0x00, 0x01, 0x01]);
  io.idle(1e9 - 5e8 - UIP_HOLD_NS - 1);
  expect(read(0x0a) & 0x80).toBe(0);
  io.idle(1);
  expect(read(0x0a) & 0x80).toBe(0x80);
  io.idle(UIP_HOLD_NS);
  expect(read(0x0a) & 0x80).toBe(0);
  expect(read(0)).toBe(0x02);
});

test('SET, binary 12-hour writes, release: the clock runs on from the written time', () => {
  const { io, read, write } = rtc();
  write(0x0b, 0x82);
  write(0x0b, 0x84);                                    // binary, 12-hour, still SET
  write(0, 58); write(2, 59); write(4, 0x80 | 11); write(7, 31); write(8, 12); write(9, 31); write(0x32, 20); write(6, 4);
  write(0x0b, 0x04);
  expect([4, 2, 0, 7, 8, 9].map(read)).toEqual([0x8b, 59, 58, 31, 12, 31]);
  io.idle(3e9);
  write(0x0b, 0x06);                                    // 24 hours
  expect([0x32, 9, 8, 7, 4, 2, 0, 6].map(read)).toEqual([20, 32, 1, 1, 0, 0, 1, 5]);
  write(0x0b, 0x02);                                    // back to BCD
  expect(read(9)).toBe(0x32);
});

test('update-ended interrupt: IRQ 8 each second until register C is read', () => {
  const { io, read, write } = rtc();
  initPic(io);
  io.outb(0xa1, 0xfe); io.outb(0x21, 0xfb);
  read(0x0c);
  write(0x0b, 0x12);                                    // UIE
  io.idle(999_999_999);
  expect(io.m.pic.hasInterrupt()).toBe(false);
  io.idle(1);
  expect(io.m.pic.hasInterrupt()).toBe(true);
  expect(io.m.pic.acknowledge()).toBe(0x38);
  expect(read(0x0c)).toBe(0x90);                        // IRQF | UF
  expect(read(0x0c)).toBe(0x00);
});

test('alarm with "don\'t care" hours and minutes; flags accrue without interrupts enabled', () => {
  const { io, read, write } = rtc();
  write(1, 0x05); write(3, 0xc0); write(5, 0xc0);       // every minute at second 5
  read(0x0c);
  io.idle(4.5e9);
  expect(read(0x0c)).toBe(0x10);                        // UF only: no IRQF without enables
  io.idle(1e9);
  write(0x0b, 0x22);                                    // AIE: the pending AF raises IRQF at once
  expect(read(0x0c)).toBe(0xb0);
});

test('periodic interrupt at 1024 Hz (rate 6)', () => {
  const { io, read, write } = rtc();
  write(0x0a, 0x26);
  read(0x0c);
  write(0x0b, 0x42);                                    // PIE
  const period = 1e9 / 1024;
  io.idle(Math.ceil(period) + 1);
  expect(read(0x0c) & 0xc0).toBe(0xc0);
  expect(read(0x0c) & 0x40).toBe(0);
  io.idle(Math.ceil(period));
  expect(read(0x0c) & 0x40).toBe(0x40);
});

test('CMOS memory as QEMU pc leaves it: memory sizes, equipment, century bytes, boot order, CPUs', () => {
  const { read } = rtc({ memory: 512 << 20 });
  expect([0x10, 0x14, 0x15, 0x16].map(read)).toEqual([0x50, 0x07, 0x80, 0x02]);
  expect([0x17, 0x18, 0x30, 0x31].map(read)).toEqual([0xff, 0xff, 0xff, 0xff]); // clamped at 65535 KiB
  expect([0x34, 0x35].map(read)).toEqual([0x00, 0x1f]);                          // (512M - 16M) / 64K
  expect([0x32, 0x37, 0x38, 0x3d, 0x5b, 0x5f].map(read)).toEqual([0x20, 0x20, 0x30, 0x12, 0x00, 0x00]);
});

test('port 0x70 bit 7 is the NMI mask and not part of the index', () => {
  const { io, write } = rtc();
  write(0x40, 0x5a);
  io.outb(0x70, 0x80 | 0x40);
  expect(io.inb(0x71)).toBe(0x5a);
  expect(io.m.rtc.nmiMasked).toBe(true);
  expect(io.inb(0x70)).toBe(0xff);
});
