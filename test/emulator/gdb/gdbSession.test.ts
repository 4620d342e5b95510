// The gdb session over a fake transport: every command family, hostile packets, and the server's
// connection rules. Runs the hello image (no gdb needed here).
import * as fs from 'fs';
import * as net from 'net';
import * as path from 'path';
import { ElfFile } from '../../../elf/elfFile';
import { Machine } from '../../../emulator/machine';
import { loadPvh } from '../../../emulator/loader/pvh';
import { GdbSession } from '../../../emulator/gdb/gdbSession';
import { GdbServer } from '../../../emulator/gdb/gdbServer';
import { GuestTasks } from '../../../emulator/gdb/guestTasks';
import { PacketReader, encodePacket, MAX_PACKET } from '../../../emulator/gdb/packetFraming';
import { unescapeBinary, bytesToHex, textToHex, hexToText } from '../../../emulator/gdb/hexCodec';
import { TARGET_XML, GDB_REGISTERS, G_PACKET_BYTES } from '../../../emulator/gdb/targetDescription';

const ROOT = path.resolve(__dirname, '..', '..', '..');
const HELLO = path.join(ROOT, 'fixtures', 'boot', 'hello.elf');
const KERNEL = path.join(ROOT, 'fixtures', 'kernel', 'kernel.elf');

class Harness {
  readonly m = new Machine({ onConsole: () => undefined });
  readonly elf: ElfFile;
  readonly session: GdbSession;
  private readonly reader = new PacketReader();
  readonly got: string[] = [];
  acks = 0;
  naks = 0;
  killed = 0;
  detached = 0;

  constructor(image: string) {
    const bytes = fs.readFileSync(image);
    loadPvh(this.m, bytes, image);
    this.elf = ElfFile.parse(bytes, image);
    this.session = new GdbSession(this.m, (b) => this.onSend(b), {
      tasks: GuestTasks.fromElf(this.elf),
      onKill: () => { this.killed++; },
      onDetach: () => { this.detached++; },
    });
  }

  private onSend(b: Buffer): void {
    for (const ev of this.reader.feed(b)) {
      if (ev.kind === 'ack') this.acks++;
      else if (ev.kind === 'nak') this.naks++;
      else if (ev.kind === 'packet') this.got.push(Buffer.from(unescapeBinary(Buffer.from(ev.payload, 'latin1'))!).toString('latin1'));
      else if (ev.kind === 'bad') throw new Error(`stub sent a bad frame: ${ev.reason}`);
      else throw new Error('stub sent a Ctrl-C byte');
    }
  }

  sym(name: string): bigint { return this.elf.symbols().find((s) => s.name === name)!.value; }

  /** Send one packet; returns the replies it produced synchronously. */
  cmd(payload: string): string[] {
    const n = this.got.length;
    this.session.receive(encodePacket(payload));
    return this.got.slice(n);
  }
  one(payload: string): string {
    const r = this.cmd(payload);
    if (r.length !== 1) throw new Error(`${payload}: ${r.length} replies`);
    return r[0];
  }

  /** Send a resume packet and wait (bounded) for its stop reply. */
  async resume(payload: string, whileRunning?: () => void): Promise<string> {
    const n = this.got.length;
    this.session.receive(encodePacket(payload));
    for (let i = 0; i < 20000 && this.got.length === n; i++) {
      await new Promise((r) => setImmediate(r));
      if (whileRunning !== undefined && this.session.isRunning) { whileRunning(); whileRunning = undefined; }
    }
    if (this.got.length === n) throw new Error(`${payload}: no stop reply`);
    return this.got[this.got.length - 1];
  }

  rip(): bigint { return this.m.regRead('rip'); }
}

jest.setTimeout(60000);

const hex64 = (v: bigint): string => BigInt.asUintN(64, v).toString(16);

