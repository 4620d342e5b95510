// The fixture lab reads the kernel through one layout description (emulator/kernel/): no file of
// livepatch/guest/ or livepatch/module/ names a symbol the fixture kernel exports as an offset or a
// #define value (fixtures/kernel/asm-offsets.c); only emulator/kernel/ (fixtureLayout.ts and, for
// the livepatch structures, klpLayout.ts) reads those.
import * as fs from 'fs';
import * as path from 'path';
import { REPO_ROOT } from '../../helpers/fixtures';
import { fixtureHostInterface, fixtureLayout } from '../../../emulator/kernel/fixtureLayout';
import { ElfFile } from '../../../elf/elfFile';

/** The names asm-offsets.c defines (OFFSET(NAME, ...) and DEFINE(NAME, ...)). */
function exportedOffsetNames(): string[] {
  const text = fs.readFileSync(path.join(REPO_ROOT, 'fixtures', 'kernel', 'asm-offsets.c'), 'utf8');
  return [...text.matchAll(/\b(?:OFFSET|DEFINE)\((\w+),/g)].map((m) => m[1]);
}

test('asm-offsets.c exports the names this check looks for', () => {
  const names = exportedOffsetNames();
  for (const n of ['TASK_patch_state', 'HOST_CALL_done', 'KPARAM_perm', 'MODULE_state', 'KLP_OBJECT_mod', 'TIF_PATCH_PENDING_bit']) expect(names).toContain(n);
});

test.each(['guest', 'module'])('no file of livepatch/%s/ reads an exported offset by name', (sub) => {
  const names = new Set(exportedOffsetNames());
  const dir = path.join(REPO_ROOT, 'livepatch', sub);
  const found: string[] = [];
  for (const f of fs.readdirSync(dir).filter((n) => n.endsWith('.ts'))) {
    for (const m of fs.readFileSync(path.join(dir, f), 'utf8').matchAll(/['"`](\w+)['"`]/g)) if (names.has(m[1])) found.push(`${f}: ${m[1]}`);
  }
  expect(found).toEqual([]);
});

test('the fixture kernel\'s layout and host interface agree with its exports', () => {
  const elf = ElfFile.read(path.join(REPO_ROOT, 'fixtures', 'kernel', 'kernel.elf'));
  const sym = new Map<string, number>();
  for (const s of elf.symbols()) if (s.name !== '' && !sym.has(s.name)) sym.set(s.name, Number(s.value));
  const layout = fixtureLayout(elf)!;
  const host = fixtureHostInterface(elf)!;
  expect(layout.task.patchState.offset).toBe(sym.get('TASK_patch_state'));
  expect(layout.task.tifFlags.offset).toBe(sym.get('TASK_flags'));
  expect(host.hostCall.done.offset).toBe(sym.get('HOST_CALL_done'));
  expect(host.module.state?.offset).toBe(sym.get('MODULE_state'));
  expect(host.kernelParam.perm.offset).toBe(sym.get('KPARAM_perm'));
  expect(host.kernelParam.size).toBe(sym.get('KPARAM_size'));
  expect(host.klpObjectMod?.offset).toBe(sym.get('KLP_OBJECT_mod'));
  expect(host.hypercalls.enablePatch).toBe(sym.get('KLP_HC_ENABLE_PATCH_nr'));
  expect(host.modules).toEqual({ start: Number(BigInt.asIntN(64, BigInt(sym.get('MODULES_VADDR')!))), end: Number(BigInt.asIntN(64, BigInt(sym.get('MODULES_END')!))) });
});
