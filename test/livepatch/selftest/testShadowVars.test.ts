// test-shadow-vars.sh of Linux 6.1's livepatch selftests on the fixture kernel: every test's kernel log
// must match the expected block of the kernel's script exactly (check_result), as
// `klp-lab livepatch selftest test-shadow-vars` checks it.

import { selftestSuite } from './selftestSuite';

selftestSuite('test-shadow-vars', ["basic shadow variable API"]);