describe('connection-level behaviour', () => {
  test('every packet is acknowledged; bad frames are NAKed; a NAK from gdb resends the last reply', () => {
    const h = new Harness(HELLO);
    expect(h.one('qC')).toBe('QC1');
    expect(h.acks).toBe(1);
    h.session.receive(Buffer.from('$qC#00'));
    expect(h.naks).toBe(1);
    h.session.receive(Buffer.from('-'));
    expect(h.got.slice(-1)).toEqual(['QC1']);
    expect(h.got.length).toBe(2);
    expect(h.one('QStartNoAckMode')).toBe('OK');
    const acks = h.acks;
    expect(h.one('qC')).toBe('QC1');
    expect(h.acks).toBe(acks); // no more acks once no-ack mode is on
  });

  test('qSupported, multiprocess ids, target description', () => {
    const h = new Harness(HELLO);
    const sup = h.one('qSupported:multiprocess+;swbreak+;hwbreak+;qRelocInsn+');
    expect(sup).toContain(`PacketSize=${MAX_PACKET.toString(16)}`);
    expect(sup).toContain('qXfer:features:read+');
    expect(sup).toContain('multiprocess+');
    expect(h.one('qC')).toBe('QCp1.1');
    expect(h.one('?')).toBe('T05thread:p1.1;');
    // Read the XML in small pieces, as gdb may.
    let xml = '';
    for (let off = 0; ; off += 0x100) {
      const r = h.one(`qXfer:features:read:target.xml:${off.toString(16)},100`);
      xml += r.slice(1);
      if (r[0] === 'l') break;
      expect(r[0]).toBe('m');
    }
    expect(xml).toBe(TARGET_XML);
    const regs = [...xml.matchAll(/<reg name="([^"]+)" bitsize="(\d+)"[^>]*regnum="(\d+)"/g)];
    expect(regs.map((r) => r[1])).toEqual(GDB_REGISTERS.map((r) => r.name));
    expect(regs.map((r) => Number(r[3]))).toEqual(GDB_REGISTERS.map((_, i) => i));
    for (const n of ['fs_base', 'gs_base', 'k_gs_base', 'cr0', 'cr3', 'cr4', 'cr8', 'efer', 'cs', 'ss']) expect(xml).toContain(`name="${n}"`);
    expect(h.one('qXfer:features:read:other.xml:0,100')).toBe('E00');
    expect(h.one('qXfer:features:read:target.xml:zz,100')).toBe('E22');
  });
});

