// Prints BTF types as `bpftool btf dump file FILE format raw` does (bpftool 7.1, the one Debian
// ships for Linux 6.1), line for line, so klp-lab's reading of a kernel's types can be compared with
// the real tool's.
import { Btf, BtfKind, BTF_KIND_NAMES, type BtfType } from './btf';

const FUNC_LINKAGE = ['static', 'global', 'extern'];
const VAR_LINKAGE = ['static', 'global', 'extern'];

function quoted(name: string): string { return `'${name === '' ? '(anon)' : name}'`; }

function intEncoding(e: number): string {
  if (e & 1) return 'SIGNED';
  if (e & 2) return 'CHAR';
  if (e & 4) return 'BOOL';
  return '(none)';
}

/** One type, as bpftool's raw dump prints it (members, enumerators, parameters on tab-indented lines). */
export function formatBtfType(btf: Btf, t: BtfType): string {
  let s = `[${t.id}] ${BTF_KIND_NAMES[t.kind]} ${quoted(t.name)}`;
  switch (t.kind) {
    case BtfKind.Int:
      return `${s} size=${t.size} bits_offset=${t.intOffset} nr_bits=${t.intBits} encoding=${intEncoding(t.intEncoding)}`;
    case BtfKind.Ptr: case BtfKind.Const: case BtfKind.Volatile: case BtfKind.Restrict: case BtfKind.Typedef:
    case BtfKind.TypeTag:
      return `${s} type_id=${t.type}`;
    case BtfKind.Array:
      return `${s} type_id=${t.elemType} index_type_id=${t.indexType} nr_elems=${t.nelems}`;
    case BtfKind.Struct: case BtfKind.Union:
      s += ` size=${t.size} vlen=${t.vlen}`;
      for (const m of t.members) {
        s += `\n\t${quoted(m.name)} type_id=${m.type} bits_offset=${m.bitOffset}`;
        if (m.bitfieldSize !== 0) s += ` bitfield_size=${m.bitfieldSize}`;
      }
      return s;
    case BtfKind.Enum: case BtfKind.Enum64:
      s += ` encoding=${t.kindFlag ? 'SIGNED' : 'UNSIGNED'} size=${t.size} vlen=${t.vlen}`;
      for (const e of t.enumerators) {
        s += `\n\t${quoted(e.name)} val=${e.big}${t.kind === BtfKind.Enum64 ? (t.kindFlag ? 'LL' : 'ULL') : ''}`;
      }
      return s;
    case BtfKind.Fwd:
      return `${s} fwd_kind=${t.kindFlag ? 'union' : 'struct'}`;
    case BtfKind.Func:
      return `${s} type_id=${t.type} linkage=${FUNC_LINKAGE[t.linkage] ?? 'UNKN'}`;
    case BtfKind.FuncProto:
      s += ` ret_type_id=${t.type} vlen=${t.vlen}`;
      for (const p of t.params) s += `\n\t${quoted(p.name)} type_id=${p.type}`;
      return s;
    case BtfKind.Var:
      return `${s} type_id=${t.type}, linkage=${VAR_LINKAGE[t.linkage] ?? 'UNKN'}`;
    case BtfKind.DataSec:
      s += ` size=${t.size} vlen=${t.vlen}`;
      for (const v of t.vars) {
        const vt = btf.types[v.type];
        s += `\n\ttype_id=${v.type} offset=${v.offset} size=${v.size} (${vt ? BTF_KIND_NAMES[vt.kind] : 'UNKNOWN'} ${quoted(vt?.name ?? '')})`;
      }
      return s;
    case BtfKind.Float:
      return `${s} size=${t.size}`;
    case BtfKind.DeclTag:
      return `${s} type_id=${t.type} component_idx=${t.componentIdx}`;
    default:
      return s;
  }
}

/** The whole dump, or only the types whose ids are listed. */
export function formatBtf(btf: Btf, ids?: readonly number[]): string {
  const out: string[] = [];
  for (const id of ids ?? btf.types.keys()) {
    const t = btf.types[id];
    if (t !== undefined) out.push(formatBtfType(btf, t));
  }
  return out.length > 0 ? `${out.join('\n')}\n` : '';
}
