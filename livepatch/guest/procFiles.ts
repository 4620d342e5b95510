// `cat /proc/cmdline` and `cat /proc/meminfo` on the fixture kernel: its show function run by
// khostcall (proc_read) into proc_buf, as a reader's read() would run it in the reader's context.
import { LabError } from './labError';
import type { LivepatchLab } from './livepatchLab';

export function readProcFile(lab: LivepatchLab, file: 'cmdline' | 'meminfo', maxNs: number): string {
  const fn = lab.image.symbol('proc_read');
  const buf = lab.image.symbol('proc_buf');
  if (fn === undefined || buf === undefined) throw new LabError(`${lab.imageName}: the kernel image does not export ${fn === undefined ? 'proc_read' : 'proc_buf'}`);
  const which = file === 'cmdline' ? lab.host.proc.cmdline : lab.host.proc.meminfo;
  lab.area.installHostCode();
  let result: number | undefined;
  lab.hostCalls.post(fn, which, 0, (r) => {
    result = r;
    lab.machine.stop('proc read done');
  });
  lab.runUntil(lab.now + maxNs, () => result !== undefined);
  if (result === undefined) throw new LabError(`reading /proc/${file} did not finish within ${maxNs / 1e6} ms of virtual time`);
  if (result < 0) throw new LabError(`/proc/${file}: error ${result}`);
  return Buffer.from(lab.access.bytes(buf, result)).toString('latin1');
}