describe('registers and memory', () => {
  test('g, p, P against the machine; unavailable and read-only registers', () => {
    const h = new Harness(HELLO);
    const g = h.one('g');
    expect(g.length).toBe(G_PACKET_BYTES * 2);
    const rip = Buffer.from(g.slice(16 * 16, 16 * 16 + 16), 'hex').readBigUInt64LE(0);
    expect(rip).toBe(h.rip());
    expect(g.slice(-8)).toBe('xxxxxxxx'); // mxcsr: not in the host API
    expect(h.one('p10')).toBe(g.slice(256, 272));
    expect(h.one('P0=8877665544332211')).toBe('OK');
    expect(h.m.regRead('rax')).toBe(0x1122334455667788n);
    expect(h.one('p0')).toBe('8877665544332211');
    expect(h.one('P12=00000000')).toBe('E01'); // cs: read-only through the host API
    expect(h.one('P0=1122')).toBe('E22'); // wrong size
    expect(h.one('Pzz=00')).toBe('E22');
    expect(h.one('p41')).toBe('xxxxxxxx'); // mxcsr
    expect(h.one('p42')).toBe('E01'); // beyond the description
    expect(h.one('pzz')).toBe('E22');
    // G with the same values changes nothing; with a new rax, writes it
    const g2 = '00000000000000ff' + g.slice(16);
    expect(h.one(`G${g2}`)).toBe('OK');
    expect(h.m.regRead('rax')).toBe(0xff00000000000000n);
    expect(h.one(`G${g2.slice(0, 20)}`)).toBe('E22');
  });

  test('m/M/X through the page tables, E14 on unmapped addresses, partial reads at a mapping edge', async () => {
    const h = new Harness(HELLO);
    const printk = h.sym('printk');
    expect(h.one(`Z0,${hex64(printk)},1`)).toBe('OK');
    expect(await h.resume('c')).toBe('T05thread:1;');
    expect(h.rip()).toBe(printk);
    expect(h.m.regRead('cr0') & 0x80000000n).toBe(0x80000000n); // paging is on
    const code = h.one(`m${hex64(printk)},10`);
    expect(code).toBe(bytesToHex(h.m.virtRead(Number(printk), 16)!));
    expect(h.one('m7fff00000000,8')).toBe('E14');
    expect(h.one('mffff800000000000,8')).toBe('E14');
    expect(h.one('m800000000000,8')).toBe('E14'); // non-canonical
    // Find the last mapped page below 1 GiB: a read that crosses into the hole returns the mapped part.
    let edge = -1;
    let big = 0x200000;
    while (big < 0x40000000 && h.m.virtRead(big, 1) !== null) big += 0x200000;
    for (let a = big - 0x200000; a < big; a += 0x1000) {
      if (h.m.virtRead(a, 1) !== null && h.m.virtRead(a + 0x1000, 1) === null) { edge = a + 0x1000; break; }
    }
    expect(edge).toBeGreaterThan(0);
    expect(h.one(`m${(edge - 4).toString(16)},8`).length).toBe(8);
    // writes
    const rsp = h.m.regRead('rsp');
    expect(h.one(`M${hex64(rsp - 64n)},4:deadbeef`)).toBe('OK');
    expect(Array.from(h.m.virtRead(Number(rsp - 64n), 4)!)).toEqual([0xde, 0xad, 0xbe, 0xef]);
    const bin = Buffer.from([0x23, 0x24, 0x7d, 0x2a]);
    const esc = Buffer.concat([Buffer.from(`X${hex64(rsp - 64n)},4:`), Buffer.from([0x7d, 0x03, 0x7d, 0x04, 0x7d, 0x5d, 0x7d, 0x0a])]);
    const n = h.got.length;
    // gdb escapes X data itself: frame it as sent, without a second escaping pass
    const sum = esc.reduce((a, b) => (a + b) & 0xff, 0);
    h.session.receive(Buffer.concat([Buffer.from('$'), esc, Buffer.from(`#${sum.toString(16).padStart(2, '0')}`)]));
    expect(h.got.slice(n)).toEqual(['OK']);
    expect(Buffer.from(h.m.virtRead(Number(rsp - 64n), 4)!)).toEqual(bin);
    expect(h.one(`X${hex64(rsp)},0:`)).toBe('OK');
    expect(h.one('M7fff00000000,1:00')).toBe('E14');
  });
});

describe('hostile and malformed packets get an error reply, never an exception', () => {
  test('specific cases', () => {
    const h = new Harness(HELLO);
    const cases: [string, string][] = [
      ['m', 'E22'], ['m100000', 'E22'], ['mzz,4', 'E22'], ['m1000,zz', 'E22'], ['m1000,ffffffff', 'E22'],
      ['m10000000000000000,4', 'E22'], ['M1000,4:00', 'E22'], ['M1000,1:zz', 'E22'], ['M1000,1', 'E22'],
      ['Z0,zz,1', 'E22'], ['Z0,1000', 'E22'], ['Z9,1000,1', ''], ['Zf,1000,1', 'E22'], ['Z5,1000,1', ''], ['Z2,1000,0', 'E01'],
      ['Z2,1000,100000', 'E01'], ['Z0,800000000000,1', 'E14'], ['Hg99', 'E01'], ['Hx1', 'E22'], ['Hgzz', 'E22'],
      ['T99', 'E01'], ['qRcmd,zz', 'E22'], ['qThreadExtraInfo,zz', 'E22'], ['vCont;x', 'E22'], ['C', 'E22'],
      ['Czz', 'E22'], ['cfffffffffffffffff', 'E22'], ['!', ''], ['qFooBar', ''], ['vFoo', ''], ['', ''],
    ];
    for (const [p, want] of cases) expect({ p, r: h.one(p) }).toEqual({ p, r: want });
  });

  test('a seeded stream of random packets and raw bytes: every frame answered, the session survives', () => {
    const h = new Harness(HELLO);
    let seed = 12345;
    const rnd = (n: number): number => { seed = (seed * 1103515245 + 12345) & 0x7fffffff; return seed % n; };
    const alphabet = 'gGpPmMXzZHTqQvDsScC?:;,=0123456789abcdefxX-#$}*';
    const safe = 'gpmMXzZHTqQv?'; // never resume or kill
    for (let i = 0; i < 3000; i++) {
      const len = rnd(40);
      let p = safe[rnd(safe.length)];
      for (let k = 0; k < len; k++) p += alphabet[rnd(alphabet.length)];
      if (rnd(10) === 0) h.session.receive(Buffer.from(Array.from({ length: rnd(64) }, () => rnd(256))));
      else h.session.receive(encodePacket(p));
    }
    expect(h.session.isRunning).toBe(false);
    expect(h.killed).toBe(0);
    expect(h.one('qC')).toBe('QC1');
  });
});

