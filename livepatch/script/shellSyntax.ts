// The shell syntax of scenario scripts: the subset of bash the livepatch selftests are written
// in. A script is a list of commands (newline or `;` separated); a command is a pipeline of
// words with redirections, `cmd1 || cmd2` / `cmd1 && cmd2`, or `if LIST; then LIST [else LIST]
// fi`. Words keep their quoting so that expansion ($VAR, ${VAR}, $(command)) happens when the
// command runs, with later assignments visible; quotes can span lines (check_result's block).

export type WordPart =
  | { kind: 'lit'; text: string; quoted: boolean }
  | { kind: 'var'; name: string; quoted: boolean }
  | { kind: 'subst'; source: string; line: number; quoted: boolean };

export interface Word {
  parts: WordPart[];
}

export interface Redirect {
  /** '>' (truncate), '>>' (append), or 'null' for the ones that only silence output (2>&1, &>/dev/null). */
  op: '>' | '>>' | 'null';
  target?: Word;
  fd: 1 | 2;
}

export interface SimpleCommand {
  type: 'simple';
  line: number;
  words: Word[];
  redirects: Redirect[];
}

export interface AndOr {
  type: 'andor';
  line: number;
  first: Command;
  rest: Array<{ op: '&&' | '||'; command: Command }>;
}

export interface IfCommand {
  type: 'if';
  line: number;
  condition: Command[];
  then: Command[];
  otherwise: Command[];
}

export type Command = SimpleCommand | AndOr | IfCommand;

/** A script that cannot be parsed: its line and what is wrong, for a one-line error. */
export class ScriptSyntaxError extends Error {
  constructor(readonly line: number, message: string) {
    super(message);
    this.name = 'ScriptSyntaxError';
  }
}

type Token =
  | { t: 'word'; word: Word; line: number; raw: string }
  | { t: 'op'; op: string; line: number }
  | { t: 'nl'; line: number };

