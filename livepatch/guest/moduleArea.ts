// The fixture kernel's module area (MODULES_VADDR..MODULES_END), which the host hands out as the
// module loader's module_alloc() would: page-granular, memory given back by rmmod (or a failed
// load) reused first-fit. Its first page holds the host's own code: the fentry trampoline (a RET)
// and the return sentinel of guest calls (a UD2 never executed: a hook stops there).
import { LabError } from './labError';
import { hex, type GuestAccess } from './guestAccess';

const PAGE = 4096;

export class ModuleArea {
  /** The fentry trampoline's address: a RET. */
  readonly trampoline: number;
  /** Where guest calls return to (a hook stops the run there). */
  readonly sentinel: number;
  private top: number;
  private hostCodeInstalled = false;
  private readonly freeAreas: Array<{ at: number; size: number }> = [];

  constructor(private readonly access: GuestAccess, start: number, private readonly end: number) {
    this.trampoline = start;
    this.sentinel = start + 16;
    this.top = start + PAGE;
  }

  /** The host code's range, for symbolizing frames in it. */
  get hostCode(): { start: number; end: number } {
    return { start: this.trampoline, end: this.trampoline + 32 };
  }

  /**
   * The host code page is written when the first module arrives: before the kernel has built its
   * page tables there is no module area to write to.
   */
  installHostCode(): void {
    if (this.hostCodeInstalled) return;
    const code = new Uint8Array(32);
    code[0] = 0xc3;
    code[this.sentinel - this.trampoline] = 0x0f;
    code[this.sentinel - this.trampoline + 1] = 0x0b;
    this.access.write(this.trampoline, code);
    this.hostCodeInstalled = true;
  }

  allocate(size: number): number {
    const want = Math.ceil(size / PAGE) * PAGE;
    const fit = this.freeAreas.findIndex((a) => a.size >= want);
    if (fit >= 0) {
      const area = this.freeAreas[fit];
      const at = area.at;
      if (area.size === want) this.freeAreas.splice(fit, 1);
      else this.freeAreas[fit] = { at: at + want, size: area.size - want };
      return at;
    }
    const at = this.top;
    const end = at + want;
    if (end > this.end) throw new LabError(`the module area is full (${hex(at)}..${hex(this.end)})`);
    this.top = end;
    return at;
  }

  release(at: number, size: number): void {
    this.freeAreas.push({ at, size: Math.ceil(size / PAGE) * PAGE });
    this.freeAreas.sort((a, b) => a.at - b.at);
    for (let i = this.freeAreas.length - 1; i > 0; i--) {
      const prev = this.freeAreas[i - 1];
      if (prev.at + prev.size === this.freeAreas[i].at) {
        prev.size += this.freeAreas[i].size;
        this.freeAreas.splice(i, 1);
      }
    }
  }
}
