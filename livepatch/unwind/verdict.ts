// Judging one reliable walk against the ground truth: the four classes of the unwinder study.
//   correct_reliable  claimed reliable, and the entries are exactly the true trace
//   wrong_reliable    claimed reliable, but the entries differ from the truth (the dangerous class)
//   refused           refused, although the unwinder's full walk matched the truth (over-cautious)
//   wrong_refused     refused, and the full walk was indeed wrong (the refusal protected livepatch)

export type VerdictClass = 'correct_reliable' | 'wrong_reliable' | 'refused' | 'wrong_refused';

export const VERDICT_CLASSES: readonly VerdictClass[] = ['correct_reliable', 'refused', 'wrong_reliable', 'wrong_refused'];

export function sameTrace(a: ArrayLike<number>, b: ArrayLike<number>): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * reliable: the walk returned >= 0. entries: what it stored. walkIps: the frames a plain walk
 * (no reliability rules) found, for judging a refusal. truth: the true entries.
 */
export function classify(reliable: boolean, entries: ArrayLike<number>, walkIps: ArrayLike<number>, truth: ArrayLike<number>): VerdictClass {
  if (reliable) return sameTrace(entries, truth) ? 'correct_reliable' : 'wrong_reliable';
  return sameTrace(walkIps, truth) ? 'refused' : 'wrong_refused';
}
