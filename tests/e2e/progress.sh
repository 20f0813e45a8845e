# On a terminal an import longer than a second shows a progress line (rows,
# rows/s); when output is not a terminal it prints none.
. "$(dirname "$0")/lib.sh"
set -e
command -v script >/dev/null || fail "script(1) (util-linux) is needed for a pseudo-terminal"
REL="${SP_SRCDIR:-.}/spotlight"   # the release build: ASan would only slow it down
"$REL" demo --export-csv "$T/big.csv" --records 60000 --seed 3 2>/dev/null
"$REL" --db "$T/a.db" init >/dev/null
"$REL" --db "$T/b.db" init >/dev/null
# a pipe: no progress line
"$REL" --db "$T/a.db" import --org P "$T/big.csv" >"$T/pipe.out" 2>"$T/pipe.err"
if grep -q "rows/s" "$T/pipe.err" "$T/pipe.out"; then fail "progress printed to a pipe"; fi
# a terminal: progress lines, ending with the final count; slow the import
# down enough (a large file, ASan-free binary) that it takes over a second
script -qec "\"$REL\" --db \"$T/b.db\" import --org P \"$T/big.csv\"" "$T/tty.log" >/dev/null 2>&1 ||
  fail "import under script(1) failed"
tr '\r' '\n' < "$T/tty.log" > "$T/tty.txt"
if grep -q "rows/s" "$T/tty.txt"; then
  grep -q "60000 rows, [0-9]* rows/s" "$T/tty.txt" || fail "the last progress line does not count every row"
  echo "progress shown on a terminal, none on a pipe"
else
  # the machine imported 60,000 rows in under a second: nothing to show is right
  grep -q "60000 records stored" "$T/tty.txt" || fail "import under a terminal did not finish"
  echo "import finished within a second: no progress line needed"
fi
