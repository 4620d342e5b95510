#!/bin/sh
# One shard of a klp-lab study in a Kubernetes Indexed Job (study-job.yaml runs it in each pod):
# the pod's JOB_COMPLETION_INDEX is the shard, SHARDS (the Job's completions) their number, and
# the result goes to OUTDIR/shard-INDEX.json. Usage:
#
#   indexed-job-shard.sh OUTDIR livepatch|unwind study ARGS...     (with SHARDS and --seed set)
#
# KLP_LAB names the program (default: klp-lab on PATH). Give the study a --seed: every shard must
# belong to the same study.
set -eu
if [ $# -lt 3 ] || [ -z "${SHARDS:-}" ] || [ -z "${JOB_COMPLETION_INDEX:-}" ]; then
  echo "usage: SHARDS=N JOB_COMPLETION_INDEX=I $0 OUTDIR livepatch|unwind study ARGS..." >&2
  exit 2
fi
outdir=$1
shift
case " $* " in
  *" --seed "*|*" --seed="*) ;;
  *) echo "indexed-job-shard.sh: give the study a --seed, so that every shard belongs to the same study" >&2; exit 2 ;;
esac
mkdir -p "$outdir"
# The livepatch study exits with 3 when it found violations: the shard is still complete.
status=0
# shellcheck disable=SC2086 # KLP_LAB may be a command with arguments
${KLP_LAB:-klp-lab} "$@" --shard auto --shards "$SHARDS" --jobs "${STUDY_JOBS:-1}" --no-progress \
  --json "$outdir/shard-$JOB_COMPLETION_INDEX.json" || status=$?
if [ "$status" -ne 0 ] && [ "$status" -ne 3 ]; then exit "$status"; fi
