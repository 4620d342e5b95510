/**
 * Chaining between the WebAssembly tier's blocks: one call from the run loop runs a block and then,
 * inside wasm, the blocks after it, as the run loop's inner loop would (machine.ts), until one of them
 * is not in the tier, needs the run loop, or would pass the instruction budget. Each return to JS
 * costs a JS-to-wasm call, reading the exit state back and handing the flag record over; chained
 * blocks skip all three, and the flag record stays in the state area until JS next needs it.
 *
 * Every translated block of a machine has a slot in the machine's function table (its module puts
 * its blocks there when it is instantiated, wasmCode.ts buildModule). The jump cache in the state
 * area (memory/stateArea.ts STATE_JUMP_CACHE) maps a RIP to the slot of the block the run loop last
 * entered there, with the block's physical address and length; the run loop fills an entry each time
 * it enters a block of the tier (wasmTier.ts). The chain loop follows an entry only when:
 * - the block has executions left below the count at which the run loop hands it to the JS translator;
 * - nothing asked for the run loop (the exit flag a slow path or handler sets from c.exit);
 * - the block fits in the budget (the next timer event or the run's limit, as machine.ts's chaining);
 * - the TLB maps the RIP, executable at the current privilege, to the block's physical address. This
 *   is the check the run loop's links make with the MMU epoch and CPL: a changed mapping, a flushed
 *   TLB or a privilege change sends the chain back to the run loop, which translates and refills.
 * Invalidated code (a write to a code page, a flush) and a change of hooks clear the whole cache
 * (WasmRuntime.forget): the run loop fills entries only for blocks no code hook covers.
 */
import { buildModule, WasmFunction, Op, I32, F64, I64, type ValType } from './wasmCode';
import { TLB_MASK } from '../../memory/tlb';
import {
  STATE_EXIT_FLAG, STATE_EXIT_RIP, STATE_EXIT_ICOUNT, STATE_USER, STATE_JUMP_CACHE, JUMP_CACHE_ENTRIES,
  JUMP_ENTRY_BYTES, JUMP_RIP, JUMP_PHYS, JUMP_BLOCK, TLB_SUP_X, TLB_USR_X, TLB_PHYS, STATE_EXEC_COUNTS,
  STATE_EXEC_LIMITS, EXEC_COUNT_SLOTS,
} from '../../memory/stateArea';

/**
 * The signature of a translated block (wasmTranslate.ts): (sb, rip, icount, limit, slot) -> 0 (exit
 * slots) or 1 (the CPU object is current). The chain loop calls blocks through the table with it.
 */
export const BLOCK_PARAMS: ValType[] = [I32, F64, F64, F64, I32];
export const BLOCK_RESULTS: ValType[] = [I32];

/**
 * Pushes the address (sb-relative, add STATE_EXEC_COUNTS or STATE_EXEC_LIMITS as the access's offset)
 * of the execution count of the block in table slot `slot` (i32 locals `sb` and `slot`).
 */
export function slotCountAddress(f: WasmFunction, sb: number, slot: number): void {
  f.get(slot).i32(EXEC_COUNT_SLOTS - 1).op(Op.i32_and).i32(2).op(Op.i32_shl).get(sb).op(Op.i32_add);
}

/** Longest block the cache records (the entry keeps the length in 8 bits). */
export const MAX_CHAINED_INSNS = 255;

/** The jump cache entry of `rip`, as a byte offset into the state area (the chain loop's hash). */
export function jumpEntry(rip: number): number {
  return STATE_JUMP_CACHE + ((((rip | 0) ^ (Math.floor(rip / 2048) | 0)) & (JUMP_CACHE_ENTRIES - 1)) * JUMP_ENTRY_BYTES);
}

/** `run(slot, sb, rip, icount, limit)`: runs the block in `slot`, then chains while it may; returns as a block does. */
export type ChainRun = (slot: number, sb: number, rip: number, icount: number, limit: number) => number;

const P_SLOT = 0, P_SB = 1, P_RIP = 2, P_IC = 3, P_LIMIT = 4;

