// The SSE adder (emulator/exec/sse/softFloat.ts add) on operand pairs above 2^970, where the sum is
// finite but TwoSum's intermediate s - x overflows, against the host CPU: fixtures/hostcpu/
// addOverflow.c, built with gcc and run here, prints a - b, b - a and a + b in the four rounding
// modes. The first pair is the one the live SSE test found (hsubpd, MXCSR 0xdf80).
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { BINARY64, add, beginFp } from '../../../emulator/exec/sse/softFloat';
import { FIXTURES, haveTool } from '../../helpers/fixtures';

const SOURCE = path.join(FIXTURES, 'hostcpu', 'addOverflow.c');

function pairsOf(source: string): [bigint, bigint][] {
  return [...fs.readFileSync(source, 'utf8').matchAll(/\{ 0x([0-9a-f]{16})ULL, 0x([0-9a-f]{16})ULL \}/g)]
    .map((m) => [BigInt(`0x${m[1]}`), BigInt(`0x${m[2]}`)]);
}
const asDouble = (bits: bigint): number => { const b = Buffer.alloc(8); b.writeBigUInt64LE(bits); return b.readDoubleLE(0); };
const asBits = (x: number): string => { const b = Buffer.alloc(8); b.writeDoubleLE(x); return b.readBigUInt64LE(0).toString(16).padStart(16, '0'); };

test('a - b, b - a and a + b above 2^970 round as the host CPU does in every rounding mode', () => {
  if (!haveTool('gcc')) throw new Error('gcc is needed to run fixtures/hostcpu/addOverflow.c on the host CPU');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'klp-add-overflow-'));
  try {
    const exe = path.join(dir, 'addOverflow');
    execFileSync('gcc', ['-O0', '-frounding-math', '-o', exe, SOURCE, '-lm']);
    const host = execFileSync(exe, { encoding: 'utf8' }).trim().split('\n');
    const ours: string[] = [];
    for (const [pa, pb] of pairsOf(SOURCE)) {
      const a = asDouble(pa), b = asDouble(pb);
      for (let rc = 0; rc < 4; rc++) {
        for (const [x, y] of [[a, -b], [b, -a], [a, b]]) {
          beginFp(0x1f80 | (rc << 13)); // every exception masked, rounding control rc
          ours.push(asBits(add(x, y, BINARY64)));
        }
      }
    }
    expect(ours.length).toBe(5 * 4 * 3);
    expect(ours).toEqual(host);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
