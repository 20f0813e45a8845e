# Small-cell suppression on everything public (docs/privacy.md): a small
# demo hub where most cells are small, k = 10 (the default). The dashboard,
# country pages, every API table as JSON and CSV, the extra /data/ tables,
# /api/v1/meta and the static report are scanned under several filters:
# every number published as a count of records is 0, at least k, or shown
# as suppressed. "<10" and the suppression sentences appear; the gender
# filter on and off never publishes a pair of counts 1..k-1 apart; and
# with `config set k 2` fewer cells are hidden (the setting is honoured).
. "$(dirname "$0")/lib.sh"
set -e
command -v python3 >/dev/null || { echo "SKIP: privacy_http.sh needs python3"; exit 0; }
HERE=$(cd "$(dirname "$0")" && pwd)

expect_exit 0 sp --db "$T/hub.db" init
expect_exit 0 sp --db "$T/hub.db" demo --records 60 --seed 5
expect_exit 0 sp --db "$T/hub.db" config get k; contains "$T/out" "10"

# the static report: every file under the folder
expect_exit 0 sp --db "$T/hub.db" report --out "$T/r10" --org-region all --threshold 5
expect_exit 0 sp --db "$T/hub.db" report --out "$T/r10g" --org-region all --gender male --threshold 5

serve() {  # serve: starts the server in the background, sets PORT and SPID
  "$SPOTLIGHT" --db "$T/hub.db" serve --listen 127.0.0.1:0 --threads 2 >"$T/serve.out" 2>"$T/serve.err" &
  SPID=$!
  for _ in $(seq 1 100); do
    PORT=$(sed -n 's|^serving http://127.0.0.1:\([0-9]*\).*|\1|p' "$T/serve.out" | head -n 1)
    [ -n "$PORT" ] && return 0
    sleep 0.1
  done
  kill "$SPID" 2>/dev/null; fail "server did not start: $(cat "$T/serve.err")"
}
unserve() { kill -TERM "$SPID"; wait "$SPID" || fail "server exit status $?"; }