describe('execution control', () => {
  test('Z0/z0, step (s and vCont;s), Z1, continue to exit (W)', async () => {
    const h = new Harness(HELLO);
    const main = h.sym('main'), printk = h.sym('printk');
    expect(h.one(`Z1,${hex64(main)},1`)).toBe('OK');
    expect(await h.resume('vCont;c')).toBe('T05thread:1;');
    expect(h.rip()).toBe(main);
    expect(h.one(`z1,${hex64(main)},1`)).toBe('OK');
    const before = h.rip();
    expect(await h.resume('s')).toBe('T05thread:1;');
    const after1 = h.rip();
    expect(after1).toBeGreaterThan(before);
    expect(after1 - before).toBeLessThan(16n);
    expect(await h.resume('vCont;s:1')).toBe('T05thread:1;');
    expect(h.rip()).not.toBe(after1);
    // a breakpoint is hit again after stepping off it and coming back
    expect(h.one(`Z0,${hex64(printk)},1`)).toBe('OK');
    expect(await h.resume('c')).toBe('T05thread:1;');
    expect(h.rip()).toBe(printk);
    expect(h.one(`z0,${hex64(printk)},1`)).toBe('OK');
    await h.resume('s');
    expect(h.one(`Z0,${hex64(printk)},1`)).toBe('OK');
    expect(await h.resume('c')).toBe('T05thread:1;');
    expect(h.rip()).toBe(printk);
    expect(h.one(`z0,${hex64(printk)},1`)).toBe('OK');
    expect(await h.resume('c')).toBe('W01'); // exit code 0 -> QEMU-style status (0 << 1) | 1
    expect(h.one('?')).toBe('W01');
    expect(await h.resume('c')).toBe('W01');
  });

  test('Ctrl-C (0x03) during a continue stops with SIGINT', async () => {
    const h = new Harness(HELLO);
    const main = h.sym('main');
    h.one(`Z0,${hex64(main)},1`);
    await h.resume('c');
    expect(h.one(`M${hex64(main)},2:ebfe`)).toBe('OK'); // jmp . : the guest spins
    h.one(`z0,${hex64(main)},1`);
    const stop = await h.resume('c', () => h.session.receive(Buffer.from([0x03])));
    expect(stop).toBe('T02thread:1;');
    expect(h.rip()).toBe(main);
    expect(h.m.instructions).toBeGreaterThan(0);
  });

  test('write, read and access watchpoints report the watched address', async () => {
    const h = new Harness(KERNEL);
    const nr = h.sym('nr_tasks');
    h.one(`Z0,${hex64(h.sym('kthread_create'))},1`);
    expect(await h.resume('c')).toMatch(/^T05thread:[0-9a-f]+;$/);
    h.one(`z0,${hex64(h.sym('kthread_create'))},1`);
    expect(h.one(`Z2,${hex64(nr)},4`)).toBe('OK');
    expect(await h.resume('c')).toMatch(new RegExp(`^T05watch:${hex64(nr)};thread:[0-9a-f]+;$`));
    expect(h.m.virtRead(Number(BigInt.asIntN(64, nr)), 1)![0]).toBe(2);
    expect(h.one(`z2,${hex64(nr)},4`)).toBe('OK');
    expect(h.one(`Z3,${hex64(nr)},4`)).toBe('OK');
    expect(await h.resume('c')).toMatch(new RegExp(`^T05rwatch:${hex64(nr)};`));
    expect(h.one(`z3,${hex64(nr)},4`)).toBe('OK');
    expect(h.one(`Z4,${hex64(nr)},4`)).toBe('OK');
    expect(await h.resume('c')).toMatch(new RegExp(`^T05awatch:${hex64(nr)};`));
  });
});

