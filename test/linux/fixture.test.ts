// The real-Linux fixture's pieces, each judged against a real peer: the LZ4 extraction against the
// lz4 tool, the newc writer against GNU cpio, and the fetched kernel against what a PVH boot needs.
import * as fs from 'fs';
import * as path from 'path';
import * as zlib from 'zlib';
import { execFileSync } from 'child_process';
import { lz4LegacyDecompress, bzImagePayload, BzImageError } from '../../livepatch/linux/bzImage';
import { buildCpio } from '../../livepatch/linux/cpioNewc';
import { linuxFixture, scratchDir } from '../helpers/linux/linuxFixture';
import { ElfFile } from '../../elf/elfFile';
import { pvhEntry } from '../../emulator/loader/pvh';
import { seededRandom } from '../../emulator/seededRandom';

function sizeWord(n: number): Buffer { const b = Buffer.alloc(4); b.writeUInt32LE(n, 0); return b; }

describe('LZ4 legacy frames (against the lz4 tool)', () => {
  test('data with long literals, short and overlapping matches decodes as lz4 -d does', () => {
    const dir = scratchDir();
    try {
      const rnd = seededRandom(7);
      const parts: Buffer[] = [];
      for (let i = 0; i < 3000; i++) {
        const kind = Math.floor(rnd() * 3);
        if (kind === 0) parts.push(Buffer.from(Array.from({ length: 1 + Math.floor(rnd() * 300) }, () => Math.floor(rnd() * 256))));
        else if (kind === 1) parts.push(Buffer.alloc(1 + Math.floor(rnd() * 600), Math.floor(rnd() * 256)));
        else parts.push(Buffer.from('abcabcabc'.repeat(1 + Math.floor(rnd() * 40))));
      }
      const data = Buffer.concat(parts);
      fs.writeFileSync(path.join(dir, 'in'), data);
      execFileSync('lz4', ['-l', '-9', '-f', '-q', path.join(dir, 'in'), path.join(dir, 'in.lz4')]);
      const frame = Buffer.concat([fs.readFileSync(path.join(dir, 'in.lz4')), sizeWord(data.length)]);
      expect(Buffer.from(lz4LegacyDecompress(frame)).equals(data)).toBe(true);
      // A corrupted frame is refused with a clear error, never a host crash.
      const bad = Buffer.from(frame);
      bad.writeUInt32LE(0x7fffffff, 4);
      expect(() => lz4LegacyDecompress(bad)).toThrow(BzImageError);
    } finally { fs.rmSync(dir, { recursive: true, force: true }); }
  });

  test('a file that is not a bzImage is refused', () => {
    expect(() => bzImagePayload(new Uint8Array(4096))).toThrow(/not a bzImage/);
  });
});

describe('newc initramfs writer (against GNU cpio)', () => {
  const entries = [
    { name: 'init', kind: 'file' as const, data: Buffer.from('#!/bin/sh\necho hi\n') },
    { name: 'bin', kind: 'dir' as const },
    { name: 'bin/sh', kind: 'symlink' as const, target: 'busybox' },
    { name: 'dev', kind: 'dir' as const },
    { name: 'dev/console', kind: 'chardev' as const, major: 5, minor: 1 },
    { name: 'bin/odd', kind: 'file' as const, data: Buffer.from('x'), mode: 0o600 },
  ];

  test('cpio lists every entry with its type, mode, owner, size and link target', () => {
    const dir = scratchDir();
    try {
      fs.writeFileSync(path.join(dir, 'a.cpio'), buildCpio(entries));
      const list = execFileSync('cpio', ['-itv', '--quiet', '-F', path.join(dir, 'a.cpio')], { encoding: 'utf8' })
        .trim().split('\n').map((l) => l.replace(/\s+/g, ' ').replace(/ Jan 1 1970 /, ' '));
      expect(list).toEqual([
        'drwxr-xr-x 2 root root 0 bin',
        '-rw------- 1 root root 1 bin/odd',
        'lrwxrwxrwx 1 root root 7 bin/sh -> busybox',
        'drwxr-xr-x 2 root root 0 dev',
        'crw------- 1 root root 5, 1 dev/console',
        '-rwxr-xr-x 1 root root 18 init',
      ]);
      execFileSync('cpio', ['-idm', '--quiet', '-F', path.join(dir, 'a.cpio'), 'init'], { cwd: dir });
      expect(fs.readFileSync(path.join(dir, 'init'), 'utf8')).toBe('#!/bin/sh\necho hi\n');
    } finally { fs.rmSync(dir, { recursive: true, force: true }); }
  });

  test('the same entries in another order give the same bytes', () => {
    expect(buildCpio([...entries].reverse()).equals(buildCpio(entries))).toBe(true);
  });
});

describe('the fetched Debian packages', () => {
  const f = linuxFixture();

  test('vmlinux is the ELF a PVH boot needs (entry note, ORC tables, BTF)', () => {
    const elf = ElfFile.parse(fs.readFileSync(f.kernel.vmlinux), f.kernel.vmlinux);
    expect(pvhEntry(elf)).toBeGreaterThan(0x1000000);
    for (const s of ['.text', '.BTF', '.orc_unwind', '.orc_unwind_ip', '.notes']) expect(elf.section(s)).toBeDefined();
    expect(f.kernel.package).toMatch(/^linux-image-6\.1\.0-\d+-cloud-amd64-unsigned$/);
    expect(fs.readFileSync(f.kernel.config, 'utf8')).toMatch(/^CONFIG_PVH=y$/m);
  });

  test('the TypeScript extraction equals lz4 -d of the bzImage payload', () => {
    // The package's bzImage, re-read from the cache's source: extract again with the lz4 tool.
    const dir = scratchDir();
    try {
      const deb = execFileSync('sh', ['-c', `apt-get download ${f.kernel.package}=${f.kernel.version} >/dev/null 2>&1 && ls *.deb`], { cwd: dir, encoding: 'utf8' }).trim();
      execFileSync('dpkg-deb', ['-x', deb, 'root'], { cwd: dir });
      const bz = fs.readFileSync(path.join(dir, 'root', 'boot', `vmlinuz-${f.kernel.release}`));
      const payload = bzImagePayload(bz);
      fs.writeFileSync(path.join(dir, 'p.lz4'), payload.subarray(0, payload.length - 4));
      const ref = execFileSync('lz4', ['-dc', path.join(dir, 'p.lz4')], { maxBuffer: 256 << 20 });
      expect(ref.equals(fs.readFileSync(f.kernel.vmlinux))).toBe(true);
    } finally { fs.rmSync(dir, { recursive: true, force: true }); }
  }, 120000);

  test('the initramfs holds /init, busybox, bash, /dev/console and /dev/fd', () => {
    const dir = scratchDir();
    try {
      fs.writeFileSync(path.join(dir, 'i.cpio'), zlib.gunzipSync(fs.readFileSync(f.initramfs)));
      const names = execFileSync('cpio', ['-it', '--quiet', '-F', path.join(dir, 'i.cpio')], { encoding: 'utf8' }).trim().split('\n');
      for (const n of ['init', 'bin/busybox', 'bin/bash', 'bin/sh', 'dev/console', 'dev/fd', 'proc', 'sys']) expect(names).toContain(n);
      expect(names).toEqual([...names].sort());
    } finally { fs.rmSync(dir, { recursive: true, force: true }); }
  });
});
