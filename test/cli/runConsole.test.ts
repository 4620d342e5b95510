// Console input of `klp-lab run`: piped stdin reaches the guest deterministically (fixtures/boot/echo.elf;
// the same image and input give QEMU's console, see runPc.test.ts), end of input leaves the receiver
// idle, and on a terminal (a pseudo-terminal made by util-linux `script`) raw mode with QEMU's C-a
// escapes, the terminal restored afterwards.
import * as path from 'path';
import { spawnSync } from 'child_process';
import { FIXTURES, REPO_ROOT } from '../helpers/fixtures';
import { EscapeDecoder, CTRL_A } from '../../cli/consoleInput';
import { RUN_STATUS_HALTED } from '../../cli/commands/run';

jest.setTimeout(120_000);

const MAIN = path.join(REPO_ROOT, 'dist', 'cli', 'main.js');
const ECHO = path.join(FIXTURES, 'boot', 'echo.elf');

function run(input: string): { out: string; err: string; status: number | null } {
  const r = spawnSync('node', [MAIN, 'run', ECHO], { input: Buffer.from(input, 'latin1') });
  return { out: r.stdout.toString('latin1'), err: r.stderr.toString(), status: r.status };
}

test('piped input: the same bytes give the same console on every run; a line "." ends the guest', () => {
  const input = '\nfirst\nsecond line that is longer than the FIFO trigger level\n.\n';
  const a = run(input), b = run(input);
  expect(a.out).toBe('echo: ready\necho: FIRST\necho: SECOND LINE THAT IS LONGER THAN THE FIFO TRIGGER LEVEL\necho: 63 bytes, interrupts seen: yes\n');
  expect(b).toEqual(a);
  expect(a.status).toBe(1);
});

test('end of input leaves the receiver idle: the guest waits in HLT with nothing to wake it (status 6)', () => {
  const r = run('\npartial line without newline');
  expect(r.out).toBe('echo: ready\n');
  expect(r.status).toBe(RUN_STATUS_HALTED);
  expect(r.err).toMatch(/HLT with no timer armed/);
});

test('C-a escapes: C-a C-a sends one C-a, C-a h is help, C-a x quits; other escapes are dropped', () => {
  const events: string[] = [];
  const d = new EscapeDecoder(() => events.push('quit'), () => events.push('help'));
  expect(d.feed(Buffer.from([0x61, CTRL_A, CTRL_A, 0x62]))).toEqual([0x61, CTRL_A, 0x62]);
  expect(d.feed(Buffer.from([CTRL_A]))).toEqual([]);            // an escape split across reads
  expect(d.feed(Buffer.from([0x68, 0x63, CTRL_A, 0x7a]))).toEqual([0x63]);
  expect(events).toEqual(['help']);
  expect(d.feed(Buffer.from([0x64, CTRL_A, 0x78, 0x65]))).toEqual([0x64]);
  expect(events).toEqual(['help', 'quit']);
});

test('on a terminal: raw mode, keystrokes reach the guest, C-a x ends with status 0 and the terminal restored', () => {
  // `script` gives the command a pseudo-terminal and copies our stdin to it; the pauses let the guest
  // reach its input loop before typing. Output newlines come back as CR LF from the terminal.
  const typing = `sleep 2; printf '\\nab\\001\\001c\\n'; sleep 1; printf '\\001h'; sleep 0.5; printf '\\001x'`;
  const inner = `node ${MAIN} run ${ECHO}; echo STATUS=$?; stty -a | grep -o -- '-\\?icanon'`;
  const r = spawnSync('sh', ['-c', `(${typing}) | script -qec "${inner}" /dev/null`], { timeout: 60_000 });
  expect(r.error).toBeUndefined();
  const out = r.stdout.toString('latin1').replace(/\r\n/g, '\n');
  expect(out).toBe('echo: ready\necho: AB\x01C\nC-a h    print this help\nC-a x    exit emulator\nC-a C-a  sends C-a\n' +
    'klp-lab: terminated\nSTATUS=0\nicanon\n');
});
