# The built-in mappings for CTDC's Global Dataset (63 columns) and Global
# Synthetic Dataset (27 columns) turn their flags and codes into the
# codebook's, as docs/mappings.md says.
. "$(dirname "$0")/lib.sh"
set -e
D="${SP_SRCDIR:-.}/tests/data"
sp --db "$T/hub.db" init >/dev/null
expect_exit 0 sp --db "$T/hub.db" import --org CTDC --mapping ctdc "$D/ctdc-global-63col-sample.csv"
contains "$T/out" "4 records stored"
expect_exit 0 sp --db "$T/hub.db" import --org CTDC --mapping ctdc-synthetic "$D/ctdc-synthetic-27col-sample.csv"
contains "$T/out" "3 records stored"
sp --db "$T/hub.db" export --format json > "$T/all.json"
python3 - "$T/all.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
assert len(r) == 7, len(r)
a, b, c, d, e, f, g = r
# 63 columns: flags to codes; the specific labour type beats isSexualExploit
assert (a["gender"], a["age"], a["nationality"], a["industry"]) == ("female", "18-20", "KH", "sexual_exploitation"), a
assert sorted(a["control_means"]) == ["documents_confiscated", "threats"], a
assert a["exploitation"][0]["country"] == "TH" and a["recruitment_method"] == "friend"
assert b["age"] == "0-17" and b["industry"] == "labour_fishing", b      # ageBroad -99 falls back to majorityStatus Minor
assert c["industry"] == "labour_construction" and c["exploitation"] == [], c  # country 00 is unknown
assert d["nationality"] is None and d["industry"] == "forced_marriage" and d["age"].startswith("48-"), d
# 27 columns: alpha-3 countries, Man/Woman
assert (e["gender"], e["nationality"], e["exploitation"][0]["country"], e["industry"]) == ("female", "PH", "MY", "labour_domestic"), e
assert (f["gender"], f["nationality"], f["industry"]) == ("male", "KH", "labour_other") and sorted(f["control_means"]) == ["debt_bondage", "documents_confiscated"], f
assert (g["gender"], g["age"], g["industry"], g["recruitment_method"]) == ("transgender", "9-17", "sexual_exploitation", "friend"), g
print("built-in mappings ok")
PY
# a mapping that names a field the codebook lacks is refused before any row
printf '{"fields":{"no_such_field":"x"}}' > "$T/bad.json"
expect_exit 1 sp --db "$T/hub.db" import --org CTDC --mapping "$T/bad.json" "$D/ctdc-global-63col-sample.csv"
contains "$T/err" "no_such_field"
printf '{"fields":' > "$T/broken.json"
expect_exit 1 sp --db "$T/hub.db" import --org CTDC --mapping "$T/broken.json" "$D/ctdc-global-63col-sample.csv"
contains "$T/err" "not valid JSON"
expect_exit 1 sp --db "$T/hub.db" import --org CTDC --mapping nonesuch "$D/ctdc-global-63col-sample.csv"
contains "$T/err" "built-in: ctdc, ctdc-synthetic, kobo"
