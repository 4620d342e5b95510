/**
 * Compile a hot block into one JS function that calls each instruction's handler directly (call
 * threading). Every generated function has its own call sites, so each handler call is monomorphic
 * and V8 can inline it (the interpreter loop's `d.fn(c, d)` is megamorphic). Semantics are the loop's
 * exactly: RIP and the instruction start are set per instruction, icount counts each one, and c.exit
 * ends the block early.
 *
 * Dead flags (blink's GetNeededFlags idea, restricted to what is provably safe without a liveness
 * pass): when the next instruction of the block overwrites every status flag without reading any and
 * cannot fault, this one runs its table form's flag-free variant. A compiled block always runs to its
 * end or to a c.exit, which those variants never set.
 */
import type { Cpu } from '../cpu/cpu';
import type { Block } from '../decode/blockCache';
import { FORMS } from './table';

export function compileBlock(b: Block): (c: Cpu) => void {
  const insns = b.insns;
  const params: string[] = [];
  const args: unknown[] = [];
  const lines: string[] = [];
  insns.forEach((d, i) => {
    params.push(`h${i}`, `d${i}`);
    const next = insns[i + 1];
    const free = next !== undefined && FORMS[next.form].killsFlags ? FORMS[d.form].flagFree : null;
    args.push(free ?? d.fn, d);
    lines.push(`c.insnStart = c.rip; c.rip += ${d.len}; h${i}(c, d${i}); c.icount++;` +
      (i < insns.length - 1 ? ' if (c.exit) return;' : ''));
  });
  // eslint-disable-next-line @typescript-eslint/no-implied-eval
  const factory = new Function(...params, `"use strict"; return function compiledBlock(c) {\n${lines.join('\n')}\n};`);
  return factory(...args) as (c: Cpu) => void;
}
