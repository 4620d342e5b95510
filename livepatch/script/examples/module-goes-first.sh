#!/bin/bash
# A scenario of one's own (klp-lab livepatch script module-goes-first.sh IMAGE): a patch with an
# object for a module, the module unloaded before the patch is disabled. Written with the bare
# tool lines; the expected log follows the kernel's rules (the module_going notifier reverts
# that object only, with its callbacks in MODULE_STATE_GOING).

M=test_klp_callbacks_mod
P=test_klp_callbacks_demo

start_test "module goes first"
modprobe $M
modprobe $P
[[ "$(cat /sys/kernel/livepatch/$P/$M/patched)" == 1 ]] || die "$M is not patched"
rmmod $M
[[ "$(cat /sys/kernel/livepatch/$P/$M/patched)" == 0 ]] || die "$M is still patched"
echo 0 > /sys/kernel/livepatch/$P/enabled
rmmod $P
check_result "% modprobe $M
$M: ${M}_init
% modprobe $P
livepatch: enabling patch '$P'
livepatch: '$P': initializing patching transition
$P: pre_patch_callback: vmlinux
$P: pre_patch_callback: $M -> [MODULE_STATE_LIVE] Normal state
livepatch: '$P': starting patching transition
livepatch: '$P': completing patching transition
$P: post_patch_callback: vmlinux
$P: post_patch_callback: $M -> [MODULE_STATE_LIVE] Normal state
livepatch: '$P': patching complete
% rmmod $M
$M: ${M}_exit
$P: pre_unpatch_callback: $M -> [MODULE_STATE_GOING] Going away
livepatch: reverting patch '$P' on unloading module '$M'
$P: post_unpatch_callback: $M -> [MODULE_STATE_GOING] Going away
% echo 0 > /sys/kernel/livepatch/$P/enabled
livepatch: '$P': initializing unpatching transition
$P: pre_unpatch_callback: vmlinux
livepatch: '$P': starting unpatching transition
livepatch: '$P': completing unpatching transition
$P: post_unpatch_callback: vmlinux
livepatch: '$P': unpatching complete
% rmmod $P"
