/**
 * What a snapshot holds: one named entry per part of the machine, each an object with
 * saveState(): a JSON-able plain object (numbers, strings, booleans, arrays, nested plain objects;
 * a Uint8Array for bulk bytes) and loadState(s). Adding a device or a state class to the snapshot is
 * one line here. Caches (TLB, decoded and compiled blocks) are not components: a restore flushes
 * them. Hooks, trace writers and console sinks are host-side and never saved.
 */
import type { Machine } from '../machine';
import { CallStackTruth, type TruthState } from '../truth/callStacks';
import type { MemoryState } from '../memory/physicalMemory';
import type { ListShapes } from './stateShape';

export interface Snapshottable {
  saveState(): object;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  loadState(s: any): void;
}

export interface SnapshotComponent {
  name: string;
  /** The machine's part (null: absent on this machine, allowed only for optional components). */
  of(m: Machine): Snapshottable | null;
  /** Saved only when present (ground truth exists only when turned on). */
  optional?: boolean;
  /** Keys (at any depth) whose arrays may vary in length, with the shape of one element. */
  lists?: ListShapes;
  /** The shape a saved state must have; default: the machine's own part's saveState(). */
  template?(m: Machine): object;
  /** Checks beyond the shape (sizes that must agree); returns what is wrong, or null. */
  check?(s: unknown, m: Machine): string | null;
}

export const SNAPSHOT_COMPONENTS: readonly SnapshotComponent[] = [
  { name: 'cpu', of: (m) => m.cpu, lists: { unimplemented: ['', 0] } },
  {
    name: 'memory', of: (m) => m.mem,
    template: () => ({ size: 0, present: new Uint8Array(0), bytes: new Uint8Array(0) }),
    check: (s, m) => checkMemory(s as MemoryState, m.mem.size),
  },
  { name: 'pic', of: (m) => m.pic },
  { name: 'pit', of: (m) => m.pit },
  { name: 'x87', of: (m) => m.cpu.x87 },
  { name: 'portB', of: (m) => m.portB },
  { name: 'uart', of: (m) => m.uart, lists: { recv: 0, line: [0, 0] } },
  { name: 'rtc', of: (m) => m.rtc },
  { name: 'i8042', of: (m) => m.i8042, lists: { queue: 0 } },
  { name: 'resetControl', of: (m) => m.resetControl },
  { name: 'debugExit', of: (m) => m.debugExit },
  { name: 'ioBus', of: (m) => m.io, lists: { unclaimed: [0, 0] } },
  {
    name: 'interrupts', of: (m) => m.intr,
    lists: { recent: { icount: 0, vector: 0, errorCode: 0, rip: 0, cpl: 0, cr2: 0, kind: 0 } },
  },
  { name: 'timerJitter', of: (m) => m.timerJitter },
  { name: 'runLoop', of: (m) => m.runLoop },
  {
    name: 'truth', of: (m) => m.truth, optional: true, lists: { stacks: [0, []] },
    template: (m) => new CallStackTruth(m.cpu, 1).saveState(),
    check: (s, m) => ((s as TruthState).stackSize === m.truth?.stackSize ? null : 'ground truth kept for another stack size'),
  },
];

function checkMemory(s: MemoryState, size: number): string | null {
  if (s.size !== size) return `memory of ${s.size} bytes, this machine has ${size}`;
  if (s.present.length !== size / 4096) return 'page map of the wrong size';
  let count = 0;
  for (const p of s.present) { if (p > 1) return 'page map with a bad entry'; count += p; }
  if (s.bytes.length !== count * 4096) return `${count} pages mapped but ${s.bytes.length} bytes stored`;
  return null;
}
