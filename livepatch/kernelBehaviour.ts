// The two kernels klp-lab can behave like: 6.1 (the default) and 4.12, the release that merged
// the hybrid consistency model as posted in 2016 (../shared/REFERENCE.md parts C and E).

export type KernelVersion = '6.1' | '4.12';

export interface KernelBehaviour {
  version: KernelVersion;
  /** "signaling remaining tasks" every 15 failed attempts (6.1; added in 4.15). */
  signals: boolean;
  /** /sys/kernel/livepatch/<p>/force (6.1; added in 4.15). */
  force: boolean;
  /** klp_patch.immediate and klp_func.immediate (4.12 to 4.15 only). */
  immediate: boolean;
  /** Idle tasks get wake_up_if_idle() after a failed switch (6.1). */
  wakeIdle: boolean;
  /** pr_debug "initializing/completing ... transition" lines and 6.1 notice texts. */
  transitionDebugLines: boolean;
}

export function kernelBehaviour(version: KernelVersion): KernelBehaviour {
  if (version === '4.12') {
    return { version, signals: false, force: false, immediate: true, wakeIdle: false, transitionDebugLines: false };
  }
  return { version, signals: true, force: true, immediate: false, wakeIdle: true, transitionDebugLines: true };
}
