# The release binary under valgrind (memcheck): no invalid access, no
# uninitialised read, no leak, across init, import (CSV, XLSX, JSON,
# mapping), stats, export and demo.
. "$(dirname "$0")/lib.sh"
set -e
command -v valgrind >/dev/null || fail "valgrind is not installed (scripts/deps.sh installs it)"
REL="${SP_SRCDIR:-.}/spotlight"
V="valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect"
run() { set +e; $V "$REL" "$@" >"$T/out" 2>"$T/err"; rc=$?; set -e
        [ $rc -ne 99 ] || { cat "$T/err" >&2; fail "valgrind: $*"; }; }
"$REL" demo --export-csv "$T/d.csv" --records 300 --seed 2 2>/dev/null
run --db "$T/h.db" init
run --db "$T/h.db" import --org V "$T/d.csv"
run --db "$T/h.db" stats --json flows
run --db "$T/h.db" stats --bands ctdc age
run --db "$T/h.db" export --format xlsx --include-sensitive --out "$T/x.xlsx"
run --db "$T/h.db" export --format json --out "$T/x.json"
run --db "$T/h2.db" init
run --db "$T/h2.db" import --org V "$T/x.xlsx"
run --db "$T/h2.db" import --org W "$T/x.json"
run --db "$T/h2.db" import --org C --mapping ctdc "${SP_SRCDIR:-.}/tests/data/ctdc-global-63col-sample.csv"
run --db "$T/h.db" demo --records 200
printf 'case_ref,gender\n"A,m\n' > "$T/bad.csv"
run --db "$T/h.db" import --org V "$T/bad.csv"
echo "valgrind clean"
