// `node dist/test/helpers/linux/compareLinux.js [--append WORDS] [--max-insns N]`: the bring-up tool.
// Boots the real-Linux fixture in QEMU (cached) and in klp-lab, prints klp-lab's console as it comes,
// then the comparison (lines only on one side, timestamp differences), the stop reason, the
// unimplemented instructions met, and the speed.

import * as fs from 'fs';
import { linuxFixture, LINUX_CMDLINE } from './linuxFixture';
import { qemuLinuxConsole } from './qemuLinux';
import { bootLinux, describeStop } from '../../../livepatch/linux/linuxBoot';
import { diffConsoles, formatConsoleDiff } from './consoleDiff';
import { formatReport } from '../../../emulator/report';

function main(): void {
  const args = process.argv.slice(2);
  const opt = (name: string): string | undefined => { const i = args.indexOf(name); return i >= 0 ? args[i + 1] : undefined; };
  const extra = opt('--append');
  const append = extra ? `${LINUX_CMDLINE} ${extra}` : LINUX_CMDLINE;
  const f = linuxFixture();
  const q = qemuLinuxConsole(f, append);
  const k = bootLinux(f.kernel.vmlinux, f.initramfs, { append, maxInsns: Number(opt('--max-insns') ?? 20e9), onLine: (l) => process.stdout.write(`${l}\n`) });
  const out = opt('--save');
  if (out) fs.writeFileSync(out, k.console, 'latin1');
  process.stdout.write(`\n${formatConsoleDiff(diffConsoles(q.console, k.console))}\n`);
  process.stdout.write(`stop: ${describeStop(k.result)} after ${k.instructions} instructions, ${k.seconds.toFixed(1)} s, ${(k.instructions / k.seconds / 1e6).toFixed(1)} MIPS\n`);
  if (k.unimplemented.size > 0) process.stdout.write(`unimplemented: ${[...k.unimplemented].map(([n, c]) => `${n} x${c}`).join(', ')}\n`);
  if (args.includes('--report')) process.stdout.write(formatReport(k.machine, k.result, 1));
}

main();
