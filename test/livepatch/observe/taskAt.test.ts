// MachineGuestView.taskAt builds one task's record without the others (the guest-switch hook asks at
// every switch): at seeded stop points of the fixture kernel, it must give each task on the list
// exactly the record tasks() gives, and nothing for an address that is not a task. Kernel addresses
// are negative numbers here, most stacks' included.
import * as fs from 'fs';
import * as path from 'path';
import { StoppedGuest } from '../../../livepatch/observe/stoppedGuest';
import { stopPoints } from '../../../livepatch/study/unwindStudy';

const KERNEL = path.resolve(__dirname, '..', '..', '..', 'fixtures', 'kernel', 'kernel.elf');

test('taskAt gives each task the record tasks() gives, at every stop point', () => {
  const g = new StoppedGuest(new Uint8Array(fs.readFileSync(KERNEL)), 'kernel.elf');
  let compared = 0, running = 0, negativeStacks = 0;
  for (const at of stopPoints(12, 20261205, 3_000_000, [0, 1])) {
    if (!g.runTo(at)) break;
    g.view.refresh();
    const records = g.view.tasks().map((t) => ({ ...t }));
    for (const t of records) {
      g.view.refresh(); // no list cached: taskAt walks it itself
      expect(g.view.taskAt(t.addr)).toEqual(t);
      if (t.stackBegin < 0) negativeStacks++;
      compared++;
      if (t.running) running++;
    }
    g.view.refresh();
    expect(g.view.taskAt(records[0].addr + 8)).toBeUndefined();
  }
  expect(compared).toBeGreaterThan(50);
  expect(running).toBeGreaterThan(0);
  expect(negativeStacks).toBeGreaterThan(50);
});
