# CTDC's real data imports through mapping files, and `stats` agrees with
# an independent count of the same CSV made here in Python.
. "$(dirname "$0")/lib.sh"
set -e
RED="$SP_SHARED/ctdc/ctdc_global_2020_reduced.csv"
VP="$SP_SHARED/ctdc/CTDC_VPsynthetic_condensed.csv"
MAPS="${SP_SRCDIR:-.}/tests/data"
[ -f "$RED" ] || fail "missing $RED (set SP_SHARED)"
sp --db "$T/hub.db" init >/dev/null
expect_exit 0 sp --db "$T/hub.db" org add CTDC --country US
expect_exit 0 sp --db "$T/hub.db" import --org CTDC --mapping "$MAPS/ctdc-reduced.json" "$RED"
contains "$T/out" "48801 records stored"
for t in gender nationality industries-by-year control recruitment; do
  sp --db "$T/hub.db" stats --json "$t" > "$T/$t.json"
done
sp --db "$T/hub.db" stats --json --bands ctdc age > "$T/age.json"
python3 - "$RED" "$T" <<'PY'
import csv, json, sys, collections
path, d = sys.argv[1], sys.argv[2]
rows = list(csv.DictReader(open(path, newline='', encoding='utf-8')))
assert len(rows) == 48801, len(rows)
def load(n): return json.load(open(f"{d}/{n}.json"))
# gender
g = load("gender"); assert g["records"] == 48801
want = collections.Counter(r["gender"].lower() for r in rows)
got = {x["code"]: x["count"] for x in g["rows"]}
assert got["female"] == want["female"] and got["male"] == want["male"], (got, want)
# nationality: ISO alpha-2 as written; empty is unknown
n = load("nationality")
want = collections.Counter(r["citizenship"] for r in rows if r["citizenship"])
got = {x["code"]: x["count"] for x in n["rows"] if x["code"]}
for cc, k in want.items():
    assert got.get(cc) == k, (cc, got.get(cc), k)
# age in CTDC bands: the file's own bands
a = load("age")
want = collections.Counter(r["ageBroad"].replace("--", "-") for r in rows if r["ageBroad"])
got = {x["band"]: x["count"] for x in a["rows"]}
for band, k in want.items():
    assert got.get(band) == k, (band, got.get(band), k)
assert got["unknown"] == sum(1 for r in rows if not r["ageBroad"])
# industries per year, mapping applied by hand: Labor_Type first, then ExploitType
lab = {"Agriculture":"labour_agriculture","Aquafarming":"labour_fishing","Begging":"labour_begging",
       "Construction":"labour_construction","Domestic Work":"labour_domestic","Hospitality":"labour_hospitality",
       "Manufacturing":"labour_manufacturing","Other":"labour_other","Peddling":"labour_other",
       "Illicit Activities":"forced_criminality_other","Mining/Drilling":"labour_other","Transportation":"labour_other"}
ex = {"Sexual":"sexual_exploitation","Labor":"labour_other","Other":"other","Slavery/Similar":"other",
      "Forced Marriage":"forced_marriage","Multiple":"other"}
want = collections.Counter()
years = collections.Counter()
for r in rows:
    y = int(float(r["yearOfRegistration"]))
    ind = lab.get(r["Labor_Type"]) if r["Labor_Type"] else ex.get(r["ExploitType"]) if r["ExploitType"] else "unknown"
    want[(y, ind)] += 1; years[y] += 1
iby = load("industries-by-year")
seen = 0
for row in iby["rows"]:
    y = row["year"]
    if y is None: continue
    assert row["total"] == years[y], (y, row["total"], years[y])
    for it in row["industries"]:
        assert it["count"] == want.get((y, it["code"]), 0), (y, it["code"], it["count"], want.get((y, it["code"])))
        seen += it["count"]
    assert abs(sum(it["share"] for it in row["industries"]) - 1) < 0.01
assert seen == 48801, seen
# control means (one per record here)
c = load("control")
want = collections.Counter({"Other":"other","Threats":"threats","Financial":"debt_bondage","Physical":"physical_violence","Survival":"other"}[r["control_category"]] for r in rows if r["control_category"])
got = collections.Counter()
for x in c["rows"]:
    if x.get("code") and x.get("count") is not None: got[x["code"]] += x["count"]
for k, v in want.items(): assert got[k] == v, (k, got[k], v)
print("reduced CTDC: stats agree with an independent count")
PY

# The Victim-Perpetrator synthetic file, through its own mapping
expect_exit 0 sp --db "$T/vp.db" init
expect_exit 0 sp --db "$T/vp.db" import --org CTDC --mapping "$MAPS/ctdc-vp.json" "$VP"
contains "$T/out" "21195 records stored"   # the file has 21,195 data rows (its README says 21,194)
sp --db "$T/vp.db" stats --json gender > "$T/vpg.json"
sp --db "$T/vp.db" stats --json industries-by-year > "$T/vpi.json"
python3 - "$VP" "$T" <<'PY'
import csv, json, sys, collections
rows = list(csv.DictReader(open(sys.argv[1], newline='', encoding='utf-8')))
g = json.load(open(sys.argv[2] + "/vpg.json"))
assert g["records"] == len(rows) == 21195
want = collections.Counter(r["gender"].lower() or "unknown" for r in rows)
got = {x["code"]: x["count"] for x in g["rows"]}
for k in ("female", "male", "unknown"):
    assert got[k] == want[k], (k, got[k], want[k])
# only exact years are imported; ranges are left empty
i = json.load(open(sys.argv[2] + "/vpi.json"))
years = collections.Counter(r["yearRegister"] for r in rows if r["yearRegister"].isdigit())
for row in i["rows"]:
    if row["year"] is not None:
        assert row["total"] == years[str(row["year"])], (row["year"], row["total"])
print("CTDC VP synthetic: stats agree with an independent count")
PY
echo "ctdc real data ok"
