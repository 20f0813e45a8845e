# KoboToolbox / ODK exports of the `spotlight xlsform` form import with
# --mapping kobo unchanged: a CSV export (";"-separated, space-separated
# select_multiple, one-column-per-choice copies, meta columns, a flattened
# repeat) and an XLSX export whose repeat groups are sheets of their own
# joined on _parent_index. Also: the form and templates are written.
. "$(dirname "$0")/lib.sh"
set -e
sp --db "$T/hub.db" init >/dev/null

# ---- the form and the templates
expect_exit 0 sp xlsform --out "$T/form.xlsx"
expect_exit 0 sp template --format xlsx --out "$T/t.xlsx"
expect_exit 0 sp template --format csv --out "$T/t.csv"
head -c 40 "$T/t.csv" | grep -q '^case_ref,year_identified,' || fail "CSV template header"
expect_exit 2 sp template --format ods --out "$T/t.ods"
expect_exit 2 sp xlsform
# the blank template imports as an empty file with every column known
expect_exit 0 sp --db "$T/hub.db" import --org Blank --dry-run "$T/t.csv"
if grep -q unknown-column "$T/err"; then fail "template has unknown columns"; fi

# ---- CSV export
cat > "$T/kobo.csv" <<'CSV'
start;end;case_ref;year_identified;date_identified;identification_status;consent;gender;age;age_band;nationality;origin_country;origin_province;transit_countries;exploitation_count;exploitation[1]/country;exploitation[1]/province;exploitation[2]/country;industry;recruitment_platform;recruitment_platform/facebook;recruitment_platform/telegram;control_means;control_means/debt_bondage;control_means/threats;control_means/confinement;meta/instanceID;_id;_uuid;_submission_time;_validation_status;_index;__version__
2024-03-05T10:00:00.000+07:00;2024-03-05T10:20:00.000+07:00;K-001;2024;2024-03-05;presumed;statistics;male;25;;VN;KH;KH-12;TH LA;2;TH;TH-10;MM;online_scam;facebook telegram;1;1;debt_bondage threats;1;1;0;uuid:aaa;11;aaa;2024-03-05T03:21:00;;1;vX
2024-03-06T10:00:00.000+07:00;2024-03-06T10:20:00.000+07:00;K-002;2024;;formal;hub_analysts;female;;18-24;LA;;;;1;MM;;;sexual_exploitation;;0;0;confinement;0;0;1;uuid:bbb;12;bbb;2024-03-06T03:21:00;;2;vX
CSV
expect_exit 0 sp --db "$T/hub.db" import --org KoboCSV --mapping kobo "$T/kobo.csv"
contains "$T/out" "2 records stored"
if grep -q "unknown-column" "$T/err"; then cat "$T/err" >&2; fail "Kobo CSV: unknown columns"; fi

# ---- XLSX export with repeat sheets (minimal workbook written here)
python3 - "$T/kobo.xlsx" "$T/orphan.xlsx" "$T/toomany.xlsx" <<'PY'
import sys, zipfile
from xml.sax.saxutils import escape
def col(i):
    s = ""
    i += 1
    while i:
        i, r = divmod(i - 1, 26)
        s = chr(65 + r) + s
    return s
def sheet(rows):
    out = ['<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>']
    for r, row in enumerate(rows, 1):
        out.append('<row r="%d">' % r)
        for c, v in enumerate(row):
            if v == "": continue
            if isinstance(v, (int, float)):
                out.append('<c r="%s%d"><v>%s</v></c>' % (col(c), r, v))
            else:
                out.append('<c r="%s%d" t="inlineStr"><is><t>%s</t></is></c>' % (col(c), r, escape(v)))
        out.append('</row>')
    out.append('</sheetData></worksheet>')
    return "".join(out)
def book(path, sheets):
    z = zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED)
    ct = ['<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>']
    wb = ['<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets>']
    rels = ['<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">']
    for i, (name, rows) in enumerate(sheets, 1):
        ct.append('<Override PartName="/xl/worksheets/sheet%d.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>' % i)
        wb.append('<sheet name="%s" sheetId="%d" r:id="rId%d"/>' % (name, i, i))
        rels.append('<Relationship Id="rId%d" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet%d.xml"/>' % (i, i))
        z.writestr("xl/worksheets/sheet%d.xml" % i, sheet(rows))
    z.writestr("[Content_Types].xml", "".join(ct) + "</Types>")
    z.writestr("_rels/.rels", '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>')
    z.writestr("xl/workbook.xml", "".join(wb) + "</sheets></workbook>")
    z.writestr("xl/_rels/workbook.xml.rels", "".join(rels) + "</Relationships>")
    z.close()
