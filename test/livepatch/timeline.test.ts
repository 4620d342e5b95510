// The transition timeline recorded from the engine, its text table and its SVG chart.

import { KlpCore } from '../../livepatch/core/klpCore';
import { KlpPatch } from '../../livepatch/model/patch';
import { TimelineRecorder } from '../../livepatch/report/timelineRecorder';
import { timelineSvg } from '../../livepatch/report/timelineSvg';
import { RETRY_PERIOD_NS } from '../../livepatch/transition/transition';
import { FakeKernel } from './fakeKernel';

function scenario() {
  const k = new FakeKernel();
  const core = new KlpCore(k, k);
  const recorder = new TimelineRecorder();
  core.transition.listeners.push(recorder);
  const sleeper = k.addTask('kworker/chain-a', 'kthread', [0x1010]);
  const user = k.addTask('usleeper', 'user', [0x1020]);
  k.addTask('free', 'kthread', [0x5000]);
  const p = new KlpPatch('p');
  Object.assign(p.addObject(null).addFunc('chain_a2', 0x9000), { oldFunc: 0x1000, oldSize: 0x100, newSize: 0x80 });
  k.time = 5_000_000;
  core.enable(p);
  k.advance(RETRY_PERIOD_NS);
  k.exitToUser(user);
  recorder.guestSwitched(user, k.time, 'exit-to-user');
  for (let i = 0; i < 15; i++) k.advance(RETRY_PERIOD_NS);
  sleeper.stack = [];
  k.advance(RETRY_PERIOD_NS);
  return { recorder, core };
}

test('every task gets its flag time, blocked attempts, signals and switch path', () => {
  const { recorder } = scenario();
  const [t] = recorder.timelines;
  expect(t.completedAt).toBe(5_000_000 + 17 * RETRY_PERIOD_NS);
  const byComm = Object.fromEntries(t.rows().map((r) => [r.comm, r]));
  expect(byComm['free'].switchedBy).toBe('stack-check');
  expect(byComm['free'].switchedAt).toBe(5_000_000);
  expect(byComm['usleeper'].switchedBy).toBe('exit-to-user');
  expect(byComm['kworker/chain-a'].blocked).toHaveLength(17);
  expect(byComm['kworker/chain-a'].blocked[0].reason).toBe('sleeping on chain_a2');
  expect(byComm['kworker/chain-a'].signalledAt).toHaveLength(1);
  expect(byComm['kworker/chain-a'].switchedBy).toBe('stack-check');
  expect(t.format()).toMatch(/kworker\/chain-a\s+kthread\s+17000\.000 ms\s+stack-check\s+17x \(sleeping on chain_a2\), signalled 1x/);
});

test('the SVG chart has a row per task and marks every refusal and signal', () => {
  const { recorder } = scenario();
  const svg = timelineSvg(recorder.timelines[0]);
  expect(svg.startsWith('<svg')).toBe(true);
  // 17 refusals for the kthread, 2 for the user task before it switched at its kernel exit.
  expect(svg.match(/<line [^>]*stroke="#d9534f"/g)).toHaveLength(17 + 2);
  expect(svg.match(/<circle /g)).toHaveLength(1);
  expect(svg).toContain('usleeper');
  expect(svg).toContain('complete after 17000.000 ms');
});
