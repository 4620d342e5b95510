// kernel/extable.c: __kernel_text_address(). Core kernel text [_stext, _etext), plus any other
// ranges that count as kernel code (init text while booting, module text, trampolines). The
// reliable stack trace refuses a return address outside these ranges: generated or foreign
// code, or a corrupt stack (Documentation/livepatch/reliable-stacktrace.rst, 3).

export interface TextRange {
  readonly start: number;
  /** one past the last byte */
  readonly end: number;
  readonly name: string;
}

export class KernelText {
  private starts = new Float64Array(0);
  private ends = new Float64Array(0);
  private readonly list: TextRange[] = [];

  constructor(ranges: readonly TextRange[] = []) {
    for (const r of ranges) this.add(r);
  }

  /** Adds a range (a loaded module's text, for example). Ranges are kept sorted. */
  add(range: TextRange): void {
    if (!(range.end > range.start)) return;
    this.list.push(range);
    this.list.sort((a, b) => a.start - b.start);
    this.starts = Float64Array.from(this.list, (r) => r.start);
    this.ends = Float64Array.from(this.list, (r) => r.end);
  }

  remove(name: string): void {
    const i = this.list.findIndex((r) => r.name === name);
    if (i < 0) return;
    this.list.splice(i, 1);
    this.starts = Float64Array.from(this.list, (r) => r.start);
    this.ends = Float64Array.from(this.list, (r) => r.end);
  }

  ranges(): readonly TextRange[] {
    return this.list;
  }

  /** __kernel_text_address(addr) */
  contains(addr: number): boolean {
    const starts = this.starts;
    let lo = 0;
    let hi = starts.length - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (starts[mid] <= addr) {
        found = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return found >= 0 && addr < this.ends[found];
  }

  /** The range holding addr, or undefined. */
  rangeOf(addr: number): TextRange | undefined {
    for (const r of this.list) if (addr >= r.start && addr < r.end) return r;
    return undefined;
  }
}
