// Reads BTF, the BPF Type Format a Linux kernel image carries in its `.BTF` section (the format is
// the kernel's Documentation/bpf/btf.rst and include/uapi/linux/btf.h): a header, a type section
// of variable-length records, and a string section. Real Linux describes its own structures here
// (task_struct, thread_struct, the klp_* types), so klp-lab takes every field offset of a real
// kernel from it instead of typing offsets in.
//
// Type ids start at 1 (0 is void) in the order the records come. Every offset and count is
// checked against the section, so a corrupt section is one ElfError naming the problem.

import { ElfError } from './elfError';

export const BTF_MAGIC = 0xeb9f;

/** BTF_KIND_* values, in the order of include/uapi/linux/btf.h. */
export const enum BtfKind {
  Int = 1, Ptr, Array, Struct, Union, Enum, Fwd, Typedef, Volatile, Const, Restrict, Func, FuncProto, Var,
  DataSec, Float, DeclTag, TypeTag, Enum64,
}

export const BTF_KIND_NAMES = ['UNKNOWN', 'INT', 'PTR', 'ARRAY', 'STRUCT', 'UNION', 'ENUM', 'FWD', 'TYPEDEF', 'VOLATILE',
  'CONST', 'RESTRICT', 'FUNC', 'FUNC_PROTO', 'VAR', 'DATASEC', 'FLOAT', 'DECL_TAG', 'TYPE_TAG', 'ENUM64'];

/** A struct or union member; `bitOffset` from the start of the aggregate, `bitfieldSize` 0 unless a bit field. */
export interface BtfMember { name: string; type: number; bitOffset: number; bitfieldSize: number }
/** An enumerator; ENUM64 values that do not fit a double exactly keep their exact value in `big`. */
export interface BtfEnumerator { name: string; value: number; big: bigint }
export interface BtfParam { name: string; type: number }
export interface BtfSecVar { type: number; offset: number; size: number }

export interface BtfType {
  id: number;
  kind: BtfKind;
  name: string;
  /** info bit 31: bit-field members (struct/union), signedness (enum), union forward (fwd). */
  kindFlag: boolean;
  vlen: number;
  /** size for INT, STRUCT, UNION, ENUM, ENUM64, DATASEC, FLOAT; else 0 */
  size: number;
  /** the referred type for PTR, TYPEDEF, qualifiers, FUNC, VAR, DECL_TAG, TYPE_TAG; return type of FUNC_PROTO */
  type: number;
  /** INT: encoding bits (1 signed, 2 char, 4 bool), bit offset, number of bits */
  intEncoding: number; intOffset: number; intBits: number;
  /** ARRAY */
  elemType: number; indexType: number; nelems: number;
  /** VAR linkage, FUNC linkage (in vlen), DECL_TAG component index */
  linkage: number; componentIdx: number;
  members: BtfMember[];
  enumerators: BtfEnumerator[];
  params: BtfParam[];
  vars: BtfSecVar[];
}

const INT_ENCODING_SIGNED = 1;

export class Btf {
  /** types[id]; types[0] is undefined (void). */
  readonly types: (BtfType | undefined)[] = [undefined];
  private byName: Map<string, BtfType[]> | undefined;

  private constructor(private readonly file: string) {}

  /** Parses a `.BTF` section's bytes; `file` names it in errors. */
  static parse(bytes: Uint8Array, file: string): Btf {
    const btf = new Btf(file);
    btf.read(bytes);
    return btf;
  }

  private fail(why: string): never { throw new ElfError(this.file, `.BTF: ${why}`); }

