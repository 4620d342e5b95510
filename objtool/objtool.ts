// tools/objtool/objtool.c + builtin-check.c (6.1): the objtool command.
//
// runObjtool() takes argv (without the program name) and returns stdout, stderr and the exit
// status instead of touching the process, so tests and the CLI share it. Exit status is 0
// whatever the warnings, as in 6.1; usage errors give 129. Bad input files give objtool's
// one-line error and status 1 (where 6.1 itself exits 0 or crashes on some corrupt files,
// this port still reports them and leaves the file untouched).

import * as fs from 'fs';
import * as pathMod from 'path';
import { ElfFile, ElfError } from '../elf/elfFile';
import { writeFileAtomic } from '../elf/atomicWrite';
import * as C from '../elf/constants';
import { check } from './check';
import type { CheckContext } from './model/context';
import { FatalError, ObjectFile } from './model/objectFile';
import { parseObjtoolArgs, type Options } from './options';
import { orcDump } from './orc/orcDump';
import { buildOrcObject } from './orc/orcWrite';
import { Reporter, MSG } from './report/warnings';
import { CfiTable } from './validate/cfiState';

export interface ObjtoolResult {
  stdout: string;
  stderr: string;
  status: number;
}

function lines(l: string[]): string {
  return l.length ? l.join('\n') + '\n' : '';
}

/** Reads the object the way objtool_open_read() reports problems. */
function openElf(path: string, cwd: string, firstCall: string): ElfFile | string {
  let bytes: Buffer;
  try {
    bytes = fs.readFileSync(pathMod.resolve(cwd, path));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'No such file or directory' : code === 'EISDIR' ? 'Is a directory' : code === 'EACCES' ? 'Permission denied' : String((e as Error).message);
    return `objtool: Can't open '${path}': ${why}`;
  }
  if (bytes.length < 16 || bytes[0] !== 0x7f || bytes[1] !== 0x45 || bytes[2] !== 0x4c || bytes[3] !== 0x46) {
    return `${path}: warning: objtool: ${firstCall}: invalid \`Elf' handle`;
  }
  try {
    const elf = ElfFile.parse(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length), path);
    if (elf.header.machine !== C.EM_X86_64) return `${path}: warning: objtool: ${MSG.machine(elf.header.machine)}`;
    return elf;
  } catch (e) {
    if (e instanceof ElfError) return `${path}: warning: objtool: ${e.message.replace(`${path}: `, '')}`;
    throw e;
  }
}

/**
 * Runs objtool. `cwd` resolves the file argument (warnings name it exactly as given, so a
 * test can run in a scratch directory and still print "x.o: warning: ...").
 */
/** Actions of 6.1 objtool this port does not implement: refused rather than silently ignored. */
function unimplementedAction(o: Options): string | null {
  if (o.hackJumpLabel || o.hackNoinstr) return '--hacks';
  if (o.ibt) return '--ibt';
  if (o.mcount) return '--mcount';
  if (o.noinstr) return '--noinstr';
  if (o.retpoline) return '--retpoline';
  if (o.rethunk) return '--rethunk';
  if (o.unret) return '--unret';
  if (o.staticCall) return '--static-call';
  return null;
}

/** ilog2() as the kernel's hash sizing uses it: max(10, ilog2(n)). */
function hashBits(n: number): number {
  return Math.max(10, n > 0 ? Math.floor(Math.log2(n)) : 0);
}

/** What elf_open_read() and check() print first with --stats. */
function statsHeader(obj: ObjectFile): string {
  const elf = obj.elf;
  let textSize = 0;
  let maxReloc = 0;
  let totReloc = 0;
  for (const s of elf.sections) {
    if (s.flags & C.SHF_EXECINSTR) textSize += s.size;
    if (s.type === C.SHT_RELA || s.type === C.SHT_REL) {
      const n = s.entsize ? Math.floor(s.size / s.entsize) : 0;
      maxReloc = Math.max(maxReloc, n);
      totReloc += n;
    }
  }
  const nSyms = elf.symbols().length;
  const symbolBits = hashBits(nSyms);
  return [
    `nr_sections: ${elf.sections.length}`, `section_bits: ${hashBits(elf.sections.length)}`,
    `nr_symbols: ${nSyms}`, `symbol_bits: ${symbolBits}`,
    `max_reloc: ${maxReloc}`, `tot_reloc: ${totReloc}`, `reloc_bits: ${hashBits(Math.floor(textSize / 16))}`,
    `cfi_bits: ${hashBits(2 ** (symbolBits - 3))}`,
  ].join('\n');
}

