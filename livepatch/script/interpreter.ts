// Runs parsed scenario scripts (shellSyntax.ts) the way bash runs the selftests: variables
// and their expansion, command substitution, `||`, `&&`, `if`, redirections to files (which
// LabFiles serves), and the few shell commands the selftests use: echo, cat, grep, test/[[ ]],
// sleep (virtual time), exit, true/false, `. functions.sh` (the harness is built in). The
// harness's functions and the module tools are commands the caller registers (harness.ts).

import { parseScript, ScriptSyntaxError, type Command, type SimpleCommand, type Word } from './shellSyntax';
import type { LabFiles } from './labFiles';
import { strerror } from './errno';

/** A scenario that cannot go on because of its input (a bad line, a missing module): one line. */
export class ScriptError extends Error {
  constructor(readonly line: number, message: string) {
    super(message);
    this.name = 'ScriptError';
  }
}

/** `exit N`, or die()/skip() of the harness: the script ends with this status. */
export class ScriptExit extends Error {
  constructor(readonly status: number) {
    super(`exit ${status}`);
    this.name = 'ScriptExit';
  }
}

export interface ScriptOutput {
  out(text: string): void;
  err(text: string): void;
}

export type CommandFn = (args: string[], shell: Shell) => number;

export class Shell {
  readonly vars = new Map<string, string>();
  readonly commands = new Map<string, CommandFn>();
  /** The line of the command running now (for messages). */
  line = 0;
  lastStatus = 0;
  /** `echo VALUE > /sys/...` (set by the harness: logged and waited for as functions.sh does). */
  sysfsEcho?: (value: string, file: string) => number;
  private outStack: Array<string[]> = [];
  private errSilenced = 0;

  constructor(
    readonly files: LabFiles,
    private readonly output: ScriptOutput,
    /** Lets virtual time pass (sleep, loop_until's interval). */
    readonly sleep: (seconds: number) => void,
  ) {
    this.registerShellCommands();
  }

  /** What a command prints on standard output (captured by $(...) and redirections). */
  out(text: string): void {
    const top = this.outStack[this.outStack.length - 1];
    if (top) top.push(text);
    else this.output.out(text);
  }

  err(text: string): void {
    if (this.errSilenced === 0) this.output.err(text);
  }

  /** Runs a whole script; returns its exit status. */
  runScript(source: string): number {
    let commands: Command[];
    try {
      commands = parseScript(source);
    } catch (e) {
      if (e instanceof ScriptSyntaxError) throw new ScriptError(e.line, `syntax error: ${e.message}`);
      throw e;
    }
    try {
      return this.runList(commands);
    } catch (e) {
      if (e instanceof ScriptExit) return e.status;
      throw e;
    }
  }

  /** Runs a command line given as text (loop_until's argument, eval). */
  evalText(source: string, line: number): number {
    let commands: Command[];
    try {
      commands = parseScript(source, line);
    } catch (e) {
      if (e instanceof ScriptSyntaxError) throw new ScriptError(line, `syntax error in '${source}': ${e.message}`);
      throw e;
    }
    return this.runList(commands);
  }

  private runList(list: Command[]): number {
    let status = 0;
    for (const c of list) status = this.run(c);
    return status;
  }

  private run(c: Command): number {
    if (c.type === 'if') {
      const cond = this.runList(c.condition);
      return (this.lastStatus = cond === 0 ? this.runList(c.then) : this.runList(c.otherwise));
    }
    if (c.type === 'andor') {
      let status = this.run(c.first);
      for (const { op, command } of c.rest) {
        if ((op === '&&' && status === 0) || (op === '||' && status !== 0)) status = this.run(command);
      }
      return (this.lastStatus = status);
    }
    return (this.lastStatus = this.runSimple(c));
  }

