# Import: every problem names file, row, column, value and rule; a refused
# file stores nothing; duplicates, dry runs and --replace.
. "$(dirname "$0")/lib.sh"
set -e
sp --db "$T/hub.db" init >/dev/null
count() { sp --db "$T/hub.db" stats --json gender | python3 -c 'import json,sys; print(json.load(sys.stdin)["records"])'; }

cat > "$T/good.csv" <<'CSV'
case_ref,year_identified,gender,age,nationality,origin_country,origin_province,exploitation_1_country,exploitation_1_locality,industry,control_means,recruitment_platform
A-1,2023,Male,25,Viet Nam,VN,Nghệ An,Myanmar,KK Park,online scam,debt bondage; confinement,Facebook|Telegram
A-2,2024,F,18-24,LA,Laos,LA-BK,KH,Sihanoukville,Online scams and fraud,,
A-3,2024,female,"48+",Philippines,,,Cambodia,,sexual exploitation,threats,
CSV
expect_exit 0 sp --db "$T/hub.db" import --org "Alpha" "$T/good.csv"
contains "$T/out" "3 records stored"
contains "$T/err" "was not yet known"
[ "$(count)" = 3 ] || fail "expected 3 records, got $(count)"

# the same file again is refused, and stores nothing
expect_exit 1 sp --db "$T/hub.db" import --org "Alpha" "$T/good.csv"
contains "$T/err" "already submitted this exact file"
[ "$(count)" = 3 ] || fail "a refused duplicate changed the hub"

# --replace replaces the records with the same case references
sed 's/A-3,2024,female/A-3,2024,male/' "$T/good.csv" > "$T/fixed.csv"
expect_exit 0 sp --db "$T/hub.db" import --org "Alpha" --replace "$T/fixed.csv"
contains "$T/out" "3 earlier records replaced"
[ "$(count)" = 3 ] || fail "--replace should keep 3 records, got $(count)"
sp --db "$T/hub.db" stats --json gender > "$T/g.json"
python3 - "$T/g.json" <<'PY'
import json, sys
t = json.load(open(sys.argv[1]))
s = json.dumps(t)
assert '"male"' in s and '"female"' in s, s
PY

# a file with errors: all of them reported, with row, column, value, rule
cat > "$T/bad.csv" <<'CSV'
case_ref,year_identified,gender,age,nationality,origin_country,origin_province,industry,surprise
B-1,2023,Mael,25,VN,VN,VN-44,online_scam,x
B-2,1850,male,200,Narnia,LA,VN-44,online_scam,
,2023,male,30,TH,TH,,flying,
CSV
expect_exit 1 sp --db "$T/hub.db" import --org "Beta" "$T/bad.csv"
contains "$T/err" "bad.csv:2: column 'gender': value 'Mael'"
contains "$T/err" "[unknown-code]"
contains "$T/err" "bad.csv:3: column 'year_identified': value '1850'"
contains "$T/err" "bad.csv:3: column 'age': value '200'"
contains "$T/err" "bad.csv:3: column 'nationality': value 'Narnia'"
contains "$T/err" "bad.csv:3: column 'origin_province': value 'VN-44'"
contains "$T/err" "bad.csv:4: column 'case_ref'"
contains "$T/err" "[required]"
contains "$T/err" "bad.csv:4: column 'industry': value 'flying'"
contains "$T/err" "column 'surprise'"
contains "$T/err" "nothing was stored"
[ "$(count)" = 3 ] || fail "a refused file changed the hub"
# a refused import does not leave its new organisation behind
expect_exit 1 sp --db "$T/hub.db" submissions --org Beta
contains "$T/err" "no organisation named 'Beta'"

# dry run: checks, stores nothing
expect_exit 0 sp --db "$T/hub.db" import --org "Gamma" --dry-run "$T/good.csv"
contains "$T/out" "dry run"
[ "$(count)" = 3 ] || fail "a dry run stored records"

# a required column missing altogether fails at row 1
printf 'year_identified,gender\n2023,male\n' > "$T/nocase.csv"
expect_exit 1 sp --db "$T/hub.db" import --org "Alpha" "$T/nocase.csv"
contains "$T/err" "nocase.csv:1:"
contains "$T/err" "[missing-column]"

# broken files: clear errors, never a crash
printf 'case_ref,gender\n"A-9,male\n' > "$T/quote.csv"
expect_exit 1 sp --db "$T/hub.db" import --org "Alpha" "$T/quote.csv"
contains "$T/err" "quote.csv:2"
printf 'case_ref,gender\nA-9,m\344le\n' > "$T/latin1.csv"
expect_exit 1 sp --db "$T/hub.db" import --org "Alpha" "$T/latin1.csv"
contains "$T/err" "UTF-8"
printf 'PK\003\004garbage' > "$T/fake.xlsx"
expect_exit 1 sp --db "$T/hub.db" import --org "Alpha" "$T/fake.xlsx"
: > "$T/empty.csv"
expect_exit 1 sp --db "$T/hub.db" import --org "Alpha" "$T/empty.csv"
expect_exit 3 sp --db "$T/hub.db" import --org "Alpha" "$T/does-not-exist.csv"
contains "$T/err" "does-not-exist.csv"
printf '[{"case_ref":"J-1","gender":"male","year_identified":2022,"control_means":["threats","ransom"]}]' > "$T/one.json"
expect_exit 0 sp --db "$T/hub.db" import --org "Alpha" "$T/one.json"
[ "$(count)" = 4 ] || fail "JSON import: expected 4 records, got $(count)"
# standard input
printf 'case_ref,gender\nS-1,female\n' | sp --db "$T/hub.db" import --org "Alpha" - >/dev/null
[ "$(count)" = 5 ] || fail "stdin import: expected 5 records, got $(count)"
[ "$(sqlite3 "$T/hub.db" 'PRAGMA integrity_check')" = ok ] || fail "integrity"
echo "import errors ok"
