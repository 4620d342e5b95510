// `npm run bench`: runs every benchmark module in this folder (files named *Bench.js after the
// build) and prints their figures. Benchmarks print; they never pass or fail on time.

import * as fs from 'fs';
import * as path from 'path';

interface BenchModule {
  run(): Promise<void> | void;
}

async function main(): Promise<void> {
  const only = process.argv.slice(2);
  const files = fs
    .readdirSync(__dirname)
    .filter((f) => /Bench\.js$/.test(f))
    .filter((f) => only.length === 0 || only.some((o) => f.toLowerCase().includes(o.toLowerCase())))
    .sort();
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
