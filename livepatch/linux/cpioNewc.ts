// A deterministic newc ("070701") cpio archive, the initramfs format the kernel unpacks
// (Linux's Documentation/driver-api/early-userspace/buffer-format.rst): entries sorted by name,
// inode numbers in that order, mtime 0, owner root, so the same inputs give the same bytes.

export type CpioEntry =
  | { name: string; kind: 'dir'; mode?: number }
  | { name: string; kind: 'file'; data: Uint8Array; mode?: number }
  | { name: string; kind: 'symlink'; target: string }
  | { name: string; kind: 'chardev'; major: number; minor: number; mode?: number };

const S_IFDIR = 0o040000, S_IFREG = 0o100000, S_IFLNK = 0o120000, S_IFCHR = 0o020000;

function hex8(v: number): string { return (v >>> 0).toString(16).padStart(8, '0'); }
function pad4(n: number): number { return (4 - (n & 3)) & 3; }

function record(parts: Buffer[], ino: number, mode: number, nlink: number, data: Uint8Array, name: string, rdev: [number, number]): void {
  const nameBytes = Buffer.from(name + '\0', 'utf8');
  const header = '070701' + [ino, mode, 0, 0, nlink, 0, data.length, 0, 0, rdev[0], rdev[1], nameBytes.length, 0].map(hex8).join('');
  parts.push(Buffer.from(header, 'latin1'), nameBytes, Buffer.alloc(pad4(110 + nameBytes.length)));
  parts.push(Buffer.from(data.buffer, data.byteOffset, data.byteLength), Buffer.alloc(pad4(data.length)));
}

export function buildCpio(entries: CpioEntry[]): Buffer {
  const sorted = [...entries].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const parts: Buffer[] = [];
  sorted.forEach((e, i) => {
    const ino = 721 + i;
    switch (e.kind) {
      case 'dir': record(parts, ino, S_IFDIR | (e.mode ?? 0o755), 2, new Uint8Array(0), e.name, [0, 0]); break;
      case 'file': record(parts, ino, S_IFREG | (e.mode ?? 0o755), 1, e.data, e.name, [0, 0]); break;
      case 'symlink': record(parts, ino, S_IFLNK | 0o777, 1, Buffer.from(e.target, 'utf8'), e.name, [0, 0]); break;
      case 'chardev': record(parts, ino, S_IFCHR | (e.mode ?? 0o600), 1, new Uint8Array(0), e.name, [e.major, e.minor]); break;
    }
  });
  record(parts, 0, 0, 1, new Uint8Array(0), 'TRAILER!!!', [0, 0]);
  const out = Buffer.concat(parts);
  return Buffer.concat([out, Buffer.alloc((512 - (out.length % 512)) % 512)]);
}
