// Corrupted objects: random byte flips, truncations and header edits of corpus objects, under
// --stackval --orc and --dump=orc. runObjtool must never throw (a host stack trace), must
// answer with at most warning lines in objtool's format, and must leave the file either
// untouched or replaced by a complete object that the ELF reader accepts. Seeded; the seed is
// printed and OBJTOOL_FUZZ_SEED repeats it.

import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { ElfFile } from '../../elf/elfFile';
import { runObjtool } from '../../objtool/objtool';
import { FIXTURES } from '../helpers/fixtures';
import { seededRandom } from '../helpers/random';

const OBJ = path.join(FIXTURES, 'objtool', 'obj');
const objects = fs.readdirSync(OBJ).filter((f) => f.endsWith('.o') && !f.startsWith('big-')).sort();
const seed = Number(process.env.OBJTOOL_FUZZ_SEED ?? Date.now() % 1000000);
const rnd = seededRandom(seed);
const LINE = /^(\S+: warning: objtool: .*|error: objtool: .*|objtool: .*)$/;

let work: string;
beforeAll(() => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'klp-objtool-fuzz-'));
  console.log(`objtool fuzz: seed ${seed} (OBJTOOL_FUZZ_SEED=${seed} repeats it)`);
});
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

function mutate(bytes: Buffer): Buffer {
  const b = Buffer.from(bytes);
  const kind = Math.floor(rnd() * 4);
  if (kind === 0) return b.subarray(0, Math.floor(rnd() * b.length));
  const flips = kind === 1 ? 1 : kind === 2 ? 8 : 64;
  for (let i = 0; i < flips; i++) {
    // Half of the flips land in the headers and tables, where they hurt most.
    const at = rnd() < 0.5 ? Math.floor(rnd() * Math.min(b.length, 64)) : Math.floor(rnd() * b.length);
    b[at] ^= 1 << Math.floor(rnd() * 8);
  }
  return b;
}

const cases: [string, number][] = [];
for (const obj of objects) for (let k = 0; k < 6; k++) cases.push([obj, k]);

test.each(cases)('%s mutation %d', (obj, _k) => {
  const bytes = mutate(fs.readFileSync(path.join(OBJ, obj)));
  const name = `fuzz-${obj}`;
  const file = path.join(work, name);
  for (const args of [['--stackval', '--orc', '--backtrace'], ['--dump=orc']]) {
    fs.writeFileSync(file, bytes);
    let r: ReturnType<typeof runObjtool> | undefined;
    expect(() => {
      r = runObjtool([...args, name], {}, work);
    }).not.toThrow();
    for (const line of r!.stderr.split('\n').filter((l) => l !== '')) expect(line).toMatch(LINE);
    const after = fs.readFileSync(file);
    if (!after.equals(bytes)) {
      expect(r!.status).toBe(0);
      expect(() => ElfFile.parse(new Uint8Array(after), name)).not.toThrow();
    }
  }
});
