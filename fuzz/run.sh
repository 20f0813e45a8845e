#!/bin/sh
# Runs libFuzzer targets, one at a time, each for SECONDS:
#   sh fuzz/run.sh SECONDS fuzz_csv fuzz_json ...
# Each target is build/fuzz/bin/TARGET (make build/fuzz/bin/TARGET). The
# committed seeds in fuzz/corpus/NAME/ (NAME = TARGET without "fuzz_") are
# read but never written: new corpus entries go to build/fuzz/corpus-NAME,
# crash inputs to build/fuzz/crashes-NAME/. Prints one summary line per
# target and exits non-zero if any target found a crash (or failed to run).
set -u
if [ $# -lt 2 ]; then
  echo "usage: sh fuzz/run.sh SECONDS target..." >&2
  exit 2
fi
secs=$1; shift
status=0
for t in "$@"; do
  name=${t#fuzz_}
  bin=build/fuzz/bin/$t
  if [ ! -x "$bin" ]; then
    echo "$t: not built ($bin missing; run make $bin)"; status=1; continue
  fi
  seeds=fuzz/corpus/$name
  work=build/fuzz/corpus-$name
  crashes=build/fuzz/crashes-$name
  log=build/fuzz/$t.log
  mkdir -p "$seeds" "$work" "$crashes"
  "$bin" -max_total_time="$secs" -max_len=65536 -timeout=20 -rss_limit_mb=4096 \
    -print_final_stats=1 -artifact_prefix="$crashes/" "$work" "$seeds" >"$log" 2>&1
  rc=$?
  # the last stats line ("#N DONE cov: C ft: F corp: K/S ..." or the last
  # "#N ... cov:" line before a crash) and the final counters
  last=$(grep -E '^#[0-9]+' "$log" | tail -n 1)
  execs=$(grep -E '^stat::number_of_executed_units:' "$log" | tail -n 1 | awk '{print $2}')
  [ -n "$execs" ] || execs=$(echo "$last" | sed -E 's/^#([0-9]+).*/\1/')
  cov=$(echo "$last" | sed -nE 's/.*cov: ([0-9]+).*/\1/p')
  ft=$(echo "$last" | sed -nE 's/.* ft: ([0-9]+).*/\1/p')
  corp=$(echo "$last" | sed -nE 's/.* corp: ([0-9]+).*/\1/p')
  ncrash=$(find "$crashes" -type f | wc -l | tr -d ' ')
  if [ $rc -ne 0 ] || [ "$ncrash" -gt 0 ]; then
    status=1
    echo "$t: ${execs:-?} execs, cov ${cov:-?}, ft ${ft:-?}, corpus ${corp:-?}, crashes $ncrash (exit $rc; see $log and $crashes/)"
    grep -E 'ERROR: |SUMMARY: ' "$log" | head -n 3 | sed 's/^/    /'
  else
    echo "$t: ${execs:-?} execs, cov ${cov:-?}, ft ${ft:-?}, corpus ${corp:-?}, crashes 0 (${secs}s)"
  fi
done
exit $status
