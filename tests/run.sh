#!/bin/sh
# Runs every unit test binary and every end-to-end script, then prints one
# closing line "tests: N passed, N failed". Exit status 1 if anything failed.
# Environment: SP_SHARED (shared data), SP_SRCDIR (project root).
set -u
: "${SP_SRCDIR:=$(pwd)}"
: "${SP_SHARED:=$(cd "$SP_SRCDIR/.." && pwd)/shared/data}"
export SP_SRCDIR SP_SHARED
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
passed=0; failed=0; failures=""
log=$(mktemp)
for t in "$@"; do
  if "build/test/$t" >"$log" 2>&1; then :; else failures="$failures $t"; fi
  cat "$log"
  line=$(grep -E '^[^ ]+: [0-9]+ passed, [0-9]+ failed$' "$log" | tail -n 1)
  if [ -n "$line" ]; then
    p=$(echo "$line" | sed -E 's/.*: ([0-9]+) passed.*/\1/')
    f=$(echo "$line" | sed -E 's/.* ([0-9]+) failed$/\1/')
    passed=$((passed + p)); failed=$((failed + f))
  else
    echo "$t: crashed before reporting"; failed=$((failed + 1))
  fi
done
for s in tests/e2e/*.sh; do
  [ -f "$s" ] || continue
  [ "$(basename "$s")" = lib.sh ] && continue
  name=$(basename "$s" .sh)
  if SPOTLIGHT="$SP_SRCDIR/build/asan/spotlight" sh "$s" >"$log" 2>&1; then
    passed=$((passed + 1)); echo "ok   e2e/$name"
  else
    failed=$((failed + 1)); failures="$failures e2e/$name"
    echo "FAIL e2e/$name"; sed 's/^/    /' "$log" | tail -n 40
  fi
done
rm -f "$log"
[ -n "$failures" ] && echo "failed:$failures"
echo "tests: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
