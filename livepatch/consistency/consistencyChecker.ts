// The consistency checker: proof, from the emulator's ground truth, that no task ever mixed the
// code a transition replaces with the code that replaces it. The consistency model's promise
// is per task and per patch: a task runs either the old versions of all the patch's functions
// or the new versions of all of them, never some of each. So whenever a task is seen running
// a function of either set, every address active on its stack (its instruction pointer and
// every return address, as the ground truth knows them, not as an unwinder guesses) must
// belong to one side only. At the end of a transition no task may still hold code of the
// side it left.

export interface CodeRange {
  start: number;
  /** Exclusive. */
  end: number;
  /** The function's name as reports show it, with its version ("old f", "new f"). */
  name: string;
}

/**
 * The two sides of one transition, oriented by its direction: when patching, `replaced` is
 * the code that ran before (original functions, or an older patch's versions) and `replacing`
 * the patch's own; when unpatching, the other way round.
 */
export interface TransitionSides {
  patch: string;
  replaced: CodeRange[];
  replacing: CodeRange[];
}

export interface Violation {
  time: number;
  task: string;
  patch: string;
  /** The side the task was found running (its innermost patched frame). */
  running: string;
  /** An active frame of the other side. */
  stillActive: string;
  kind: 'mixed' | 'left-behind' | 'switched-inside';
}

function find(ranges: CodeRange[], address: number): CodeRange | undefined {
  for (const r of ranges) if (address >= r.start && address < r.end) return r;
  return undefined;
}

export class ConsistencyChecker {
  private readonly transitions: TransitionSides[] = [];
  readonly violations: Violation[] = [];
  /** Checks made, for reports (a checker that never looked proves nothing). */
  checks = 0;

  /** Starts watching a transition's two sides (kept for the rest of the run). */
  watch(sides: TransitionSides): void {
    this.transitions.push(sides);
  }

  /** Whether an address is code of any watched transition (where to hook the checks). */
  isWatched(address: number): boolean {
    return this.transitions.some((t) => find(t.replaced, address) || find(t.replacing, address));
  }

  /**
   * One observation: `addresses` is the task's true stack, innermost first (the instruction
   * pointer, then each return address). `task` names it, or computes its name when a
   * violation needs one (naming can cost more than the check). Returns the violation, if any.
   */
  observe(time: number, task: string | (() => string), addresses: number[]): Violation | undefined {
    this.checks++;
    for (const t of this.transitions) {
      let replaced: CodeRange | undefined;
      let replacing: CodeRange | undefined;
      let innermostIsReplacing = false;
      for (const a of addresses) {
        const r = find(t.replaced, a);
        const n = r ? undefined : find(t.replacing, a);
        if (r && !replaced) replaced = r;
        if (n && !replacing) {
          replacing = n;
          if (!replaced) innermostIsReplacing = true;
        }
        if (replaced && replacing) {
          const v: Violation = {
            time, task: typeof task === 'string' ? task : task(), patch: t.patch, kind: 'mixed',
            running: innermostIsReplacing ? replacing.name : replaced.name,
            stillActive: innermostIsReplacing ? replaced.name : replacing.name,
          };
          this.violations.push(v);
          return v;
        }
      }
    }
    return undefined;
  }

  /**
   * A task the transition of `patch` has just switched (a stack check found it clean) must not
   * hold code of the side it left: the check looked in the wrong place. This is the hazard that
   * removed `immediate` in 4.16: a task asleep in an older immediate patch's version is
   * switched by a later patch whose check only looks for the newest older version.
   */
  observeSwitch(time: number, patch: string, task: string, addresses: number[]): Violation | undefined {
    const t = [...this.transitions].reverse().find((x) => x.patch === patch);
    if (!t) return undefined;
    this.checks++;
    for (const a of addresses) {
      const r = find(t.replaced, a);
      if (!r) continue;
      const v: Violation = { time, task, patch, kind: 'switched-inside', running: 'the target state', stillActive: r.name };
      this.violations.push(v);
      return v;
    }
    return undefined;
  }

  /**
   * At the end of the newest watched transition of `patch`, no task may still hold code of the
   * side it replaced.
   */
  observeCompletion(time: number, patch: string, stacks: Array<{ task: string; addresses: number[] }>): Violation[] {
    const t = [...this.transitions].reverse().find((x) => x.patch === patch);
    if (!t) return [];
    const left = t.replaced;
    const found: Violation[] = [];
    for (const { task, addresses } of stacks) {
      this.checks++;
      for (const a of addresses) {
        const r = find(left, a);
        if (!r) continue;
        const v: Violation = {
          time, task, patch, kind: 'left-behind',
          running: 'the target state',
          stillActive: r.name,
        };
        this.violations.push(v);
        found.push(v);
        break;
      }
    }
    return found;
  }
}

/** One line: when, who, and which two sides were found together. */
export function formatViolation(v: Violation): string {
  const when = `${(v.time / 1e6).toFixed(3)} ms`;
  if (v.kind === 'mixed') return `${when}: ${v.task} ran ${v.running} of '${v.patch}' with ${v.stillActive} still on its stack`;
  if (v.kind === 'switched-inside') return `${when}: '${v.patch}' switched ${v.task} while it held ${v.stillActive}`;
  return `${when}: '${v.patch}' completed while ${v.task} still held ${v.stillActive}`;
}
