/**
 * The translating JIT: a decoded block, or a trace of blocks the run loop chains (jit/traceSelect.ts),
 * becomes one JS function with the instructions' semantics inline (jit/forms.ts, jit/moreForms.ts),
 * registers in locals, the status-flag record in locals, and the MMU's TLB hit path inline
 * (jit/memoryAccess.ts). Instructions without an inline form call the interpreter's handler, as the
 * call-threaded compiler does (exec/threadedBlock.ts compileBlock), so every block translates.
 *
 * A handler may retire more than one count (each REP iteration counts), so icount is re-based after it.
 *
 * Precise state: the CPU object (registers, flags, RIP, instruction start, icount) is written back
 * only where something can look at it: before a handler call, in every slow path (which may fault,
 * run memory hooks or invalidate code), and at the exit. There it is exactly what the interpreter
 * would hold, so a fault, a hook or a code write sees the same machine. After a slow path the block
 * ends if c.exit was set (a code write invalidated blocks, a hook stopped the run), as the run loop
 * does after each instruction. The run loop only calls a translated block when the whole block fits
 * in the instruction budget (next timer event, limit); a partial block is interpreted.
 *
 * A translated function depends only on the instructions (positions are relative to RIP at entry,
 * and a trace's blocks lie in one page at fixed distances), never on the machine, so machines can
 * share it (jit/sharedCode.ts).
 */
import type { Cpu } from '../cpu/cpu';
import type { Insn } from '../decode/insn';
import { GuestFault } from '../interrupts/guestFault';
import { ea } from '../exec/operands';
import { CodeState, recA, recAC, recR, at, carryCode, CARRIED_LOCALS, type PendingFlags } from './codeState';
import { emitInline } from './forms';
import { emitMore, imulLow64, mulOut } from './moreForms';
import { eaNoFault, InsnSite } from './memoryAccess';
import { idivSmall, idivOut } from './divide';
import { udiv32, divOut } from '../exec/muldiv';
import { branchesTo, traceSpan, type TraceSegment } from './traceSelect';

export type CompiledBlock = (c: Cpu) => void;

/**
 * The code a translated function runs, in bytes from its entry RIP [lo, hi): the run loop lets it
 * chain and loop with code hooks installed only when none covers that span (machine.ts blockHooked).
 */
export const compiledSpan = new WeakMap<CompiledBlock, { lo: number; hi: number }>();

/** Counts for the run report and the benchmarks. */
export const jitStats = { blocks: 0, inlineInsns: 0, handlerInsns: 0, traces: 0, traceBlocks: 0, loops: 0 };


/** JS source of the block's function body and the handler/Insn arguments it takes. */
export function blockSource(insns: Insn[]): ReturnType<typeof traceSource> {
  return traceSource([{ insns, offset: 0 }]);
}

/**
 * JS source of a trace: its blocks one after the other, each continuing into the next when the run
 * loop would have chained them (see emitBody); a single segment is a plain block.
 */
export function traceSource(segs: TraceSegment[]): {
  params: string[]; args: unknown[]; body: string; inline: number; handlers: number; loops: boolean;
} {
  const first = emitBody(segs, null);
  // A trace whose last block branches or falls through to its own start runs its next iterations
  // itself, with registers staying in locals (see loopTail).
  if (!first.lastInline || !endsAtStart(segs)) return { ...first, loops: false };
  // A body that reads the flags of the previous iteration before making its own record (a slow path
  // or a handler call may look at them) gets that record through loop-carried locals.
  const flags = first.flagsReadAtEntry ? first.tailFlags : null;
  return { ...emitBody(segs, { regs: first.used, written: first.written, flags }), loops: true };
}

/** Whether the last block's branch (taken or not) may go to the trace's start. */
function endsAtStart(segs: TraceSegment[]): boolean {
  const seg = segs[segs.length - 1];
  return branchesTo(seg, seg.offset, 0);
}

/**
 * What a loop carries from one iteration to the next: registers the body keeps in locals and those it
 * assigns, and the shape of the flag record it ends with if the next iteration may need it.
 */
