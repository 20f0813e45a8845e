# spotlight report: the static dashboard on a demo hub. Every file a link
# points to exists, JSON parses, every standalone SVG is well-formed XML,
# and numbers read back from the page (data-count attributes) equal
# `spotlight stats --json --public` (what is published, after small-cell
# suppression) for the same filters; hidden cells are marked hidden.
. "$(dirname "$0")/lib.sh"
set -e
command -v python3 >/dev/null || { echo "SKIP: report.sh needs python3"; exit 0; }

expect_exit 0 sp --db "$T/hub.db" init
expect_exit 0 sp --db "$T/hub.db" demo --records 3000 --seed 11

# usage errors say why
expect_exit 2 sp --db "$T/hub.db" report;                          contains "$T/err" "--out"
expect_exit 2 sp --db "$T/hub.db" report --out "$T/r" --bogus 1;   contains "$T/err" "unknown argument"
expect_exit 2 sp --db "$T/hub.db" report --out "$T/r" --org-region Atlantis; contains "$T/err" "Atlantis"
expect_exit 2 sp --db "$T/hub.db" report --out "$T/r" --threshold 0

# the default view (organisations in Asia) and a filtered one
expect_exit 0 sp --db "$T/hub.db" report --out "$T/r1" --threshold 30
expect_exit 0 sp --db "$T/hub.db" report --out "$T/r2" --org-region all --year-from 2022 \
  --gender Male --threshold 30

check() {  # check DIR STATS-FILTER-ARGS...
  dir=$1; shift
  for t in gender age control nationality industries-by-year; do
    sp --db "$T/hub.db" stats --json --public "$@" "$t" > "$T/stats-$t.json" || fail "stats $t"
  done
  python3 - "$dir" "$T" <<'EOF' || fail "report in $1"
import html, json, os, re, sys
import xml.dom.minidom as minidom
d, t = sys.argv[1], sys.argv[2]
for f in ("index.html", "app.css"):
    assert os.path.isfile(os.path.join(d, f)), f + " missing"
pages = ["index.html"] + sorted(f for f in os.listdir(d) if f.startswith("country-"))
links = set()
for p in pages:
    h = open(os.path.join(d, p), encoding="utf-8").read()
    assert "<script" not in h and 'style="' not in h, p + ": script or inline style"
    for href in re.findall(r'href="([^"]*)"', h):
        href = html.unescape(href)
        if href.startswith("#"):
            continue
        assert not href.startswith("/") and "://" not in href, p + ": absolute link " + href
        assert os.path.isfile(os.path.join(d, href)), p + ": dangling link " + href
        links.add(href)
for l in links:
    path = os.path.join(d, l)
    if l.endswith(".json"):
        json.load(open(path, encoding="utf-8"))
    elif l.endswith(".svg"):
        minidom.parse(path)
assert sum(l.endswith(".csv") for l in links) >= 9, "too few CSV links"
assert sum(l.endswith(".svg") for l in links) >= 8, "too few SVG links"
# numbers: data-count of each row against the stats JSON
h = open(os.path.join(d, "index.html"), encoding="utf-8").read()
counts = {}
for tab, key, n in re.findall(r'data-table="([^"]+)" data-key="([^"]*)" data-count="(-?\d+)"', h):
    counts[(tab, html.unescape(key))] = int(n)
hidden = set((tab, html.unescape(key)) for tab, key in
             re.findall(r'data-table="([^"]+)" data-key="([^"]*)" data-count="" data-suppressed="1"', h))
checked = 0
for tab in ("gender", "age", "control", "nationality"):
    js = json.load(open(os.path.join(t, "stats-%s.json" % tab)))
    for row in js["rows"][:30]:
        key = row.get("code") if tab != "age" else row.get("band")
        if row.get("suppressed"):
            assert (tab, key or "") in hidden, "%s %s: hidden in stats, not on the page" % (tab, key)
            continue
        got = counts.get((tab, key or ""))
        assert got == row["count"], "%s %s: page %s, stats %s" % (tab, key, got, row["count"])
        checked += 1
    if js["records"] is not None:
        assert ("Based on <b class=\"n\">%s</b>" % format(js["records"], ",")) in h, tab + " records"
js = json.load(open(os.path.join(t, "stats-industries-by-year.json")))
for y in js["rows"]:
    for ind in y["industries"]:
        if ind.get("suppressed"):
            key = "%s/%s" % ("" if y["year"] is None else y["year"], ind["code"])
            assert ("industries-by-year", key) in hidden, key
        elif ind["count"]:
            key = "%s/%s" % ("" if y["year"] is None else y["year"], ind["code"])
            assert counts.get(("industries-by-year", key)) == ind["count"], key
            checked += 1
# the downloaded data are the same numbers
gj = json.load(open(os.path.join(d, "data", "gender.json")))
assert gj["rows"] == json.load(open(os.path.join(t, "stats-gender.json")))["rows"]
assert checked > 30, checked
print("ok %s: %d links, %d numbers" % (d, len(links), checked))
EOF
}
check "$T/r1" --org-region Asia
check "$T/r2" --year-from 2022 --where gender=male
contains "$T/r1/index.html" "Demonstration data."
contains "$T/r2/index.html" "gender <b>Male</b>"
# a rerun into the same folder replaces the files
expect_exit 0 sp --db "$T/hub.db" report --out "$T/r1" --threshold 30
echo "report.sh: ok"
