// How a failure is reported: one line and an exit status, whatever threw it.

import { ElfError } from '../elf/elfError';

/** A problem with what the user asked for: bad arguments, a missing or unusable file. */
export class UserError extends Error {
  constructor(message: string, readonly status = 1) {
    super(message);
    this.name = 'UserError';
  }
}

/** Exit status for failures that are klp-lab's own fault (sysexits' EX_SOFTWARE). */
export const INTERNAL_ERROR_STATUS = 70;

export function describeFailure(err: unknown): { message: string; status: number } {
  if (err instanceof UserError) return { message: firstLine(err.message), status: err.status };
  if (err instanceof ElfError) return { message: firstLine(err.message), status: 1 };
  const e = err as NodeJS.ErrnoException;
  if (e && typeof e.code === 'string' && typeof e.path === 'string') {
    return { message: `${e.path}: ${e.code === 'ENOENT' ? 'No such file' : firstLine(e.message)}`, status: 1 };
  }
  const message = err instanceof Error ? err.message : String(err);
  return { message: `internal error: ${firstLine(message)}`, status: INTERNAL_ERROR_STATUS };
}

function firstLine(text: string): string {
  return text.split('\n').find((l) => l.trim() !== '')?.trim() ?? text;
}
