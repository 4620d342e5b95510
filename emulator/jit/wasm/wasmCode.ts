/**
 * A small WebAssembly binary writer: modules of translated blocks, which import the machine's memory,
 * a few JS functions and the machine's function table (and place their blocks in it), and the chain
 * module (wasmChain.ts), which runs blocks from that table. Only what the translators emit is here
 * (the opcodes are the spec's; names follow its text format).
 */

export const I32 = 0x7f, I64 = 0x7e, F64 = 0x7c;
export type ValType = typeof I32 | typeof I64 | typeof F64;
const VOID = 0x40;

/** Opcodes by their text-format names. */
export const Op = {
  unreachable: 0x00, block: 0x02, loop: 0x03, if: 0x04, else: 0x05, end: 0x0b, br: 0x0c, return: 0x0f, call: 0x10,
  call_indirect: 0x11,
  local_get: 0x20, local_set: 0x21, local_tee: 0x22,
  i32_load: 0x28, i64_load: 0x29, f64_load: 0x2b, i64_load8_u: 0x31, i64_load16_u: 0x33, i64_load32_u: 0x35,
  i32_store: 0x36, i64_store: 0x37, f64_store: 0x39, i64_store8: 0x3c, i64_store16: 0x3d, i64_store32: 0x3e,
  i32_const: 0x41, i64_const: 0x42, f64_const: 0x44,
  i32_eqz: 0x45, i32_ne: 0x47, i32_lt_s: 0x48, i32_le_u: 0x4d, i32_ge_s: 0x4e,
  i64_eqz: 0x50, i64_eq: 0x51, i64_ne: 0x52, i64_lt_s: 0x53, i64_lt_u: 0x54, i64_le_s: 0x57, i64_le_u: 0x58,
  f64_eq: 0x61, f64_ne: 0x62, f64_gt: 0x64, f64_le: 0x65,
  i32_add: 0x6a, i32_mul: 0x6c, i32_and: 0x71, i32_or: 0x72, i32_xor: 0x73, i32_shl: 0x74, i32_shr_s: 0x75,
  i32_shr_u: 0x76, i32_rotl: 0x77, i32_rotr: 0x78,
  i64_add: 0x7c, i64_sub: 0x7d, i64_mul: 0x7e, i64_and: 0x83, i64_or: 0x84, i64_xor: 0x85, i64_shl: 0x86, i64_shr_s: 0x87,
  i64_shr_u: 0x88, i64_rotl: 0x89, i64_rotr: 0x8a,
  f64_add: 0xa0, f64_sub: 0xa1,
  i32_wrap_i64: 0xa7, i64_trunc_f64_s: 0xb0, i64_extend_i32_u: 0xad, f64_convert_i32_u: 0xb8, f64_convert_i64_s: 0xb9,
  i64_extend8_s: 0xc2, i64_extend16_s: 0xc3, i64_extend32_s: 0xc4,
} as const;

function uleb(out: number[], n: number): void {
  do { let b = n & 0x7f; n >>>= 7; if (n !== 0) b |= 0x80; out.push(b); } while (n !== 0);
}

function sleb(out: number[], n: bigint): void {
  for (;;) {
    const b = Number(n & 0x7fn);
    n >>= 7n;
    if ((n === 0n && (b & 0x40) === 0) || (n === -1n && (b & 0x40) !== 0)) { out.push(b); return; }
    out.push(b | 0x80);
  }
}

function sleb32(out: number[], n: number): void {
  n |= 0;
  for (;;) {
    const b = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (b & 0x40) === 0) || (n === -1 && (b & 0x40) !== 0)) { out.push(b); return; }
    out.push(b | 0x80);
  }
}

const F64_BYTES = new DataView(new ArrayBuffer(8));

/** One function body being written: params first, then locals added as needed. */
export class WasmFunction {
  readonly code: number[] = [];
  private readonly localTypes: ValType[] = [];
  constructor(readonly params: ValType[], readonly results: ValType[]) {}

  /** A new local of `type`; returns its index. */
  local(type: ValType): number {
    this.localTypes.push(type);
    return this.params.length + this.localTypes.length - 1;
  }

  op(o: number): this { this.code.push(o); return this; }
  get(l: number): this { this.code.push(Op.local_get); uleb(this.code, l); return this; }
  set(l: number): this { this.code.push(Op.local_set); uleb(this.code, l); return this; }
  tee(l: number): this { this.code.push(Op.local_tee); uleb(this.code, l); return this; }
  i32(n: number): this { this.code.push(Op.i32_const); sleb32(this.code, n); return this; }
  /** i64 constant from its two 32-bit halves. */
  i64(lo: number, hi: number): this {
    this.code.push(Op.i64_const);
    sleb(this.code, BigInt.asIntN(64, (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0)));
    return this;
  }
  f64(x: number): this {
    this.code.push(Op.f64_const);
    F64_BYTES.setFloat64(0, x, true);
    for (let i = 0; i < 8; i++) this.code.push(F64_BYTES.getUint8(i));
    return this;
  }
  /** A load or store with a constant offset (alignment hint 0: guest accesses may be unaligned). */
  mem(o: number, offset: number): this { this.code.push(o, 0); uleb(this.code, offset); return this; }
  call(f: number): this { this.code.push(Op.call); uleb(this.code, f); return this; }
  if_(result: ValType | typeof VOID = VOID): this { this.code.push(Op.if, result); return this; }
  else_(): this { this.code.push(Op.else); return this; }
  block(): this { this.code.push(Op.block, VOID); return this; }
  loop(): this { this.code.push(Op.loop, VOID); return this; }
  br(depth: number): this { this.code.push(Op.br); uleb(this.code, depth); return this; }
  /** call_indirect through table 0 with function type `type`. */
  callIndirect(type: number): this { this.code.push(Op.call_indirect); uleb(this.code, type); this.code.push(0x00); return this; }
  end(): this { this.code.push(Op.end); return this; }

