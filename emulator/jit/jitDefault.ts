/**
 * The process-wide default of MachineOptions.jit. `--no-jit` sets the environment variable
 * KLP_LAB_NO_JIT=1, which study worker threads inherit with the rest of the environment, so every
 * machine of the run, in any worker, uses the interpreter. The variable may also be set by hand.
 */
export const NO_JIT_ENV = 'KLP_LAB_NO_JIT';

export function jitDefault(): boolean {
  return process.env[NO_JIT_ENV] !== '1';
}

export function setJitDefault(on: boolean): void {
  if (on) delete process.env[NO_JIT_ENV];
  else process.env[NO_JIT_ENV] = '1';
}

/** The `--jit` yargs option (`--no-jit` turns translation off), shared by the commands that run guests. */
export const JIT_OPTION = {
  type: 'boolean' as const,
  default: true,
  describe: '--no-jit: run guest code in the interpreter only (the reference the JIT is tested against; slower)',
};

/** Apply a parsed `--jit` value (false from `--no-jit`) to the process default. */
export function applyJitOption(args: { jit?: unknown }): void {
  if (args.jit === false) setJitDefault(false);
}
