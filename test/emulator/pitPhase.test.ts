// When IRQ 0 arrives in virtual time, against QEMU's -icount: fixtures/boot/pitphase.elf loads PIT
// channel 0 in modes 2, 3 and 4 with several divisors and prints, for the first ticks, the TSC in
// the IRQ 0 handler minus the TSC right after the load, spinning and halting. QEMU converts between
// nanoseconds and PIT ticks with truncation both ways and evaluates OUT at the scheduled time, which
// puts every mode-2 interrupt one PIT tick (838 ns) after its period boundary: the console must equal
// the one recorded from QEMU (fixtures/scripts/record-qemu-icount.sh) and QEMU run again now.
import { icountImage } from '../helpers/qemuIcountGolden';

const img = icountImage('pitphase', 2e9);

test('the golden was recorded from the committed image', () => {
  expect(img.golden.name).toBe('pitphase');
  expect(img.imageSha256).toBe(img.golden.sha256);
});

test('IRQ 0 arrives at the instruction QEMU -icount delivers it at, in modes 2, 3 and 4', () => {
  const got = img.klpConsole();
  expect(got.text).toBe(img.golden.text);
  expect(got.status).toBe(img.golden.status);
  // Linux's HZ=250 tick: the first interrupt one PIT tick after 4773 ticks (4,000,267 ns), plus the handler's way to its RDTSC.
  expect(got.text).toMatch(/mode 2 divisor  4773 spinning: 4001105 8001333 /);
});

(img.qemu !== '' || process.env.CI ? test : test.skip)('QEMU -icount, run now, prints the same', () => {
  expect(img.qemu).not.toBe(''); // CI installs QEMU (.ci/run): missing there is a failure
  expect(img.qemuConsole()).toBe(img.klpConsole().text);
}, 70000);
