// Real Linux's layout (emulator/kernel/linuxLayout.ts: BTF offsets, kallsyms addresses) against
// pahole, which reads the same image's BTF with libbpf, a separate implementation; and the layout's
// symbols against kallsyms' own types.
import { spawnSync } from 'child_process';
import { ElfFile } from '../../elf/elfFile';
import { linuxLayout } from '../../emulator/kernel/linuxLayout';
import type { Field } from '../../emulator/kernel/kernelLayout';
import { realLinux } from '../helpers/realLinux';

jest.setTimeout(120_000);

/** Top-level members of a struct as pahole prints them: name -> offset and size. */
function pahole(vmlinux: string, struct: string): Map<string, Field> {
  const r = spawnSync('pahole', ['-F', 'btf', '-C', struct, vmlinux], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`pahole failed (CI installs dwarves): ${r.stderr || r.error}`);
  const out = new Map<string, Field>();
  for (const line of r.stdout.split('\n')) {
    const m = /^\t[^\t/].*?\**(\w+)(\[\d+\])*(?: __attribute__\(\(.*\)\))?;\s+\/\*\s+(\d+)\s+(\d+)\s+\*\//.exec(line);
    if (m !== null) out.set(m[1], { offset: Number(m[3]), size: Number(m[4]) });
  }
  return out;
}

test('task_struct, list_head and inactive_task_frame fields are where pahole puts them', () => {
  const { vmlinux } = realLinux();
  const layout = linuxLayout(ElfFile.read(vmlinux))!;
  expect(layout.description).toMatch(/^Linux 6\.1\.\d+-\d+-cloud-amd64$/);
  const task = pahole(vmlinux, 'task_struct');
  const thread = pahole(vmlinux, 'thread_struct');
  const threadInfo = pahole(vmlinux, 'thread_info');
  const t = layout.task;
  expect(t.tasks).toEqual(task.get('tasks'));
  expect(t.pid).toEqual(task.get('pid'));
  expect(t.comm).toEqual(task.get('comm'));
  expect(t.state).toEqual(task.get('__state'));
  expect(t.stack).toEqual(task.get('stack'));
  expect(t.pfFlags).toEqual(task.get('flags'));
  expect(t.patchState).toEqual(task.get('patch_state'));
  expect(t.onRq).toEqual(task.get('on_rq'));
  expect(t.sp).toEqual({ offset: task.get('thread')!.offset + thread.get('sp')!.offset, size: thread.get('sp')!.size });
  expect(t.tifFlags).toEqual({ offset: task.get('thread_info')!.offset + threadInfo.get('flags')!.offset, size: threadInfo.get('flags')!.size });
  expect(layout.listNext).toEqual(pahole(vmlinux, 'list_head').get('next'));
  const frame = pahole(vmlinux, 'inactive_task_frame');
  expect(layout.frame).toEqual({
    size: 56, r15: frame.get('r15')!.offset, r14: frame.get('r14')!.offset, r13: frame.get('r13')!.offset,
    r12: frame.get('r12')!.offset, bx: frame.get('bx')!.offset, bp: frame.get('bp')!.offset, retAddr: frame.get('ret_addr')!.offset,
  });
  expect(layout.currentTask.perCpu).toBe(true);
  expect(layout.perCpuOffsets).not.toBeNull();
  expect(layout.symbol('klp_target_state')).toBeDefined();
});
