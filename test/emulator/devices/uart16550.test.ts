// The 16550A through port I/O: Linux's 8250 autoconfig, interrupt identification and its priorities,
// FIFO trigger levels and the character timeout, paced receive of queued input, the pull source.
// Expected values are QEMU 7.2's (hw/char/serial.c; test/golden/pc/pcprobe-*.txt).
import { portIo, initPic } from './portIo';

const U = 0x3f8;
const CHAR_8N1_115200 = Math.floor(1e9 / 115200) * 10; // 86800 ns

function setup8n1(io: ReturnType<typeof portIo>): void {
  io.outb(U + 3, 0x80); io.outb(U + 0, 0x01); io.outb(U + 1, 0x00); io.outb(U + 3, 0x03);
}

test('reset state as QEMU: divisor 12, LCR 0, MCR OUT2, LSR THRE|TEMT, MSR DCD|DSR|CTS, IIR no interrupt', () => {
  const io = portIo();
  expect([io.inb(U + 2), io.inb(U + 3), io.inb(U + 4), io.inb(U + 5), io.inb(U + 6)]).toEqual([0x01, 0x00, 0x08, 0x60, 0xb0]);
  io.outb(U + 3, 0x80);
  expect([io.inb(U), io.inb(U + 1)]).toEqual([0x0c, 0x00]);
});

test('8250 autoconfig: scratch, IER, loopback MSR 0x90 and FIFO bits make a 16550A', () => {
  const io = portIo();
  io.outb(U + 7, 0xa5); expect(io.inb(U + 7)).toBe(0xa5);
  io.outb(U + 1, 0x00); expect(io.inb(U + 1)).toBe(0x00);
  io.outb(U + 1, 0x0f); expect(io.inb(U + 1)).toBe(0x0f);
  io.outb(U + 1, 0x00);
  io.outb(U + 4, 0x1a); expect(io.inb(U + 6) & 0xf0).toBe(0x90);
  io.outb(U + 4, 0x00);
  io.outb(U + 2, 0x07); expect(io.inb(U + 2) >> 6).toBe(3); // FIFO present and working: 16550A
  io.outb(U + 3, 0xbf); expect(io.inb(U + 2)).toBe(0xc1);   // no EFR: not a 16650
});

test('transmit goes straight to the console and leaves THR empty; THRI interrupt and its clearing', () => {
  const io = portIo();
  initPic(io);
  setup8n1(io);
  io.outb(U + 0, 0x41);
  expect(io.m.consoleText).toBe('A');
  expect(io.inb(U + 5) & 0x60).toBe(0x60);
  io.outb(U + 1, 0x02);                                 // THRI on with THR empty: pending at once
  expect(io.m.pic.master.irr & 0x10).toBe(0x10);
  expect(io.inb(U + 2)).toBe(0x02);
  expect(io.inb(U + 2)).toBe(0x01);                     // reading IIR cleared it
  io.outb(U + 0, 0x42);                                 // each transmit makes THR empty again
  expect(io.inb(U + 2)).toBe(0x02);
});

test('interrupt priorities: line status over received data over THR empty', () => {
  const io = portIo();
  setup8n1(io);
  io.outb(U + 2, 0x01);                                 // FIFO, trigger 1
  io.outb(U + 4, 0x10);                                 // loopback
  io.outb(U + 1, 0x07);
  for (let i = 0; i < 17; i++) io.outb(U, 0x30 + i);    // one byte too many: overrun
  expect(io.inb(U + 2)).toBe(0xc6);
  expect(io.inb(U + 5)).toBe(0x63);                     // DR, OE, THRE, TEMT; reading clears OE
  expect(io.inb(U + 2)).toBe(0xc4);
  let s = '';
  while (io.inb(U + 5) & 1) s += String.fromCharCode(io.inb(U));
  expect(s).toBe('0123456789:;<=>?');
  expect(io.inb(U + 2)).toBe(0xc2);
});

test('FIFO trigger level 4: one byte raises no RDI, then the character timeout after 4 character times', () => {
  const io = portIo();
  setup8n1(io);
  io.outb(U + 2, 0x47);
  io.outb(U + 4, 0x10);
  io.outb(U + 1, 0x01);
  io.outb(U, 0x61);
  expect(io.inb(U + 2)).toBe(0xc1);
  io.idle(4 * CHAR_8N1_115200 - 1);
  expect(io.inb(U + 2)).toBe(0xc1);
  io.idle(1);
  expect(io.inb(U + 2)).toBe(0xcc);
  expect(io.inb(U)).toBe(0x61);
  expect(io.inb(U + 2)).toBe(0xc1);
  for (let i = 0; i < 4; i++) io.outb(U, 0x62);          // four bytes reach the trigger level
  expect(io.inb(U + 2)).toBe(0xc4);
});

test('queued input arrives one byte per character time, not before its time, and raises IRQ 4', () => {
  const io = portIo();
  initPic(io);
  setup8n1(io);
  io.outb(U + 4, 0x08);
  io.outb(U + 1, 0x01);                                 // no FIFO: one byte at a time
  io.m.uart.queueInput([0x68, 0x69], 1_000_000);
  io.idle(999_999);
  expect(io.inb(U + 5) & 1).toBe(0);
  io.idle(1);
  expect(io.inb(U + 5) & 1).toBe(1);
  expect(io.m.pic.master.irr & 0x10).toBe(0x10);
  expect(io.inb(U + 2)).toBe(0x04);
  expect(io.inb(U)).toBe(0x68);
  io.idle(CHAR_8N1_115200 - 1);
  expect(io.inb(U + 5) & 1).toBe(0);                    // the line is still busy with the next byte
  io.idle(1);
  expect(io.inb(U)).toBe(0x69);
  expect(io.m.uart.lineBacklog).toBe(0);
});

test('the pull source is read only while the guest listens (IER.RDI) and its receiver is empty', () => {
  const io = portIo();
  setup8n1(io);
  const data = [0x31, 0x32];
  let reads = 0;
  io.m.uart.inputSource = { readByte: () => { reads++; return data.length > 0 ? data.shift()! : -1; } };
  io.idle(10_000_000);
  expect(reads).toBe(0);
  io.outb(U + 1, 0x01);
  io.idle(CHAR_8N1_115200);
  expect(reads).toBe(1);
  io.idle(10 * CHAR_8N1_115200);
  expect(reads).toBe(1);                                // receiver full: no more pulls
  expect(io.inb(U)).toBe(0x31);
  io.idle(CHAR_8N1_115200);
  expect(io.inb(U)).toBe(0x32);
  io.idle(CHAR_8N1_115200);
  expect(reads).toBe(3);                                // the third pull found the end of input
  expect(io.m.uart.inputEnded).toBe(true);
  io.idle(10 * CHAR_8N1_115200);
  expect(reads).toBe(3);
});

test('loopback ignores the line; divisor and frame set the character time', () => {
  const io = portIo();
  io.outb(U + 3, 0x80); io.outb(U, 0x0c); io.outb(U + 1, 0); io.outb(U + 3, 0x1f); // 9600, 8 bits, parity, 2 stop
  expect(io.m.uart.charTime).toBe(Math.floor(1e9 / 9600) * 12);
  io.outb(U + 4, 0x10);
  io.m.uart.queueInput([0x41]);
  io.idle(1e6);
  expect(io.inb(U + 5) & 1).toBe(0);
  io.outb(U + 4, 0x00);
  io.idle(1e6);
  expect(io.inb(U + 5) & 1).toBe(1);
});
