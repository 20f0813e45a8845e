# Linking the same victim across organisations, end to end: two
# organisations encode their overlapping cases at home (spotlight encode
# when the binary has it, else tests/e2e/link_gen.c over the project's own
# person_encode; never a hard-coded encoding), both import; the hub finds
# the ransom wallet both reported (hashed at each partner) and spotlight
# link the two shared people; every stats table then equals that of a hub
# where B never sent them; a rejection counts them apart again; the
# dashboard and /api/v1/meta say how many were merged ("<k" under k); the
# analyst sees links (names of organisations, scores), never a record's
# content; B's contributor sees neither the links nor A's records.
. "$(dirname "$0")/lib.sh"
set -e
command -v python3 >/dev/null || { echo "SKIP: link.sh needs python3"; exit 0; }
H="$T/hub.db"
H2="$T/never.db"
SRC=$(cd "$(dirname "$0")/../.." && pwd)

# ---- the partners' files (clear: they never reach the hub)
HDR="case_ref,year_identified,gender,nationality,given_name,family_name,birth_date,sex,indicators_1_type,indicators_1_value,indicators_1_chain,indicators_1_role"
# the USDT (TRON) wallet both organisations were told to pay a ransom to
WALLET=TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t
{
  echo "$HDR"
  echo "AQ-001,2023,female,VN,Thi Huong,Nguyen,1995-04-12,f,crypto_wallet,$WALLET,tron,ransom_payment"
  echo "AQ-002,2023,male,LA,Somchai,Phommavong,1988-11-02,m,,,,"
  echo "AQ-003,2024,female,KH,Sokha,Chea,2001-07-30,f,,,,"
  echo "AQ-004,2024,male,MM,Aung Aung,Win,1990-02-14,m,,,,"
  echo "AQ-005,2023,male,VN,Van Minh,Tran,1993-06-21,m,,,,"
  echo "AQ-006,2024,female,ID,Siti,Rahayu,1997-12-01,f,,,,"
} >"$T/a_clear.csv"
B_ONLY="BZ-101,2024,male,MM,Kyaw Zin,Htet,1992-01-15,m,,,,
BZ-102,2024,female,PH,Maria,Santos,1994-09-09,f,,,,
BZ-103,2023,male,KH,Dara,Sok,1999-03-03,m,,,,
BZ-104,2024,female,LA,Noy,Keomany,2000-05-05,f,,,,"
# the same two people as AQ-001 and AQ-004: another spelling, a typo
B_SHARED="BZ-105,2024,female,VN,Thi Houng,Nguyen,1995-04-12,f,wallet,$WALLET,TRC-20,ransom_payment
BZ-106,2024,male,MM,Aung Aung,Win,1990-02-14,m,,,,"
printf '%s\n%s\n%s\n' "$HDR" "$B_ONLY" "$B_SHARED" >"$T/b_clear.csv"
printf '%s\n%s\n' "$HDR" "$B_ONLY" >"$T/b_only_clear.csv"

# ---- the shared key and the encoder
if "$SPOTLIGHT" help encode >/dev/null 2>&1; then
  expect_exit 0 sp encode --new-key "$T/key"
  encode() { sp encode --key "$T/key" "$1" >"$2"; }
else
  od -An -tx1 -N32 /dev/urandom | tr -d ' \n' >"$T/key"; echo >>"$T/key"; chmod 600 "$T/key"
  for o in person pprl util; do
    [ -f "$SRC/build/asan/$o.o" ] || fail "build/asan/$o.o missing (make build/asan/spotlight first)"
  done
  ${CC:-cc} -std=c17 -O1 -g -fsanitize=address,undefined -D_DEFAULT_SOURCE -I"$SRC/src" \
    -o "$T/link_gen" "$SRC/tests/e2e/link_gen.c" "$SRC/build/asan/person.o" \
    "$SRC/build/asan/pprl.o" "$SRC/build/asan/util.o" \
    $(pkg-config --libs libsodium) -lunistring -lm -pthread || fail "cannot build link_gen"
  encode() { "$T/link_gen" "$T/key" <"$1" >"$2"; }
fi
encode "$T/a_clear.csv" "$T/a.csv"
encode "$T/b_clear.csv" "$T/b.csv"
encode "$T/b_only_clear.csv" "$T/b_only.csv"
for f in a b b_only; do
  contains "$T/$f.csv" "person_clk"
  if grep -q "Nguyen\|Aung\|1995-04-12\|given_name\|$WALLET" "$T/$f.csv"; then fail "$f.csv carries a clear value"; fi