  private runSimple(c: SimpleCommand): number {
    this.line = c.line;
    const words = this.expandWords(c.words);
    // NAME=value assignments (alone on their line).
    if (words.length > 0 && words.every((w) => /^[A-Za-z_][A-Za-z0-9_]*=/.test(w)) && c.words.every((w) => w.parts[0]?.kind === 'lit' && !w.parts[0].quoted)) {
      for (const w of words) {
        const eq = w.indexOf('=');
        this.vars.set(w.slice(0, eq), w.slice(eq + 1));
      }
      return 0;
    }
    if (words.length === 0) return 0;
    const [name, ...args] = words;
    const fn = this.commands.get(name);
    if (!fn) throw new ScriptError(c.line, `${name}: command not found (scenario scripts know the selftests' harness functions, modprobe, rmmod, sysctl and a few shell commands: klp-lab livepatch script --help)`);

    const redirect = c.redirects.find((r) => r.op !== 'null' && r.fd === 1);
    if (name === 'echo' && redirect && this.sysfsEcho && args.every((a) => !a.startsWith('-'))) {
      const target = this.expandWord(redirect.target!).join(' ');
      if (target.startsWith('/sys/')) return this.sysfsEcho(args.join(' '), target);
    }
    const silenceErr = c.redirects.some((r) => r.op === 'null' && r.fd === 2);
    const silenceOut = c.redirects.some((r) => r.op === 'null' && r.fd === 1);
    if (silenceErr) this.errSilenced++;
    if (redirect || silenceOut) this.outStack.push([]);
    let status: number;
    try {
      status = fn(args, this);
    } finally {
      if (silenceErr) this.errSilenced--;
    }
    if (redirect || silenceOut) {
      const text = this.outStack.pop()!.join('');
      if (redirect) {
        const target = this.expandWord(redirect.target!).join(' ');
        const err = this.files.write(target, text);
        if (err) {
          this.err(`bash: ${target}: ${strerror(err)}\n`);
          return 1;
        }
      }
    }
    return status;
  }

  /** $(command): its standard output without trailing newlines. */
  private substitute(source: string, line: number): string {
    this.outStack.push([]);
    const saved = this.line;
    try {
      this.evalText(source, line);
    } finally {
      this.line = saved;
    }
    return this.outStack.pop()!.join('').replace(/\n+$/, '');
  }

  private value(name: string): string {
    if (name === '?') return String(this.lastStatus);
    if (name === '0') return this.vars.get('0') ?? 'scenario';
    return this.vars.get(name) ?? '';
  }

  /** Expands one word: quoted parts stay whole, unquoted expansions split on blanks. */
  expandWord(w: Word): string[] {
    const fields: string[] = [];
    let cur = '';
    let have = false;
    for (const part of w.parts) {
      let text: string;
      if (part.kind === 'lit') text = part.text;
      else if (part.kind === 'var') text = this.value(part.name);
      else text = this.substitute(part.source, part.line);
      if (part.quoted || part.kind === 'lit') {
        cur += text;
        have = true;
        continue;
      }
      const pieces = text.split(/[ \t\n]+/);
      pieces.forEach((piece, i) => {
        if (i > 0) {
          if (have) fields.push(cur);
          cur = '';
          have = false;
        }
        if (piece !== '') {
          cur += piece;
          have = true;
        }
      });
    }
    if (have) fields.push(cur);
    return fields;
  }

  private expandWords(words: Word[]): string[] {
    return words.flatMap((w) => this.expandWord(w));
  }