/** Splits a script into tokens (words, operators, newlines). `firstLine` numbers its lines. */
function tokenize(src: string, firstLine = 1): Token[] {
  const out: Token[] = [];
  let i = 0;
  let line = firstLine;
  const n = src.length;
  const isBlank = (c: string) => c === ' ' || c === '\t';
  const isMeta = (c: string) => c === '\n' || c === ';' || c === '|' || c === '&' || c === '>' || c === '<' || isBlank(c);

  while (i < n) {
    const c = src[i];
    if (isBlank(c)) { i++; continue; }
    if (c === '\\' && src[i + 1] === '\n') { i += 2; line++; continue; }
    if (c === '#') { while (i < n && src[i] !== '\n') i++; continue; }
    if (c === '\n') { out.push({ t: 'nl', line }); line++; i++; continue; }
    if (c === ';') { out.push({ t: 'nl', line }); i++; continue; }
    if (src.startsWith('&&', i) || src.startsWith('||', i)) { out.push({ t: 'op', op: src.slice(i, i + 2), line }); i += 2; continue; }
    if (src.startsWith('2>&1', i)) { out.push({ t: 'op', op: '2>&1', line }); i += 4; continue; }
    if (src.startsWith('&>', i)) { out.push({ t: 'op', op: '&>', line }); i += 2; continue; }
    if (src.startsWith('2>', i)) { out.push({ t: 'op', op: '2>', line }); i += 2; continue; }
    if (src.startsWith('>>', i)) { out.push({ t: 'op', op: '>>', line }); i += 2; continue; }
    if (c === '>') { out.push({ t: 'op', op: '>', line }); i++; continue; }
    if (c === '|' || c === '&' || c === '<') throw new ScriptSyntaxError(line, `'${c}' is not supported (no pipes, background jobs or input redirection)`);

    // A word: runs of unquoted text, '...' and "..." glued together.
    const startLine = line;
    const start = i;
    const parts: WordPart[] = [];
    const lit = (text: string, quoted: boolean) => {
      const last = parts[parts.length - 1];
      if (last && last.kind === 'lit' && last.quoted === quoted) last.text += text;
      else parts.push({ kind: 'lit', text, quoted });
    };
    const dollar = (quoted: boolean) => {
      // at src[i] === '$'
      if (src[i + 1] === '(') {
        let depth = 1;
        let j = i + 2;
        let q: string | null = null;
        const subLine = line;
        for (; j < n && depth > 0; j++) {
          const d = src[j];
          if (d === '\n') line++;
          if (q) { if (d === '\\' && q === '"') j++; else if (d === q) q = null; continue; }
          if (d === "'" || d === '"') q = d;
          else if (d === '(') depth++;
          else if (d === ')') depth--;
        }
        if (depth !== 0) throw new ScriptSyntaxError(subLine, 'unterminated $( ... )');
        parts.push({ kind: 'subst', source: src.slice(i + 2, j - 1), line: subLine, quoted });
        i = j;
        return;
      }
      if (src[i + 1] === '{') {
        const end = src.indexOf('}', i);
        if (end < 0) throw new ScriptSyntaxError(line, 'unterminated ${...}');
        const name = src.slice(i + 2, end);
        if (!/^[A-Za-z_][A-Za-z0-9_]*$|^[0-9?*#@]$/.test(name)) throw new ScriptSyntaxError(line, `bad substitution: \${${name}}`);
        parts.push({ kind: 'var', name, quoted });
        i = end + 1;
        return;
      }
      const m = /^[A-Za-z_][A-Za-z0-9_]*|^[0-9?*#@]/.exec(src.slice(i + 1, i + 65));
      if (!m) { lit('$', quoted); i++; return; }
      parts.push({ kind: 'var', name: m[0], quoted });
      i += 1 + m[0].length;
    };

    while (i < n && !isMeta(src[i])) {
      const d = src[i];
      if (d === "'") {
        const end = src.indexOf("'", i + 1);
        if (end < 0) throw new ScriptSyntaxError(startLine, 'unterminated single quote');
        const text = src.slice(i + 1, end);
        line += text.split('\n').length - 1;
        lit(text, true);
        i = end + 1;
      } else if (d === '"') {
        i++;
        lit('', true);
        while (i < n && src[i] !== '"') {
          const e = src[i];
          if (e === '\\' && i + 1 < n && '"\\$`\n'.includes(src[i + 1])) {
            if (src[i + 1] === '\n') line++;
            else lit(src[i + 1], true);
            i += 2;
          } else if (e === '$') {
            dollar(true);
          } else {
            if (e === '\n') line++;
            lit(e, true);
            i++;
          }
        }
        if (i >= n) throw new ScriptSyntaxError(startLine, 'unterminated double quote');
        i++;
      } else if (d === '\\') {
        if (i + 1 < n) lit(src[i + 1], true);
        i += 2;
      } else if (d === '$') {
        dollar(false);
      } else if (d === '#' && i === start) {
        break;
      } else {
        lit(d, false);
        i++;
      }
    }
    out.push({ t: 'word', word: { parts }, line: startLine, raw: src.slice(start, i) });
  }
  out.push({ t: 'nl', line });
  return out;
}

const RESERVED = new Set(['if', 'then', 'else', 'fi', 'elif']);

/** A word that is plain unquoted text (a keyword or an operator-like word), else null. */
function plain(tok: Token | undefined): string | null {
  if (!tok || tok.t !== 'word') return null;
  return tok.word.parts.length === 1 && tok.word.parts[0].kind === 'lit' && !tok.word.parts[0].quoted ? tok.word.parts[0].text : null;
}

export function parseScript(src: string, firstLine = 1): Command[] {
  const toks = tokenize(src, firstLine);
  let p = 0;
  const peek = () => toks[p];
  const skipNewlines = () => { while (peek() && peek().t === 'nl') p++; };

  function parseList(terminators: Set<string>): Command[] {
    const list: Command[] = [];
    for (;;) {
      skipNewlines();
      const tok = peek();
      if (!tok) return list;
      const kw = plain(tok);
      if (kw !== null && terminators.has(kw)) return list;
      if (tok.t === 'nl' && p === toks.length - 1) { p++; return list; }
      list.push(parseAndOr());
    }
  }

  function parseAndOr(): Command {
    const first = parseCommand();
    const rest: Array<{ op: '&&' | '||'; command: Command }> = [];
    for (;;) {
      const tok = peek();
      if (tok && tok.t === 'op' && (tok.op === '&&' || tok.op === '||')) {
        p++;
        skipNewlines();
        rest.push({ op: tok.op, command: parseCommand() });
      } else {
        break;
      }
    }
    return rest.length ? { type: 'andor', line: first.line, first, rest } : first;
  }

  function parseCommand(): Command {
    const tok = peek();
    if (plain(tok) === 'if') {
      p++;
      const condition = parseList(new Set(['then']));
      expectKeyword('then', tok.line);
      const then = parseList(new Set(['else', 'fi', 'elif']));
      let otherwise: Command[] = [];
      if (plain(peek()) === 'elif') throw new ScriptSyntaxError(peek().line, "'elif' is not supported");
      if (plain(peek()) === 'else') {
        p++;
        otherwise = parseList(new Set(['fi']));
      }
      expectKeyword('fi', tok.line);
      return { type: 'if', line: tok.line, condition, then, otherwise };
    }
    const words: Word[] = [];
    const redirects: Redirect[] = [];
    let line = tok ? tok.line : 0;
    for (;;) {
      const t = peek();
      if (!t || t.t === 'nl') break;
      if (t.t === 'op') {
        if (t.op === '&&' || t.op === '||') break;
        p++;
        if (t.op === '2>&1') { redirects.push({ op: 'null', fd: 2 }); continue; }
        const target = peek();
        if (!target || target.t !== 'word') throw new ScriptSyntaxError(t.line, `'${t.op}' needs a file name`);
        p++;
        if (t.op === '&>') redirects.push({ op: 'null', fd: 1 }, { op: 'null', fd: 2 });
        else if (t.op === '2>') redirects.push({ op: 'null', fd: 2 });
        else redirects.push({ op: t.op as '>' | '>>', target: target.word, fd: 1 });
        continue;
      }
      const kw = plain(t);
      if (words.length === 0 && kw !== null && RESERVED.has(kw)) throw new ScriptSyntaxError(t.line, `unexpected '${kw}'`);
      if (words.length === 0) line = t.line;
      words.push(t.word);
      p++;
    }
    if (words.length === 0) throw new ScriptSyntaxError(line, 'missing command');
    return { type: 'simple', line, words, redirects };
  }

  function expectKeyword(kw: string, line: number): void {
    skipNewlines();
    if (plain(peek()) !== kw) throw new ScriptSyntaxError(peek()?.line ?? line, `'${kw}' expected`);
    p++;
  }

  const list = parseList(new Set());
  skipNewlines();
  if (p < toks.length) {
    const extra = plain(peek());
    throw new ScriptSyntaxError(peek().line, extra ? `unexpected '${extra}'` : 'unexpected text');
  }
  return list;
}
