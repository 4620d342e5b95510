// mulberry32: a small seeded generator of uniform numbers in [0, 1), the same on every
// platform, so that every run that involves chance is reproduced by its seed. Shared by the
// machine (timer jitter), the studies and the randomized tests.

/** The generator with its state in view, so that a machine snapshot can carry it. */
export class SeededRandom {
  /** The whole state: one uint32. */
  state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  saveState(): { state: number } {
    return { state: this.state };
  }

  loadState(s: { state: number }): void {
    this.state = s.state >>> 0;
  }
}

export function seededRandom(seed: number): () => number {
  const r = new SeededRandom(seed);
  return () => r.next();
}
