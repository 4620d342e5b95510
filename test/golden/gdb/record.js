#!/usr/bin/env node
// Records QEMU's side of the gdb scenarios (scenarios.json) as <name>.qemu.txt: for each scenario,
// qemu-system-x86_64 -S with DESIGN.md's command line and a gdb stub on a free 127.0.0.1 port, real gdb
// in batch mode with the same marked commands as test/emulator/gdb/gdbDriver.ts, QEMU killed after.
// `node test/golden/gdb/record.js --check` compares live QEMU with the recorded files instead.
'use strict';
const { spawn } = require('child_process');
const fs = require('fs');
const net = require('net');
const path = require('path');
const crypto = require('crypto');

const ROOT = path.resolve(__dirname, '..', '..', '..');
const check = process.argv.includes('--check');
const { scenarios } = JSON.parse(fs.readFileSync(path.join(__dirname, 'scenarios.json'), 'utf8'));

function freePort() {
  return new Promise((res, rej) => {
    const s = net.createServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => res(p)); });
  });
}


function gdbArgs(image, port, commands) {
  const args = ['-batch', '-nx', image, '-ex', 'echo @@@S0\\n', '-ex', `target remote 127.0.0.1:${port}`];
  commands.forEach((c, i) => { args.push('-ex', `echo @@@S${i + 1}\\n`, '-ex', c); });
  return args;
}

async function runScenario(sc) {
  const port = await freePort();
  const image = path.join(ROOT, sc.image);
  const qemu = spawn('qemu-system-x86_64', ['-machine', 'q35', '-accel', 'tcg', '-cpu', 'max', '-m', '128', '-smp', '1',
    '-display', 'none', '-no-reboot', '-monitor', 'none', '-serial', 'null', '-device', 'isa-debug-exit,iobase=0xf4,iosize=0x04',
    '-kernel', image, '-gdb', `tcp:127.0.0.1:${port}`, '-S'], { stdio: 'ignore' });
  try {
    // No probe connection (QEMU would take it as its one gdb client): give QEMU a second to listen.
    await new Promise((r) => setTimeout(r, 1000));
    const out = await new Promise((resolve) => {
      const child = spawn('sh', ['-c', 'exec gdb "$@" 2>&1', 'sh', ...gdbArgs(image, port, sc.commands)], { stdio: ['ignore', 'pipe', 'ignore'] });
      let text = '';
      let sent = false;
      const timer = setTimeout(() => child.kill('SIGKILL'), 60000);
      const poll = sc.interruptSection === undefined ? null : setInterval(() => {
        if (!sent && text.includes(`@@@S${sc.interruptSection}\n`)) { sent = true; setTimeout(() => child.kill('SIGINT'), 1500); }
      }, 20);
      child.stdout.on('data', (d) => { text += d.toString('utf8'); });
      child.on('close', () => { clearTimeout(timer); if (poll) clearInterval(poll); resolve(text); });
    });
    return out;
  } finally {
    qemu.kill('SIGKILL');
  }
}

const sha256 = (file) => crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex');

(async () => {
  let bad = 0;
  const manifest = [];
  for (const sc of scenarios) {
    const out = await runScenario(sc);
    const file = path.join(__dirname, `${sc.name}.qemu.txt`);
    manifest.push(`${sc.name} ${sc.image} ${sha256(path.join(ROOT, sc.image))}`);
    if (check) {
      const same = fs.existsSync(file) && fs.readFileSync(file, 'utf8') === out;
      console.log(`${sc.name}: ${same ? 'same as recorded' : 'DIFFERS from recorded'}`);
      if (!same) bad++;
    } else {
      fs.writeFileSync(file, out);
      console.log(`${sc.name}: wrote ${path.relative(ROOT, file)} (${out.length} bytes)`);
    }
  }
  // Which image each golden was recorded from: the test refuses stale goldens with a clear message.
  if (!check) fs.writeFileSync(path.join(__dirname, 'MANIFEST'), manifest.join('\n') + '\n');
  process.exitCode = bad > 0 ? 1 : 0;
})();
