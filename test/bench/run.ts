// `npm run bench`: runs every benchmark module in this folder (files named *Bench.js after the
// build) and prints their figures. Benchmarks print; they never pass or fail on time.

import * as fs from 'fs';
import * as path from 'path';

interface BenchModule {
  run(): Promise<void> | void;
}

async function main(): Promise<void> {
  const only = process.argv.slice(2).map((o) => o.toLowerCase());
  const all = fs.readdirSync(__dirname).filter((f) => /Bench\.js$/.test(f)).sort();
  const name = (f: string): string => f.replace(/Bench\.js$/, '').toLowerCase();
  // A word names the benchmark called exactly that (`study` is studyBench, not realLinuxStudyBench);
  // a word that is no benchmark's whole name selects every benchmark whose name contains it.
  const picks = (o: string): string[] => {
    const exact = all.filter((f) => name(f) === o);
    return exact.length > 0 ? exact : all.filter((f) => name(f).includes(o));
  };
  const files = only.length === 0 ? all : all.filter((f) => only.some((o) => picks(o).includes(f)));
  if (files.length === 0) throw new Error(`no benchmark is called ${only.join(' or ')}: ${all.map((f) => f.replace(/Bench\.js$/, '')).join(', ')}`);
  for (const file of files) {
    process.stdout.write(`\n== ${file.replace(/\.js$/, '')}\n`);
    // eslint-disable-next-line @typescript-eslint/no-var-requires
    const mod = require(path.join(__dirname, file)) as BenchModule;
    await mod.run();
  }
}

main().catch((err) => {
  process.stderr.write(`bench: ${(err as Error).message}\n`);
  process.exitCode = 1;
});