done

# ---- two hubs: H with both files, H2 where B never sent the shared two
for db in "$H" "$H2"; do expect_exit 0 sp --db "$db" init; done
expect_exit 0 sp --db "$H" import --quiet --org "Alpha Aid" "$T/a.csv"
expect_exit 0 sp --db "$H" import --quiet --org "Beta Shelter" "$T/b.csv"
expect_exit 0 sp --db "$H2" import --quiet --org "Alpha Aid" "$T/a.csv"
expect_exit 0 sp --db "$H2" import --quiet --org "Beta Shelter" "$T/b_only.csv"

# ---- the hub finds the shared wallet from two encoded files (the same
# keyed hash, though B wrote "wallet" and "TRC-20"), counted per organisation
expect_exit 0 sp --db "$H" investigate indicators
contains "$T/out" "crypto_wallet"
contains "$T/out" "Alpha Aid: 1, Beta Shelter: 1"
[ "$(grep -c '^[0-9]' "$T/out")" -eq 1 ] || fail "not exactly one shared indicator"
if grep -q "$WALLET\|AQ-\|BZ-" "$T/out"; then fail "investigate shows a clear value or a case reference"; fi

TABLES=$("$SPOTLIGHT" --db "$H" stats 2>&1 | sed -n 's/^tables: *//p')
[ -n "$TABLES" ] || fail "no table names from spotlight stats"
stats_all() {  # stats_all HUB OUT: every table's exact JSON
  : >"$2"
  for t in $TABLES; do
    echo "== $t" >>"$2"
    "$SPOTLIGHT" --db "$1" stats --json "$t" >>"$2" || fail "stats $t on $1"
  done
}
stats_all "$H" "$T/s_before"
stats_all "$H2" "$T/s_never"
if cmp -s "$T/s_before" "$T/s_never"; then fail "the hubs agree before linking: the test shows nothing"; fi

# ---- a dry run stores nothing; the run links the two shared people
expect_exit 0 sp --db "$H" link --dry-run
contains "$T/out" "dry run, nothing stored"
contains "$T/out" "duplicates merged: 2"
expect_exit 0 sp --db "$H" link list
if grep -q "Alpha Aid" "$T/out"; then fail "a dry run stored links"; fi
expect_exit 2 sp --db "$H" link --threshold 1.5
expect_exit 2 sp --db "$H" link --threshold abc
expect_exit 0 sp --db "$H" link
contains "$T/out" "records with an encoding: 12"
contains "$T/out" "links proposed: 2"
contains "$T/out" "duplicates merged: 2"
stats_all "$H" "$T/s_linked"
cmp "$T/s_linked" "$T/s_never" || { diff "$T/s_linked" "$T/s_never" | head -20 >&2; fail "linked stats differ from the hub without the duplicates"; }
SPOTLIGHT_CUBE=1 stats_all "$H" "$T/s_linked_cube"
cmp "$T/s_linked_cube" "$T/s_never" || fail "the cube counts the duplicates"

# the list: organisations and scores, never a case reference
expect_exit 0 sp --db "$H" link list --status proposed
contains "$T/out" "Alpha Aid"
contains "$T/out" "Beta Shelter"
if grep -q "AQ-\|BZ-" "$T/out"; then fail "link list shows a case reference"; fi
PAIR=$(awk 'NR==2 {print $1, $2}' "$T/out")
set -- $PAIR
A_ID=$1; B_ID=$2

# a rejection counts the two records apart, and survives a re-run
expect_exit 0 sp --db "$H" link reject "$A_ID" "$B_ID"
contains "$T/out" "duplicates merged: 1"
expect_exit 0 sp --db "$H" link
contains "$T/out" "links proposed: 1"
contains "$T/out" "decisions kept: 1"
contains "$T/out" "duplicates merged: 1"
stats_all "$H" "$T/s_rej"
if cmp -s "$T/s_rej" "$T/s_never"; then fail "a rejected link still merges"; fi
expect_exit 0 sp --db "$H" link confirm "$A_ID" "$B_ID"
contains "$T/out" "duplicates merged: 2"
expect_exit 1 sp --db "$H" link confirm "$A_ID" 999999
expect_exit 0 sp --db "$H" audit list --action link.run
contains "$T/out" "link.run"
expect_exit 0 sp --db "$H" audit list --action link.reject
contains "$T/out" "link.reject"
expect_exit 0 sp --db "$H" audit verify

