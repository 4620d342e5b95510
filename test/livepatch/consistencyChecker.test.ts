// The consistency checker on hand-made stacks: it must flag mixing in both directions and
// tasks left behind, and stay quiet on clean stacks.

import { ConsistencyChecker, type TransitionSides } from '../../livepatch/consistency/consistencyChecker';

const sides: TransitionSides = {
  patch: 'p',
  replaced: [{ start: 0x1000, end: 0x1100, name: 'old f1' }, { start: 0x2000, end: 0x2080, name: 'old f2' }],
  replacing: [{ start: 0x9000, end: 0x9100, name: 'new f1' }, { start: 0x9200, end: 0x9280, name: 'new f2' }],
};

function checker(): ConsistencyChecker {
  const c = new ConsistencyChecker();
  c.watch(sides);
  return c;
}

test('old code alone, or new code alone, is consistent', () => {
  const c = checker();
  expect(c.observe(1, 't', [0x1010, 0x2010, 0x5000])).toBeUndefined();
  expect(c.observe(2, 't', [0x9010, 0x9210, 0x5000])).toBeUndefined();
  expect(c.observe(3, 't', [0x5000, 0x6000])).toBeUndefined();
  expect(c.checks).toBe(3);
  expect(c.violations).toHaveLength(0);
});

test('running new f2 while old f1 is still on the stack is a violation', () => {
  const c = checker();
  const v = c.observe(5, 'kworker:3', [0x9210, 0x1050, 0x5000])!;
  expect(v).toMatchObject({ task: 'kworker:3', patch: 'p', running: 'new f2', stillActive: 'old f1', kind: 'mixed' });
});

test('the reverse, and a function mixed with itself, are violations too', () => {
  const c = checker();
  expect(c.observe(5, 't', [0x2010, 0x9010])).toMatchObject({ running: 'old f2', stillActive: 'new f1' });
  expect(c.observe(6, 't', [0x1010, 0x9010])).toMatchObject({ running: 'old f1', stillActive: 'new f1' });
  expect(c.violations).toHaveLength(2);
});

test('range ends are exclusive', () => {
  const c = checker();
  expect(c.observe(1, 't', [0x9100, 0x1100])).toBeUndefined();
});

test('a task still holding replaced code at completion is left behind', () => {
  const c = checker();
  const found = c.observeCompletion(9, 'p', [
    { task: 'a', addresses: [0x5000] },
    { task: 'b', addresses: [0x5000, 0x2004] },
  ]);
  expect(found).toEqual([{ time: 9, task: 'b', patch: 'p', kind: 'left-behind', running: 'the target state', stillActive: 'old f2' }]);
  expect(c.isWatched(0x9201)).toBe(true);
  expect(c.isWatched(0x3000)).toBe(false);
});

test('an unpatching transition is watched with its sides the other way round', () => {
  const c = new ConsistencyChecker();
  c.watch({ patch: 'p', replaced: sides.replacing, replacing: sides.replaced });
  // A task still inside the patch's new f1 when unpatching completes is left behind...
  expect(c.observeCompletion(3, 'p', [{ task: 't', addresses: [0x9010] }])).toMatchObject([{ stillActive: 'new f1' }]);
  // ...one still in the original code is where it should be.
  expect(c.observeCompletion(4, 'p', [{ task: 't', addresses: [0x1010] }])).toEqual([]);
});