function chainFunction(): WasmFunction {
  const f = new WasmFunction([I32, I32, F64, F64, F64], [I32]);
  const r = f.local(I32), e = f.local(I32), w = f.local(I32), ti = f.local(I32);
  const ripi = f.local(I64), vp = f.local(I64);
  /** Leaves the function with 0 (exit slots) when the i32 on the stack is non-zero. */
  const leaveIf = () => { f.if_().i32(0).op(Op.return).end(); };
  f.get(P_SB).i32(0).mem(Op.i32_store, STATE_EXIT_FLAG);
  f.loop();
  f.get(P_SB).get(P_RIP).get(P_IC).get(P_LIMIT).get(P_SLOT).get(P_SLOT).callIndirect(0);
  f.tee(r).if_().get(r).op(Op.return).end();
  f.get(P_SB).mem(Op.i32_load, STATE_EXIT_FLAG);
  leaveIf();
  f.get(P_SB).mem(Op.f64_load, STATE_EXIT_RIP).set(P_RIP);
  f.get(P_SB).mem(Op.f64_load, STATE_EXIT_ICOUNT).set(P_IC);
  f.get(P_RIP).op(Op.i64_trunc_f64_s).set(ripi);
  // e = sb + entry offset (jumpEntry's hash: low 32 bits of rip ^ rip >> 11)
  f.get(ripi).op(Op.i32_wrap_i64).get(ripi).i64(11, 0).op(Op.i64_shr_s).op(Op.i32_wrap_i64).op(Op.i32_xor);
  f.i32(JUMP_CACHE_ENTRIES - 1).op(Op.i32_and).i32(Math.log2(JUMP_ENTRY_BYTES)).op(Op.i32_shl).get(P_SB).op(Op.i32_add).set(e);
  f.get(e).mem(Op.f64_load, STATE_JUMP_CACHE + JUMP_RIP).get(P_RIP).op(Op.f64_ne);
  leaveIf();
  f.get(e).mem(Op.i32_load, STATE_JUMP_CACHE + JUMP_BLOCK).set(w);
  f.get(P_IC).get(w).i32(0xff).op(Op.i32_and).op(Op.f64_convert_i32_u).op(Op.f64_add).get(P_LIMIT).op(Op.f64_gt);
  leaveIf();
  // The TLB's executable entry for the page, at the current privilege, maps it to the block's page.
  f.get(ripi).i64(12, 0).op(Op.i64_shr_s).set(vp);
  f.get(vp).op(Op.i32_wrap_i64).i32(TLB_MASK).op(Op.i32_and).set(ti);
  f.get(P_SB).get(P_SB).mem(Op.i32_load, STATE_USER).i32(TLB_USR_X - TLB_SUP_X).op(Op.i32_mul).op(Op.i32_add);
  f.get(ti).i32(3).op(Op.i32_shl).op(Op.i32_add).mem(Op.f64_load, TLB_SUP_X);
  f.get(vp).op(Op.f64_convert_i64_s).op(Op.f64_ne);
  leaveIf();
  f.get(P_SB).get(ti).i32(2).op(Op.i32_shl).op(Op.i32_add).mem(Op.i32_load, TLB_PHYS);
  f.get(ripi).op(Op.i32_wrap_i64).i32(0xfff).op(Op.i32_and).op(Op.i32_add);
  f.get(e).mem(Op.i32_load, STATE_JUMP_CACHE + JUMP_PHYS).op(Op.i32_ne);
  leaveIf();
  f.get(w).i32(8).op(Op.i32_shr_u).set(P_SLOT);
  // The block's executions so far, below the count at which the run loop hands it to the JS
  // translator (wasmTier.ts): counted, or left to the run loop.
  slotCountAddress(f, P_SB, P_SLOT);
  f.set(e);
  f.get(e).mem(Op.i32_load, STATE_EXEC_COUNTS).tee(r).get(e).mem(Op.i32_load, STATE_EXEC_LIMITS).op(Op.i32_ge_s);
  leaveIf();
  f.get(e).get(r).i32(1).op(Op.i32_add).mem(Op.i32_store, STATE_EXEC_COUNTS);
  f.br(0);
  f.end();
  f.op(Op.unreachable);
  return f;
}

let chainModule: WebAssembly.Module | null = null;

/** The chain loop for a machine's memory and function table (the module is compiled once per thread). */
export function chainRun(mem: WebAssembly.Memory, table: WebAssembly.Table): ChainRun {
  chainModule ??= new WebAssembly.Module(buildModule(
    { functions: [], memPages: 1, callsTable: true, types: [[BLOCK_PARAMS, BLOCK_RESULTS]] },
    [chainFunction()], [['run', 0]],
  ));
  return new WebAssembly.Instance(chainModule, { env: { mem, tbl: table } }).exports.run as ChainRun;
}
