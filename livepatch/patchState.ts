// Per-task patch states (include/linux/livepatch.h).

export const KLP_UNDEFINED = -1;
export const KLP_UNPATCHED = 0;
export const KLP_PATCHED = 1;
export type PatchState = typeof KLP_UNDEFINED | typeof KLP_UNPATCHED | typeof KLP_PATCHED;

export function directionName(target: PatchState): 'patching' | 'unpatching' {
  return target === KLP_PATCHED ? 'patching' : 'unpatching';
}

/** Kernel error numbers that livepatch returns or logs. */
export const EINVAL = 22;
export const EBUSY = 16;
export const ENODEV = 19;
export const ENOENT = 2;
export const ENOSYS = 38;
export const EADDRINUSE = 98;
export const ENOMEM = 12;
