// tools/objtool/builtin-check.c (6.1): actions, options, and their combination checks.
//
// Parsing follows libsubcmd's parse_options as objtool uses it: long options (with
// "--opt=value" for the optional-argument ones), bundled short actions ("-so"), the
// OBJTOOL_ARGS environment variable parsed first, exactly one file argument.

export interface Options {
  hackJumpLabel: boolean;
  hackNoinstr: boolean;
  ibt: boolean;
  mcount: boolean;
  noinstr: boolean;
  orc: boolean;
  retpoline: boolean;
  rethunk: boolean;
  unret: boolean;
  sls: boolean;
  stackval: boolean;
  staticCall: boolean;
  uaccess: boolean;
  dumpOrc: boolean;
  backtrace: boolean;
  backup: boolean;
  dryRun: boolean;
  link: boolean;
  module: boolean;
  noUnreachable: boolean;
  secAddress: boolean;
  stats: boolean;
}

export function defaultOptions(): Options {
  return {
    hackJumpLabel: false, hackNoinstr: false, ibt: false, mcount: false, noinstr: false, orc: false,
    retpoline: false, rethunk: false, unret: false, sls: false, stackval: false, staticCall: false,
    uaccess: false, dumpOrc: false, backtrace: false, backup: false, dryRun: false, link: false,
    module: false, noUnreachable: false, secAddress: false, stats: false,
  };
}

export const USAGE = `
 Usage: objtool <actions> [<options>] file.o

Actions:
    -h, --hacks[=<jump_label,noinstr>]
                          patch toolchain bugs/limitations
    -i, --ibt             validate and annotate IBT
    -l, --sls             validate straight-line-speculation mitigations
    -m, --mcount          annotate mcount/fentry calls for ftrace
    -n, --noinstr         validate noinstr rules
    -o, --orc             generate ORC metadata
    -r, --retpoline       validate and annotate retpoline usage
    -s, --stackval        validate frame pointer rules
    -t, --static-call     annotate static calls
    -u, --uaccess         validate uaccess rules for SMAP
        --dump[=<orc>]    dump metadata
        --rethunk         validate and annotate rethunk usage
        --unret           validate entry unret placement

Options:
        --backtrace       unwind on error
        --backup          create .orig files before modification
        --dry-run         don't write modifications
        --link            object is a linked object
        --module          object is part of a kernel module
        --no-unreachable  skip 'unreachable instruction' warnings
        --sec-address     print section addresses in warnings
        --stats           print statistics

`;

type Flag = keyof Options;
const LONG: Record<string, Flag> = {
  ibt: 'ibt', mcount: 'mcount', noinstr: 'noinstr', orc: 'orc', retpoline: 'retpoline', rethunk: 'rethunk',
  unret: 'unret', sls: 'sls', stackval: 'stackval', 'static-call': 'staticCall', uaccess: 'uaccess',
  backtrace: 'backtrace', backup: 'backup', 'dry-run': 'dryRun', link: 'link', module: 'module',
  'no-unreachable': 'noUnreachable', 'sec-address': 'secAddress', stats: 'stats',
};
const SHORT: Record<string, Flag> = {
  i: 'ibt', l: 'sls', m: 'mcount', n: 'noinstr', o: 'orc', r: 'retpoline', s: 'stackval', t: 'staticCall', u: 'uaccess',
};

export interface ParseFailure {
  ok: false;
  stderr: string;
  status: number;
}

export type ParseResult = { ok: true; opts: Options; file: string } | ParseFailure;

/** Like ParseResult, for klp-lab's many-file form: every file argument, at least one. */
export type ParseManyResult = { ok: true; opts: Options; files: string[] } | ParseFailure;

function usageError(msg: string | null): ParseFailure {
  return { ok: false, stderr: (msg ? `  Error: ${msg}\n` : '') + USAGE, status: 129 };
}