main = [["start", "case_ref", "year_identified", "gender", "age", "age_band", "nationality",
         "control_means", "control_means/threats", "exploitation_count", "indicators_count",
         "_id", "_uuid", "_submission_time", "_index"],
        ["2024-05-01", "K-101", 2024, "female", "", "55+", "PH", "threats", 1, 2, 1, 101, "u1", "2024-05-02", 1],
        ["2024-05-03", "K-102", 2023, "male", 31, "", "ID", "", 0, 1, 0, 102, "u2", "2024-05-04", 2]]
expl = [["exploitation/country", "exploitation/province", "exploitation/locality",
         "_index", "_parent_table_name", "_parent_index", "_submission__id", "_submission__uuid"],
        ["TH", "TH-10", "Bang Rak", 1, "spotlight_case", 1, 101, "u1"],
        ["KH", "", "", 2, "spotlight_case", 2, 102, "u2"],
        ["MM", "", "Shwe Kokko", 3, "spotlight_case", 1, 101, "u1"]]
ind = [["indicators/type", "indicators/value", "indicators/role", "_index",
        "_parent_table_name", "_parent_index"],
       ["crypto_wallet", "TXYZabc", "ransom_payment", 1, "spotlight_case", 1]]
book(sys.argv[1], [("spotlight_case", main), ("exploitation", expl), ("indicators", ind)])
orphan = expl + [["LA", "", "", 4, "spotlight_case", 9, 109, "u9"]]
book(sys.argv[2], [("spotlight_case", main), ("exploitation", orphan)])
many = expl[:1] + [["TH", "", "", i, "spotlight_case", 2, 102, "u2"] for i in range(1, 8)]
book(sys.argv[3], [("spotlight_case", main), ("exploitation", many)])
PY
expect_exit 0 sp --db "$T/hub.db" import --org KoboXLSX --mapping kobo "$T/kobo.xlsx"
contains "$T/out" "2 records stored"
if grep -q "unknown-column" "$T/err"; then cat "$T/err" >&2; fail "Kobo XLSX: unknown columns"; fi
expect_exit 1 sp --db "$T/hub.db" import --org KoboXLSX --mapping kobo "$T/orphan.xlsx"
contains "$T/err" "kobo-no-parent"
contains "$T/err" "no row of the first sheet has _index 9"
expect_exit 1 sp --db "$T/hub.db" import --org KoboXLSX --mapping kobo "$T/toomany.xlsx"
contains "$T/err" "too-many-repeats"

sp --db "$T/hub.db" export --format json --include-sensitive > "$T/all.json"
python3 - "$T/all.json" <<'PY'
import json, sys
recs = {r["case_ref"]: r for r in json.load(open(sys.argv[1]))}
assert set(recs) == {"K-001", "K-002", "K-101", "K-102"}, sorted(recs)
a = recs["K-001"]
assert (a["gender"], a["nationality"], a["origin_country"], a["origin_province"]) == ("male", "VN", "KH", "KH-12"), a
assert a["age"] in ("25", "25-25"), a["age"]
assert sorted(a["transit_countries"]) == ["LA", "TH"], a
assert sorted(a["recruitment_platform"]) == ["facebook", "telegram"], a
assert sorted(a["control_means"]) == ["debt_bondage", "threats"], a
assert [(e["country"], e["province"]) for e in a["exploitation"]] == [("TH", "TH-10"), ("MM", None)], a["exploitation"]
b = recs["K-002"]
assert b["age"] == "18-24" and b["control_means"] == ["confinement"], b
assert [e["country"] for e in b["exploitation"]] == ["MM"] and b["year_identified"] == 2024 or b["year_identified"] == "2024", b
c = recs["K-101"]
assert c["age"].startswith("55"), c["age"]
assert [(e["country"], e["locality"]) for e in c["exploitation"]] == [("TH", "Bang Rak"), ("MM", "Shwe Kokko")], c["exploitation"]
assert c["exploitation"][0]["province"] == "TH-10", c
assert len(c["indicators"]) == 1 and c["indicators"][0]["type"] == "crypto_wallet" and c["indicators"][0]["value"] == "TXYZabc", c["indicators"]
assert c["control_means"] == ["threats"], c
d = recs["K-102"]
assert [e["country"] for e in d["exploitation"]] == ["KH"] and d["indicators"] == [], d
assert d["age"] in ("31", "31-31"), d["age"]
print("kobo ok")
PY