  private read(bytes: Uint8Array): void {
    const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    if (bytes.length < 24) this.fail(`section of ${bytes.length} bytes is shorter than the BTF header`);
    if (dv.getUint16(0, true) !== BTF_MAGIC) this.fail(`bad magic 0x${dv.getUint16(0, true).toString(16)} (expected 0xeb9f, little-endian)`);
    if (dv.getUint8(2) !== 1) this.fail(`unsupported version ${dv.getUint8(2)}`);
    const hdrLen = dv.getUint32(4, true);
    const typeOff = dv.getUint32(8, true), typeLen = dv.getUint32(12, true);
    const strOff = dv.getUint32(16, true), strLen = dv.getUint32(20, true);
    if (hdrLen < 24 || hdrLen > bytes.length) this.fail(`header length ${hdrLen} is out of range`);
    const typeStart = hdrLen + typeOff, strStart = hdrLen + strOff;
    if (typeStart + typeLen > bytes.length || typeStart % 4 !== 0) this.fail('type section lies outside the BTF data');
    if (strStart + strLen > bytes.length) this.fail('string section lies outside the BTF data');
    const decoder = new TextDecoder('utf-8');
    const strings = new Map<number, string>();
    const str = (off: number): string => {
      if (off >= strLen) this.fail(`string offset ${off} is past the string section (${strLen} bytes)`);
      let s = strings.get(off);
      if (s === undefined) {
        const at = strStart + off;
        let end = at;
        while (end < strStart + strLen && bytes[end] !== 0) end++;
        if (end === strStart + strLen) this.fail(`string at offset ${off} is not terminated`);
        s = decoder.decode(bytes.subarray(at, end));
        strings.set(off, s);
      }
      return s;
    };
    const end = typeStart + typeLen;
    let p = typeStart;
    const need = (n: number, what: string): void => { if (p + n > end) this.fail(`type ${this.types.length}: ${what} runs past the type section`); };
    const u32 = (): number => { const v = dv.getUint32(p, true); p += 4; return v; };
    while (p < end) {
      need(12, 'record');
      const id = this.types.length;
      const nameOff = u32(), info = u32(), sizeOrType = u32();
      const kind = (info >>> 24) & 0x1f;
      const vlen = info & 0xffff;
      if (kind < BtfKind.Int || kind > BtfKind.Enum64) this.fail(`type ${id}: unknown kind ${kind}`);
      const t: BtfType = {
        id, kind, name: str(nameOff), kindFlag: (info >>> 31) === 1, vlen, size: 0, type: 0,
        intEncoding: 0, intOffset: 0, intBits: 0, elemType: 0, indexType: 0, nelems: 0, linkage: 0, componentIdx: 0,
        members: [], enumerators: [], params: [], vars: [],
      };
      switch (kind) {
        case BtfKind.Int: {
          need(4, 'INT data');
          const v = u32();
          t.size = sizeOrType; t.intEncoding = (v >>> 24) & 0xf; t.intOffset = (v >>> 16) & 0xff; t.intBits = v & 0xff;
          break;
        }
        case BtfKind.Array:
          need(12, 'ARRAY data');
          t.elemType = u32(); t.indexType = u32(); t.nelems = u32();
          break;
        case BtfKind.Struct: case BtfKind.Union:
          t.size = sizeOrType;
          need(12 * vlen, 'member list');
          for (let i = 0; i < vlen; i++) {
            const name = str(u32()), type = u32(), off = u32();
            t.members.push(t.kindFlag
              ? { name, type, bitOffset: off & 0xffffff, bitfieldSize: off >>> 24 }
              : { name, type, bitOffset: off, bitfieldSize: 0 });
          }
          break;
        case BtfKind.Enum:
          t.size = sizeOrType;
          need(8 * vlen, 'enumerator list');
          for (let i = 0; i < vlen; i++) {
            const name = str(u32()), raw = u32();
            const value = t.kindFlag ? raw | 0 : raw;
            t.enumerators.push({ name, value, big: BigInt(value) });
          }
          break;
        case BtfKind.Enum64:
          t.size = sizeOrType;
          need(12 * vlen, 'enumerator list');
          for (let i = 0; i < vlen; i++) {
            const name = str(u32()), lo = u32(), hi = u32();
            const u = (BigInt(hi) << 32n) | BigInt(lo);
            const big = t.kindFlag ? BigInt.asIntN(64, u) : u;
            t.enumerators.push({ name, value: Number(big), big });
          }
          break;
        case BtfKind.FuncProto:
          t.type = sizeOrType;
          need(8 * vlen, 'parameter list');
          for (let i = 0; i < vlen; i++) { const name = str(u32()); t.params.push({ name, type: u32() }); }
          break;
        case BtfKind.Var:
          need(4, 'VAR data');
          t.type = sizeOrType; t.linkage = u32();
          break;
        case BtfKind.DataSec:
          t.size = sizeOrType;
          need(12 * vlen, 'variable list');
          for (let i = 0; i < vlen; i++) t.vars.push({ type: u32(), offset: u32(), size: u32() });
          break;
        case BtfKind.DeclTag:
          need(4, 'DECL_TAG data');
          t.type = sizeOrType; t.componentIdx = dv.getInt32(p, true); p += 4;
          break;
        case BtfKind.Float:
          t.size = sizeOrType;
          break;
        case BtfKind.Func:
          t.type = sizeOrType; t.linkage = vlen;
          break;
        default: // PTR, FWD, TYPEDEF, VOLATILE, CONST, RESTRICT, TYPE_TAG
          t.type = sizeOrType;
          break;
      }
      this.types.push(t);
    }
    for (const t of this.types) if (t !== undefined) this.checkRefs(t);
  }

