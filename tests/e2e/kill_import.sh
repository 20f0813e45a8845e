# An import killed with SIGKILL at random moments (20 times) never damages
# the hub: SQLite's integrity check passes, the records stored before are
# all there, and the killed submission is there wholly or not at all.
. "$(dirname "$0")/lib.sh"
set -e
N=8000
sp --db "$T/hub.db" init >/dev/null
sp demo --export-csv "$T/base.csv" --records 3000 --seed 11 2>/dev/null
sp demo --export-csv "$T/big.csv" --records $N --seed 12 2>/dev/null
sp --db "$T/hub.db" import --quiet --org Base "$T/base.csv" >/dev/null 2>&1
q() { sqlite3 "$T/hub.db" "$1"; }
[ "$(q 'SELECT count(*) FROM record')" = 3000 ] || fail "base import"

# how long a whole import takes here, to spread the kills over it
start=$(date +%s%N)
sp --db "$T/copy.db" init >/dev/null
sp --db "$T/copy.db" import --quiet --org Killed "$T/big.csv" >/dev/null 2>&1
dur_ms=$(( ($(date +%s%N) - start) / 1000000 ))
[ "$dur_ms" -gt 0 ] || dur_ms=1000
whole=0; none=0; plain=0
i=0
while [ $i -lt 20 ]; do
  i=$((i + 1))
  delay_ms=$(awk -v s="$i" -v d="$dur_ms" 'BEGIN { srand(s * 7919); printf "%d", rand() * d * 1.1 }')
  # odd kills: a plain import into an organisation of its own (the
  # transaction that only adds; foreign-key checks off until it ends);
  # even kills: --replace of the same file into 'Killed'
  if [ $((i % 2)) = 1 ]; then org="Plain$i"; rep=""; else org=Killed; rep=--replace; fi
  "$SPOTLIGHT" --db "$T/hub.db" import --quiet $rep --org "$org" "$T/big.csv" >/dev/null 2>&1 &
  pid=$!
  sleep "$(awk -v m="$delay_ms" 'BEGIN { printf "%.3f", m / 1000 }')"
  kill -9 $pid 2>/dev/null || true
  wait $pid 2>/dev/null || true
  [ "$(q 'PRAGMA integrity_check')" = ok ] || fail "integrity check failed after kill $i"
  [ "$(q 'PRAGMA foreign_key_check' | wc -l)" = 0 ] || fail "foreign keys broken after kill $i"
  base=$(q "SELECT count(*) FROM record r JOIN org o ON o.id = r.org_id WHERE o.name = 'Base'")
  [ "$base" = 3000 ] || fail "kill $i: the earlier submission lost records ($base of 3000)"
  k=$(q "SELECT count(*) FROM record r JOIN org o ON o.id = r.org_id WHERE o.name = 'Killed'")
  [ "$k" = 0 ] || [ "$k" = $N ] || fail "kill $i after ${delay_ms} ms: $k records of 'Killed' (want 0 or $N)"
  # every submission holds all its records or none
  part=$(q "SELECT count(*) FROM (SELECT submission_id, count(*) c FROM record GROUP BY 1) WHERE c NOT IN (3000, $N)")
  [ "$part" = 0 ] || fail "kill $i: a submission is partly stored"
  if [ "$org" = Killed ]; then
    latest=$(q "SELECT coalesce(max(submission_id), 0) FROM record r JOIN org o ON o.id = r.org_id WHERE o.name = 'Killed'")
    if [ "$latest" != "${prev:-0}" ]; then whole=$((whole + 1)); else none=$((none + 1)); fi
    prev=$latest
  else
    p=$(q "SELECT count(*) FROM record r JOIN org o ON o.id = r.org_id WHERE o.name = '$org'")
    [ "$p" = 0 ] || [ "$p" = $N ] || fail "kill $i after ${delay_ms} ms: $p records of '$org' (want 0 or $N)"
    if [ "$p" = $N ]; then whole=$((whole + 1)); else none=$((none + 1)); plain=$((plain + 1)); fi
  fi
  # the stored submissions' row counts agree with their records
  bad=$(q "SELECT count(*) FROM submission s WHERE s.rows != (SELECT count(*) FROM record r WHERE r.submission_id = s.id) AND s.rows > 0 AND EXISTS (SELECT 1 FROM record r WHERE r.submission_id = s.id)")
  [ "$bad" = 0 ] || fail "kill $i: a submission's row count disagrees with its records"
done
[ $none -gt 0 ] || fail "no kill landed before the commit: the test proved nothing"
[ $plain -gt 0 ] || fail "no plain import was killed before its commit"
echo "20 kills over ~${dur_ms} ms imports: $none before the commit (nothing changed; $plain of them plain imports), $whole after; hub intact every time"
