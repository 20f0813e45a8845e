# spotlight investigate on files: three organisations submit encoded
# indicators (h1: match keys, as spotlight encode writes them); a wallet
# shared by all three and a phone by two are listed with their counts, an
# indicator of one organisation is not; one indicator's counts; the
# network as an SVG; CSV and FtM exports with no case reference at all;
# bad options refused with exit 2; an unknown match key exit 1; every run
# in the audit log as investigate.* under cli:USER.
. "$(dirname "$0")/lib.sh"
set -e
H="$T/hub.db"
W=h1:1111111111111111111111111111111111111111111111111111111111111111
P=h1:2222222222222222222222222222222222222222222222222222222222222222
X=h1:3333333333333333333333333333333333333333333333333333333333333333
hdr=case_ref,year_identified,indicators_1_type,indicators_1_value,indicators_1_role,indicators_2_type,indicators_2_value
printf '%s\nAQ-1,2023,crypto_wallet,%s,ransom_payment,phone,%s\nAQ-2,2024,crypto_wallet,%s,ransom_payment,,\nAQ-3,2024,phone,%s,recruiter_contact,,\n' \
  "$hdr" "$W" "$P" "$W" "$X" >"$T/a.csv"
printf '%s\nBQ-1,2025,crypto_wallet,%s,salary,phone,%s\n' "$hdr" "$W" "$P" >"$T/b.csv"
printf '%s\nCQ-1,2025,crypto_wallet,%s,ransom_payment,,\n' "$hdr" "$W" >"$T/c.csv"
expect_exit 0 sp --db "$H" init
expect_exit 0 sp --db "$H" import --quiet --org "Alpha Aid" "$T/a.csv"
expect_exit 0 sp --db "$H" import --quiet --org "Beta Home" "$T/b.csv"
expect_exit 0 sp --db "$H" import --quiet --org "Gamma Law" "$T/c.csv"

expect_exit 0 sp --db "$H" investigate indicators
contains "$T/out" "$W"
contains "$T/out" "Alpha Aid: 2, Beta Home: 1, Gamma Law: 1"
contains "$T/out" "$P"
contains "$T/out" "ransom_payment,salary"
grep -q "$X" "$T/out" && fail "an indicator of one organisation is listed"
[ "$(grep -c '^[0-9]' "$T/out")" -eq 2 ] || fail "not exactly two shared indicators"
head -2 "$T/out" | tail -1 | grep -q "$W" || fail "the wallet of three organisations is not first"
expect_exit 0 sp --db "$H" investigate indicators --min-orgs 1 --min-cases 1 --type phone
contains "$T/out" "$X"
grep -q "$W" "$T/out" && fail "--type phone lists a wallet"

expect_exit 0 sp --db "$H" investigate indicator crypto_wallet "$W"
contains "$T/out" "4 cases in 3 organisations"
expect_exit 1 sp --db "$H" investigate indicator phone "$W"
contains "$T/err" "no live case has this indicator"
expect_exit 2 sp --db "$H" investigate indicator crypto_wallet h1:zz
expect_exit 2 sp --db "$H" investigate indicators --min-orgs 0
contains "$T/err" "min_orgs"
expect_exit 2 sp --db "$H" investigate indicators --type "a'b"
expect_exit 2 sp --db "$H" investigate export --format xml
expect_exit 2 sp --db "$H" investigate frobnicate

expect_exit 0 sp --db "$H" investigate network --out "$T/net.svg"
contains "$T/net.svg" "<svg"
contains "$T/net.svg" "</svg>"
contains "$T/net.svg" "4 cases, 2 indicators, 3 organisations"
expect_exit 0 sp --db "$H" investigate export --format csv --out "$T/x.csv"
[ "$(wc -l <"$T/x.csv")" -eq 7 ] || fail "the CSV has not 6 links and a header"
expect_exit 0 sp --db "$H" investigate export --format ftm
[ "$(grep -c '"schema":"CryptoWallet"' "$T/out")" -eq 1 ] || fail "not one CryptoWallet"
[ "$(grep -c '"schema":"Event"' "$T/out")" -eq 4 ] || fail "not four cases"
for f in "$T/net.svg" "$T/x.csv" "$T/out"; do
  grep -q 'Q-[0-9]' "$f" && fail "$f carries a case reference"
done

expect_exit 0 sp --db "$H" audit list --action investigate.export
[ "$(grep -c 'investigate.export' "$T/out")" -eq 2 ] || fail "two exports, not two audit entries"
contains "$T/out" "cli:"
expect_exit 0 sp --db "$H" audit list --action investigate.indicator
[ "$(grep -c 'investigate.indicator' "$T/out")" -eq 2 ] || fail "indicator lookups not audited"
expect_exit 0 sp --db "$H" audit verify
echo "ok investigate"