  private checkRefs(t: BtfType): void {
    const n = this.types.length;
    const bad = (ref: number): boolean => ref >= n;
    const refs = [t.kind === BtfKind.Int || t.kind === BtfKind.Struct || t.kind === BtfKind.Union || t.kind === BtfKind.Enum ||
      t.kind === BtfKind.Enum64 || t.kind === BtfKind.DataSec || t.kind === BtfKind.Float ? 0 : t.type,
    t.elemType, t.indexType, ...t.members.map((m) => m.type), ...t.params.map((m) => m.type), ...t.vars.map((v) => v.type)];
    for (const r of refs) if (bad(r)) this.fail(`type ${t.id} refers to type ${r}, past the last type (${n - 1})`);
  }

  type(id: number): BtfType {
    const t = this.types[id];
    if (t === undefined) throw new ElfError(this.file, `.BTF: no type ${id}`);
    return t;
  }

  /** Types with this name, in id order. */
  named(name: string): BtfType[] {
    if (this.byName === undefined) {
      this.byName = new Map();
      for (const t of this.types) {
        if (t === undefined || t.name === '') continue;
        const list = this.byName.get(t.name);
        if (list === undefined) this.byName.set(t.name, [t]); else list.push(t);
      }
    }
    return this.byName.get(name) ?? [];
  }

  /** The struct (or union) of this name that has members (not a forward declaration). */
  struct(name: string): BtfType | undefined {
    return this.named(name).find((t) => (t.kind === BtfKind.Struct || t.kind === BtfKind.Union) && t.vlen > 0);
  }

  /** Follows typedefs and qualifiers (const, volatile, restrict, type tags) to the type they name. */
  resolve(id: number): BtfType | undefined {
    for (let i = 0; i < 64; i++) {
      const t = this.types[id];
      if (t === undefined) return undefined;
      if (t.kind !== BtfKind.Typedef && t.kind !== BtfKind.Volatile && t.kind !== BtfKind.Const &&
        t.kind !== BtfKind.Restrict && t.kind !== BtfKind.TypeTag) return t;
      id = t.type;
    }
    return undefined;
  }

  /** Size in bytes of a type (pointers are 8; arrays multiply; functions and void have none). */
  sizeOf(id: number): number {
    const t = this.resolve(id);
    if (t === undefined) return 0;
    switch (t.kind) {
      case BtfKind.Ptr: return 8;
      case BtfKind.Array: return t.nelems * this.sizeOf(t.elemType);
      default: return t.size;
    }
  }

  /** Whether an INT type is signed. */
  static isSigned(t: BtfType): boolean { return (t.intEncoding & INT_ENCODING_SIGNED) !== 0; }
}
