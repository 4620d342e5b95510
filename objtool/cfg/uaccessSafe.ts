// tools/objtool/check.c (6.1): add_uaccess_safe() and uaccess_safe_builtin[], the functions
// that may be called with AC set (compiler instrumentation ABI and a few *_user helpers).
// 6.1 stable (from 6.1.15) adds the __tsan_volatile_read/write accessors.

import type { CheckContext } from '../model/context';

export const UACCESS_SAFE_BUILTIN: ReadonlySet<string> = new Set([
  'kasan_report', 'kasan_check_range', '__asan_loadN_noabort', '__asan_load1_noabort',
  '__asan_load2_noabort', '__asan_load4_noabort', '__asan_load8_noabort', '__asan_load16_noabort',
  '__asan_storeN_noabort', '__asan_store1_noabort', '__asan_store2_noabort', '__asan_store4_noabort',
  '__asan_store8_noabort', '__asan_store16_noabort', '__kasan_check_read', '__kasan_check_write',
  '__asan_report_load_n_noabort', '__asan_report_load1_noabort', '__asan_report_load2_noabort',
  '__asan_report_load4_noabort', '__asan_report_load8_noabort', '__asan_report_load16_noabort',
  '__asan_report_store_n_noabort', '__asan_report_store1_noabort', '__asan_report_store2_noabort',
  '__asan_report_store4_noabort', '__asan_report_store8_noabort', '__asan_report_store16_noabort',
  '__kcsan_check_access', '__kcsan_mb', '__kcsan_wmb', '__kcsan_rmb', '__kcsan_release',
  'kcsan_found_watchpoint', 'kcsan_setup_watchpoint', 'kcsan_check_scoped_accesses', 'kcsan_disable_current',
  'kcsan_enable_current_nowarn', '__tsan_func_entry', '__tsan_func_exit', '__tsan_read_range',
  '__tsan_write_range', '__tsan_read1', '__tsan_read2', '__tsan_read4', '__tsan_read8', '__tsan_read16',
  '__tsan_write1', '__tsan_write2', '__tsan_write4', '__tsan_write8', '__tsan_write16', '__tsan_read_write1',
  '__tsan_read_write2', '__tsan_read_write4', '__tsan_read_write8', '__tsan_read_write16',
  '__tsan_atomic8_load', '__tsan_atomic16_load', '__tsan_atomic32_load', '__tsan_atomic64_load',
  '__tsan_atomic8_store', '__tsan_atomic16_store', '__tsan_atomic32_store', '__tsan_atomic64_store',
  '__tsan_atomic8_exchange', '__tsan_atomic16_exchange', '__tsan_atomic32_exchange',
  '__tsan_atomic64_exchange', '__tsan_atomic8_fetch_add', '__tsan_atomic16_fetch_add',
  '__tsan_atomic32_fetch_add', '__tsan_atomic64_fetch_add', '__tsan_atomic8_fetch_sub',
  '__tsan_atomic16_fetch_sub', '__tsan_atomic32_fetch_sub', '__tsan_atomic64_fetch_sub',
  '__tsan_atomic8_fetch_and', '__tsan_atomic16_fetch_and', '__tsan_atomic32_fetch_and',
  '__tsan_atomic64_fetch_and', '__tsan_atomic8_fetch_or', '__tsan_atomic16_fetch_or',
  '__tsan_atomic32_fetch_or', '__tsan_atomic64_fetch_or', '__tsan_atomic8_fetch_xor',
  '__tsan_atomic16_fetch_xor', '__tsan_atomic32_fetch_xor', '__tsan_atomic64_fetch_xor',
  '__tsan_atomic8_fetch_nand', '__tsan_atomic16_fetch_nand', '__tsan_atomic32_fetch_nand',
  '__tsan_atomic64_fetch_nand', '__tsan_atomic8_compare_exchange_strong',
  '__tsan_atomic16_compare_exchange_strong', '__tsan_atomic32_compare_exchange_strong',
  '__tsan_atomic64_compare_exchange_strong', '__tsan_atomic8_compare_exchange_weak',
  '__tsan_atomic16_compare_exchange_weak', '__tsan_atomic32_compare_exchange_weak',
  '__tsan_atomic64_compare_exchange_weak', '__tsan_atomic8_compare_exchange_val',
  '__tsan_atomic16_compare_exchange_val', '__tsan_atomic32_compare_exchange_val',
  '__tsan_atomic64_compare_exchange_val', '__tsan_atomic_thread_fence', '__tsan_atomic_signal_fence',
  'write_comp_data', 'check_kcov_mode', '__sanitizer_cov_trace_pc', '__sanitizer_cov_trace_const_cmp1',
  '__sanitizer_cov_trace_const_cmp2', '__sanitizer_cov_trace_const_cmp4', '__sanitizer_cov_trace_const_cmp8',
  '__sanitizer_cov_trace_cmp1', '__sanitizer_cov_trace_cmp2', '__sanitizer_cov_trace_cmp4',
  '__sanitizer_cov_trace_cmp8', '__sanitizer_cov_trace_switch', 'kmsan_copy_to_user', 'kmsan_report',
  'kmsan_unpoison_entry_regs', 'kmsan_unpoison_memory', '__msan_chain_origin', '__msan_get_context_state',
  '__msan_instrument_asm_store', '__msan_metadata_ptr_for_load_1', '__msan_metadata_ptr_for_load_2',
  '__msan_metadata_ptr_for_load_4', '__msan_metadata_ptr_for_load_8', '__msan_metadata_ptr_for_load_n',
  '__msan_metadata_ptr_for_store_1', '__msan_metadata_ptr_for_store_2', '__msan_metadata_ptr_for_store_4',
  '__msan_metadata_ptr_for_store_8', '__msan_metadata_ptr_for_store_n', '__msan_poison_alloca',
  '__msan_warning', 'ubsan_type_mismatch_common', '__ubsan_handle_type_mismatch',
  '__ubsan_handle_type_mismatch_v1', '__ubsan_handle_shift_out_of_bounds', 'csum_partial_copy_generic',
  'copy_mc_fragile', 'copy_mc_fragile_handle_tail', 'copy_mc_enhanced_fast_string', 'ftrace_likely_update',
  'clear_user_erms', 'clear_user_rep_good', 'clear_user_original', '__tsan_volatile_read1',
  '__tsan_volatile_read2', '__tsan_volatile_read4', '__tsan_volatile_read8', '__tsan_volatile_read16',
  '__tsan_volatile_write1', '__tsan_volatile_write2', '__tsan_volatile_write4', '__tsan_volatile_write8',
  '__tsan_volatile_write16',
]);

export function addUaccessSafe(ctx: CheckContext): void {
  if (!ctx.opts.uaccess) return;
  for (const name of UACCESS_SAFE_BUILTIN) {
    const func = ctx.file.byName.get(name);
    if (func) func.uaccessSafe = true;
  }
}
