// The snapshot options of `klp-lab run`: `--snapshot-save T FILE` saves the whole machine when
// virtual time reaches T and runs on; `--snapshot-restore FILE` starts from a snapshot instead of
// booting (IMAGE optional: when given, it must be the image the snapshot was taken of).

import * as crypto from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { writeFileAtomic } from '../../elf/atomicWrite';
import { Machine, STOP_LIMIT, type RunResult } from '../../emulator/machine';
import { readSnapshotInfo, type SnapshotImage } from '../../emulator/snapshot/machineSnapshot';
import { SnapshotError } from '../../emulator/snapshot/snapshotError';
import { UserError } from '../userError';
import { parseVirtualTime } from './livepatch/options';

export interface SnapshotSave { at: number; file: string }

export function parseSnapshotSave(value: unknown): SnapshotSave | null {
  if (value === undefined) return null;
  const v = Array.isArray(value) ? value.map(String) : [String(value)];
  if (v.length !== 2 || v[1] === '') throw new UserError('--snapshot-save takes a virtual time and a file: --snapshot-save 12ms FILE');
  return { at: parseVirtualTime(v[0], '--snapshot-save'), file: v[1] };
}

export function imageOf(bytes: Uint8Array, name: string, cmdline = ''): SnapshotImage {
  return { name: path.basename(name), sha256: crypto.createHash('sha256').update(bytes).digest('hex'), cmdline };
}

/** A machine restored from FILE (sized from its header), checked against the image when one is given. */
export function machineFromSnapshot(file: string, image: SnapshotImage | null, onConsole: (b: number) => void): Machine {
  let snap: Uint8Array;
  try { snap = fs.readFileSync(file); } catch (e) {
    throw new UserError(`${file}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'No such file' : (e as Error).message}`);
  }
  try {
    const info = readSnapshotInfo(snap);
    const m = new Machine({ memory: info.memory, onConsole });
    m.restoreSnapshot(snap, image !== null ? { sha256: image.sha256 } : {});
    return m;
  } catch (e) {
    if (e instanceof SnapshotError) throw new UserError(`${file}: ${e.message}`);
    throw e;
  }
}

/**
 * Run at most `maxInsns` instructions, saving the machine to `save.file` when virtual time reaches
 * `save.at` (the run stops there, saves, and goes on). `saved` is false when the run ended first.
 */
export function runSavingSnapshot(m: Machine, maxInsns: number, save: SnapshotSave, image: SnapshotImage | null): { r: RunResult; saved: boolean } {
  const start = m.instructions;
  if (save.at < m.cpu.icount) throw new UserError(`--snapshot-save: virtual time is already ${m.cpu.icount} ns, past ${save.at}`);
  const first = m.run(maxInsns, save.at);
  if (first.reason !== STOP_LIMIT || m.cpu.icount < save.at) return { r: first, saved: false };
  const bytes = m.saveSnapshot(image ?? undefined);
  try { writeFileAtomic(save.file, bytes); } catch (e) { throw new UserError(`${save.file}: ${(e as Error).message}`); }
  process.stderr.write(`klp-lab: snapshot at ${m.cpu.icount} ns of virtual time (${m.instructions} instructions) written to ${save.file} (${bytes.length} bytes)\n`);
  const rest = m.run(maxInsns - (m.instructions - start));
  return { r: { ...rest, instructions: m.instructions - start }, saved: true };
}
