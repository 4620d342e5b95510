// Corrupted variants of the fixtures (truncations, flipped bytes, absurd counts and indexes):
// reading them must either work or fail with one ElfError line naming the file. No other
// exception may escape and nothing may hang (every loop is bounded by the file's size).

import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { spawnSync } from 'child_process';
import { ElfError, ElfFile } from '../../elf/elfFile';
import { formatReadelf, type ReadelfPart } from '../../elf/readelfFormat';
import * as C from '../../elf/constants';
import { FIXTURES, REPO_ROOT } from '../helpers/fixtures';
import { seededRandom } from '../helpers/random';

const ALL_PARTS = new Set<ReadelfPart>(['file-header', 'section-headers', 'symbols', 'relocs', 'notes']);
const SEED = 0x6b6c70;

interface Variant {
  label: string;
  bytes: Uint8Array;
}

function variantsOf(name: string): Variant[] {
  const original = new Uint8Array(fs.readFileSync(path.join(FIXTURES, 'elf', name)));
  const file = ElfFile.parse(original, name);
  const random = seededRandom(SEED ^ original.length);
  const out: Variant[] = [];
  const edit = (label: string, change: (b: Uint8Array, v: DataView) => void) => {
    const b = original.slice();
    change(b, new DataView(b.buffer));
    out.push({ label, bytes: b });
  };

  // Truncations: every header boundary, then points spread over the whole file.
  for (const len of [0, 1, 4, 15, 16, 17, 63, 64, 65]) out.push({ label: `truncated to ${len}`, bytes: original.slice(0, len) });
  for (let i = 1; i < 40; i++) {
    const len = Math.floor((original.length * i) / 40);
    out.push({ label: `truncated to ${len}`, bytes: original.slice(0, len) });
  }
  // Random byte flips, one to eight bytes each.
  for (let i = 0; i < 80; i++) {
    const flips = 1 + Math.floor(random() * 8);
    edit(`${flips} random byte flips #${i}`, (b) => {
      for (let k = 0; k < flips; k++) b[Math.floor(random() * b.length)] ^= 1 + Math.floor(random() * 255);
    });
  }
  // Header fields.
  edit('bad magic', (b) => (b[1] = 0x46));
  edit('32-bit class', (b) => (b[4] = 1));
  edit('big-endian', (b) => (b[5] = 2));
  edit('machine i386', (_b, v) => v.setUint16(18, 3, true));
  edit('absurd e_shnum', (_b, v) => v.setUint16(60, 0xfffe, true));
  edit('absurd e_phnum', (_b, v) => v.setUint16(56, 0xfffe, true));
  edit('e_shoff past the end', (_b, v) => v.setBigUint64(40, BigInt(original.length + 8), true));
  edit('e_shoff absurd', (_b, v) => v.setBigUint64(40, 0xffffffffffff0000n, true));
  edit('e_phoff absurd', (_b, v) => v.setBigUint64(32, 0x7fffffffffffn, true));
  edit('e_shstrndx out of range', (_b, v) => v.setUint16(62, 200, true));
  edit('e_shstrndx at a non-string section', (_b, v) => v.setUint16(62, 1, true));
  edit('e_shentsize wrong', (_b, v) => v.setUint16(58, 40, true));
  edit('extended numbering with absurd count', (_b, v) => {
    v.setUint16(60, 0, true);
    v.setBigUint64(file.header.shoff + 32, 0x100000n, true);
  });
  // Per-section fields.
  for (const s of file.sections.slice(1)) {
    const at = file.header.shoff + s.index * C.ELF64_SHDR_SIZE;
    edit(`${s.name}: name offset out of range`, (_b, v) => v.setUint32(at, 0xfffffff, true));
    edit(`${s.name}: offset past the end`, (_b, v) => v.setBigUint64(at + 24, BigInt(original.length), true));
    edit(`${s.name}: size absurd`, (_b, v) => v.setBigUint64(at + 32, 0xffffffffffffn, true));
    edit(`${s.name}: size past the end`, (_b, v) => v.setBigUint64(at + 32, BigInt(original.length), true));
    edit(`${s.name}: link out of range`, (_b, v) => v.setUint32(at + 40, 0x7fff, true));
    edit(`${s.name}: entry size wrong`, (_b, v) => v.setBigUint64(at + 56, 7n, true));
    edit(`${s.name}: size not a multiple of the entry`, (_b, v) => v.setBigUint64(at + 32, BigInt(Math.max(0, s.size - 5)), true));
  }
  // Symbol and relocation entries.
  const symtab = file.symtabSection();
  if (symtab) {
    for (let i = 1; i < Math.min(6, symtab.size / 24); i++) {
      const at = symtab.offset + i * 24;
      edit(`symbol ${i}: name index out of range`, (_b, v) => v.setUint32(at, 0xffffff, true));
      edit(`symbol ${i}: section index out of range`, (_b, v) => v.setUint16(at + 6, 0xfe00, true));
      edit(`symbol ${i}: SHN_XINDEX without .symtab_shndx`, (_b, v) => v.setUint16(at + 6, 0xffff, true));
      edit(`symbol ${i}: absurd size`, (_b, v) => v.setBigUint64(at + 16, 0xffffffffffffffffn, true));
    }
  }
  for (const rela of file.sections.filter((s) => s.type === C.SHT_RELA)) {
    edit(`${rela.name}: symbol index out of range`, (_b, v) => v.setUint32(rela.offset + 12, 0xffffff, true));
    edit(`${rela.name}: unknown type`, (_b, v) => v.setUint32(rela.offset + 8, 0xfff, true));
  }
  for (const note of file.sections.filter((s) => s.type === C.SHT_NOTE)) {
    edit(`${note.name}: namesz absurd`, (_b, v) => v.setUint32(note.offset, 0xfffffff0, true));
    edit(`${note.name}: descsz absurd`, (_b, v) => v.setUint32(note.offset + 4, 0xfffffff0, true));
  }
  return out;
}

