// REP string instructions in virtual time, against QEMU's -icount: fixtures/boot/repcount.elf prints
// the TSC deltas across REP STOS/MOVS/CMPS/SCAS for several counts (each iteration one instruction,
// plus the execution that finds RCX = 0; a REPE/REPNE stopping on ZF goes straight on). The console
// must equal the one recorded from QEMU (fixtures/scripts/record-qemu-icount.sh) and, where QEMU is
// installed (CI installs it), QEMU run again now. Also: an interrupt arrives between iterations.
import { spawnSync } from 'child_process';
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { Machine } from '../../emulator/machine';
import { loadPvh } from '../../emulator/loader/pvh';
import { startDirect64 } from '../../emulator/loader/direct64';

const ROOT = path.resolve(__dirname, '..', '..');
const IMAGE = path.join(ROOT, 'fixtures', 'boot', 'repcount.elf');
const GOLDEN = path.join(ROOT, 'test', 'golden', 'qemu-icount');

function klpConsole(): { text: string; status: number } {
  const m = new Machine();
  loadPvh(m, fs.readFileSync(IMAGE), IMAGE);
  const r = m.run(1e8);
  return { text: m.consoleText, status: r.exitStatus };
}

test('the golden was recorded from the committed image', () => {
  const [name, sum] = fs.readFileSync(path.join(GOLDEN, 'repcount.manifest'), 'utf8').split(' ');
  expect(name).toBe('repcount');
  expect(crypto.createHash('sha256').update(fs.readFileSync(IMAGE)).digest('hex')).toBe(sum);
});

test('TSC deltas across REP string instructions equal QEMU -icount\'s', () => {
  const got = klpConsole();
  expect(got.text).toBe(fs.readFileSync(path.join(GOLDEN, 'repcount.txt'), 'latin1'));
  expect(got.status).toBe(Number(fs.readFileSync(path.join(GOLDEN, 'repcount.status'), 'utf8')));
  expect(got.text).toMatch(/rep stosb {2}rcx=4096: 4101\n/);
});

const qemu = spawnSync('sh', ['-c', 'command -v qemu-system-x86_64'], { encoding: 'utf8' }).stdout.trim();
(qemu !== '' || process.env.CI ? test : test.skip)('QEMU -icount, run now, prints the same', () => {
  expect(qemu).not.toBe(''); // CI installs QEMU (.ci/run): missing there is a failure
  const r = spawnSync(qemu, ['-machine', 'pc', '-accel', 'tcg', '-cpu', 'qemu64', '-m', '128', '-smp', '1', '-display', 'none',
    '-no-reboot', '-monitor', 'none', '-serial', 'stdio', '-icount', 'shift=0,sleep=off',
    '-device', 'isa-debug-exit,iobase=0xf4,iosize=0x04', '-kernel', IMAGE], { timeout: 60000, stdio: ['ignore', 'pipe', 'pipe'] });
  expect(r.stdout.toString('latin1')).toBe(klpConsole().text);
}, 70000);

test('a long REP STOSQ hands back to the run loop between iterations and resumes where it stopped', () => {
  // rep stosq with RCX = 1000, then hlt; the run is cut into slices of 7 instructions.
  const code = Uint8Array.from([0xb9, 0xe8, 0x03, 0x00, 0x00, 0xf3, 0x48, 0xab, 0xf4]); // mov ecx,1000; rep stosq; hlt
  const m = new Machine();
  startDirect64(m, { code, entry: 0x100000 });
  m.regWrite('rdi', 0x200000n);
  m.regWrite('rax', 0x1122334455667788n);
  const seen: bigint[] = [];
  do { m.run(7); seen.push(m.regRead('rcx')); } while (m.regRead('rcx') !== 0n && seen.length < 200);
  // Each slice of 7 instructions is 7 iterations (the MOV takes the first slot of the first slice).
  expect(seen.slice(0, 3)).toEqual([1000n - 6n, 1000n - 13n, 1000n - 20n]);
  expect(m.regRead('rcx')).toBe(0n);
  expect(m.regRead('rdi')).toBe(0x200000n + 8000n);
  expect(Buffer.from(m.physRead(0x200000 + 7992, 8)!).readBigUInt64LE(0)).toBe(0x1122334455667788n);
});
