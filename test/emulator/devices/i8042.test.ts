// The i8042 and its PS/2 devices through ports 0x60/0x64 in the order Linux's i8042 and atkbd drivers
// use them, and the reset sources (0xFE pulse, output port, 0xCF9, port 0x92). Expected values are
// QEMU 7.2's (hw/input/pckbd.c, ps2.c; test/golden/pc/pcprobe-*.txt and reset-*.txt).
import { portIo, initPic } from './portIo';
import { STOP_RESET, STOP_NONE } from '../../../emulator/machine';

function kbc() {
  const io = portIo();
  const cmd = (c: number): void => io.outb(0x64, c);
  const data = (d: number): void => io.outb(0x60, d);
  /** Read what is in the output buffer: [byte, status & (OBF|AUX)] pairs. */
  const drain = (): [number, number][] => {
    const out: [number, number][] = [];
    for (let st = io.inb(0x64); st & 1; st = io.inb(0x64)) out.push([io.inb(0x60), st & 0x21]);
    return out;
  };
  return { io, cmd, data, drain };
}

test('i8042_controller_check / selftest / init: flush, 0xAA -> 0x55, command byte 0x61 as SeaBIOS leaves it', () => {
  const { io, cmd, data, drain } = kbc();
  expect(io.inb(0x64)).toBe(0x1c);
  expect(drain()).toEqual([]);
  cmd(0xaa); expect(drain()).toEqual([[0x55, 0x01]]);
  cmd(0x20); expect(drain()).toEqual([[0x61, 0x01]]);
  cmd(0x60); data(0x74);
  cmd(0x20); expect(drain()).toEqual([[0x74, 0x01]]);
});

test('i8042_check_aux: aux loopback, interface tests, AUX disable/enable bit in the command byte', () => {
  const { cmd, data, drain } = kbc();
  cmd(0xd3); data(0x5a); expect(drain()).toEqual([[0x5a, 0x21]]);
  cmd(0xa9); expect(drain()).toEqual([[0x00, 0x01]]);
  cmd(0xab); expect(drain()).toEqual([[0x00, 0x01]]);
  cmd(0xa7); cmd(0x20); expect(drain()[0][0] & 0x20).toBe(0x20);
  cmd(0xa8); cmd(0x20); expect(drain()[0][0] & 0x20).toBe(0);
});

test('atkbd_probe: GETID answers 0xAB 0x41 while translating, 0xAB 0x83 without; then the init commands', () => {
  const { cmd, data, drain } = kbc();
  data(0xf2); expect(drain().map((p) => p[0])).toEqual([0xfa, 0xab, 0x41]);
  cmd(0x60); data(0x05);                                 // no translation
  data(0xf2); expect(drain().map((p) => p[0])).toEqual([0xfa, 0xab, 0x83]);
  data(0xf0); data(0x00); expect(drain().map((p) => p[0])).toEqual([0xfa, 0xfa, 0x02]);
  for (const c of [0xf5, 0xed, 0x00, 0xf3, 0x00, 0xf4]) data(c);
  expect(drain().map((p) => p[0])).toEqual([0xfa, 0xfa, 0xfa, 0xfa, 0xfa, 0xfa]);
  data(0xff); expect(drain().map((p) => p[0])).toEqual([0xfa, 0xaa]);
  data(0xee); data(0x99); expect(drain().map((p) => p[0])).toEqual([0xee, 0xfe]);
});

test('PS/2 mouse through 0xD4: reset, ID, IntelliMouse and Explorer knocks, status request', () => {
  const { cmd, data, drain } = kbc();
  const aux = (...bytes: number[]): number[] => { for (const b of bytes) { cmd(0xd4); data(b); } return drain().map((p) => p[0]); };
  expect(aux(0xff)).toEqual([0xfa, 0xaa, 0x00]);
  expect(aux(0xf2)).toEqual([0xfa, 0x00]);
  aux(0xf3, 200, 0xf3, 100, 0xf3, 80);
  expect(aux(0xf2)).toEqual([0xfa, 0x03]);
  aux(0xf3, 200, 0xf3, 200, 0xf3, 80);
  expect(aux(0xf2)).toEqual([0xfa, 0x04]);
  expect(aux(0xe9)).toEqual([0xfa, 0x00, 0x02, 80]);
  expect(aux(0xf4, 0xe9)).toEqual([0xfa, 0xfa, 0x20, 0x02, 80]);
});

test('IRQ 1 and IRQ 12 through the PIC: one edge per byte, none while the interrupt bit is off', () => {
  const { io, cmd, data } = kbc();
  initPic(io);
  const irrBits = (): number => io.m.pic.master.irr & 0x02 | (io.m.pic.slave.irr & 0x10);
  cmd(0x60); data(0x44);                                 // translate, no interrupts
  data(0xf2);
  expect(irrBits()).toBe(0);
  io.inb(0x60); io.inb(0x60); io.inb(0x60);
  cmd(0x60); data(0x47);                                 // keyboard and aux interrupts
  data(0xf2);
  expect(irrBits()).toBe(0x02);
  io.m.pic.acknowledge(); io.outb(0x20, 0x20);
  io.inb(0x60);                                          // next byte: a new edge
  expect(irrBits()).toBe(0x02);
  io.m.pic.acknowledge(); io.outb(0x20, 0x20);
  io.inb(0x60); io.inb(0x60);
  cmd(0xd3); data(0xa5);                                 // Linux's AUX IRQ test
  expect(io.m.pic.slave.irr & 0x10).toBe(0x10);
  expect(io.inb(0x64) & 0x21).toBe(0x21);
  expect(io.inb(0x60)).toBe(0xa5);
});

test('output and input ports; a disabled keyboard port holds its data back', () => {
  const { cmd, data, drain } = kbc();
  cmd(0xd0); expect(drain()).toEqual([[0xcf, 0x01]]);
  cmd(0xc0); expect(drain()).toEqual([[0x80, 0x01]]);
  cmd(0xad); data(0xee);                                 // writing to the keyboard re-enables its port
  expect(drain()).toEqual([[0xee, 0x01]]);
  cmd(0xad); cmd(0xd4); data(0xf2);
  expect(drain().map((p) => p[0])).toEqual([0xfa, 0x00]); // aux data still flows
});

describe('reset sources end the run as QEMU -no-reboot', () => {
  const cases: [string, (io: ReturnType<typeof portIo>) => void][] = [
    ['i8042 pulse 0xFE', (io) => io.outb(0x64, 0xfe)],
    ['i8042 pulse 0xF0 (bit 0 low among others)', (io) => io.outb(0x64, 0xf0)],
    ['i8042 output port bit 0 cleared', (io) => { io.outb(0x64, 0xd1); io.outb(0x60, 0x0e); }],
    ['0xCF9 bit 2', (io) => { io.outb(0xcf9, 0x02); expect(io.inb(0xcf9)).toBe(0x02); io.outb(0xcf9, 0x06); }],
    ['port 0x92 bit 0 rising', (io) => { expect(io.inb(0x92)).toBe(0x02); io.outb(0x92, 0x03); }],
  ];
  test.each(cases)('%s', (_name, act) => {
    const io = portIo();
    io.outb(0x64, 0xff); io.outb(0xcf9, 0x02); // no-ops
    expect(io.m.cpu.stopReason).toBe(STOP_NONE);
    act(io);
    expect(io.m.cpu.stopReason).toBe(STOP_RESET);
    expect(io.m.stopMessage).toMatch(/^guest reset \(/);
  });
});
