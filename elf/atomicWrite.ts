// Writes a file so that readers see either the old contents or the new, never a half-written
// file: the bytes go to a temporary file in the same directory, which is then renamed.

import * as fs from 'fs';
import * as path from 'path';

export function writeFileAtomic(target: string, bytes: Uint8Array, mode?: number): void {
  const dir = path.dirname(target);
  const temp = path.join(dir, `.${path.basename(target)}.${process.pid}.${Date.now()}.tmp`);
  try {
    const keepMode = mode ?? existingMode(target);
    fs.writeFileSync(temp, bytes, keepMode === undefined ? undefined : { mode: keepMode });
    fs.renameSync(temp, target);
  } catch (err) {
    try {
      fs.unlinkSync(temp);
    } catch {
      // the temporary file was never created
    }
    throw err;
  }
}

function existingMode(file: string): number | undefined {
  try {
    return fs.statSync(file).mode & 0o7777;
  } catch {
    return undefined;
  }
}
