/**
 * Seeded timer-interrupt latency (MachineOptions.timerJitter): each PIT interrupt arrives up to
 * `maxNs` late, drawn from a seeded generator. Off (maxNs 0) it draws nothing. Its generator's state
 * is machine state: a snapshot carries it, so a restored machine draws the same delays.
 */
import { SeededRandom } from '../seededRandom';

export class TimerJitter {
  private readonly rng: SeededRandom;

  constructor(seed = 0, private maxNs = 0) {
    this.rng = new SeededRandom(seed);
  }

  get enabled(): boolean { return this.maxNs > 0; }

  /** The next delay in ns (0 when off). */
  sample(): number { return this.maxNs > 0 ? this.rng.next() * this.maxNs : 0; }

  /** Start drawing from `seed` (the studies reseed each run restored from a shared snapshot). */
  reseed(seed: number, maxNs: number): void {
    this.rng.state = seed >>> 0;
    this.maxNs = maxNs > 0 ? maxNs : 0;
  }

  saveState(): { maxNs: number; state: number } {
    return { maxNs: this.maxNs, state: this.rng.state };
  }

  loadState(s: { maxNs: number; state: number }): void {
    this.maxNs = s.maxNs;
    this.rng.state = s.state >>> 0;
  }
}
