// Every corpus object against the goldens recorded from Linux 6.1's objtool
// (fixtures/objtool/record-golden.sh): warnings line for line with the exit status for each
// option set, the ORC dump, and the raw .orc_unwind/.orc_unwind_ip bytes with their
// relocations. Each run happens on a copy in a scratch directory under the same file name,
// so the warning lines name the object exactly as the real tool's do. Large objects are
// committed gzipped (obj/*.o.gz) and their goldens hold digests (SHA-256, line count, first
// lines) of the same outputs, for the plain --stackval run and the ORC output.

import { createHash } from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { gunzipSync } from 'zlib';
import { ElfFile } from '../../elf/elfFile';
import { runObjtool } from '../../objtool/objtool';
import { FIXTURES, GOLDEN } from '../helpers/fixtures';
import { orcTablesOf } from '../helpers/orcTables';

interface ModeRecord {
  args: string[];
  stdout: string;
  stderr: string;
  status: number;
  changed?: boolean;
}
/** A large output as the golden records it for a packed object. */
interface Digest {
  sha256: string;
  lines: number;
  head: string[];
}
interface Golden {
  object: string;
  /** Committed as this gzipped file; stdout, stderr and ORC contents are Digests. */
  packed?: string;
  digest?: boolean;
  modes: Record<string, ModeRecord>;
  dumpOrc: { stdout: string; stderr: string; status: number };
  orc: { '.orc_unwind'?: string; '.orc_unwind_ip'?: string; '.rela.orc_unwind_ip'?: [number, number, string, number][]; sections: string[] };
  ldStatus: number;
}

const OBJ = path.join(FIXTURES, 'objtool', 'obj');
const GOLD = path.join(GOLDEN, 'objtool');
const goldens = fs
  .readdirSync(GOLD)
  .filter((f) => f.endsWith('.json') && !f.startsWith('bad-'))
  .sort()
  .map((f) => JSON.parse(fs.readFileSync(path.join(GOLD, f), 'utf8')) as Golden);

let work: string;
beforeAll(() => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'klp-objtool-'));
});
afterAll(() => {
  fs.rmSync(work, { recursive: true, force: true });
});

function fresh(obj: string): string {
  const dst = path.join(work, obj);
  if (fs.existsSync(path.join(OBJ, obj))) fs.copyFileSync(path.join(OBJ, obj), dst);
  else fs.writeFileSync(dst, gunzipSync(fs.readFileSync(path.join(OBJ, obj + '.gz'))));
  return dst;
}

function digest(text: string): Digest {
  const lines = text.split('\n');
  return { sha256: createHash('sha256').update(text, 'latin1').digest('hex'), lines: lines.length, head: lines.slice(0, 3).map((l) => l.slice(0, 200)) };
}

/** The golden's form of an output: itself, or its digest for a packed object. */
function form(g: Golden, text: string): unknown {
  return g.digest ? digest(text) : text.split('\n');
}
function goldenForm(g: Golden, rec: string | Digest): unknown {
  return g.digest ? rec : (rec as string).split('\n');
}

/** The ORC sections of a written object in the golden's shape. */
function orcOf(file: string): Golden['orc'] {
  const elf = ElfFile.read(file);
  return { sections: elf.sections.map((s) => s.name), ...orcTablesOf(elf) };
}

test('the corpus is complete: every committed object has a golden', () => {
  const objects = fs.readdirSync(OBJ).filter((f) => f.endsWith('.o') || f.endsWith('.o.gz')).map((f) => f.replace(/\.gz$/, '')).sort();
  expect(goldens.map((g) => g.object)).toEqual(objects);
  expect(objects.length).toBeGreaterThanOrEqual(50);
});

/**
 * The generated big-* objects (600 functions each) exist for the bench; their warnings repeat
 * one pattern, so only the plain --stackval run and the ORC output are compared for them,
 * keeping the suite fast. Every option set runs on every other object.
 */
function modesFor(g: Golden): [string, ModeRecord][] {
  return Object.entries(g.modes).filter(([m]) => m !== 'orcOnly' && (!(g.object.startsWith('big-') || g.digest) || m === 'stackval'));
}

describe.each(goldens.map((g) => [g.object, g] as const))('%s', (obj, g) => {
  const modes = modesFor(g);
  test.each(modes)('%s: same warnings, output and exit status as objtool 6.1', (mode, rec) => {
    const file = fresh(obj);
    const before = fs.readFileSync(file);
    const r = runObjtool([...rec.args, obj], {}, work);
    expect(form(g, r.stderr)).toEqual(goldenForm(g, rec.stderr));
    expect(form(g, r.stdout)).toEqual(goldenForm(g, rec.stdout));
    expect(r.status).toBe(rec.status);
    if (rec.changed !== undefined) expect(!fs.readFileSync(file).equals(before)).toBe(rec.changed);
  });

  test('--orc then --dump=orc: same warnings, same dump, same ORC bytes and relocations', () => {
    const file = fresh(obj);
    const o = runObjtool(['--orc', obj], {}, work);
    expect(form(g, o.stderr)).toEqual(goldenForm(g, g.modes.orcOnly.stderr));
    expect(o.status).toBe(g.modes.orcOnly.status);
    const d = runObjtool(['--dump=orc', obj], {}, work);
    expect(form(g, d.stdout)).toEqual(goldenForm(g, g.dumpOrc.stdout));
    expect(d.status).toBe(g.dumpOrc.status);
    const ours = orcOf(file);
    if (g.digest) {
      const orc = g.orc as unknown as Record<string, Digest>;
      expect(digest(ours['.orc_unwind'] ?? '')).toEqual(orc['.orc_unwind']);
      expect(digest(ours['.orc_unwind_ip'] ?? '')).toEqual(orc['.orc_unwind_ip']);
      expect(digest(JSON.stringify(ours['.rela.orc_unwind_ip']))).toEqual(orc['.rela.orc_unwind_ip']);
    } else {
      expect(ours['.orc_unwind']).toBe(g.orc['.orc_unwind']);
      expect(ours['.orc_unwind_ip']).toBe(g.orc['.orc_unwind_ip']);
      expect(ours['.rela.orc_unwind_ip']).toEqual(g.orc['.rela.orc_unwind_ip']);
    }
    // The same sections in the same order: the three ORC sections appended after the others.
    expect(ours.sections).toEqual(g.orc.sections);
  });
});
