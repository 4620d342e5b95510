// kernel/kallsyms.c: symbol lookup (get_symbol_pos) and the %pB / %pS forms
// (__sprint_symbol): "name+0xoff/0xsize", with " [module]" for module symbols. As in kallsyms,
// a symbol's size is the distance to the next symbol with a higher address (the end of the
// text range for the last one), aliases resolve to the first symbol at that address, and an
// address outside every symbolized range prints as 0x<hex>.

export interface KsymInput {
  name: string;
  addr: number;
}

interface KsymRange {
  start: number;
  end: number;
  module: string | null;
  addrs: Float64Array;
  names: string[];
}

export interface KsymLookup {
  name: string;
  offset: number;
  size: number;
  module: string | null;
}

function hex(n: number): string {
  return '0x' + (n < 0 ? BigInt.asUintN(64, BigInt(n)) : BigInt(n)).toString(16);
}

export class TextSymbols {
  private readonly ranges: KsymRange[] = [];

  /**
   * Adds the symbols of one text range (the kernel's [_stext, _etext), or a module's text).
   * Symbols outside [start, end) are ignored.
   */
  addRange(start: number, end: number, symbols: readonly KsymInput[], module: string | null = null): void {
    const inside = symbols.filter((s) => s.addr >= start && s.addr < end);
    // Stable sort by address keeps the input order of aliases (scripts/kallsyms sorts stably).
    inside.sort((a, b) => a.addr - b.addr);
    this.ranges.push({
      start,
      end,
      module,
      addrs: Float64Array.from(inside, (s) => s.addr),
      names: inside.map((s) => s.name),
    });
  }

  removeModule(module: string): void {
    const i = this.ranges.findIndex((r) => r.module === module);
    if (i >= 0) this.ranges.splice(i, 1);
  }

  /** kallsyms_lookup(): the symbol containing addr, or null. */
  lookup(addr: number): KsymLookup | null {
    for (const r of this.ranges) {
      if (addr < r.start || addr >= r.end) continue;
      const a = r.addrs;
      if (a.length === 0 || addr < a[0]) return null;
      let lo = 0;
      let hi = a.length;
      while (hi - lo > 1) {
        const mid = lo + ((hi - lo) >> 1);
        if (a[mid] <= addr) lo = mid;
        else hi = mid;
      }
      while (lo > 0 && a[lo - 1] === a[lo]) lo--;
      const start = a[lo];
      let end = r.end;
      for (let i = lo + 1; i < a.length; i++) {
        if (a[i] > start) {
          end = a[i];
          break;
        }
      }
      return { name: r.names[lo], offset: addr - start, size: end - start, module: r.module };
    }
    return null;
  }

  private format(addr: number, symbolOffset: number): string {
    const s = this.lookup(addr + symbolOffset);
    if (s === null) return hex(addr);
    const mod = s.module !== null ? ` [${s.module}]` : '';
    return `${s.name}+${hex(s.offset - symbolOffset)}/${hex(s.size)}${mod}`;
  }

  /** %pB: for return addresses, looks up addr - 1 (a call at the very end of a function). */
  backtrace(addr: number): string {
    return this.format(addr, -1);
  }

  /** %pS */
  symbol(addr: number): string {
    return this.format(addr, 0);
  }

  /** The name of the function containing addr (return-address rule), or null. */
  functionOf(returnAddr: number): string | null {
    const s = this.lookup(returnAddr - 1);
    return s === null ? null : s.name;
  }
}

export { hex as formatAddress };
