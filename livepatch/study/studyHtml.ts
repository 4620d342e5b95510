// The studies' reports as one self-contained HTML page (`--html FILE`): inline CSS and SVG, no
// scripts, nothing fetched, so the file can be mailed or archived and opened anywhere. The
// livepatch page has the settings, the verdict table, a histogram of the completion times and
// every run with its seed and the command line that replays it; the unwind page has the settings,
// the verdicts per unwinder with their causes and culprit functions, the verdict chart, and the
// wrong-but-reliable examples with the command line that stops the guest there.

import * as path from 'path';
import { percentile, type LivepatchStudyResult } from './livepatchStudy';
import { studySvg, type StudyResult, type UnwinderCounts } from './unwindStudy';
import { VERDICT_CLASSES } from '../unwind/verdict';

export function escapeHtml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** A word as a POSIX shell reads it back: bare when safe, else in single quotes. */
export function shellWord(w: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(w) ? w : `'${w.replace(/'/g, `'\\''`)}'`;
}

const STYLE = `
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 72em; padding: 0 1em; color: #222; }
h1 { font-size: 1.5em; } h2 { font-size: 1.2em; margin-top: 1.6em; border-bottom: 1px solid #ccc; }
table { border-collapse: collapse; margin: 0.5em 0; font-size: 0.9em; }
th, td { border: 1px solid #ccc; padding: 0.2em 0.6em; text-align: left; vertical-align: top; }
th { background: #f0f0f0; } td.n { text-align: right; font-variant-numeric: tabular-nums; }
tr.bad td { background: #fde0dc; } code { font-size: 0.85em; white-space: pre-wrap; overflow-wrap: anywhere; }
.verdict { font-size: 1.1em; font-weight: bold; } .ok { color: #2e7d32; } .fail { color: #c62828; }
figure { margin: 1em 0; }`;

function page(title: string, body: string[]): string {
  return [
    '<!DOCTYPE html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    // Nothing may be fetched: a reference to anything outside the page is blocked (and logged).
    `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">`,
    `<title>${escapeHtml(title)}</title>`,
    `<style>${STYLE}</style>`,
    '</head>',
    '<body>',
    `<h1>${escapeHtml(title)}</h1>`,
    ...body,
    '</body>',
    '</html>',
    '',
  ].join('\n');
}

/** A two-column table of named values. */
function keyValues(rows: [string, string | number][], id?: string): string {
  const trs = rows.map(([k, v]) => `<tr><th>${escapeHtml(k)}</th><td${typeof v === 'number' ? ' class="n"' : ''}>${escapeHtml(String(v))}</td></tr>`);
  return `<table${id ? ` id="${id}"` : ''}>\n${trs.join('\n')}\n</table>`;
}

function cell(v: string | number, numeric = typeof v === 'number'): string {
  return `<td${numeric ? ' class="n"' : ''}>${escapeHtml(String(v))}</td>`;
}

const ms = (ns: number | null) => (ns === null ? 'n/a' : (ns / 1e6).toFixed(1));

/**
 * A histogram as inline SVG: `values` in `bins` equal bins between their minimum and maximum
 * (one bin when they are all equal), each bar titled with its range and count.
 */
export function histogramSvg(values: number[], label: string, bins = 20): string {
  const W = 640;
  const H = 240;
  const left = 50;
  const bottom = 40;
  const plotW = W - left - 20;
  const plotH = H - bottom - 20;
  const out = [`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif" font-size="11" role="img" aria-label="${escapeHtml(label)}">`];
  if (values.length === 0) {
    out.push(`<text x="${left}" y="${H / 2}">no values</text></svg>`);
    return out.join('\n');
  }
  const lo = Math.min(...values);
  const hi = Math.max(...values);
  const n = hi > lo ? bins : 1;
  const width = hi > lo ? (hi - lo) / n : 1;
  const counts = new Array<number>(n).fill(0);
  for (const v of values) counts[Math.min(n - 1, Math.floor((v - lo) / width))]++;
  const top = Math.max(...counts);
  const barW = plotW / n;
  counts.forEach((c, i) => {
    const h = (c / top) * plotH;
    const from = lo + i * width;
    const to = hi > lo ? from + width : hi;
    out.push(`<rect x="${(left + i * barW + 1).toFixed(1)}" y="${(20 + plotH - h).toFixed(1)}" width="${Math.max(1, barW - 2).toFixed(1)}" height="${h.toFixed(1)}" fill="#1976d2">` +
      `<title>${from.toFixed(1)} to ${to.toFixed(1)}: ${c}</title></rect>`);
    if (c > 0) out.push(`<text x="${(left + (i + 0.5) * barW).toFixed(1)}" y="${(16 + plotH - h).toFixed(1)}" text-anchor="middle">${c}</text>`);
  });
  out.push(`<line x1="${left}" y1="${20 + plotH}" x2="${left + plotW}" y2="${20 + plotH}" stroke="#444"/>`);
  out.push(`<text x="${left}" y="${20 + plotH + 14}" text-anchor="start">${lo.toFixed(1)}</text>`);
  out.push(`<text x="${left + plotW}" y="${20 + plotH + 14}" text-anchor="end">${hi.toFixed(1)}</text>`);
  out.push(`<text x="${left + plotW / 2}" y="${H - 6}" text-anchor="middle">${escapeHtml(label)}</text>`);
  out.push(`<text x="12" y="${20 + plotH / 2}" transform="rotate(-90 12 ${20 + plotH / 2})" text-anchor="middle">runs</text>`);
  out.push('</svg>');
  return out.join('\n');
}

/** The livepatch study's page; `replay` is the command line of one run without --at and --seed. */
export function livepatchStudyHtml(r: LivepatchStudyResult, replay: string[]): string {
  const ttc = r.perRun.filter((x) => x.timeToComplete !== null).map((x) => x.timeToComplete!);
  const attempts = r.perRun.map((x) => x.attempts);
  const clean = r.violations === 0 && r.completed === r.ran;
  const body: string[] = [];
  body.push(`<p class="verdict ${clean ? 'ok' : 'fail'}" id="verdict">${escapeHtml(
    `${r.completed}/${r.ran} transitions completed; ${r.violations} consistency violation(s) in ${r.runsWithViolations} run(s)`)}</p>`);
  body.push('<h2>Settings</h2>');
  body.push(keyValues([
    ['image', r.image],
    ['patch module', r.patch],
    ['kernel', r.kernel],
    ['unwinder', r.unwinder],
    ['immediate', r.immediate ? 'yes' : 'no'],
    ['kernel command line', r.cmdline],
    ['seed', r.seed],
    ['runs', `${r.ran} of ${r.runs}${r.shard[1] > 1 ? ` (shard ${r.shard[0]}/${r.shard[1]})` : ''}`],
    ['patch times (virtual ms)', `[${ms(r.window[0])}, ${ms(r.window[1])})`],
    ['timer jitter (ns)', r.jitterNs],
    ['force after (virtual s)', r.forceAfter === null || r.forceAfter === undefined ? 'never' : String(r.forceAfter / 1e9)],
    ['max wait (virtual s)', r.maxWait === undefined ? 'n/a' : String(r.maxWait / 1e9)],
  ], 'settings'));
  body.push('<h2>Verdicts</h2>');
  body.push(keyValues([
    ['transitions completed', r.completed],
    ['modprobe failures', r.loadFailures],
    ['consistency violations', r.violations],
    ['runs with violations', r.runsWithViolations],
    ['runs that needed signals', r.signalled],
    ['runs forced', r.forced],
    ['time to complete, median (virtual ms)', ms(percentile(ttc, 50))],
    ['time to complete, p99 (virtual ms)', ms(percentile(ttc, 99))],
    ['time to complete, max (virtual ms)', ms(ttc.length ? Math.max(...ttc) : null)],
    ['try-complete attempts, median', percentile(attempts, 50) ?? 'n/a'],
    ['try-complete attempts, max', attempts.length ? Math.max(...attempts) : 'n/a'],
  ], 'verdicts'));
  body.push('<h2>Time to complete</h2>');
  body.push(`<figure id="histogram">${histogramSvg(ttc.map((ns) => ns / 1e6), `time to complete (virtual ms), ${ttc.length} completed runs`)}</figure>`);
  body.push('<h2>Runs</h2>');
  body.push('<table id="runs">');
  body.push('<tr><th>run</th><th>seed</th><th>patch at (ms)</th><th>completed</th><th>time to complete (ms)</th><th>attempts</th><th>signalled</th><th>forced</th><th>violations</th><th>first violation</th><th>replay</th></tr>');
  for (const x of r.perRun) {
    const command = [...replay, '--at', String(x.patchAt), '--seed', String(x.seed), '--max-wait', String((r.maxWait ?? 60e9) / 1e9)].map(shellWord).join(' ');
    body.push(`<tr${x.violations > 0 || !x.completed ? ' class="bad"' : ''}>${cell(x.run)}${cell(x.seed)}${cell(ms(x.patchAt), true)}${cell(x.loadResult !== 0 ? `modprobe ${x.loadResult}` : x.completed ? 'yes' : 'no')}` +
      `${cell(ms(x.timeToComplete), true)}${cell(x.attempts)}${cell(x.signalled ? 'yes' : 'no')}${cell(x.forced ? 'yes' : 'no')}` +
      `${cell(x.violations)}${cell(x.firstViolation ?? '', false)}<td><code>${escapeHtml(command)}</code></td></tr>`);
  }
  body.push('</table>');
  return page(`livepatch study: ${path.basename(r.patch)} on ${path.basename(r.image)}`, body);
}

/** The unwind study's page; `replay` is `klp-lab unwind IMAGE` with the study's rules. */
export function unwindStudyHtml(r: StudyResult, replay: string[]): string {
  const body: string[] = [];
  body.push('<h2>Settings</h2>');
  body.push(keyValues([
    ['image', r.image],
    ['kernel rules', r.version],
    ['seed', r.seed],
    ['samples', `${r.samples}${r.shard[1] > 1 ? ` (shard ${r.shard[0]}/${r.shard[1]})` : ''}`],
    ['stop points drawn from', `[1, ${r.maxInsns}) instructions`],
    ['stop points taken', r.stopPoints],
    ['task stacks unwound', r.tasksUnwound],
  ], 'settings'));
  body.push('<h2>Verdicts</h2>');
  body.push('<table id="verdicts">');
  body.push(`<tr><th>unwinder</th>${VERDICT_CLASSES.map((k) => `<th>${k}</th>`).join('')}</tr>`);
  for (const [u, c] of Object.entries(r.unwinders) as [string, UnwinderCounts][]) {
    body.push(`<tr>${cell(u, false)}${VERDICT_CLASSES.map((k) => cell(c[k])).join('')}</tr>`);
  }
  body.push('</table>');
  body.push(`<figure id="chart">${studySvg(r)}</figure>`);
  for (const [u, c] of Object.entries(r.unwinders) as [string, UnwinderCounts][]) {
    const causes = Object.entries(c.byCause).sort((a, b) => b[1] - a[1]);
    if (causes.length > 0) {
      body.push(`<h2>${escapeHtml(u)}: refusals by cause</h2>`);
      body.push(`<table>\n<tr><th>cause</th><th>stacks</th></tr>\n${causes.map(([k, n]) => `<tr>${cell(k, false)}${cell(n)}</tr>`).join('\n')}\n</table>`);
    }
    const fns = Object.entries(c.byFunction).sort((a, b) => (b[1].wrong_reliable ?? 0) - (a[1].wrong_reliable ?? 0));
    if (fns.length > 0) {
      body.push(`<h2>${escapeHtml(u)}: wrong traces by function</h2>`);
      body.push('<table>\n<tr><th>function</th><th>wrong_reliable</th><th>wrong_refused</th><th>objtool 6.1 predicted</th></tr>');
      for (const [fn, cls] of fns) body.push(`<tr>${cell(fn, false)}${cell(cls.wrong_reliable ?? 0)}${cell(cls.wrong_refused ?? 0)}${cell(r.objtoolWarnings[fn] ?? '', false)}</tr>`);
      body.push('</table>');
    }
    if (c.examples.length > 0) {
      body.push(`<h2>${escapeHtml(u)}: wrong but reliable, examples</h2>`);
      body.push('<table>\n<tr><th>stop point</th><th>task</th><th>function</th><th>trace</th><th>ground truth</th><th>replay</th></tr>');
      for (const x of c.examples) {
        const command = [...replay, '--at', String(x.at)].map(shellWord).join(' ');
        body.push(`<tr>${cell(x.at)}${cell(x.task, false)}${cell(x.function, false)}<td><code>${escapeHtml(x.entries.join('\n'))}</code></td>` +
          `<td><code>${escapeHtml(x.truth.join('\n'))}</code></td><td><code>${escapeHtml(command)}</code></td></tr>`);
      }
      body.push('</table>');
    }
  }
  return page(`unwinder study: ${path.basename(r.image)}, seed ${r.seed}`, body);
}
