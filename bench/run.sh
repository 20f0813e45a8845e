#!/bin/sh
# Benchmarks, each against a reference measured in the same run on the same
# machine. Figures go to bench/out/results.md (and into the README by hand).
#   RECORDS   rows in the import benchmark and records in the dashboard's hub
#             (default 1,000,000)
# bench/dashboard.sh (the served dashboard against nginx) appends its rows.
set -eu
cd "$(dirname "$0")/.."
RECORDS="${RECORDS:-1000000}"
OUT=bench/out
mkdir -p "$OUT"
SP=./spotlight
TIME=/usr/bin/time
CSV="$OUT/demo-$RECORDS.csv"
[ -f "$CSV" ] || $SP demo --export-csv "$CSV" --records "$RECORDS" --seed 42
bytes=$(wc -c < "$CSV")

now() { date +%s.%N; }
# peak resident memory in KiB of a command, its wall time in seconds
measure() {
  t0=$(now)
  $TIME -f "%M" -o "$OUT/rss" "$@" >/dev/null 2>"$OUT/stderr" || { cat "$OUT/stderr"; exit 1; }
  t1=$(now)
  echo "$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }') $(tail -n 1 "$OUT/rss")"
}

best_sqlite=""; best_sp=""
for run in 1 2 3; do
  rm -f "$OUT/ref.db" "$OUT/hub.db" "$OUT/hub.db-wal" "$OUT/hub.db-shm"
  set -- $(measure sqlite3 "$OUT/ref.db" ".import --csv $CSV cases")
  s_t=$1; s_m=$2
  $SP --db "$OUT/hub.db" init >/dev/null
  set -- $(measure $SP --db "$OUT/hub.db" import --quiet --org Bench "$CSV")
  p_t=$1; p_m=$2
  echo "run $run: sqlite3 .import ${s_t}s (${s_m} KiB), spotlight import ${p_t}s (${p_m} KiB)"
  if [ -z "$best_sqlite" ] || awk -v a="$s_t" -v b="$best_sqlite" 'BEGIN{exit !(a<b)}'; then best_sqlite=$s_t; sq_mem=$s_m; fi
  if [ -z "$best_sp" ] || awk -v a="$p_t" -v b="$best_sp" 'BEGIN{exit !(a<b)}'; then best_sp=$p_t; sp_mem=$p_m; fi
done
stored=$(sqlite3 "$OUT/hub.db" "SELECT count(*) FROM record")
[ "$stored" = "$RECORDS" ] || { echo "bench: expected $RECORDS records, found $stored"; exit 1; }
ratio=$(awk -v a="$best_sp" -v b="$best_sqlite" 'BEGIN { printf "%.2f", a / b }')
verdict=$(awk -v r="$ratio" 'BEGIN { print (r <= 2.0) ? "meets" : "MISSES" }')

# stats over the imported hub (warm), for the record
st0=$(now); $SP --db "$OUT/hub.db" stats --json industries-by-year >/dev/null; st1=$(now)
stats_s=$(awk -v a="$st0" -v b="$st1" 'BEGIN { printf "%.2f", b - a }')

# export streams: its peak memory over the whole hub against the same
# export of a hub of its first 10,000 rows (constant memory: the two
# should be close), and its CSV time against sqlite3's own CSV output of
# the reference table, in the same run
SMALL=10000
head -n $((SMALL + 1)) "$CSV" > "$OUT/small.csv"
rm -f "$OUT/small.db" "$OUT/small.db-wal" "$OUT/small.db-shm"
$SP --db "$OUT/small.db" init >/dev/null
$SP --db "$OUT/small.db" import --quiet --org Bench "$OUT/small.csv" >/dev/null
set -- $(measure sqlite3 -csv -header "$OUT/ref.db" "SELECT * FROM cases")
ref_t=$1
export_rows=""
for fmt in csv json xlsx; do
  set -- $(measure $SP --db "$OUT/small.db" export --format $fmt --out "$OUT/export-small.$fmt")
  sm_m=$2
  set -- $(measure $SP --db "$OUT/hub.db" export --format $fmt --out "$OUT/export.$fmt")
  ex_t=$1; ex_m=$2
  ex_b=$(wc -c < "$OUT/export.$fmt")
  ref=""
  [ $fmt = csv ] && ref=" (\`sqlite3 -csv\` of the plain table: ${ref_t} s)"
  export_rows="$export_rows
| \`spotlight export --format $fmt\` of the $RECORDS records ($((ex_b / 1048576)) MiB)$ref | ${ex_t} s | $((ex_m / 1024)) MiB (of $SMALL records: $((sm_m / 1024)) MiB) |"
done
rm -f "$OUT"/export.* "$OUT"/export-small.* "$OUT/small.csv"

cat > "$OUT/results.md" <<MD
| benchmark ($(nproc) cores, $(date -u +%Y-%m-%d)) | time (best of 3) | peak memory |
|---|---:|---:|
| \`sqlite3 .import\` of a $RECORDS-row demo CSV ($((bytes / 1048576)) MiB) into a plain table (reference) | ${best_sqlite} s | $((sq_mem / 1024)) MiB |
| \`spotlight import\` of the same file, validating every cell | ${best_sp} s | $((sp_mem / 1024)) MiB |
| ratio (target: at most 2.0) | **${ratio}** ($verdict) | |
| \`spotlight stats industries-by-year\` over the $RECORDS records | ${stats_s} s | |$export_rows
MD
cat "$OUT/results.md"

# record linkage: Dice comparisons/s per core against a popcount sweep (docs/linkage.md)
${CC:-cc} -std=c17 -O2 -D_DEFAULT_SOURCE -Isrc -Ibuild $(pkg-config --cflags libsodium) -o "$OUT/pprl_bench" bench/pprl_bench.c src/pprl.c src/util.c $(pkg-config --libs libsodium) -lm && "$OUT/pprl_bench" | tee "$OUT/pprl.md"

# the dashboard served: latency, requests/s against nginx, memory, page weight
RECORDS="$RECORDS" sh bench/dashboard.sh
