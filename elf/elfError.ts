// The one error type of the ELF layer: its message is a single line '<file>: <problem>'.

export class ElfError extends Error {
  constructor(readonly fileName: string, readonly problem: string) {
    super(`${fileName}: ${problem}`);
    this.name = 'ElfError';
  }
}