interface LoopRegs { regs: ReadonlySet<number>; written: ReadonlySet<number>; flags: PendingFlags | null }

function sameShape(a: PendingFlags, b: PendingFlags): boolean {
  return a.kind === b.kind && a.size === b.size && (a.cin === undefined) === (b.cin === undefined) && a.cfKept === b.cfKept;
}

function emitBody(segs: TraceSegment[], loop: LoopRegs | null): {
  params: string[]; args: unknown[]; body: string; allInline: boolean; lastInline: boolean;
  used: Set<number>; written: Set<number>; inline: number; handlers: number;
  flagsReadAtEntry: boolean; tailFlags: PendingFlags | null;
} {
  const out: string[] = [];
  const st = new CodeState(out);
  const loopRegs = loop === null ? [] : [...loop.regs].sort((a, b) => a - b);
  const preheader = loop !== null ? st.preload(loopRegs, loop.written) : '';
  if (loop !== null && loop.flags !== null) st.carry(loop.flags);
  let allInline = true, inline = 0;
  const params: string[] = ['GuestFault', 'ea', 'eaNoFault', 'recA', 'recAC', 'recR', 'at', 'imulLow64', 'mulOut', 'udiv32', 'divOut',
    'idivSmall', 'idivOut'];
  const args: unknown[] = [GuestFault, ea, eaNoFault, recA, recAC, recR, at, imulLow64, mulOut, udiv32, divOut, idivSmall,
    idivOut];
  let total = 0;
  for (const g of segs) total += g.insns.length;
  const headLen = segs[0].insns.length;
  let i = 0, lastStart = 0, lastInline = true;
  for (let j = 0; j < segs.length; j++) {
    const seg = segs[j], n = seg.insns.length;
    let off = seg.offset;
    let segEnd = off;
    for (const d of seg.insns) segEnd += d.len;
    // Where the block falls through to; a branch sets it.
    if (j > 0) out.push(`nrip = rip0 + ${segEnd};`);
    for (let k = 0; k < n; k++, i++) {
      const d = seg.insns[k];
      const start = off, next = off + d.len;
      off = next; lastStart = start;
      const more = i < total - 1;
      params.push(`d${i}`); args.push(d);
      const site: InsnSite = { st, out, d, dName: `d${i}`, index: i, start, next, blockInsns: seg.insns, pos: k };
      const mark = out.length;
      if (emitInline(site) || (out.length === mark && emitMore(site))) {
        inline++;
        lastInline = true;
        // (At a block's last instruction the chain check below looks at c.exit, with the branch's RIP.)
        if (more && k < n - 1 && out.slice(mark).some((l) => l.includes('sp = 1;'))) {
          out.push(`if (sp !== 0) { sp = 0; if (c.exit) { ${st.regWriteBack()}${st.flagsWriteBack()}` +
            `at(c, rip0 + ${start}, rip0 + ${next}, ic0 + ${i + 1}); return; } }`);
        }
        continue;
      }
      // Emitters decide before emitting anything, so the translation-time state is still valid here.
      if (out.length !== mark) throw new Error(`jit: inline form of instruction ${i} gave up half-way`);
      lastInline = false;
      allInline = false;
      params.push(`h${i}`); args.push(d.fn);
      // A handler may change the privilege level, and with it the TLB's tag arrays.
      out.push(`${st.syncAt(i, start, next)}h${i}(c, d${i}); c.icount++; tr = mmu.tagR; tw = mmu.tagW;` +
        (more ? (k < n - 1 ? ` if (c.exit) return;` : ' nrip = c.rip;') + ` ic0 = c.icount - ${i + 1};` : ''));
      st.forgetAll();
    }
    if (j < segs.length - 1) {
      // chainTail: go on into the next block only where the run loop would chain to it (machine.ts
      // run): nothing set c.exit, chaining is allowed (c.jitLoop: no interrupt shadow, no observer,
      // no code hooks), the branch went there, and the whole next block fits in the budget.
      const nextSeg = segs[j + 1];
      const leave = lastInline
        ? `${st.regWriteBack()}${st.flagsWriteBack()}c.insnStart = rip0 + ${lastStart}; c.rip = nrip; c.icount = ic0 + ${i}; return;`
        : 'return;';
      out.push(`if (nrip !== rip0 + ${nextSeg.offset} || c.exit || !c.jitLoop || ic0 + ${i + nextSeg.insns.length} > c.repUntil) { ${leave} }`);
    }
  }
  if (loop !== null) {
    // loopTail: run the next iteration here when the run loop would chain the last block to the
    // first (nothing set c.exit: only a handler or a slow path can) and the whole first block fits
    // in the budget (machine.ts: endIcount - icount >= length). The flags go to the FlagState only
    // if the body reads them there before making its own record; registers a handler call dropped
    // from locals are loaded again.
    let carry = st.flagsReadAtEntry ? st.flagsWriteBack() : '';
    if (loop.flags !== null) {
      const f = st.flags;
      carry = f !== null && sameShape(f, loop.flags) ? carryCode(f) : `${st.flagsWriteBack()}fc = 0; `;
    }
    const exitCheck = allInline ? '' : ' && !c.exit';
    out.push(`if (nrip === rip0${exitCheck} && c.jitLoop && ic0 + ${total + headLen} <= c.repUntil) { ` +
      `${st.reload(loopRegs)}${carry}ic0 += ${total}; continue; }`);
  }
  if (lastInline) {
    out.push(`${st.regWriteBack()}${st.flagsWriteBack()}c.insnStart = rip0 + ${lastStart}; c.rip = nrip; c.icount = ic0 + ${total};`);
  }
  const locals: string[] = [];
  for (const r of [...st.used].sort((a, b) => a - b)) locals.push(`g${r}l = 0, g${r}h = 0`);
  let firstEnd = 0;
  for (const d of segs[0].insns) firstEnd += d.len;
  const body = [
    'const u = c.regs.u32, fl = c.flags, mmu = c.mmu, dv = mmu.dv, m8 = mmu.u8, tp = mmu.phys;',
    'let tr = mmu.tagR, tw = mmu.tagW;',
    `const rip0 = c.rip; let ic0 = c.icount;`,
    `let nrip = rip0 + ${firstEnd}, sp = 0;`,
    locals.length > 0 ? `let ${locals.join(', ')};` : '',
    preheader,
    loop !== null && loop.flags !== null ? CARRIED_LOCALS : '',
    loop !== null ? `for (;;) { nrip = rip0 + ${firstEnd};` : '',
    ...out,
    loop !== null ? 'return; }' : '',
  ].join('\n');
  return {
    params, args, body, allInline, lastInline, used: new Set(st.used), written: new Set(st.written), inline,
    handlers: total - inline, flagsReadAtEntry: st.flagsReadAtEntry, tailFlags: st.flags,
  };
}

/** Translate a block into a function that runs all of it (see the file comment). */
export function translateBlock(insns: Insn[]): CompiledBlock {
  return translateTrace([{ insns, offset: 0 }]);
}

/** Translate a trace (see traceSource) into one function. */
export function translateTrace(segs: TraceSegment[]): CompiledBlock {
  const { params, args, body, inline, handlers, loops } = traceSource(segs);
  jitStats.blocks++; jitStats.inlineInsns += inline; jitStats.handlerInsns += handlers;
  if (loops) jitStats.loops++;
  if (segs.length > 1) { jitStats.traces++; jitStats.traceBlocks += segs.length; }
  // Math comes in as a parameter: generated code then finds it in its closure, not through the global
  // object (a slow interceptor when the realm is a vm context, as under jest).
  // eslint-disable-next-line @typescript-eslint/no-implied-eval
  const factory = new Function('Math', ...params, `"use strict"; return function jitBlock(c) {\n${body}\n};`);
  const fn = factory(Math, ...args) as CompiledBlock;
  compiledSpan.set(fn, traceSpan(segs));
  return fn;
}