export function runObjtool(argv: string[], env: NodeJS.ProcessEnv = process.env, cwd: string = process.cwd()): ObjtoolResult {
  const parsed = parseObjtoolArgs(argv, env.OBJTOOL_ARGS);
  if (!parsed.ok) return { stdout: '', stderr: parsed.stderr, status: parsed.status };
  const refused = refuseUnimplemented(parsed.opts);
  if (refused) return refused;
  return runObjtoolOnFile(parsed.opts, parsed.file, cwd);
}

/** The one-line refusal of an action this port does not implement, or null. */
export function refuseUnimplemented(opts: Options): ObjtoolResult | null {
  const missing = unimplementedAction(opts);
  if (!missing) return null;
  return { stdout: '', stderr: `error: objtool: ${missing} is not implemented by klp-lab objtool (it implements --stackval, --orc, --uaccess, --sls and --dump=orc)\n`, status: 1 };
}

/**
 * objtool on one file with options already parsed and checked (parseObjtoolArgs and
 * refuseUnimplemented): what a run of the C tool on that file alone prints and returns.
 * `options` is not modified (objtool changes its own copy, e.g. forcing --link).
 */
export function runObjtoolOnFile(options: Options, path: string, cwd: string = process.cwd()): ObjtoolResult {
  const opts: Options = { ...options };

  // The first libelf call that fails on a non-ELF file differs: orc_dump() asks for the
  // section count, objtool_open_read() for the ELF header. --dump returns -1 (status 255).
  const elf = openElf(path, cwd, opts.dumpOrc ? 'elf_getshdrnum' : 'gelf_getehdr');
  const target = pathMod.resolve(cwd, path);
  if (typeof elf === 'string') return { stdout: '', stderr: elf + '\n', status: opts.dumpOrc && !elf.startsWith('objtool:') ? 255 : 1 };

  if (opts.dumpOrc) {
    try {
      const r = orcDump(elf);
      if (r.error) return { stdout: r.out, stderr: `${path}: warning: objtool: ${r.error}\n`, status: 255 };
      return { stdout: r.out, stderr: '', status: 0 };
    } catch (e) {
      if (e instanceof ElfError) return { stdout: '', stderr: `${path}: warning: objtool: ${e.message.replace(`${path}: `, '')}\n`, status: 255 };
      throw e;
    }
  }

  // objtool_open_read(): --backup copies the object to <file>.orig right after opening it.
  if (opts.backup) {
    try {
      fs.copyFileSync(target, target + '.orig');
    } catch {
      return { stdout: '', stderr: `${path}: warning: objtool: can't create backup file\n`, status: 1 };
    }
  }
  const rep = new Reporter(path, opts.secAddress);
  const errLines: string[] = [];
  let obj: ObjectFile;
  try {
    obj = new ObjectFile(elf);
  } catch (e) {
    if (e instanceof FatalError) return { stdout: '', stderr: `${path}: warning: objtool: ${e.message}\n`, status: 1 };
    if (e instanceof ElfError) return { stdout: '', stderr: `${path}: warning: objtool: ${e.message.replace(`${path}: `, '')}\n`, status: 1 };
    throw e;
  }
  if (obj.numFiles > 1 && !opts.link) {
    errLines.push('error: objtool: Linked object detected, forcing --link');
    opts.link = true;
  }
  obj.ignoreUnreachables = opts.noUnreachable;
  const ctx: CheckContext = { file: obj, rep, opts, cfis: new CfiTable(), nrInsnsVisited: 0, stats: opts.stats ? [statsHeader(obj)] : null };
  let result;
  try {
    result = check(ctx);
  } catch (e) {
    if (e instanceof ElfError) {
      return { stdout: '', stderr: lines([...errLines, ...rep.lines, `${path}: warning: objtool: ${e.message.replace(`${path}: `, '')}`]), status: 1 };
    }
    throw e;
  }
  const stdout = ctx.stats ? ctx.stats.map((l) => l + '\n').join('') : '';
  if (result.orc.length && !opts.dryRun) {
    try {
      const out = buildOrcObject(obj, result.orc);
      writeFileAtomic(target, out);
    } catch (e) {
      const msg = e instanceof Error ? e.message : String(e);
      return { stdout, stderr: lines([...errLines, ...rep.lines, `${path}: warning: objtool: elf_update: ${msg}`]), status: 1 };
    }
  }
  return { stdout, stderr: lines([...errLines, ...rep.lines]), status: 0 };
}
