// What a fixture lab is asked to be: the kernel release modelled, the reliable unwinder, and the
// experiments no release has; and the combinations no release had, refused in one line.
import { hasImmediate, missingFeature, type KernelExperiments, type KernelVersion } from '../kernelBehaviour';
import type { LogOptions } from '../klpLog';

/**
 * The reliable unwinder behind klp_try_switch_task: frame pointer or ORC as Linux has them, or
 * 'unsound', a frame-pointer walk that ignores pt_regs frames (an experiment's broken control).
 */
export type LabUnwinder = 'fp' | 'orc' | 'unsound';

export interface LabOptions {
  kernel?: KernelVersion;
  unwinder?: LabUnwinder;
  /** 4.12 only: every patch is enabled as `immediate` (no consistency model), whatever it says. */
  immediate?: boolean;
  /** Seeded timer-interrupt latency (see MachineOptions.timerJitter). */
  timerJitter?: { seed: number; maxNs: number };
  /** The PVH command line (the fixture kernel reads scale=N and stats). */
  cmdline?: string;
  log?: Partial<LogOptions>;
  /** Keep the emulator's ground truth of call stacks (for the consistency checker). */
  truth?: boolean;
  /** The guest's console lines also go to the kernel log (core.log), as printk's go to dmesg. */
  kmsg?: boolean;
  /** The seed's design options (no kernel release has them): see KernelExperiments. */
  experiments?: Partial<KernelExperiments>;
}

/** The one-line refusal of a kernel/unwinder/option combination no release had, or null. */
export function unsupportedCombination(kernel: KernelVersion, unwinder: LabUnwinder | undefined, immediate: boolean | undefined): string | null {
  if (unwinder === 'orc') {
    const missing = missingFeature(kernel, 'orc', 'the ORC unwinder');
    if (missing) return missing;
  }
  if (immediate && !hasImmediate(kernel)) return `immediate patches exist only in Linux 4.12 to 4.15 (4.16 removed them): --kernel ${kernel} does not have them`;
  return null;
}
