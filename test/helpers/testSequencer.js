// Orders the test files for jest's two workers: the longest first, so that the run does not end
// with one worker idle while the other still has a long suite ahead of it.
//
// Jest's own order needs its per-file timings from an earlier run in the same checkout (its cache
// is keyed by the checkout's path); a fresh clone, as CI has, falls back to file size, which put
// test/linux/selftests.test.ts (a small file, the longest suite by far) last and made the whole run
// about as long as the other suites plus that one. test/suiteDurations.json records each file's
// seconds from one whole run (`node test/helpers/recordSuiteDurations.js RESULTS.json` rewrites it
// from `npx jest --json --outputFile=RESULTS.json`); a file it lacks takes jest's cached time, else
// a guess from its size. Files that failed last time still come first, as with jest.
const fs = require('fs');
const path = require('path');
const Sequencer = require('@jest/test-sequencer').default;

const RECORDED = path.join(__dirname, '..', 'suiteDurations.json');
/** Seconds guessed per byte of a test file that neither the record nor jest's cache knows. */
const SECONDS_PER_BYTE = 1 / 2000;

function recordedSeconds(rootDir) {
  let table = {};
  try { table = JSON.parse(fs.readFileSync(RECORDED, 'utf8')).seconds ?? {}; } catch { /* no record: jest's cache or sizes */ }
  const byPath = new Map();
  for (const [file, s] of Object.entries(table)) byPath.set(path.join(rootDir, file), s);
  return byPath;
}

class LongestFirstSequencer extends Sequencer {
  sort(tests) {
    if (tests.length === 0) return tests;
    const recorded = recordedSeconds(tests[0].context.config.rootDir);
    const estimate = new Map();
    for (const t of tests) {
      const cached = this.time(t);
      const s = recorded.get(t.path) ?? (cached != null ? cached / 1000 : (t.context.hasteFS.getSize(t.path) ?? 0) * SECONDS_PER_BYTE);
      estimate.set(t, s);
      t.duration = s * 1000;
    }
    return [...tests].sort((a, b) => {
      const failedA = this.hasFailed(a), failedB = this.hasFailed(b);
      if (failedA !== failedB) return failedA ? -1 : 1;
      return estimate.get(b) - estimate.get(a) || (a.path < b.path ? -1 : 1);
    });
  }
}

module.exports = LongestFirstSequencer;
