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

/**
 * The environment variable that turns the WebAssembly tier on for every machine of the process (and
 * of study worker threads, which inherit the environment): the execution count at which 64-bit blocks
 * are translated to wasm (MachineOptions.wasmThreshold). Unset or 0: off.
 */
export const WASM_THRESHOLD_ENV = 'KLP_LAB_WASM_THRESHOLD';

export function wasmThresholdDefault(): number {
  const v = Number(process.env[WASM_THRESHOLD_ENV] ?? 0);
  return Number.isInteger(v) && v > 0 ? v : 0;
}
