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
# The dashboard in headless chromium (tests/browser, node's test runner and
# playwright-core from npm; never a downloaded browser). Each node test counts.
CHROMIUM="${CHROMIUM:-/usr/bin/chromium}"
if command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1 && [ -x "$CHROMIUM" ]; then
  export CHROMIUM
  if [ ! -f tests/browser/node_modules/.package-lock.json ] ||
     [ tests/browser/package-lock.json -nt tests/browser/node_modules/.package-lock.json ]; then
    (cd tests/browser && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund) >"$log" 2>&1 ||
      { failed=$((failed + 1)); failures="$failures browser/npm-ci"; echo "FAIL browser: npm ci"; cat "$log"; }
  fi
  if [ -f tests/browser/node_modules/.package-lock.json ]; then
    SPOTLIGHT="$SP_SRCDIR/build/asan/spotlight" timeout 600 \
      node --test --test-reporter=tap tests/browser/*.test.mjs >"$log" 2>&1
    rc=$?
    sed 's/^/    /' "$log" | grep -vE '^    (  |\.\.\.|---)' 
    p=$(sed -n 's/^# pass \([0-9]*\)$/\1/p' "$log" | tail -n 1)
    f=$(sed -n 's/^# fail \([0-9]*\)$/\1/p' "$log" | tail -n 1)
    if [ -z "$p" ] || [ -z "$f" ]; then
      failed=$((failed + 1)); failures="$failures browser"; echo "FAIL browser: no summary (exit $rc)"; tail -n 40 "$log"
    else
      passed=$((passed + p)); failed=$((failed + f))
      if [ "$f" -gt 0 ] || [ "$rc" -ne 0 ]; then
        failures="$failures browser"
        [ "$f" -eq 0 ] && failed=$((failed + 1))
        grep -A 30 '^not ok' "$log" | grep -v '# TODO' | head -n 80
      fi
      echo "browser: $p passed, $f failed (screenshots in build/browser/)"
    fi
  fi
else
  echo "skip browser: node, npm or $CHROMIUM missing (sh scripts/deps.sh installs them)"
fi
rm -f "$log"
[ -n "$failures" ] && echo "failed:$failures"
echo "tests: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
