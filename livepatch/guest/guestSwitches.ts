// Tasks that switch themselves (klp_update_patch_state at the kernel exit, a kthread patch point
// or the idle loop) go on the lab's timeline with the path they took, named by the caller: the
// host never sees those switches otherwise, since the guest makes them.
import { RDI, RSP } from '../../emulator/cpu/registers';
import { HOOK_CODE } from '../../emulator/hooks/registry';
import type { SwitchPath } from '../report/timeline';
import type { LivepatchLab } from './livepatchLab';

export function watchGuestSwitches(lab: LivepatchLab): void {
  const record = (fixedPath?: SwitchPath) => () => {
    if (!lab.recorder.current) return;
    const regs = lab.machine.cpu.regs;
    const address = fixedPath ? lab.port.currentTaskAddress() : regs.addr(RDI);
    // Every return to user space passes here: the task's own flag is read before the task list is
    // walked, so only the few calls that switch a task pay for finding it.
    if (address === 0 || !lab.port.patchPendingAt(address)) return;
    const task = lab.port.taskRecordAt(address);
    if (!task) return;
    const klpTask = { address: task.addr, pid: task.pid, comm: task.name, kind: task.kind };
    let by = fixedPath;
    if (by === 'kthread-patch-point' && !lab.port.kthreadPatchPoints) return; // the point is off
    if (!by) {
      const caller = lab.image.kallsyms.functionOf(lab.access.u64(regs.addr(RSP))) ?? '';
      by = caller.includes('exit_to_user') ? 'exit-to-user' : caller.includes('idle') || caller.includes('cpu_startup') ? 'idle-loop' : 'kthread-patch-point';
    }
    lab.recorder.guestSwitched(klpTask, lab.now, by);
  };
  const update = lab.image.symbol('klp_update_patch_state');
  if (update !== undefined) lab.machine.hookAdd(HOOK_CODE, record(), update, update);
  // klp_update_patch_state may be inlined into the kthread patch point.
  const point = lab.image.symbol('klp_kthread_patch_point');
  if (point !== undefined) lab.machine.hookAdd(HOOK_CODE, record('kthread-patch-point'), point, point);
}
