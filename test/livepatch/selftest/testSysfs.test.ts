// test-sysfs.sh of Linux 6.1's livepatch selftests on the fixture kernel: every test's kernel log
// must match the expected block of the kernel's script exactly (check_result), as
// `klp-lab livepatch selftest test-sysfs` checks it.

import { selftestSuite } from './selftestSuite';

selftestSuite('test-sysfs', ["sysfs test", "sysfs test object/patched"]);
