// What a many-object run adds after objtool's own output: warnings counted by kind and by file
// (`--summary`, a table on stdout) and the same as data (`--json FILE`).
//
// Both are read back from the lines objtool printed, so they count exactly what the user saw.
// A warning is a stderr line "<file>: warning: objtool: <text>" (the indented --backtrace lines
// belong to the warning above them and are not counted). Its kind is the text without its
// location ("func+0x12: " or "func+0x12 (.text+0x40): ") and with the names and numbers in it
// replaced by `*`, so "call to foo() with UACCESS enabled" and "call to bar() with UACCESS
// enabled" are one kind.

export interface FileOutcome {
  path: string;
  status: number;
  stdout: string;
  stderr: string;
}

export interface Warning {
  /** The warning text after "objtool: ", location included. */
  text: string;
  kind: string;
}

const WARNING_MARK = ': warning: objtool: ';
const LOCATION = /^[^\s]+\+0x[0-9a-f]+(?: \([^\s]+\+0x[0-9a-f]+\))?: /;

/** The kind of a warning text (see the file comment). */
export function warningKind(text: string): string {
  return text
    .replace(LOCATION, '')
    .replace(/[\w.$@]+\(\)/g, '*()')
    .replace(/\b0x[0-9a-f]+\b/g, '*')
    .replace(/([=[(,+-])\d+/g, '$1*');
}

/** The warnings of one file's stderr, in order. */
export function fileWarnings(f: FileOutcome): Warning[] {
  const out: Warning[] = [];
  const mark = f.path + WARNING_MARK;
  for (const line of f.stderr.split('\n')) {
    if (!line.startsWith(mark)) continue;
    const text = line.slice(mark.length);
    if (text.startsWith('  ')) continue; // a --backtrace line
    out.push({ text, kind: warningKind(text) });
  }
  return out;
}

export interface BatchReport {
  /** The objtool arguments every file was run with (options and actions, no files). */
  args: string[];
  /** The combined exit status: the largest of the files'. */
  status: number;
  totals: { files: number; filesWithWarnings: number; warnings: number; filesFailed: number };
  byKind: { kind: string; count: number; files: number }[];
  files: { path: string; status: number; warnings: Warning[]; stdout: string; stderr: string }[];
}

export function buildReport(args: string[], outcomes: FileOutcome[]): BatchReport {
  const kinds = new Map<string, { count: number; files: Set<number> }>();
  let warnings = 0;
  let filesWithWarnings = 0;
  let filesFailed = 0;
  let status = 0;
  const files = outcomes.map((f, i) => {
    const w = fileWarnings(f);
    warnings += w.length;
    if (w.length) filesWithWarnings++;
    if (f.status !== 0) filesFailed++;
    status = Math.max(status, f.status);
    for (const { kind } of w) {
      const k = kinds.get(kind) ?? { count: 0, files: new Set<number>() };
      k.count++;
      k.files.add(i);
      kinds.set(kind, k);
    }
    return { path: f.path, status: f.status, warnings: w, stdout: f.stdout, stderr: f.stderr };
  });
  const byKind = [...kinds.entries()]
    .map(([kind, k]) => ({ kind, count: k.count, files: k.files.size }))
    .sort((a, b) => b.count - a.count || (a.kind < b.kind ? -1 : a.kind > b.kind ? 1 : 0));
  return { args, status, totals: { files: outcomes.length, filesWithWarnings, warnings, filesFailed }, byKind, files };
}

/** The --summary table. Files are listed when they warned or failed, most warnings first. */
export function formatSummary(r: BatchReport): string {
  const t = r.totals;
  const lines = [
    `objtool summary: ${t.files} files, ${t.warnings} warnings in ${t.filesWithWarnings} files, ${t.filesFailed} files failed, exit status ${r.status}`,
    '',
    'warnings by kind:',
    `${'count'.padStart(7)} ${'files'.padStart(6)}  kind`,
    ...r.byKind.map((k) => `${String(k.count).padStart(7)} ${String(k.files).padStart(6)}  ${k.kind}`),
    '',
    'warnings by file:',
    `${'count'.padStart(7)} ${'status'.padStart(6)}  file`,
  ];
  const listed = r.files
    .map((f, i) => ({ f, i }))
    .filter(({ f }) => f.warnings.length > 0 || f.status !== 0)
    .sort((a, b) => b.f.warnings.length - a.f.warnings.length || a.i - b.i);
  for (const { f } of listed) lines.push(`${String(f.warnings.length).padStart(7)} ${String(f.status).padStart(6)}  ${f.path}`);
  return lines.join('\n') + '\n';
}

/** The --json document. */
export function reportJson(r: BatchReport): string {
  return JSON.stringify({ tool: 'klp-lab objtool', format: 1, ...r }, null, 2) + '\n';
}
