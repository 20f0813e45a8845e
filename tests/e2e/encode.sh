# spotlight encode at a partner, then the hub: a new key; a partner file
# encoded (no name, birth date, document number or clear indicator left in
# it) imports unchanged; another organisation's clear file imported with
# --key gives the shared wallet the same match key; clear columns are
# refused at the hub; a bad row makes encode write nothing; rehash fills
# the keys of values imported while the hub had no key, and is audited.
. "$(dirname "$0")/lib.sh"
set -e
command -v sqlite3 >/dev/null || { echo "sqlite3 CLI missing: skipped"; exit 0; }
sp --db "$T/hub.db" init >/dev/null
q() { sqlite3 "$T/hub.db" "$1"; }

# a key: mode 0600, 64 hex and a newline, never overwritten
expect_exit 0 sp encode --new-key "$T/orgs.key"
[ "$(stat -c %a "$T/orgs.key")" = 600 ] || fail "key mode is $(stat -c %a "$T/orgs.key")"
grep -qxE '[0-9a-f]{64}' "$T/orgs.key" || fail "key file shape"
[ "$(wc -c < "$T/orgs.key")" -eq 65 ] || fail "key file size"
cp "$T/orgs.key" "$T/before.key"
expect_exit 1 sp encode --new-key "$T/orgs.key"
contains "$T/err" "never overwritten"
cmp -s "$T/orgs.key" "$T/before.key" || fail "the key was overwritten"
# a key others can read is refused
cp "$T/orgs.key" "$T/open.key"; chmod 644 "$T/open.key"
printf 'case_ref\nX\n' > "$T/tiny.csv"
expect_exit 1 sp encode --key "$T/open.key" "$T/tiny.csv"
contains "$T/err" "chmod 600"

cat > "$T/partner.csv" <<'CSV'
case_ref,year_identified,nationality,gender,given_name,family_name,birth_date,document_number,indicators_1_type,indicators_1_value,indicators_1_chain,indicators_2_type,indicators_2_value
PA-1,2024,Viet Nam,female,Thị Ánh,Nguyễn,1998-03-07,C7654321,crypto_wallet,TJCnKsPa7y5okkXvQAidZBzqx3QyQ6sxMW,tron,phone,0912 345 678
PA-2,2024,LA,male,Bounmy,Phommasack,1995-11,,email,Recruiter.Job@Example.com,,,
CSV
expect_exit 0 sp encode --key "$T/orgs.key" --out "$T/partner.enc.csv" "$T/partner.csv"
for s in given_name family_name birth_date document_number "Nguy" "Ánh" "1998-03" "C7654321" \
         "Bounmy" "Phommasack" "TJCnKsPa7y5okkXvQAidZBzqx3QyQ6sxMW" "345 678" "Recruiter"; do
  if grep -qF -- "$s" "$T/partner.enc.csv"; then fail "'$s' is in the encoded file"; fi
done
head -1 "$T/partner.enc.csv" | grep -q 'person_clk,person_block,person_doc' || fail "no person columns"
[ "$(grep -c ',h1:' "$T/partner.enc.csv")" -eq 2 ] || fail "expected match keys in both rows"

# standard output gives the same bytes
sp encode --key "$T/orgs.key" "$T/partner.csv" > "$T/stdout.csv" 2>/dev/null
cmp -s "$T/stdout.csv" "$T/partner.enc.csv" || fail "--out and standard output differ"

# the encoded file imports unchanged
expect_exit 0 sp --db "$T/hub.db" import --org "Partner A" "$T/partner.enc.csv"
contains "$T/out" "2 records stored"
[ "$(q "select count(*) from record where person_clk is not null and length(person_clk) = 172")" = 2 ] \
  || fail "person_clk not stored"

# the hub refuses clear identifying columns, and stores nothing
expect_exit 1 sp --db "$T/hub.db" import --org "Partner B" "$T/partner.csv"
contains "$T/err" "given_name': a name/birth date/document number must not reach the hub: run spotlight encode"
[ "$(q "select count(*) from record")" = 2 ] || fail "a refused file stored records"

# another organisation shares the same wallet in the clear; the hub hashes it with --key
cat > "$T/clear.csv" <<'CSV'
case_ref,year_identified,nationality,indicators_1_type,indicators_1_value,indicators_1_chain,indicators_2_type,indicators_2_value
PB-1,2024,TH,crypto_wallet, TJCnKsPa7y5okkXvQAidZBzqx3QyQ6sxMW ,tron,phone,+84 912 345 678
CSV
expect_exit 0 sp --db "$T/hub.db" import --org "Partner B" --key "$T/orgs.key" "$T/clear.csv"
shared() {
  q "select count(distinct r.org_id) from indicator_key k join record r on r.id = k.record_id
     where k.type = '$1' and k.hash is not null
     group by k.hash order by 1 desc limit 1"
}
[ "$(shared crypto_wallet)" = 2 ] || fail "the shared wallet does not have one match key for both organisations"
[ "$(shared phone)" = 2 ] || fail "the shared phone does not have one match key for both organisations"
[ "$(q "select count(*) from indicator_key where hash not like 'h1:%'")" = 0 ] || fail "hash shape"

# without a key the hub keeps the clear value's key empty; rehash fills it, audited
cat > "$T/later.csv" <<'CSV'
case_ref,nationality,indicators_1_type,indicators_1_value
PC-1,KH,email,recruiter.job@example.com
CSV
expect_exit 0 sp --db "$T/hub.db" import --org "Partner C" "$T/later.csv"
[ "$(q "select count(*) from indicator_key where hash is null")" = 1 ] || fail "expected one key waiting"
expect_exit 0 sp --db "$T/hub.db" rehash --key "$T/orgs.key"
contains "$T/out" "1 indicator values hashed"
[ "$(q "select count(*) from indicator_key where hash is null")" = 0 ] || fail "rehash left a key empty"
[ "$(shared email)" = 2 ] || fail "the e-mail shared by A (encoded) and C (clear, rehashed) does not match"
[ "$(q "select count(*) from audit where action = 'rehash'")" = 1 ] || fail "rehash not audited"
expect_exit 0 sp --db "$T/hub.db" audit verify

# a bad row: encode reports file:row: column and writes nothing
cat > "$T/bad.csv" <<'CSV'
case_ref,given_name,birth_date,indicators_1_type,indicators_1_value
X-1,Lan,1999-02-03,email,lan@example.org
X-2,Mai,1999-13-40,email,mai@example.org
CSV
expect_exit 1 sp encode --key "$T/orgs.key" --out "$T/bad.enc.csv" "$T/bad.csv"
contains "$T/err" "bad.csv:3: column 'birth_date'"
contains "$T/err" "nothing was written"
[ ! -e "$T/bad.enc.csv" ] || fail "a failed encode wrote its output"
[ ! -e "$T/bad.enc.csv.partial" ] || fail "a failed encode left a partial file"
if grep -q "1999-13-40" "$T/err"; then fail "the error echoes the birth date"; fi
echo "encode e2e: ok"