# ---- accounts: B's contributor, the hub's analyst
PW="link test passphrase 2026"
expect_exit 0 sp --db "$H" org add "Central Hub"
printf '%s\n' "$PW" | expect_exit 0 sp --db "$H" user add cb@beta.example --org "Beta Shelter" --role contributor --password-stdin
printf '%s\n' "$PW" | expect_exit 0 sp --db "$H" user add an@hub.example --org "Central Hub" --role analyst --password-stdin

# ---- the server: the dashboard, the meta, the analyst's page, B's view
set +e
T="$T" PW="$PW" A_ID="$A_ID" B_ID="$B_ID" H="$H" SPOTLIGHT="$SPOTLIGHT" python3 - <<'PY'
import os, re, subprocess, sys, time, urllib.parse, http.client
pw = os.environ["PW"]
port, srv = None, None
def start():
    """The server on a free port (a config change needs a new one: pages
    are cached until the data change)."""
    global port, srv
    out = open(os.path.join(os.environ["T"], "serve.out"), "w+")
    srv = subprocess.Popen([os.environ["SPOTLIGHT"], "--db", os.environ["H"], "serve", "--listen",
                            "127.0.0.1:0", "--threads", "2"], stdout=out,
                           stderr=open(os.path.join(os.environ["T"], "serve.err"), "a"))
    for _ in range(300):
        out.seek(0)
        m = re.search(r"serving http://127\.0\.0\.1:(\d+)", out.read())
        if m:
            port = int(m.group(1)); return
        time.sleep(0.1)
    fail("the server did not start")
def stop():
    srv.terminate()
    if srv.wait(60) != 0: fail("server exit status %d" % srv.returncode)
a, b = os.environ["A_ID"], os.environ["B_ID"]
def req(method, path, headers=None, body=None):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    h = {"Host": "127.0.0.1:%d" % port}
    h.update(headers or {})
    if body is not None:
        h["Content-Length"] = str(len(body))
    c.request(method, path, body=body, headers=h)
    r = c.getresponse()
    data = r.read().decode("utf-8", "replace")
    hd = r.getheaders()
    c.close()
    return r.status, hd, data
def cookie(hd, name):
    for k, v in hd:
        if k.lower() == "set-cookie" and v.startswith(name + "="):
            return v.split(";")[0].split("=", 1)[1]
def fail(m):
    print("FAIL: " + m, file=sys.stderr)
    if srv and srv.poll() is None: srv.kill()
    sys.exit(1)
def login(email):
    st, hd, body = req("GET", "/login")
    tok = cookie(hd, "sp_login")
    form = urllib.parse.urlencode({"login_token": tok, "email": email, "password": pw})
    st, hd, body = req("POST", "/login", {"Cookie": "sp_login=" + tok,
                       "Content-Type": "application/x-www-form-urlencoded"}, form)
    if st != 303: fail("sign-in of %s: %d" % (email, st))
    ck = "sp_session=" + cookie(hd, "sp_session")
    st, hd, body = req("GET", "/portal", {"Cookie": ck})
    m = re.search(r'name="csrf" value="([^"]+)"', body)
    if st != 200 or not m: fail("portal of %s" % email)
    return ck, m.group(1)
def k_set(k):
    subprocess.run([os.environ["SPOTLIGHT"], "--db", os.environ["H"], "config", "set", "k", str(k)],
                   check=True, capture_output=True)

# the dashboard and the meta: 2 merged, under k=10 published as "<10"
start()
st, hd, page = req("GET", "/")
m = re.search(r'<p class="scope" id="dedup" data-merged="([^"]*)"><b>([^<]*)</b>', page)
if st != 200 or not m: fail("no merged line on the dashboard")
if m.group(1) != "" or m.group(2) != "&lt;10": fail("merged shown as %r under k=10" % (m.groups(),))
import json
st, hd, meta = req("GET", "/api/v1/meta")
j = json.loads(meta)
if j.get("duplicates_merged", 0) is not None or j["suppression"].get("duplicates_merged_suppressed") is not True:
    fail("meta under k=10: %r" % meta)