  /** The body as the code section holds it: locals declaration, code, final end. */
  encode(): number[] {
    const body: number[] = [];
    // Runs of equal types.
    const runs: [number, ValType][] = [];
    for (const t of this.localTypes) {
      if (runs.length > 0 && runs[runs.length - 1][1] === t) runs[runs.length - 1][0]++;
      else runs.push([1, t]);
    }
    uleb(body, runs.length);
    for (const [n, t] of runs) { uleb(body, n); body.push(t); }
    for (const b of this.code) body.push(b);
    body.push(Op.end);
    const out: number[] = [];
    uleb(out, body.length);
    for (const b of body) out.push(b);
    return out;
  }
}

export interface WasmImport { name: string; params: ValType[]; results: ValType[] }

function section(out: number[], id: number, content: number[]): void {
  out.push(id);
  uleb(out, content.length);
  for (const b of content) out.push(b);
}

function name(out: number[], s: string): void {
  uleb(out, s.length);
  for (let i = 0; i < s.length; i++) out.push(s.charCodeAt(i));
}

function funcType(out: number[], params: ValType[], results: ValType[]): void {
  out.push(0x60);
  uleb(out, params.length); out.push(...params);
  uleb(out, results.length); out.push(...results);
}

/** What a module imports besides its functions: the memory, and the function table with its slot base. */
export interface ModuleImports {
  functions: readonly WasmImport[];
  /** Minimum size of `env.mem` in 64 KiB pages. */
  memPages: number;
  /** Import `env.tbl` (funcref) and `env.base` (i32): the module's functions go to slots base.. at instantiation. */
  table?: boolean;
  /** Import only `env.tbl` (a module that calls through the table, wasmChain.ts). */
  callsTable?: boolean;
  /** Function types declared after the imports' (type indices imports.length + i), for call_indirect. */
  types?: readonly (readonly [ValType[], ValType[]])[];
}

/**
 * A module importing memory `env.mem` and the functions `env.<name>` (function indices 0..n-1 in
 * order), and defining `fns`. With a table, its functions are placed in `env.tbl` from slot
 * `env.base` on (an active element segment) and nothing is exported; `exported` names functions of
 * `fns` to export instead.
 */
export function buildModule(im: ModuleImports, fns: readonly WasmFunction[], exported: readonly [string, number][] = []): Uint8Array {
  const out: number[] = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];
  const imports = im.functions;
  // Types: one per import, then one per distinct signature of fns.
  const extra = im.types ?? [];
  const sigs: string[] = [];
  const sigOf = (f: WasmFunction) => `${f.params.join(',')}>${f.results.join(',')}`;
  const typeOf = new Map<string, number>();
  for (const f of fns) {
    const k = sigOf(f);
    if (!typeOf.has(k)) { typeOf.set(k, imports.length + extra.length + sigs.length); sigs.push(k); }
  }
  const types: number[] = [];
  uleb(types, imports.length + extra.length + sigs.length);
  for (const i of imports) funcType(types, i.params, i.results);
  for (const [p, r] of extra) funcType(types, p, r);
  for (const k of sigs) {
    const f = fns.find((x) => sigOf(x) === k)!;
    funcType(types, f.params, f.results);
  }
  section(out, 1, types);
  const imps: number[] = [];
  uleb(imps, imports.length + 1 + (im.table ? 2 : im.callsTable ? 1 : 0));
  name(imps, 'env'); name(imps, 'mem'); imps.push(0x02, 0x00); uleb(imps, im.memPages);
  imports.forEach((i, k) => { name(imps, 'env'); name(imps, i.name); imps.push(0x00); uleb(imps, k); });
  if (im.table || im.callsTable) { name(imps, 'env'); name(imps, 'tbl'); imps.push(0x01, 0x70, 0x00); uleb(imps, 0); }
  if (im.table) { name(imps, 'env'); name(imps, 'base'); imps.push(0x03, I32, 0x00); }
  section(out, 2, imps);
  const funcs: number[] = [];
  uleb(funcs, fns.length);
  for (const f of fns) uleb(funcs, typeOf.get(sigOf(f))!);
  section(out, 3, funcs);
  if (exported.length > 0) {
    const exps: number[] = [];
    uleb(exps, exported.length);
    for (const [n, k] of exported) { name(exps, n); exps.push(0x00); uleb(exps, imports.length + k); }
    section(out, 7, exps);
  }
  if (im.table) {
    const elem: number[] = [];
    uleb(elem, 1);
    elem.push(0x00, 0x23, 0x00, Op.end); // active, table 0, offset global.get 0 (env.base)
    uleb(elem, fns.length);
    for (let k = 0; k < fns.length; k++) uleb(elem, imports.length + k);
    section(out, 9, elem);
  }
  const code: number[] = [];
  uleb(code, fns.length);
  for (const f of fns) for (const b of f.encode()) code.push(b);
  section(out, 10, code);
  return Uint8Array.from(out);
}
