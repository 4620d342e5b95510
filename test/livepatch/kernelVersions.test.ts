// What differs between the kernels klp-lab models (6.4, 6.1, 4.12), on the fake kernel: 6.4's
// cond_resched() switching and its static key, 4.12's module notifiers, the retry period
// round_jiffies_relative(HZ), and the refusal of combinations no release had.

import { KlpCore } from '../../livepatch/core/klpCore';
import { unsupportedCombination } from '../../livepatch/guest/livepatchLab';
import { hasFeature, hasImmediate, missingFeature, type KernelVersion } from '../../livepatch/kernelBehaviour';
import { KlpPatch } from '../../livepatch/model/patch';
import { KLP_PATCHED } from '../../livepatch/patchState';
import { roundJiffiesRelative } from '../../livepatch/transition/transition';
import { FakeKernel } from './fakeKernel';

const OLD = 0x1000;
const NEW = 0x9000;

function makePatch(name: string, objectName: string | null = null): KlpPatch {
  const p = new KlpPatch(name, false, []);
  const f = p.addObject(objectName).addFunc('hog_inner', NEW);
  f.oldFunc = OLD;
  f.oldSize = 0x100;
  f.newSize = 0x80;
  return p;
}

function setup(kernel: KernelVersion) {
  const k = new FakeKernel();
  const core = new KlpCore(k, k, { kernel, log: { debug: true, debugTrySwitch: true }, isObjectLoaded: (n) => n === null || n === 'mod' });
  return { k, core };
}

describe('6.4: switching at cond_resched()', () => {
  test('the key is on from the start of the transition to its end; a running task checks its own stack', () => {
    const { k, core } = setup('6.4');
    const hog = k.addTask('kcpuhog', 'kthread', 'unreliable'); // preempted: unreliable to others
    hog.running = true;
    const p = makePatch('klp_hog');
    expect(core.enable(p)).toBe(0);
    expect(k.schedTrySwitch).toBe(true);
    expect(hog.pending).toBe(true);
    // At cond_resched() the hog is current and its own stack (no pt_regs) holds no old code.
    hog.running = false;
    hog.stack = [0x5000, 0x6000];
    expect(core.transition.schedTrySwitch(hog)).toBe(true);
    expect(hog.patchState).toBe(KLP_PATCHED);
    expect(hog.pending).toBe(false);
    k.advance(1e9);
    expect(core.transition.inProgress).toBe(false);
    expect(k.schedTrySwitch).toBe(false);
  });

  test('inside the old function the self-check refuses, with 6.1\'s message', () => {
    const { k, core } = setup('6.4');
    const hog = k.addTask('kcpuhog', 'kthread', [0x5000, OLD + 0x10]);
    core.enable(makePatch('klp_hog'));
    expect(core.transition.schedTrySwitch(hog)).toBe(false);
    expect(core.log.messages()).toContain('livepatch: klp_try_switch_task: kcpuhog:1 is sleeping on function hog_inner');
    expect(hog.pending).toBe(true);
  });

  test('6.1 has no such key: a transition never turns it on', () => {
    const { k, core } = setup('6.1');
    k.addTask('kcpuhog', 'kthread', 'unreliable');
    core.enable(makePatch('klp_hog'));
    expect(core.transition.inProgress).toBe(true);
    expect(k.schedTrySwitch).toBe(false);
  });
});

describe('4.12 module notifiers', () => {
  test('klp_module_coming patches a module only for a patch that is enabled or in transition, with no callbacks', () => {
    const { k, core } = setup('4.12');
    const p = makePatch('klp_mod', 'mod');
    let preCalls = 0;
    p.objects[0].callbacks.prePatch = () => { preCalls++; return 0; };
    expect(core.enable(p)).toBe(0);
    expect(p.enabled).toBe(true);
    expect(core.moduleComing('mod')).toBe(0);
    expect(core.log.messages()).toContain("livepatch: applying patch 'klp_mod' to loading module 'mod'");
    expect(preCalls).toBe(0);
    // Disabled (4.12 keeps it registered): the next load of the module is not patched.
    expect(core.writeEnabled(p, false)).toBe(0);
    k.advance(1e9);
    expect(p.enabled).toBe(false);
    core.moduleGoing('mod');
    const before = core.log.messages().length;
    expect(core.moduleComing('mod')).toBe(0);
    expect(core.log.messages().slice(before)).toEqual([]);
  });
});

describe('round_jiffies_relative(HZ): the retry period', () => {
  test.each([
    [12, 988], // 1012 rounds down to 1000
    [16500, 1500], // 17500 rounds up to 18000
    [1000, 1000],
    [999, 1001], // 1999 rounds up to 2000
    [1249, 751], // 2249: less than a quarter past, rounds down
    [1250, 1750], // 2250: a quarter past rounds up
  ])('at jiffies %i the work runs %i jiffies later', (now, want) => {
    expect(roundJiffiesRelative(now, 1000, 1000)).toBe(want);
  });
});

describe('combinations no release had', () => {
  test('feature versions', () => {
    expect(missingFeature('4.12', 'orc', 'the ORC unwinder')).toBe('the ORC unwinder came in Linux 4.14: --kernel 4.12 does not have it');
    expect(missingFeature('6.1', 'orc', 'the ORC unwinder')).toBeNull();
    expect(missingFeature('4.12', 'callbacks', 'x')).toMatch(/4\.15/);
    expect(missingFeature('4.12', 'shadowVariables', 'x')).toMatch(/4\.13/);
    expect(missingFeature('4.12', 'atomicReplace', 'x')).toMatch(/5\.1/);
    expect(hasFeature('6.4', '5.5')).toBe(true);
    expect(hasImmediate('4.12')).toBe(true);
    expect(hasImmediate('6.1')).toBe(false);
    expect(hasImmediate('6.4')).toBe(false);
  });

  test('refusals, one line each', () => {
    expect(unsupportedCombination('4.12', 'orc', false)).toBe('the ORC unwinder came in Linux 4.14: --kernel 4.12 does not have it');
    expect(unsupportedCombination('6.4', 'fp', true)).toMatch(/^immediate patches exist only in Linux 4\.12 to 4\.15/);
    expect(unsupportedCombination('4.12', 'fp', true)).toBeNull();
    expect(unsupportedCombination('6.1', 'orc', false)).toBeNull();
  });
});