scan() {  # scan K REPORTDIR[:REPORTDIR] OUTFILE: scans the live server and the report
  python3 - "$1" "$PORT" "$2" "$HERE" > "$3" <<'EOF'
import json, os, sys, urllib.request
k, port, rdir, here = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
sys.path.insert(0, here)
import privacy_scan as ps
base = "http://127.0.0.1:%s" % port
def get(path):
    with urllib.request.urlopen(base + path, timeout=60) as r:
        return r.status, r.read().decode("utf-8")
bad, seen = [], {"pages": 0, "json": 0, "csv": 0, "suppressed": 0}
meta = json.loads(get("/api/v1/meta")[1])
assert meta["suppression"]["k"] == k, meta["suppression"]
bad += ps.scan_json(meta, k, "meta")
# the API: every table, JSON and CSV, under several filters
filters = ["", "where=gender:male", "where=gender:female&year_from=2022",
           "org_region=Asia", "where=industry:online_scam&year_to=2024",
           "where=nationality:VN"]
for t in meta["tables"]:
    for f in filters:
        q = ("?" + f) if f else ""
        st, body = get("/api/v1/stats/%s%s" % (t, q))
        assert st == 200, (t, f, st)
        js = json.loads(body)
        assert js["suppression"] is not None and js["suppression"]["k"] == k, (t, f)
        seen["suppressed"] += js["suppression"]["cells"]
        bad += ps.scan_json(js, k, "%s?%s" % (t, f))
        st, body = get("/api/v1/stats/%s.csv%s" % (t, q))
        bad += ps.scan_csv(body, k, "%s.csv?%s" % (t, f))
        seen["json"] += 1; seen["csv"] += 1
# the extra tables and the pages, with the page's filters
pfilters = ["org_region=all", "", "org_region=all&gender=male",
            "org_region=all&gender=female&year_from=2022", "org_region=all&industry=online_scam",
            "org_region=all&nationality=VN"]
csv_lt = 0
for f in pfilters:
    q = ("?" + f) if f else ""
    for t in ("ransom", "coverage", "organisations"):
        js = json.loads(get("/data/%s.json%s" % (t, q))[1])
        assert js["suppression"]["k"] == k
        bad += ps.scan_json(js, k, "data/%s?%s" % (t, f))
        for row in js["rows"]:   # ransom amounts only beside a published count >= max(k, 10)
            if t == "ransom" and (row["count"] is None or row["count"] < max(k, 10)):
                assert row["median"] is None and row["min"] is None and row["max"] is None, row
        body = get("/data/%s.csv%s" % (t, q))[1]
        csv_lt += body.count("<%d" % k)
        bad += ps.scan_csv(body, k, "data/%s.csv?%s" % (t, f))
    st, page = get("/" + q)
    assert st == 200
    bad += ps.scan_html(page, k, "/" + q)
    seen["pages"] += 1
    seen.setdefault("lt", 0)
    seen["lt"] += page.count("&lt;%d" % k)
    seen.setdefault("sentence", 0)
    seen["sentence"] += page.count('class="suppressed-note"')
    assert 'id="about-suppression" data-k="%d"' % k in page, "no suppression note in about"
    for cc in ("VN", "KH", "MM"):
        st, cp = get("/country/%s%s" % (cc, q))
        bad += ps.scan_html(cp, k, "/country/%s%s" % (cc, q))
# differencing: the gender filter on and off
diffs = 0
for t in ("gender", "age", "nationality", "industries-by-year", "origins", "destinations",
          "control", "recruitment"):
    a = json.loads(get("/api/v1/stats/%s" % t)[1])
    for g in ("male", "female"):
        b = json.loads(get("/api/v1/stats/%s?where=gender:%s" % (t, g))[1])
        d, both = ps.differences(a, b, k, "%s gender=%s" % (t, g))
        bad += d
        diffs += both
# the report folder: every file
files = 0
for root, _, names in (w for rd in rdir.split(":") for w in os.walk(rd)):
    for n in names:
        p = os.path.join(root, n)
        body = open(p, encoding="utf-8").read()
        files += 1
        if n.endswith(".html"):
            bad += ps.scan_html(body, k, p)
            seen["lt"] += body.count("&lt;%d" % k)
        elif n.endswith(".svg"):
            bad += ps.scan_svg(body, k, p)
        elif n.endswith(".json"):
            bad += ps.scan_json(json.loads(body), k, p)
        elif n.endswith(".csv"):
            bad += ps.scan_csv(body, k, p)
for b in bad[:40]:
    print("SMALL:", b, file=sys.stderr)
assert not bad, "%d small numbers published" % len(bad)
print(json.dumps({"hidden": seen["suppressed"], "lt": seen["lt"], "sentences": seen["sentence"],
                  "pages": seen["pages"], "tables": seen["json"], "files": files,
                  "pairs": diffs, "csv_lt": csv_lt}))
EOF
}

serve
scan 10 "$T/r10:$T/r10g" "$T/scan10.json" || { unserve; fail "scan with k=10"; }
unserve
cat "$T/scan10.json"
python3 - "$T/scan10.json" <<'EOF' || fail "k=10: expected suppression to show"
import json, sys
s = json.load(open(sys.argv[1]))
assert s["hidden"] > 50, s           # most cells of a 60-record hub are small
assert s["lt"] > 20, s               # "<10" on the pages
assert s["sentences"] > 10, s        # a sentence beside the affected charts
assert s["pairs"] > 20, s            # the differencing check compared cells
assert s["files"] > 20, s
EOF

# k = 2: the setting is honoured, fewer counts hidden, same rules
expect_exit 0 sp --db "$T/hub.db" config set k 2
expect_exit 0 sp --db "$T/hub.db" report --out "$T/r2" --org-region all --threshold 5
serve
scan 2 "$T/r2" "$T/scan2.json" || { unserve; fail "scan with k=2"; }
unserve
cat "$T/scan2.json"
python3 - "$T/scan10.json" "$T/scan2.json" <<'EOF' || fail "k=2 should hide fewer cells than k=10"
import json, sys
a, b = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
assert b["hidden"] < a["hidden"] * 0.8 and b["lt"] < a["lt"] / 2, (a, b)
EOF
grep -q 'data-k="2"' "$T/r2/index.html" || fail "report does not state k=2"
echo "ok privacy_http"
