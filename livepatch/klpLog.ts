// The kernel log as livepatch writes it (a dmesg with virtual timestamps). Messages from the
// livepatch core carry the "livepatch: " prefix of its pr_fmt; pr_debug lines appear only when
// dynamic debug is on for them, as in the selftests.

export type LogLevel = 'err' | 'warn' | 'notice' | 'info' | 'debug';

export interface LogEntry {
  /** Virtual time in nanoseconds. */
  time: number;
  level: LogLevel;
  text: string;
}

export interface LogOptions {
  /** pr_debug of kernel/livepatch/* (the selftests enable it). */
  debug: boolean;
  /** pr_debug of klp_try_switch_task (the selftests disable it: `func klp_try_switch_task -p`). */
  debugTrySwitch: boolean;
}

export class KlpLog {
  readonly entries: LogEntry[] = [];
  readonly options: LogOptions;

  constructor(private readonly clock: () => number, options: Partial<LogOptions> = {}) {
    this.options = { debug: true, debugTrySwitch: false, ...options };
  }

  /** A message from the livepatch core (prefixed "livepatch: "). */
  klp(level: LogLevel, text: string): void {
    this.print(level, `livepatch: ${text}`);
  }

  /** pr_debug from klp_try_switch_task, shown only when asked for. */
  trySwitchDebug(text: string): void {
    if (this.options.debug && this.options.debugTrySwitch) this.entries.push({ time: this.clock(), level: 'debug', text: `livepatch: ${text}` });
  }

  /** Any kernel message, exactly as given. */
  print(level: LogLevel, text: string): void {
    if (level === 'debug' && !this.options.debug) return;
    this.entries.push({ time: this.clock(), level, text });
  }

  /** The messages alone, as the selftests compare them. */
  messages(): string[] {
    return this.entries.map((e) => e.text);
  }

  /** dmesg's format: "[    1.234567] text". */
  format(): string {
    return this.entries.map((e) => `${formatTimestamp(e.time)} ${e.text}`).join('\n') + (this.entries.length ? '\n' : '');
  }
}

export function formatTimestamp(ns: number): string {
  const seconds = Math.floor(ns / 1e9);
  const micros = Math.floor((ns % 1e9) / 1e3);
  return `[${String(seconds).padStart(5)}.${String(micros).padStart(6, '0')}]`;
}
