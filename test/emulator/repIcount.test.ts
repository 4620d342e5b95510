// REP string instructions in virtual time, against QEMU's -icount: fixtures/boot/repcount.elf prints
// the TSC deltas across REP STOS/MOVS/CMPS/SCAS for several counts (each iteration one instruction,
// plus the execution that finds RCX = 0; a REPE/REPNE stopping on ZF goes straight on). The console
// must equal the one recorded from QEMU (fixtures/scripts/record-qemu-icount.sh) and, where QEMU is
// installed (CI installs it), QEMU run again now. Also: an interrupt arrives between iterations.
import { Machine } from '../../emulator/machine';
import { startDirect64 } from '../../emulator/loader/direct64';
import { icountImage } from '../helpers/qemuIcountGolden';

const img = icountImage('repcount', 1e8);

test('the golden was recorded from the committed image', () => {
  expect(img.golden.name).toBe('repcount');
  expect(img.imageSha256).toBe(img.golden.sha256);
});

test('TSC deltas across REP string instructions equal QEMU -icount\'s', () => {
  const got = img.klpConsole();
  expect(got.text).toBe(img.golden.text);
  expect(got.status).toBe(img.golden.status);
  expect(got.text).toMatch(/rep stosb {2}rcx=4096: 4101\n/);
});

(img.qemu !== '' || process.env.CI ? test : test.skip)('QEMU -icount, run now, prints the same', () => {
  expect(img.qemu).not.toBe(''); // CI installs QEMU (.ci/run): missing there is a failure
  expect(img.qemuConsole()).toBe(img.klpConsole().text);
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

test('a REP count above 2^53 goes down by exactly one per iteration (counted on RCX\'s halves)', () => {
  // mov rcx, 0x1000000000000000; rep movsb; hlt
  const code = Uint8Array.from([0x48, 0xb9, 0, 0, 0, 0, 0, 0, 0, 0x10, 0xf3, 0xa4, 0xf4]);
  const m = new Machine();
  startDirect64(m, { code, entry: 0x100000 });
  m.regWrite('rsi', 0x200000n);
  m.regWrite('rdi', 0x300000n);
  m.run(10);
  expect(m.regRead('rcx')).toBe(0x1000000000000000n - 9n);
  m.run(10);
  expect(m.regRead('rcx')).toBe(0x1000000000000000n - 19n);
  expect(m.regRead('rdi')).toBe(0x300000n + 19n);
});
