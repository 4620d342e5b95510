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
 * The environment variable that sets the WebAssembly tier for every machine of the process (and of
 * study worker threads, which inherit the environment): the execution count at which 64-bit blocks
 * are translated to wasm (MachineOptions.wasmThreshold); 0 turns the tier off. Unset: WASM_THRESHOLD.
 */
export const WASM_THRESHOLD_ENV = 'KLP_LAB_WASM_THRESHOLD';
/**
 * The default: blocks that ran a thousand times. On real Linux's boot, thresholds of 500 to 2,000
 * gave the same time within the noise; 300 and lower cost more in module compiles than they saved.
 */
export const WASM_THRESHOLD = 1000;

/** The environment does not set the threshold (the variable is missing or empty). */
function wasmThresholdUnset(): boolean {
  const v = process.env[WASM_THRESHOLD_ENV];
  return v === undefined || v === '';
}

/** The environment's threshold, or null when it is not a whole number (the command line refuses it). */
function wasmThresholdEnv(): number | null {
  if (wasmThresholdUnset()) return WASM_THRESHOLD;
  const v = process.env[WASM_THRESHOLD_ENV]!;
  return /^\d+$/.test(v) ? Number(v) : null;
}

export function wasmThresholdDefault(): number {
  return wasmThresholdEnv() ?? WASM_THRESHOLD;
}

/** Why the environment's WebAssembly threshold is unusable, or null (checked as the command line starts). */
export function wasmThresholdEnvProblem(): string | null {
  return wasmThresholdEnv() === null
    ? `${WASM_THRESHOLD_ENV} must be a whole number of executions (0 turns the WebAssembly tier off), not '${process.env[WASM_THRESHOLD_ENV]}'`
    : null;
}

/**
 * The default of `klp-lab livepatch study` on the fixture kernel: no WebAssembly tier, unless
 * KLP_LAB_WASM_THRESHOLD says otherwise. Set through the environment, so that the study's worker
 * threads inherit it.
 *
 * The tier pays where code runs a few thousand times in one long run (real Linux's boot: 3.3x the
 * interpreter with it, 2.6x without). A study runs the same code in run after run, and the JS
 * translations it shares between runs (sharedCode.ts) soon cover it, while the tier keeps a wholly
 * inline block until 100,000 executions and runs it alone, entered from the run loop, where the JS
 * translator links it into a trace. Measured at --jobs 1, with the tier against without: the
 * 200-run study 9.1-9.8 s against 8.1-8.5 s, the 1,000-run study 42.1 s against 35.9-36.8 s.
 * Real Linux's study keeps the tier: its 16-run klp_lab_hog study took 11.5 s against 10.5 s at
 * --jobs 1 but the same 8.8 s at --jobs 2, and its lab's set-up boot needs the tier.
 */
export function studyTierDefaults(): void {
  if (wasmThresholdUnset()) process.env[WASM_THRESHOLD_ENV] = '0';
}
