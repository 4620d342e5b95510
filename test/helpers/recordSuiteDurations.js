// Rewrites test/suiteDurations.json (what test/helpers/testSequencer.js orders by) from the results
// of one whole run: `npx jest --json --outputFile=RESULTS.json`, then
// `node test/helpers/recordSuiteDurations.js RESULTS.json`. Seconds per test file, relative paths.
const fs = require('fs');
const path = require('path');

const results = process.argv[2];
if (!results) {
  process.stderr.write('usage: node test/helpers/recordSuiteDurations.js RESULTS.json (from jest --json --outputFile)\n');
  process.exit(1);
}
const root = path.join(__dirname, '..', '..');
const run = JSON.parse(fs.readFileSync(results, 'utf8'));
const seconds = {};
for (const r of run.testResults) {
  const s = (r.endTime - r.startTime) / 1000;
  seconds[path.relative(root, r.name).split(path.sep).join('/')] = Math.round(s * 10) / 10;
}
const sorted = Object.fromEntries(Object.entries(seconds).sort((a, b) => b[1] - a[1]));
const out = path.join(root, 'test', 'suiteDurations.json');
const tmp = `${out}.tmp`;
fs.writeFileSync(tmp, `${JSON.stringify({ recorded: new Date(run.startTime).toISOString().slice(0, 10), seconds: sorted }, null, 1)}\n`);
fs.renameSync(tmp, out);
process.stdout.write(`${out}: ${Object.keys(sorted).length} files, ${Object.values(sorted).reduce((a, b) => a + b, 0).toFixed(0)} s in all\n`);
