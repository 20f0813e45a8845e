# Backup and restore (docs/audit.md): `spotlight backup` while a server is
# serving and while an import is writing (both finish; the copy passes
# integrity_check and holds the records of the state before or after the
# import, never a mixture); restore into a new path gives identical
# `stats --json` for every table and an audit chain that verifies;
# refusals: an existing backup file, an existing hub, a hub that a running
# server holds open, and files that are not hubs (text, a truncated copy,
# another SQLite database, a backup whose audit log was tampered with).
. "$(dirname "$0")/lib.sh"
set -e

H="$T/hub.db"
expect_exit 0 sp --db "$H" init
expect_exit 0 sp --db "$H" demo --records 3000 --seed 7
expect_exit 0 sp --db "$H" demo --export-csv "$T/big.csv" --records 20000 --seed 8

# ---- a running server
"$SPOTLIGHT" --db "$H" serve --listen 127.0.0.1:0 --threads 2 --quiet >"$T/serve.out" 2>"$T/serve.err" &
SPID=$!
trap 'kill "$SPID" 2>/dev/null; rm -rf "$T"' EXIT
PORT=
for _ in $(seq 1 100); do
  PORT=$(sed -n 's|^serving http://127.0.0.1:\([0-9]*\).*|\1|p' "$T/serve.out" | head -n 1)
  [ -n "$PORT" ] && break
  sleep 0.1
done
[ -n "$PORT" ] || fail "server did not start: $(cat "$T/serve.err")"
curl -fsS "http://127.0.0.1:$PORT/api/v1/meta" >/dev/null || fail "server does not answer"

# ---- backup while serving and while an import writes
sp --db "$H" import --quiet --org "Importer" "$T/big.csv" >"$T/import.out" 2>"$T/import.err" &
IPID=$!
sleep 0.2
expect_exit 0 sp --db "$H" backup "$T/during.db"
contains "$T/out" "integrity ok"
n_during=$(sed -n 's/.* bytes, \([0-9]*\) records.*/\1/p' "$T/out")
for _ in 1 2 3 4 5; do curl -fsS "http://127.0.0.1:$PORT/api/v1/stats/gender" >/dev/null || fail "server stopped answering during the backup"; done
wait "$IPID" || { cat "$T/import.err"; fail "the import failed while a backup ran"; }
contains "$T/import.out" "20000 records stored"
[ "$n_during" = 3000 ] || [ "$n_during" = 23000 ] || fail "backup taken during an import has $n_during records, neither 3000 nor 23000"
[ ! -e "$T/during.db.tmp" ] || fail "a temporary file was left behind"
echo "backup during import: $n_during records"

# ---- refusals to overwrite
expect_exit 1 sp --db "$H" backup "$T/during.db"
contains "$T/err" "--force"
expect_exit 0 sp --db "$H" backup --force "$T/quiet.db"
contains "$T/out" "23000 records"
expect_exit 0 sp --db "$H" backup --force "$T/quiet.db"

# the hub is held open by the server: restore --force onto it is refused
curl -fsS "http://127.0.0.1:$PORT/api/v1/stats/origins" >/dev/null
expect_exit 1 sp --db "$H" restore --force "$T/quiet.db"
contains "$T/err" "another process"
kill -TERM "$SPID"; wait "$SPID" || fail "server exit status $?"
trap 'rm -rf "$T"' EXIT

# ---- restore into a new path: the same numbers, the audit chain intact
expect_exit 0 sp --db "$T/restored.db" restore "$T/during.db"
expect_exit 0 sp --db "$T/restored.db" audit verify
contains "$T/out" "chain intact"
expect_exit 0 sp --db "$T/new.db" restore "$T/quiet.db"
contains "$T/out" "23000 records"
for t in industries-by-year origins destinations flows nationality gender age recruitment control; do
  sp --db "$H" stats --json "$t" >"$T/a.json"
  sp --db "$T/new.db" stats --json "$t" >"$T/b.json"
  cmp -s "$T/a.json" "$T/b.json" || fail "stats --json $t differs after restore"
done
expect_exit 0 sp --db "$T/new.db" audit verify
contains "$T/out" "chain intact"
expect_exit 0 sp --db "$T/new.db" audit list --action restore
contains "$T/out" "quiet.db"
expect_exit 0 sp --db "$H" audit list --action backup
contains "$T/out" "during.db"
expect_exit 0 sp --db "$H" audit list --action upload
contains "$T/out" "big.csv"
expect_exit 0 sp --db "$H" audit verify

# an existing hub is refused without --force; with it (no server) it is replaced
expect_exit 1 sp --db "$T/new.db" restore "$T/during.db"
contains "$T/err" "--force"
expect_exit 0 sp --db "$T/new.db" restore --force "$T/during.db"
[ ! -e "$T/new.db.tmp" ] || fail "a temporary file was left behind"

# ---- files that are not hubs
printf 'name,age\nnot,a database\n' >"$T/text.db"
expect_exit 1 sp --db "$T/x.db" restore "$T/text.db"
contains "$T/err" "not a spotlight hub"
[ ! -e "$T/x.db" ] || fail "a refused restore created the hub"
head -c 40000 "$T/quiet.db" >"$T/trunc.db"
expect_exit 1 sp --db "$T/x.db" restore "$T/trunc.db"
grep -Eq "damaged|not a spotlight hub|cannot" "$T/err" || fail "truncated file: $(cat "$T/err")"
python3 -c 'import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); c.execute("create table t(x)"); c.commit()' "$T/other.db"
expect_exit 1 sp --db "$T/x.db" restore "$T/other.db"
contains "$T/err" "not a spotlight hub"
expect_exit 1 sp --db "$T/x.db" restore "$T/missing.db"
[ ! -e "$T/x.db" ] || fail "a refused restore created the hub"

# a backup whose audit log was changed (triggers dropped) is refused
cp "$T/quiet.db" "$T/tampered.db"
python3 - "$T/tampered.db" <<'PY'
import sqlite3, sys
c = sqlite3.connect(sys.argv[1])
c.execute("DROP TRIGGER audit_no_update")
c.execute("UPDATE audit SET actor = 'nobody' WHERE seq = 1")
c.commit()
PY
expect_exit 1 sp --db "$T/x.db" restore "$T/tampered.db"
contains "$T/err" "audit entry 1"
[ ! -e "$T/x.db" ] && [ ! -e "$T/x.db.tmp" ] || fail "a refused restore left files"

# verify against a noted head; a cut tail is found only that way
expect_exit 0 sp --db "$T/new.db" audit verify
HEAD=$(sed -n 's/.*head \([0-9a-f]\{64\}\).*/\1/p' "$T/out")
expect_exit 0 sp --db "$T/new.db" audit verify --head "$HEAD"
python3 - "$T/new.db" <<'PY'
import sqlite3, sys
c = sqlite3.connect(sys.argv[1])
c.execute("DROP TRIGGER audit_no_delete")
c.execute("DELETE FROM audit WHERE seq = (SELECT max(seq) FROM audit)")
c.commit()
PY
expect_exit 0 sp --db "$T/new.db" audit verify
expect_exit 1 sp --db "$T/new.db" audit verify --head "$HEAD"
contains "$T/err" "noted head"
expect_exit 2 sp --db "$T/new.db" audit verify --head nothex
echo "backup and restore: ok"
