/**
 * Saving the whole machine to bytes and restoring it: every component of components.ts, with the
 * image it booted and its configuration. A restored machine runs on exactly as the saved one did
 * (console, registers, memory, instruction counts, exit status, trace) as long as both run the same
 * run() calls from there. Call these between run() calls, never from inside a hook.
 *
 * Not saved, by design: caches (TLB, decoded and compiled blocks: flushed on restore), hooks, trace
 * writers, block observers and the console sink (host-side: whoever restores re-attaches them), the
 * console bytes printed before the snapshot, and host tuning (maxBlock, compileThreshold).
 */
import type { Machine } from '../machine';
import { SNAPSHOT_COMPONENTS, type SnapshotComponent } from './components';
import { decodeSnapshot, encodeSnapshot, readHeader, type DecodedSnapshot, type SnapshotHeader } from './snapshotFormat';
import { SnapshotError } from './snapshotError';
import { shapeMismatch } from './stateShape';

/** The image a machine booted, recorded in its snapshots. */
export interface SnapshotImage {
  name: string;
  /** SHA-256 of the image file, lowercase hex. */
  sha256: string;
  /** The kernel command line it was booted with. */
  cmdline?: string;
}

export interface SnapshotInfo {
  image: { name: string; sha256: string };
  memory: number;
  cmdline: string;
  virtualTime: number;
  instructions: number;
  components: string[];
  /** Whether ground truth was saved (and, on restore, loaded into the machine's truth). */
  truth: boolean;
}

export interface SnapshotExpectation {
  /** Refuse a snapshot of another image (SHA-256, lowercase hex). */
  sha256?: string;
}

export function saveMachineSnapshot(m: Machine, image?: SnapshotImage): Uint8Array {
  const states: Record<string, unknown> = {};
  const names: string[] = [];
  for (const c of SNAPSHOT_COMPONENTS) {
    const part = c.of(m);
    if (part === null) continue;
    states[c.name] = part.saveState();
    names.push(c.name);
  }
  return encodeSnapshot({
    image: { name: image?.name ?? '', sha256: image?.sha256 ?? '' },
    machine: { memory: m.mem.size, cmdline: image?.cmdline ?? '' },
    virtualTime: m.cpu.icount,
    instructions: m.instructions,
    components: names,
  }, states);
}

/** The header of a snapshot (checked: magic, version, checksum), e.g. to size a machine for it. */
export function readSnapshotInfo(bytes: Uint8Array): SnapshotInfo {
  return infoOf(readHeader(bytes));
}

/**
 * A snapshot checked and unpacked once, to restore many machines from (a study's runs) with bulk
 * copies only. Loading never changes it.
 */
export class OpenedSnapshot {
  private constructor(readonly decoded: DecodedSnapshot) {}
  static open(bytes: Uint8Array): OpenedSnapshot { return new OpenedSnapshot(decodeSnapshot(bytes)); }
  /** One already unpacked (by another thread: its bytes may be shared memory, which loading only reads). */
  static ofDecoded(decoded: DecodedSnapshot): OpenedSnapshot { return new OpenedSnapshot(decoded); }
  get info(): SnapshotInfo { return infoOf(this.decoded.header); }
}

/**
 * Load a snapshot into `m`, whose memory size must be the snapshot's. Everything is checked before
 * anything is loaded, so a refused snapshot (SnapshotError) leaves the machine as it was.
 */
export function restoreMachineSnapshot(m: Machine, snapshot: Uint8Array | OpenedSnapshot, expect: SnapshotExpectation = {}): SnapshotInfo {
  const { header, states } = snapshot instanceof OpenedSnapshot ? snapshot.decoded : decodeSnapshot(snapshot);
  const info = infoOf(header);
  if (expect.sha256 !== undefined && header.image.sha256 !== '' && header.image.sha256 !== expect.sha256) {
    throw new SnapshotError(`the snapshot is of another image (${header.image.name || 'unnamed'}, sha256 ${header.image.sha256.slice(0, 16)}...)`);
  }
  if (header.machine.memory !== m.mem.size) {
    throw new SnapshotError(`the snapshot has ${header.machine.memory} bytes of memory, this machine ${m.mem.size}`);
  }
  const known = new Set(SNAPSHOT_COMPONENTS.map((c) => c.name));
  for (const name of Object.keys(states)) if (!known.has(name)) throw new SnapshotError(`unknown component '${name}' in the snapshot`);
  const loads: [SnapshotComponent, unknown][] = [];
  for (const c of SNAPSHOT_COMPONENTS) {
    const s = states[c.name];
    if (s === undefined) {
      if (c.optional) continue;
      throw new SnapshotError(`component '${c.name}' is missing from the snapshot`);
    }
    const part = c.of(m);
    if (part === null) continue; // optional and off here (truth): the saved state is not wanted
    const template = c.template ? c.template(m) : part.saveState();
    const why = shapeMismatch(template, s, c.lists ?? {}, c.name) ?? c.check?.(s, m) ?? null;
    if (why !== null) throw new SnapshotError(`component '${c.name}' has the wrong shape: ${why}`);
    loads.push([c, s]);
  }
  // Caches first: the block cache forgets every decoded page, the TLB is flushed by the CPU's load.
  m.cache.clear();
  for (const [c, s] of loads) c.of(m)!.loadState(s);
  // Truth on here but not saved: start it empty rather than keep another run's frames.
  if (m.truth !== null && states.truth === undefined) m.truth.loadState({ stackSize: m.truth.stackSize, events: 0, stacks: [] });
  info.truth = m.truth !== null && states.truth !== undefined;
  m.cpu.mmu.flush();
  m.cpu.exit = true;
  return info;
}

function infoOf(h: SnapshotHeader): SnapshotInfo {
  return {
    image: h.image, memory: h.machine.memory, cmdline: h.machine.cmdline, virtualTime: h.virtualTime,
    instructions: h.instructions, components: h.components, truth: h.components.includes('truth'),
  };
}
