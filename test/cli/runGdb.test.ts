// `klp-lab run IMAGE --gdb PORT --wait`: real gdb attaches to the command line's stub, stops at
// a breakpoint and kills the guest.

import * as path from 'path';
import { spawnSync } from 'child_process';
import { FIXTURES, REPO_ROOT, haveTool } from '../helpers/fixtures';
import { serveUnderGdb } from '../helpers/gdbServe';

test('gdb attaches to klp-lab run --gdb 0 --wait and stops at printk', async () => {
  expect(haveTool('gdb')).toBe(true);
  const image = path.join(FIXTURES, 'boot', 'hello.elf');
  const { child, port, exited } = await serveUnderGdb(image);
  const gdb = spawnSync('gdb', ['-batch', '-nx', '-ex', `target remote :${port}`, '-ex', 'break printk', '-ex', 'continue',
    '-ex', 'info registers rip', '-ex', 'kill', image], { timeout: 60_000 });
  const out = gdb.stdout.toString();
  expect(out).toMatch(/Breakpoint 1, .* in printk \(\)/);
  expect(out).toMatch(/rip\s+0x[0-9a-f]+\s+0x[0-9a-f]+ <printk\+\d+>/);
  child.kill();
  await exited;
}, 90_000);

test('--wait without --gdb is refused in one line', () => {
  const r = spawnSync('node', [path.join(REPO_ROOT, 'dist', 'cli', 'main.js'), 'run', path.join(FIXTURES, 'boot', 'hello.elf'), '--wait']);
  expect(r.status).toBe(1);
  expect(r.stderr.toString()).toBe('klp-lab: --wait goes with --gdb\n');
});