function applyHacks(opts: Options, value: string | undefined): string | null {
  if (value === undefined) {
    opts.hackJumpLabel = true;
    opts.hackNoinstr = true;
    return null;
  }
  for (const v of value.split(',')) {
    if (v === 'jump_label') opts.hackJumpLabel = true;
    else if (v === 'noinstr') opts.hackNoinstr = true;
    else return 'option `hacks\' expects a value';
  }
  return null;
}

/** Parses one argument list into opts; returns the non-option arguments or an error. */
function parseList(args: string[], opts: Options): string[] | ParseFailure {
  const rest: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === '--') {
      rest.push(...args.slice(i + 1));
      break;
    }
    if (a.startsWith('--')) {
      const eq = a.indexOf('=');
      const name = eq < 0 ? a.slice(2) : a.slice(2, eq);
      const value = eq < 0 ? undefined : a.slice(eq + 1);
      if (name === 'hacks') {
        const err = applyHacks(opts, value);
        if (err) return usageError(err);
        continue;
      }
      if (name === 'dump') {
        if (value !== undefined && value !== 'orc') return usageError(null);
        opts.dumpOrc = true;
        continue;
      }
      const flag = LONG[name];
      if (!flag) return usageError(`unknown option \`${name}'`);
      if (value !== undefined) return usageError(`option \`${name}' takes no value`);
      opts[flag] = true;
      continue;
    }
    if (a.startsWith('-') && a.length > 1) {
      for (let k = 1; k < a.length; k++) {
        const c = a[k];
        if (c === 'h') {
          const v = a.length > k + 1 ? a.slice(k + 1) : undefined;
          const err = applyHacks(opts, v);
          if (err) return usageError(err);
          break;
        }
        const flag = SHORT[c];
        if (!flag) return usageError(`unknown switch \`${c}'`);
        opts[flag] = true;
      }
      continue;
    }
    rest.push(a);
  }
  return rest;
}

/** cmd_parse_options() + opts_valid()/link_opts_valid() up to opening the file. */
export function parseObjtoolArgs(argv: string[], env: string | undefined): ParseResult {
  const r = parseObjtoolArgsMany(argv, env, false);
  return r.ok ? { ok: true, opts: r.opts, file: r.files[0] } : r;
}

/**
 * The same checks, in the same order, with any number of file arguments (one or more) when
 * `many` is set: klp-lab runs each file as objtool would run it alone.
 */
export function parseObjtoolArgsMany(argv: string[], env: string | undefined, many = true): ParseManyResult {
  const opts = defaultOptions();
  if (env) {
    const r = parseList(env.split(' ').filter((x) => x.length > 0), opts);
    if (!Array.isArray(r)) return r;
  }
  const r = parseList(argv, opts);
  if (!Array.isArray(r)) return r;
  if (many ? r.length === 0 : r.length !== 1) return usageError(null);
  const hasAction =
    opts.hackJumpLabel || opts.hackNoinstr || opts.ibt || opts.mcount || opts.noinstr || opts.orc || opts.retpoline ||
    opts.rethunk || opts.sls || opts.stackval || opts.staticCall || opts.uaccess;
  const hasOption = opts.backtrace || opts.backup || opts.dryRun || opts.link || opts.module || opts.noUnreachable ||
    opts.secAddress || opts.stats;
  if (opts.dumpOrc) {
    if (hasAction || hasOption || opts.unret) {
      return { ok: false, stderr: "error: objtool: --dump can't be combined with other options\n" + USAGE, status: 129 };
    }
    return { ok: true, opts, files: r };
  }
  if (opts.unret && !opts.rethunk) return { ok: false, stderr: 'error: objtool: --unret requires --rethunk\n' + USAGE, status: 129 };
  if (!hasAction && !opts.unret) return { ok: false, stderr: 'error: objtool: At least one command required\n' + USAGE, status: 129 };
  return { ok: true, opts, files: r };
}
