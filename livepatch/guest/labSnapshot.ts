// Starting the live-patching lab from a snapshot of its machine instead of booting: the machine
// (with its ground truth, which the consistency checker needs) comes from the snapshot; the lab's
// host side (hooks, livepatch core, recorder) is the new lab's own, as after a boot. So a lab may be
// saved only while its host side holds nothing the guest depends on: no module loaded, no host call
// queued or running. A snapshot is usable by a lab with the same image and command line.

import * as crypto from 'crypto';
import { SnapshotError } from '../../emulator/snapshot/snapshotError';
import { OpenedSnapshot } from '../../emulator/snapshot/machineSnapshot';
import { LabError, type LivepatchLab } from './livepatchLab';

function digest(bytes: Uint8Array): string {
  return crypto.createHash('sha256').update(bytes).digest('hex');
}

/** The lab's machine as snapshot bytes (before any modprobe). */
export function saveLabSnapshot(lab: LivepatchLab): Uint8Array {
  if (lab.modules.size > 0) throw new LabError('a snapshot of the lab must be taken before any module is loaded');
  if (lab.hostCalls.busy) throw new LabError('a snapshot of the lab cannot be taken while a host call is under way');
  return lab.machine.saveSnapshot({ name: lab.imageName, sha256: digest(lab.imageBytes), cmdline: lab.options.cmdline ?? '' });
}

/** Snapshots already checked and unpacked, by their bytes: a study's runs restore one many times. */
const opened = new WeakMap<Uint8Array, OpenedSnapshot>();

/**
 * Load `bytes` (saved by saveLabSnapshot) into a freshly built lab; `name` names the file in errors.
 * The bytes are unpacked once per Uint8Array and must not change afterwards.
 */
export function restoreLabSnapshot(lab: LivepatchLab, bytes: Uint8Array, name = 'snapshot'): void {
  if (lab.modules.size > 0 || lab.now !== 0) throw new LabError('a lab can start from a snapshot only before it has run');
  try {
    let snapshot = opened.get(bytes);
    if (snapshot === undefined) { snapshot = OpenedSnapshot.open(bytes); opened.set(bytes, snapshot); }
    const info = snapshot.info;
    const cmdline = lab.options.cmdline ?? '';
    if (info.cmdline !== cmdline) throw new LabError(`${name}: taken with the command line "${info.cmdline}", not "${cmdline}"`);
    if (lab.truth !== null && !info.truth) throw new LabError(`${name}: has no ground truth (save it from klp-lab livepatch with --snapshot-save)`);
    lab.machine.restoreSnapshot(snapshot, { sha256: digest(lab.imageBytes) });
  } catch (e) {
    if (e instanceof SnapshotError) throw new LabError(`${name}: ${e.message}`);
    throw e;
  }
}