describe('threads and monitor', () => {
  test('before the task list is mapped there is one thread; later one per task', async () => {
    const h = new Harness(KERNEL);
    expect(h.one('qfThreadInfo')).toBe('m1');
    expect(h.one('qsThreadInfo')).toBe('l');
    expect(hexToText(h.one('qThreadExtraInfo,1'))).toBe('CPU 0');
    h.one(`Z0,${hex64(h.sym('cpu_startup_entry'))},1`);
    await h.resume('c');
    const ids = h.one('qfThreadInfo');
    expect(ids).toMatch(/^m1(,[0-9a-f]+)+$/);
    for (const id of ids.slice(1).split(',')) {
      expect(h.one(`T${id}`)).toBe('OK');
      expect(hexToText(h.one(`qThreadExtraInfo,${id}`))).toMatch(new RegExp(`^pid ${parseInt(id, 16) - 1} \\S+ `));
    }
    expect(h.one('Hg2')).toBe('OK');
    const g = h.one('g');
    expect(g.slice(0, 16)).toBe('xxxxxxxxxxxxxxxx'); // rax is not saved in the switch frame
    expect(g.slice(7 * 16, 8 * 16)).not.toContain('x'); // rsp is
    expect(h.one('P0=0000000000000000')).toBe('E01'); // a sleeping task's registers are read-only
    expect(h.one('Hg0')).toBe('OK');
    expect(h.one('g').slice(0, 16)).not.toContain('x');
  });

  test('a corrupt task list (cycle, non-canonical or unmapped next) gives a bounded thread list', async () => {
    const h = new Harness(KERNEL);
    h.one(`Z0,${hex64(h.sym('cpu_startup_entry'))},1`);
    await h.resume('c');
    const good = h.one('qfThreadInfo').slice(1).split(',');
    expect(good.length).toBeGreaterThan(2);
    const init = h.sym('init_task'), tasksOff = h.sym('TASK_tasks'), nextOff = h.sym('LIST_next');
    const va = (a: bigint): number => Number(BigInt.asIntN(64, a));
    const next = va(init + tasksOff + nextOff);
    const saved = h.m.virtRead(next, 8)!;
    const put = (v: bigint): void => { expect(h.m.virtWrite(next, Buffer.from(BigInt.asUintN(64, v).toString(16).padStart(16, '0'), 'hex').reverse())).toBe(true); };
    const second = Buffer.from(saved).readBigUInt64LE(0);
    // the second task's next points back at itself: a cycle that never reaches the head
    const secondNext = va(second + nextOff);
    const saved2 = h.m.virtRead(secondNext, 8)!;
    expect(h.m.virtWrite(secondNext, saved)).toBe(true);
    expect(h.one('qfThreadInfo').slice(1).split(',')).toEqual(good.slice(0, 2));
    expect(h.m.virtWrite(secondNext, saved2)).toBe(true);
    put(0x0000800000000000n); // non-canonical
    expect(h.one('qfThreadInfo')).toBe('m1');
    put(0x00007fff00000000n + tasksOff); // canonical but unmapped
    expect(h.one('qfThreadInfo')).toBe('m1');
    expect(h.m.virtWrite(next, saved)).toBe(true);
    expect(h.one('qfThreadInfo').slice(1).split(',')).toEqual(good);
  });

  test('monitor help, tasks, regs, a registered command, unknown and failing commands', () => {
    const h = new Harness(HELLO);
    h.session.monitor.register('unwind', 'unwinder traces of the selected task', (args, ctx) => `unwind ${args.join(' ')} ${ctx.tasks.length}`);
    h.session.monitor.register('boom', 'fails', () => { throw new Error('nope'); });
    const run = (line: string): string => {
      const r = h.cmd(`qRcmd,${textToHex(line)}`);
      expect(r[r.length - 1]).toBe('OK');
      return r.slice(0, -1).map((p) => { expect(p[0]).toBe('O'); return hexToText(p.slice(1))!; }).join('');
    };
    const help = run('help');
    for (const c of ['help', 'tasks', 'regs', 'unwind', 'boom']) expect(help).toMatch(new RegExp(`^${c} `, 'm'));
    expect(run('unwind -v')).toBe('unwind -v 0\n');
    expect(run('tasks')).toContain('no task list');
    expect(run('regs')).toMatch(/^lstar +0x/m);
    expect(run('frobnicate')).toContain('unknown monitor command "frobnicate"');
    expect(run('boom')).toBe('monitor boom: nope\n');
  });

  test('D detaches (breakpoints dropped), k kills', () => {
    const h = new Harness(HELLO);
    h.one(`Z0,${hex64(h.sym('main'))},1`);
    expect(h.session.bps.count).toBe(1);
    expect(h.one('D;1')).toBe('OK');
    expect(h.detached).toBe(1);
    expect(h.session.bps.count).toBe(0);
    expect(h.cmd('k')).toEqual([]);
    expect(h.killed).toBe(1);
  });
});

