// The kernels klp-lab can behave like, each as its own source has it: 6.1 (the default), 6.4
// (6.1 plus switching at cond_resched()) and 4.12, the release that merged the hybrid
// consistency model as posted in 2016 (../shared/REFERENCE.md parts C and E). Two options are
// the seed's design alternatives, not any release: an architecture without
// HAVE_RELIABLE_STACKTRACE, and designated kthread patch points (the 2016 cover letter's
// option 2b). The version each feature arrived in is checked against the kernel's history.

export type KernelVersion = '6.4' | '6.1' | '4.12';
export const KERNEL_VERSIONS: readonly KernelVersion[] = ['6.4', '6.1', '4.12'];

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
  /**
   * cond_resched() calls __klp_sched_try_switch(), which checks current's own stack (6.4,
   * "livepatch,sched: Add livepatch task switching to cond_resched()"; absent in 6.3).
   */
  condReschedSwitch: boolean;
  /**
   * klp_check_stack words its own messages ("klp_check_stack: ... has an unreliable stack",
   * "... is sleeping on function ..."); 6.1 prints them from klp_try_switch_task.
   */
  checkStackMessages: boolean;
  /** exit_to_usermode_loop calls klp_update_patch_state after do_signal (4.12). */
  updateAfterSignal: boolean;
  /**
   * 4.12's klp_module_coming/going act only for a patch that is enabled or in transition,
   * and run no callbacks (callbacks came in 4.15).
   */
  moduleNotifiersEnabledOnly: boolean;
}

/** What klp-lab can model that no kernel release has: the seed's options, as experiments. */
export interface KernelExperiments {
  /** HAVE_RELIABLE_STACKTRACE (true in every x86_64 release modelled). */
  reliableStacktrace: boolean;
  /** The seed's option 2b: kthreads switch at a designated point of their loops. */
  kthreadPatchPoints: boolean;
}

export const DEFAULT_EXPERIMENTS: KernelExperiments = { reliableStacktrace: true, kthreadPatchPoints: false };

export function kernelBehaviour(version: KernelVersion): KernelBehaviour {
  if (version === '4.12') {
    return {
      version, signals: false, force: false, immediate: true, wakeIdle: false, transitionDebugLines: false,
      condReschedSwitch: false, checkStackMessages: true, updateAfterSignal: true, moduleNotifiersEnabledOnly: true,
    };
  }
  return {
    version, signals: true, force: true, immediate: false, wakeIdle: true, transitionDebugLines: true,
    condReschedSwitch: version === '6.4', checkStackMessages: false, updateAfterSignal: false, moduleNotifiersEnabledOnly: false,
  };
}

/** The release that added each livepatch feature a patch module or an option can ask for. */
export const FEATURE_SINCE = {
  orc: '4.14', // x86 ORC unwinder (HAVE_RELIABLE_STACKTRACE with ORC)
  shadowVariables: '4.13', // klp_shadow_* (kernel/livepatch/shadow.c)
  callbacks: '4.15', // klp_callbacks (pre/post patch/unpatch)
  atomicReplace: '5.1', // klp_patch.replace
  systemStates: '5.5', // klp_patch.states, klp_get_state
} as const;

/** immediate existed from 4.12 (the consistency model) until 4.16 removed it. */
const IMMEDIATE_UNTIL = '4.15';

function versionNumber(v: string): number {
  const [major, minor] = v.split('.').map(Number);
  return major * 1000 + minor;
}

/** Whether `version` has a feature added in `since`. */
export function hasFeature(version: KernelVersion, since: string): boolean {
  return versionNumber(version) >= versionNumber(since);
}

export function hasImmediate(version: KernelVersion): boolean {
  return hasFeature(version, '4.12') && versionNumber(version) <= versionNumber(IMMEDIATE_UNTIL);
}

/** A one-line refusal of a feature the chosen kernel never had, or null. */
export function missingFeature(version: KernelVersion, feature: keyof typeof FEATURE_SINCE, what: string): string | null {
  const since = FEATURE_SINCE[feature];
  return hasFeature(version, since) ? null : `${what} came in Linux ${since}: --kernel ${version} does not have it`;
}