  private registerShellCommands(): void {
    const c = this.commands;
    c.set('true', () => 0);
    c.set('false', () => 1);
    c.set(':', () => 0);
    c.set('exit', (args) => {
      throw new ScriptExit(args.length ? Number(args[0]) | 0 : this.lastStatus);
    });
    c.set('echo', (args) => {
      let newline = true;
      let escapes = false;
      while (args.length && /^-[neE]+$/.test(args[0])) {
        const flags = args.shift()!;
        if (flags.includes('n')) newline = false;
        if (flags.includes('e')) escapes = true;
        if (flags.includes('E')) escapes = false;
      }
      let text = args.join(' ');
      if (escapes) text = text.replace(/\\(n|t|\\)/g, (_m, e: string) => (e === 'n' ? '\n' : e === 't' ? '\t' : '\\'));
      this.out(text + (newline ? '\n' : ''));
      return 0;
    });
    c.set('cat', (args) => {
      let status = 0;
      for (const path of args) {
        const r = this.files.read(path);
        if ('error' in r) {
          this.err(`cat: ${path}: ${r.error}\n`);
          status = 1;
        } else {
          this.out(r.text);
        }
      }
      return status;
    });
    c.set('grep', (args) => grep(args, this));
    c.set('sleep', (args) => {
      const s = Number(args[0]);
      if (!(s >= 0)) throw new ScriptError(this.line, `sleep: invalid time interval '${args[0] ?? ''}'`);
      this.sleep(s);
      return 0;
    });
    c.set('[[', (args) => {
      if (args[args.length - 1] !== ']]') throw new ScriptError(this.line, "'[[' without ']]'");
      return test(args.slice(0, -1), this);
    });
    c.set('test', (args) => test(args, this));
    c.set('[', (args) => {
      if (args[args.length - 1] !== ']') throw new ScriptError(this.line, "'[' without ']'");
      return test(args.slice(0, -1), this);
    });
    // `. $(dirname $0)/functions.sh`: the harness's functions are built in.
    const source = (args: string[]) => {
      if (args[0] && /(^|\/)functions\.sh$/.test(args[0])) return 0;
      throw new ScriptError(this.line, `${args[0] ?? '.'}: only the selftests' functions.sh can be sourced (it is built in)`);
    };
    c.set('.', source);
    c.set('source', source);
    c.set('dirname', (args) => {
      const p = args[0] ?? '.';
      const i = p.lastIndexOf('/');
      this.out((i > 0 ? p.slice(0, i) : i === 0 ? '/' : '.') + '\n');
      return 0;
    });
  }
}

/** grep [-q] [-v] [-e PATTERN]... [PATTERN] FILE...: basic regular expressions as JavaScript ones. */
function grep(args: string[], shell: Shell): number {
  let quiet = false;
  let invert = false;
  const patterns: string[] = [];
  const files: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === '-q') quiet = true;
    else if (a === '-v') invert = true;
    else if (a === '-e') patterns.push(args[++i] ?? '');
    else if (patterns.length === 0 && !a.startsWith('-')) patterns.push(a);
    else files.push(a);
  }
  if (patterns.length === 0 || files.length === 0) throw new ScriptError(shell.line, 'grep: a pattern and a file are needed');
  const res = patterns.map((p) => new RegExp(p.replace(/\\\(/g, '(').replace(/\\\)/g, ')').replace(/\\\|/g, '|')));
  let found = false;
  let status = 1;
  for (const f of files) {
    const r = shell.files.read(f);
    if ('error' in r) {
      shell.err(`grep: ${f}: ${r.error}\n`);
      status = 2;
      continue;
    }
    for (const line of r.text.replace(/\n$/, '').split('\n')) {
      if (r.text === '') break;
      if (res.some((re) => re.test(line)) !== invert) {
        found = true;
        if (!quiet) shell.out((files.length > 1 ? `${f}:` : '') + line + '\n');
      }
    }
  }
  return found ? 0 : status;
}

/** test / [ ] / [[ ]]: -e -f -d -n -z, = == !=, -eq -ne, and !. */
function test(args: string[], shell: Shell): number {
  let negate = false;
  while (args[0] === '!') {
    negate = !negate;
    args = args.slice(1);
  }
  let ok: boolean;
  if (args.length === 1) ok = args[0] !== '';
  else if (args.length === 2) {
    const [op, a] = args;
    if (op === '-e' || op === '-f' || op === '-d') {
      const mode = shell.files.mode(a);
      ok = mode !== undefined && (op === '-e' || (op === '-d') === mode.startsWith('d'));
    } else if (op === '-n') ok = a !== '';
    else if (op === '-z') ok = a === '';
    else throw new ScriptError(shell.line, `test: unknown operator ${op}`);
  } else if (args.length === 3) {
    const [a, op, b] = args;
    if (op === '==' || op === '=') ok = a === b;
    else if (op === '!=') ok = a !== b;
    else if (op === '-eq') ok = Number(a) === Number(b);
    else if (op === '-ne') ok = Number(a) !== Number(b);
    else throw new ScriptError(shell.line, `test: unknown operator ${op}`);
  } else {
    throw new ScriptError(shell.line, `test: ${args.length} arguments are not supported`);
  }
  return ok !== negate ? 0 : 1;
}
