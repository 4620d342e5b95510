// The transition timeline as an SVG chart: one row per task, time on the x axis; a task is
// amber while it still has to switch, green once it has, with a red tick for every attempt
// that was refused and a purple one for every signal; a dashed line marks completion.

import type { TransitionTimeline } from './timeline';

const ROW = 22;
const LEFT = 190;
const WIDTH = 900;
const TOP = 40;

const escape = (s: string) => s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);

export function timelineSvg(t: TransitionTimeline): string {
  const rows = t.rows();
  const end = Math.max(t.completedAt ?? 0, ...rows.flatMap((r) => [r.switchedAt ?? 0, ...r.blocked.map((b) => b.time)]), t.startedAt + 1);
  const span = Math.max(1, end - t.startedAt) * 1.05;
  const x = (time: number) => LEFT + ((time - t.startedAt) / span) * (WIDTH - LEFT - 20);
  const height = TOP + rows.length * ROW + 40;
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" font-family="monospace" font-size="12">`);
  out.push(`<rect width="100%" height="100%" fill="white"/>`);
  out.push(`<text x="10" y="20" font-size="14">${escape(`'${t.patch}' ${t.direction} transition`)}` +
    `${t.completedAt !== undefined ? escape(`: complete after ${((t.completedAt - t.startedAt) / 1e6).toFixed(3)} ms`) : ': not complete'}</text>`);
  rows.forEach((r, i) => {
    const y = TOP + i * ROW;
    out.push(`<text x="10" y="${y + 14}">${escape(`${String(r.pid).padStart(3)} ${r.comm}`)}</text>`);
    const from = r.flaggedAt ?? t.startedAt;
    const switched = r.switchedAt ?? end;
    if (r.flaggedAt !== undefined) {
      out.push(`<rect x="${x(from)}" y="${y + 3}" width="${Math.max(1, x(switched) - x(from))}" height="${ROW - 8}" fill="#f4b942"><title>${escape(`pending since ${(from / 1e6).toFixed(3)} ms`)}</title></rect>`);
    }
    if (r.switchedAt !== undefined) {
      out.push(`<rect x="${x(r.switchedAt)}" y="${y + 3}" width="${Math.max(1, x(end) - x(r.switchedAt))}" height="${ROW - 8}" fill="#5cb85c"><title>${escape(`switched by ${r.switchedBy} at ${(r.switchedAt / 1e6).toFixed(3)} ms`)}</title></rect>`);
    }
    for (const b of r.blocked) {
      out.push(`<line x1="${x(b.time)}" x2="${x(b.time)}" y1="${y + 1}" y2="${y + ROW - 3}" stroke="#d9534f" stroke-width="2"><title>${escape(b.reason)}</title></line>`);
    }
    for (const s of r.signalledAt) {
      out.push(`<circle cx="${x(s)}" cy="${y + ROW / 2}" r="4" fill="#8e44ad"><title>signalled</title></circle>`);
    }
  });
  if (t.completedAt !== undefined) {
    out.push(`<line x1="${x(t.completedAt)}" x2="${x(t.completedAt)}" y1="${TOP - 5}" y2="${TOP + rows.length * ROW}" stroke="black" stroke-dasharray="4 3"/>`);
  }
  const axisY = TOP + rows.length * ROW + 15;
  for (let k = 0; k <= 4; k++) {
    const time = t.startedAt + (span * k) / 4;
    out.push(`<text x="${x(time)}" y="${axisY}" text-anchor="middle">${((time - t.startedAt) / 1e6).toFixed(1)} ms</text>`);
  }
  out.push('</svg>');
  return out.join('\n') + '\n';
}