# k=2: the number itself
stop()
k_set(2)
start()
st, hd, page = req("GET", "/")
m = re.search(r'id="dedup" data-merged="2"><b>2</b> records reported by more than one organisation were counted once', page)
if not m: fail("merged not shown as 2 under k=2")
j = json.loads(req("GET", "/api/v1/meta")[2])
if j.get("duplicates_merged") != 2 or j["suppression"]["duplicates_merged_suppressed"] is not False:
    fail("meta under k=2: %r" % j)
if "AQ-" in page or "BZ-" in page: fail("the dashboard shows a case reference")

# B's contributor: no links, none of A's records
ckb, csrfb = login("cb@beta.example")
st, hd, body = req("GET", "/analyst/links", {"Cookie": ckb})
if st != 403: fail("B's contributor got %d on /analyst/links" % st)
st, hd, body = req("POST", "/analyst/links/%s-%s/reject" % (a, b),
                   {"Cookie": ckb, "Content-Type": "application/x-www-form-urlencoded"},
                   urllib.parse.urlencode({"csrf": csrfb}))
if st != 403: fail("B's contributor decided a link: %d" % st)
for path in ("/portal", "/portal/records", "/analyst/links"):
    st, hd, body = req("GET", path, {"Cookie": ckb})
    if "AQ-" in body or "Alpha Aid" in body and path != "/portal":
        fail("B's contributor sees A's data on %s" % path)
# anonymous: sent to sign in
st, hd, body = req("GET", "/analyst/links")
if st != 303 or dict((k.lower(), v) for k, v in hd).get("location") != "/login":
    fail("anonymous /analyst/links: %d" % st)

st, hd, body = req("GET", "/portal", {"Cookie": ckb})
if 'id="links-link"' in body: fail("B's contributor is offered the links page")
# the analyst: links with organisations and scores, no case content
ck, csrf = login("an@hub.example")
st, hd, body = req("GET", "/portal", {"Cookie": ck})
if 'href="/analyst/links" id="links-link"' not in body: fail("no way to the links page from /portal")
st, hd, body = req("GET", "/analyst/links", {"Cookie": ck})
if st != 200: fail("analyst /analyst/links: %d" % st)
if "Alpha Aid" not in body or "Beta Shelter" not in body: fail("the links page lacks the organisations")
if body.count('data-link="') != 2: fail("the links page does not list 2 links")
# attribute values go first: a random CSRF token may hold any two letters
text = re.sub(r'value="[^"]*"', '', body.split("<table", 1)[-1])
if "AQ-" in body or "BZ-" in body or "person_clk" in body or re.search(r"\bVN\b", text):
    fail("the links page shows a record's content")
if 'id="dups" data-merged="2"' not in body: fail("the links page's merged count")
# no CSRF: refused; with it: 303 back, and the dashboard follows
path = "/analyst/links/%s-%s/reject" % (a, b)
st, hd, _ = req("POST", path, {"Cookie": ck, "Content-Type": "application/x-www-form-urlencoded"}, "")
if st != 403: fail("a decision without CSRF: %d" % st)
st, hd, _ = req("POST", path, {"Cookie": ck, "Content-Type": "application/x-www-form-urlencoded"},
                urllib.parse.urlencode({"csrf": csrf}))
if st != 303 or dict((k.lower(), v) for k, v in hd).get("location") != "/analyst/links?done=1":
    fail("a decision: %d" % st)
st, hd, body = req("GET", "/analyst/links?status=rejected", {"Cookie": ck})
if body.count('data-status="rejected"') != 1: fail("the rejection is not listed")
st, hd, page = req("GET", "/")
m = re.search(r'id="dedup"[^\n]*', page)
if not m or 'data-merged=""><b>&lt;2</b> records reported' not in m.group(0):
    fail("the dashboard does not follow the decision at once: %r" % (m and m.group(0)))
st, hd, body = req("GET", "/analyst/links/x-1/confirm", {"Cookie": ck})
if st != 404: fail("a bad pair: %d" % st)
stop()
PY
rc=$?
set -e
[ $rc -eq 0 ] || fail "the HTTP checks failed"
expect_exit 0 sp --db "$H" audit list --action link.view
contains "$T/out" "link.view"
expect_exit 0 sp --db "$H" audit list --action link.refused
contains "$T/out" "link.refused"
expect_exit 0 sp --db "$H" audit verify
echo "ok link.sh"
