// test-callbacks.sh of Linux 6.1's livepatch selftests on the fixture kernel: every test's kernel log
// must match the expected block of the kernel's script exactly (check_result), as
// `klp-lab livepatch selftest test-callbacks` checks it.

import { selftestSuite } from './selftestSuite';

selftestSuite('test-callbacks', ["target module before livepatch", "module_coming notifier", "module_going notifier", "module_coming and module_going notifiers", "target module not present", "pre-patch callback -ENODEV", "module_coming + pre-patch callback -ENODEV", "multiple target modules", "busy target module", "multiple livepatches", "atomic replace"]);
