// Command-line helper for the x87/MMX host goldens (run from dist/ after `npx tsc`):
//   node dist/test/emulator/x87/x87Tool.js golden BIN OUTDIR [SEED]   record test/golden/hostcpu/x87-*.json.gz
//   node dist/test/emulator/x87/x87Tool.js compare BIN GROUP [SEED] [PER] [SHOW]   host vs emulator, mismatches
// BIN is the built fixtures/hostcpu/x87run (make -C fixtures/hostcpu x87run).
import * as fs from 'fs';
import * as path from 'path';
import * as zlib from 'zlib';
import { GROUPS, GOLDEN_PER_FORM, makeCases, runHost, EmulatorRunner, diff, toRow } from './x87Cases';

function main(argv: string[]): void {
  const [cmd, bin] = argv;
  if (cmd === 'golden') {
    const dir = argv[2];
    const seed = Number(argv[3] ?? 1);
    for (const group of Object.keys(GROUPS)) {
      const cases = makeCases(group, seed, GOLDEN_PER_FORM[group]);
      const out = runHost(bin, cases);
      const rows = cases.map((k, i) => toRow(k, out[i]));
      const doc = JSON.stringify({ seed, cpu: cpuModel(), group, rows });
      const file = path.join(dir, `x87-${group}.json.gz`);
      fs.writeFileSync(file + '.tmp', zlib.gzipSync(doc, { level: 9 }));
      fs.renameSync(file + '.tmp', file);
      console.log(`${file}: ${rows.length} cases`);
    }
    return;
  }
  if (cmd === 'compare') {
    const group = argv[2], seed = Number(argv[3] ?? 1), per = Number(argv[4] ?? 20), show = Number(argv[5] ?? 15);
    const cases = makeCases(group, seed, per);
    const host = runHost(bin, cases);
    const emu = new EmulatorRunner();
    let bad = 0;
    const byCode = new Map<string, number>();
    for (let i = 0; i < cases.length; i++) {
      const e = emu.run(cases[i]);
      const d = typeof e === 'string' ? `${cases[i].code}: ${e}` : diff(group, cases[i], host[i], e);
      if (d) {
        bad++;
        const k = cases[i].code.slice(0, 6);
        byCode.set(k, (byCode.get(k) ?? 0) + 1);
        if (bad <= show) console.log(d);
      }
    }
    console.log(`${group}: ${cases.length - bad}/${cases.length} agree`, [...byCode].slice(0, 60).map(([k, v]) => `${k}:${v}`).join(' '));
    return;
  }
  console.error('usage: x87Tool golden BIN OUTDIR [SEED] | compare BIN GROUP [SEED] [PER] [SHOW]');
  process.exit(2);
}

export function cpuModel(): string {
  const m = /model name\s*:\s*(.*)/.exec(fs.readFileSync('/proc/cpuinfo', 'utf8'));
  return m ? m[1].trim() : 'unknown';
}

if (require.main === module) main(process.argv.slice(2));