describe('server', () => {
  const connect = (port: number): Promise<net.Socket> => new Promise((res, rej) => {
    const s = net.connect(port, '127.0.0.1', () => res(s));
    s.once('error', rej);
  });
  const readUntil = (s: net.Socket, re: RegExp): Promise<string> => new Promise((res, rej) => {
    let buf = '';
    const t = setTimeout(() => rej(new Error(`timeout waiting for ${re}: ${buf}`)), 10000);
    s.on('data', (d) => { buf += d.toString('latin1'); if (re.test(buf)) { clearTimeout(t); res(buf); } });
    s.on('close', () => { clearTimeout(t); res(buf); });
  });

  test('127.0.0.1 on an ephemeral port, one client at a time, kill ends the run', async () => {
    const m = new Machine({ onConsole: () => undefined });
    loadPvh(m, fs.readFileSync(HELLO), HELLO);
    const server = await GdbServer.listen(m, { port: 0, wait: true });
    expect(server.port).toBeGreaterThan(0);
    const a = await connect(server.port);
    const gotA = readUntil(a, /\$QC1#/);
    a.write(encodePacket('qC'));
    expect(await gotA).toContain('$QC1#');
    expect(server.attached).toBe(true);
    const b = await connect(server.port);
    expect(await readUntil(b, /^$/)).toBe(''); // closed without a word
    a.write(encodePacket('k'));
    const r = await server.done;
    expect(r.how).toBe('killed');
    a.destroy();
  });

  test('without --wait the guest runs to its exit with no client', async () => {
    const m = new Machine({ onConsole: () => undefined });
    loadPvh(m, fs.readFileSync(HELLO), HELLO);
    const server = await GdbServer.listen(m, { port: 0 });
    const r = await server.done;
    expect(r).toEqual({ how: 'exit', exitStatus: 1, message: 'guest exit status 1' });
  });

  test('detach lets the guest run to its end', async () => {
    const m = new Machine({ onConsole: () => undefined });
    loadPvh(m, fs.readFileSync(HELLO), HELLO);
    const server = await GdbServer.listen(m, { port: 0, wait: true });
    const a = await connect(server.port);
    const got = readUntil(a, /\$OK#/);
    a.write(encodePacket('D'));
    await got;
    a.end();
    expect((await server.done).how).toBe('exit');
  });
});

describe('runUnderGdb (the entry point for `klp-lab run --gdb`)', () => {
  test('reports the listening port and whether guest tasks are threads; runs to the end without a client', async () => {
    const { startGdbStub } = await import('../../../emulator/gdb/runUnderGdb');
    const start = async (image: string, wait: boolean): Promise<[string[], Awaited<ReturnType<typeof startGdbStub>>]> => {
      const m = new Machine({ onConsole: () => undefined });
      const bytes = fs.readFileSync(image);
      loadPvh(m, bytes, image);
      const lines: string[] = [];
      return [lines, await startGdbStub(m, bytes, image, { port: 0, wait, log: (l) => lines.push(l) })];
    };
    const [kl, ks] = await start(KERNEL, true);
    expect(kl[0]).toBe(`gdb: listening on 127.0.0.1:${ks.port} (waiting for gdb before running); guest tasks appear as threads`);
    expect((await ks.close()).how).toBe('closed');
    const [hl, hs] = await start(HELLO, false);
    expect(hl[0]).toBe(`gdb: listening on 127.0.0.1:${hs.port}`);
    expect(await hs.done).toEqual({ how: 'exit', exitStatus: 1, message: 'guest exit status 1' });
  });
});