/** Reads everything the ELF layer can read from a file. */
function readEverything(bytes: Uint8Array, name: string): void {
  const f = ElfFile.parse(bytes, name);
  f.symbols();
  for (const s of f.sections) if (s.type === C.SHT_RELA) f.relocations(s);
  f.notes();
  formatReadelf(f, ALL_PARTS);
}

const variants = ['sample.o', 'sample.elf', 'console.o'].flatMap((name) =>
  variantsOf(name).map((v) => ({ ...v, label: `${name}: ${v.label}` })),
);

test('a few hundred variants are tried', () => {
  expect(variants.length).toBeGreaterThanOrEqual(300);
});

test('every corrupted variant reads cleanly or fails with one ElfError line', () => {
  let failures = 0;
  for (const v of variants) {
    try {
      readEverything(v.bytes, 'corrupt.o');
    } catch (err) {
      if (!(err instanceof ElfError)) throw new Error(`${v.label}: escaped ${(err as Error).stack}`);
      expect(err.message.startsWith('corrupt.o: ')).toBe(true);
      expect(err.message).not.toContain('\n');
      failures++;
    }
  }
  // Most variants are broken on purpose; if almost none fail, the checks are not running.
  expect(failures).toBeGreaterThan(variants.length / 3);
});

test('the command line reports a corrupt file in one line with status 1', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'klp-elf-'));
  const picked = variants.filter((_, i) => i % 45 === 0);
  for (const v of picked) {
    const file = path.join(dir, 'x.o');
    fs.writeFileSync(file, v.bytes);
    const r = spawnSync('node', [path.join(REPO_ROOT, 'dist', 'cli', 'main.js'), 'readelf', '-h', '-S', '-s', '-r', '-n', file]);
    if (r.status !== 0) {
      expect(r.status).toBe(1);
      expect(r.stdout.length).toBe(0);
      expect(r.stderr.toString()).toMatch(/^klp-lab: .*x\.o: [^\n]+\n$/);
    }
  }
  fs.rmSync(dir, { recursive: true });
});
