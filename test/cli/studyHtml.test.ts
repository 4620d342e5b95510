// The studies' HTML reports in a real headless browser (Debian's chromium): the page loads with
// no console message (the page forbids every fetch, so a reference to anything outside it would
// log one: a control page checks that such a message is seen), the browser's DOM has the study's
// figures, and a screenshot renders. Without chromium the test fails: it never skips.

import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { REPO_ROOT } from '../helpers/fixtures';

const CLI = path.join(REPO_ROOT, 'dist', 'cli', 'main.js');
const KERNEL = 'fixtures/kernel/kernel.elf';
const CHAIN = 'fixtures/livepatch/klp_chain_a2.o';

function klp(...args: string[]) {
  const r = spawnSync(process.execPath, [CLI, ...args], { cwd: REPO_ROOT, encoding: 'utf8', timeout: 240_000 });
  return { out: r.stdout, err: r.stderr, status: r.status };
}

/** Runs headless chromium on a file: its stdout (for --dump-dom) and its console messages. */
function chromium(file: string, ...args: string[]): { out: string; console: string[] } {
  const profile = fs.mkdtempSync(path.join(work, 'profile-'));
  const r = spawnSync('chromium', ['--headless', '--no-sandbox', '--disable-gpu', '--enable-logging=stderr', '--v=0',
    `--user-data-dir=${profile}`, ...args, `file://${file}`], { encoding: 'utf8', timeout: 120_000 });
  if (r.error) throw new Error(`cannot run chromium (install Debian's chromium, as .ci/run does): ${r.error.message}`);
  if (r.status !== 0) throw new Error(`chromium failed (status ${r.status}): ${r.stderr.slice(-2000)}`);
  return { out: r.stdout, console: r.stderr.split('\n').filter((l) => l.includes(':CONSOLE')) };
}

/** The text of the table cells of the element with this id, row by row. */
function tableRows(dom: string, id: string): string[][] {
  const table = new RegExp(`<table id="${id}">([\\s\\S]*?)</table>`).exec(dom);
  if (!table) throw new Error(`no table #${id} in the DOM`);
  return [...table[1].matchAll(/<tr[^>]*>([\s\S]*?)<\/tr>/g)].map((row) =>
    [...row[1].matchAll(/<t[hd][^>]*>([\s\S]*?)<\/t[hd]>/g)].map((c) => c[1].replace(/<[^>]+>/g, '').trim()));
}

let work: string;
beforeAll(() => { work = fs.mkdtempSync(path.join(os.tmpdir(), 'klp-study-html-')); });
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

test('the browser reports an outside reference in a page (the control of the console check)', () => {
  const page = path.join(work, 'control.html');
  fs.writeFileSync(page, `<!DOCTYPE html><html><head><meta http-equiv="Content-Security-Policy" content="default-src 'none'"></head>` +
    '<body><img src="http://127.0.0.1:9/x.png"></body></html>\n');
  expect(chromium(page, '--dump-dom').console.join('\n')).toMatch(/127\.0\.0\.1:9\/x\.png/);
}, 120_000);

test('livepatch study report: loads cleanly and shows the settings, verdicts, histogram and every run', () => {
  const html = path.join(work, 'livepatch.html');
  const json = path.join(work, 'livepatch.json');
  expect(klp('livepatch', 'study', KERNEL, CHAIN, '--runs', '3', '--seed', '9', '--no-progress', '--jobs', '1', '--html', html, '--json', json).status).toBe(0);
  const study = JSON.parse(fs.readFileSync(json, 'utf8'));
  const { out: dom, console } = chromium(html, '--dump-dom');
  expect(console).toEqual([]);
  expect(tableRows(dom, 'settings')).toContainEqual(['seed', '9']);
  expect(tableRows(dom, 'verdicts')).toContainEqual(['transitions completed', String(study.completed)]);
  expect(tableRows(dom, 'verdicts')).toContainEqual(['time to complete, median (virtual ms)', study.timeToComplete.median_ms.toFixed(1)]);
  const runs = tableRows(dom, 'runs').slice(1);
  expect(runs.map((r) => [r[0], r[1]])).toEqual(study.perRun.map((x: { run: number; seed: number }) => [String(x.run), String(x.seed)]));
  const first = study.perRun[0];
  expect(runs[0][9]).toBe('');
  expect(runs[0][10]).toBe(`klp-lab livepatch ${KERNEL} ${CHAIN} --kernel 6.1 --unwinder fp --cmdline 'scale=2 nap=20000' --jitter 200000 --at ${first.patchAt} --seed ${first.seed} --max-wait 30`);
  // The histogram is an inline SVG with one labelled bar per non-empty bin, 3 runs in all.
  const histogram = /<figure id="histogram"><svg[\s\S]*?<\/svg>/.exec(dom)![0];
  const bars = [...histogram.matchAll(/<title>[^<]*: (\d+)<\/title>/g)].map((m) => Number(m[1]));
  expect(bars.reduce((a, b) => a + b, 0)).toBe(3);

  const png = path.join(work, 'livepatch.png');
  chromium(html, '--hide-scrollbars', '--window-size=1280,1400', `--screenshot=${png}`);
  const bytes = fs.readFileSync(png);
  expect(bytes.subarray(1, 4).toString()).toBe('PNG');
  expect(bytes.length).toBeGreaterThan(20_000); // a blank page compresses to a few kB
}, 240_000);

test('the replay command of a run gives that run', () => {
  const json = path.join(work, 'livepatch.json');
  const first = JSON.parse(fs.readFileSync(json, 'utf8')).perRun[0];
  const r = klp('livepatch', KERNEL, CHAIN, '--kernel', '6.1', '--unwinder', 'fp', '--cmdline', 'scale=2 nap=20000', '--jitter', '200000',
    '--at', String(first.patchAt), '--seed', String(first.seed), '--max-wait', '30', '--no-debug-switch');
  expect(r.status).toBe(0);
  expect(r.out).toMatch(new RegExp(`^transition 'klp_chain_a2' \\(patching\\) started at .* \\(${(first.timeToComplete / 1e6).toFixed(3)} ms\\)$`, 'm'));
}, 240_000);

test('unwind study report: loads cleanly and shows the verdicts per unwinder and the chart', () => {
  const html = path.join(work, 'unwind.html');
  const json = path.join(work, 'unwind.json');
  expect(klp('unwind', 'study', KERNEL, '--samples', '60', '--seed', '3', '--unwinder', 'all', '--max-insns', '3000000', '--no-progress', '--html', html, '--json', json).status).toBe(0);
  const study = JSON.parse(fs.readFileSync(json, 'utf8'));
  const { out: dom, console } = chromium(html, '--dump-dom');
  expect(console).toEqual([]);
  const verdicts = tableRows(dom, 'verdicts');
  expect(verdicts[0]).toEqual(['unwinder', 'correct_reliable', 'refused', 'wrong_reliable', 'wrong_refused']);
  for (const u of ['fp', 'orc']) {
    const c = study.unwinders[u];
    expect(verdicts).toContainEqual([u, ...[c.correct_reliable, c.refused, c.wrong_reliable, c.wrong_refused].map(String)]);
  }
  expect(dom).toMatch(/<figure id="chart"><svg[\s\S]*?<\/svg>/);
}, 240_000);
