#!/usr/bin/env python3
"""The authorisation matrix against a real server (python3, stdlib only).

A hub with three organisations: Alpha (A) and Beta (B), each with records
whose every identifying string carries a marker (A: "qzq7x1", B: "kwk3zw" in
case references, indicator values, promised jobs and file names), and
Central (C) holding the analyst and the administrator. Five principals:
anonymous, a contributor of A, a contributor of B, an analyst and an
administrator, each signed in through the real /login form (the sp_login
double-submit cookie, then the session cookie and its CSRF token).

For every route of the server, as concrete paths (for a prefix route: the
own organisation's id, the other organisation's id, an id that does not
exist), every principal sends GET, HEAD, POST without the CSRF token and
POST with it, and the test checks:
  - the status, against the table ROWS below (a 303 to the sign-in page
    goes to /login);
  - HEAD: the same status as GET and no body;
  - no response to B's contributor carries A's marker and none to A's
    carries B's; no response to the anonymous carries either, nor any to
    the analyst (of Central: link views show hashes and counts, never
    another organisation's case references or files); positive
    controls show the markers do appear where they belong;
  - every portal, admin, analyst, sign-in and API-submission response is
    Cache-Control: no-store;
  - the security headers are on every response.
No route may be forgotten: the routes[] table of src/serve.c and every
path literal under /portal, /admin, /analyst, /login, /logout and
/api/v1/submissions in src/*.c (but the CLI's help text) must be covered
by a row of ROWS; a new route without a row fails the test.

Environment: SPOTLIGHT (the binary, default build/asan/spotlight),
SP_SRCDIR (the project root, default two folders up).
Usage: authz_matrix.py [WORKDIR]
"""
import http.client
import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.environ.get("SP_SRCDIR") or os.path.normpath(os.path.join(HERE, "..", ".."))
BIN = os.environ.get("SPOTLIGHT") or os.path.join(SRC, "build", "asan", "spotlight")
if not os.path.isabs(BIN):
    BIN = os.path.abspath(BIN)
PW = "matrix passphrase for tests 2026"

ANON, CA, CB, AN, AD = range(5)
NAMES = ["anonymous", "contributor A", "contributor B", "analyst", "admin"]
EMAILS = [None, "ca@alpha.example", "cb@beta.example", "an@central.example", "ad@central.example"]
MARK = {"A": "qzq7x1", "B": "kwk3zw"}   # long enough not to turn up in a random token


def scanned(r):
    """The body to search for markers: lower case, the per-session random
    tokens of the forms left out."""
    body = r.body.decode("latin-1")
    body = re.sub(r'name="(?:csrf|login_token)" value="[^"]*"', "", body)
    return body.lower()

failures = []


def fail(msg):
    failures.append(msg)
    if len(failures) <= 60:
        print("FAIL: " + msg, file=sys.stderr)


# ------------------------------------------------------------ route discovery

def c_tokens(text):
    """The string literals of C source (comments and char literals skipped),
    adjacent literals not joined: a path is one literal in practice."""
    out, i, n = [], 0, len(text)
    while i < n:
        c = text[i]
        if text.startswith("/*", i):
            j = text.find("*/", i + 2)
            i = n if j < 0 else j + 2
        elif text.startswith("//", i):
            j = text.find("\n", i)
            i = n if j < 0 else j
        elif c == '"' or c == "'":
            j, buf = i + 1, []
            while j < n and text[j] != c:
                if text[j] == "\\" and j + 1 < n:
                    buf.append(text[j:j + 2])
                    j += 2
                else:
                    buf.append(text[j])
                    j += 1
            if c == '"':
                out.append("".join(buf))
            i = j + 1
        else:
            i += 1
    return out


def serve_routes():
    """(path, prefix, methods, portal) of every entry of routes[] in src/serve.c."""
    text = open(os.path.join(SRC, "src", "serve.c"), encoding="utf-8").read()
    m = re.search(r"static const serve_route routes\[\]\s*=\s*\{(.*?)\n\};", text, re.S)
    if not m:
        raise SystemExit("FAIL: no routes[] table in src/serve.c (the test must be taught where it went)")
    body = re.sub(r"/\*.*?\*/", "", m.group(1), flags=re.S)
    out = []
    for e in re.finditer(r'\{\s*"([^"]*)"\s*,\s*(\d)\s*,\s*([^,]+),([^}]*)\}', body):
        fields = [f.strip() for f in e.group(4).split(",")]
        out.append((e.group(1), int(e.group(2)), e.group(3).strip(), fields[-1] == "1"))
    if len(out) != body.count('{"'):
        raise SystemExit("FAIL: could not read every entry of routes[] in src/serve.c")
    return out


AREA = re.compile(r"(?<![\w/.:])(/(?:portal|admin|analyst|login|logout)(?![\w])[\w./%{}-]*"
                  r"|/api/v1/submissions(?![\w])[\w./%{}-]*)")


def source_paths():
    """{normalised path literal: [files]} of paths named in src/*.c."""
    found = {}
    d = os.path.join(SRC, "src")
    for name in sorted(os.listdir(d)):
        if not name.endswith(".c") or name == "cli.c":
            continue
        for lit in c_tokens(open(os.path.join(d, name), encoding="utf-8", errors="replace").read()):
            for m in AREA.finditer(lit):
                p = re.sub(r"%[-+ #0-9.]*(?:ll|l|z|h|hh|j|t)?[diouxXsc]", "{}", m.group(1))
                p = p.rstrip(".")
                # a placeholder written in capitals (/analyst/indicators/TYPE/HASH)
                p = re.sub(r"/[A-Z][A-Z_0-9]*(?=/|$)", "/{}", p)
                found.setdefault(p, set()).add(name)
    return found


def template_of(path):
    """A row's path with its {NAME} placeholders as {}."""
    return re.sub(r"\{[A-Z_0-9]+\}", "{}", path)


def covered(lit, templates, prefix=False):
    """Is literal lit (a route, or a path in the source) exercised by a row?
    A literal ending in / (or a prefix route) is covered by a longer row
    path under it; {} in a literal stands for one path segment."""
    rx = re.compile("^" + re.escape(lit).replace(r"\{\}", r"[^/]+") + "$")
    for t in templates:
        if t == lit or rx.match(t):
            return True
        if (prefix or lit.endswith("/")) and t.startswith(lit) and len(t) > len(lit):
            return True
    return False


# ------------------------------------------------------------ HTTP

class Resp:
    def __init__(self, status, headers, body):
        self.status, self.body = status, body
        self.headers = {}
        for k, v in headers:
            self.headers.setdefault(k.lower(), []).append(v)

    def h(self, name):
        v = self.headers.get(name.lower())
        return v[0] if v else None

    def text(self):
        return self.body.decode("utf-8", "replace")


PORT = None


def request(method, path, headers=None, body=None):
    hd = {"Host": "127.0.0.1:%d" % PORT, "Connection": "close"}
    hd.update(headers or {})
    if body is not None:
        if isinstance(body, str):
            body = body.encode()
        hd["Content-Length"] = str(len(body))
    elif method == "POST":
        hd["Content-Length"] = "0"
    if method == "HEAD":
        return raw_request(method, path, hd)
    for attempt in range(3):
        c = http.client.HTTPConnection("127.0.0.1", PORT, timeout=60)
        try:
            c.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
            for k, v in hd.items():
                c.putheader(k, v)
            c.endheaders(body)
            r = c.getresponse()
            data = r.read()
            return Resp(r.status, r.getheaders(), data)
        except (ConnectionError, http.client.RemoteDisconnected):
            if attempt == 2:
                raise
            time.sleep(0.2)
        finally:
            c.close()


def raw_request(method, path, hd):
    """A request over a bare socket, read to the close: what follows the
    head is the body as sent (http.client would not read one after HEAD)."""
    head = "%s %s HTTP/1.1\r\n%s\r\n" % (method, path,
                                         "".join("%s: %s\r\n" % kv for kv in hd.items()))
    with socket.create_connection(("127.0.0.1", PORT), timeout=60) as sk:
        sk.sendall(head.encode())
        data = b""
        while True:
            chunk = sk.recv(65536)
            if not chunk:
                break
            data += chunk
    h, sep, body = data.partition(b"\r\n\r\n")
    assert sep, "no complete answer to %s %s: %r" % (method, path, data[:200])
    lines = h.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = [tuple(x.strip() for x in l.split(":", 1)) for l in lines[1:] if ":" in l]
    return Resp(status, headers, body)


def cookie_value(resp, name):
    for sc in resp.headers.get("set-cookie", []):
        k, _, rest = sc.partition("=")
        if k.strip() == name:
            return rest.split(";")[0]
    return None


def login(email):
    """Signs in through the form; returns (cookie header, csrf token)."""
    r = request("GET", "/login")
    assert r.status == 200, ("GET /login", r.status)
    tok = cookie_value(r, "sp_login")
    m = re.search(r'name="login_token" value="([^"]+)"', r.text())
    assert tok and m and m.group(1) == tok, "the sign-in form and its cookie disagree"
    body = urllib.parse.urlencode({"login_token": tok, "email": email, "password": PW})
    r = request("POST", "/login", {"Cookie": "sp_login=" + tok,
                                   "Content-Type": "application/x-www-form-urlencoded"}, body)
    assert r.status == 303 and r.h("location") == "/portal", ("sign-in of " + email, r.status, r.text())
    sess = cookie_value(r, "sp_session")
    assert sess, "no session cookie"
    sc = [s for s in r.headers["set-cookie"] if s.startswith("sp_session=")][0]
    assert "HttpOnly" in sc and "SameSite=Strict" in sc, sc
    ck = "sp_session=" + sess
    r = request("GET", "/portal", {"Cookie": ck})
    assert r.status == 200, ("GET /portal after sign-in", email, r.status)
    m = re.search(r'name="csrf" value="([^"]+)"', r.text())
    assert m, "no CSRF token on /portal"
    return ck, m.group(1)


# ------------------------------------------------------------ the hub

def run(args, stdin=None):
    p = subprocess.run([BIN] + args, input=stdin, capture_output=True, text=True, timeout=300)
    if p.returncode != 0:
        raise SystemExit("FAIL: spotlight %s: exit %d\n%s%s" % (" ".join(args), p.returncode,
                                                                   p.stdout, p.stderr))
    return p.stdout


def records_csv(mark, prefix, n, shared=True):
    """n records whose case reference, email indicator and promised job carry mark."""
    rows = ["case_ref,year_identified,gender,age,nationality,industry,promised_job,"
            "indicators_1_type,indicators_1_value,indicators_2_type,indicators_2_value"]
    for i in range(1, n + 1):
        rows.append("%s-%s-%02d,2023,%s,%d,VN,online_scam,%sjob %s clerk,email,%s.%s.%02d@example.net,%s,%s"
                    % (prefix.upper(), mark.upper(), i, "female" if i % 2 else "male", 20 + i,
                       prefix, mark, prefix, mark, i,
                       "compound" if shared else "", "Golden Fortune Compound" if shared else ""))
    return "\n".join(rows) + "\n"


def build_hub(work):
    db = os.path.join(work, "hub.db")
    run(["--db", db, "init"])
    run(["--db", db, "org", "add", "Alpha Relief", "--country", "TH"])
    run(["--db", db, "org", "add", "Beta Shelter", "--country", "KH"])
    run(["--db", db, "org", "add", "Central Hub", "--country", "PH"])
    for who, org, role in ((CA, "Alpha Relief", "contributor"), (CB, "Beta Shelter", "contributor"),
                           (AN, "Central Hub", "analyst"), (AD, "Central Hub", "admin")):
        run(["--db", db, "user", "add", EMAILS[who], "--org", org, "--role", role,
             "--password-stdin"], stdin=PW + "\n")
    # a user for the administrator to disable and enable (never signed in here)
    run(["--db", db, "user", "add", "victim@alpha.example", "--org", "Alpha Relief",
         "--role", "contributor", "--password-stdin"], stdin=PW + "\n")
    files = {}
    for org, who, mark in (("Alpha Relief", "alpha", MARK["A"]), ("Beta Shelter", "beta", MARK["B"])):
        for part, n in (("records", 12), ("second", 3)):
            f = os.path.join(work, "%s-%s-%s.csv" % (who, mark, part))
            with open(f, "w") as fp:
                fp.write(records_csv(mark, who if part == "records" else who + "2", n))
            out = run(["--db", db, "import", "--quiet", "--org", org, f])
            m = re.search(r"as submission (\d+)", out)
            assert m, out
            files[(who, part)] = int(m.group(1))
    # the record ids of each organisation (export's provenance columns)
    recs = json.loads(run(["--db", db, "export", "--format", "json"]) or "[]")
    if isinstance(recs, dict):
        recs = recs.get("records", [])
    ids = {}                                  # submission id: [record ids]
    for r in recs:
        ids.setdefault(int(r["submission_id"]), []).append(int(r["record_id"]))
    assert all(ids.get(s) for s in files.values()), "export shows no record ids"
    users = {}
    for line in run(["--db", db, "user", "list"]).splitlines():
        m = re.match(r"\s*(\d+)\s+(\S+@\S+)", line)
        if m:
            users[m.group(2)] = int(m.group(1))
    assert "victim@alpha.example" in users, "user list: " + str(users)
    run(["--db", db, "token", "create", "--user", "victim@alpha.example", "--name", "victim"])
    vtok = None
    for line in run(["--db", db, "token", "list"]).splitlines():
        m = re.match(r"\s*(\d+)\s.*victim@alpha\.example", line)
        if m:
            vtok = int(m.group(1))
    assert vtok, "token list shows no token of the victim"
    return db, files, ids, users, vtok


def start_server(db, work):
    out = open(os.path.join(work, "serve.out"), "w+")
    err = open(os.path.join(work, "serve.err"), "w+")
    p = subprocess.Popen([BIN, "--db", db, "serve", "--listen", "127.0.0.1:0", "--threads", "2"],
                         stdout=out, stderr=err)
    for _ in range(300):
        out.seek(0)
        m = re.search(r"serving http://127\.0\.0\.1:(\d+)", out.read())
        if m:
            return p, int(m.group(1)), err
        if p.poll() is not None:
            break
        time.sleep(0.1)
    p.kill()
    err.seek(0)
    raise SystemExit("FAIL: the server did not start: " + err.read())


# ------------------------------------------------------------ the matrix

class Row:
    """One concrete path and the expected status for each variant and
    principal (a number for all five, or a 5-tuple in the order ANON, CA,
    CB, AN, AD). HEAD defaults to GET. body: None (POST sends the CSRF
    token alone, or nothing without it), a dict of form fields, or
    "upload" (a multipart file). needs: a path literal that must be named
    in src/ for the row to run (a route being added; once named, the row
    runs and must pass). Rows run in order, principals in the order ANON,
    CA, CB, AN, AD, so state-changing rows come late and the admin last."""

    def __init__(self, path, GET, POST, POSTC, HEAD=None, body=None, no_store=None, note="",
                 needs=None):
        self.path, self.body, self.note, self.needs = path, body, note, needs
        self.want = {"GET": GET, "HEAD": GET if HEAD is None else HEAD, "POST": POST, "POSTC": POSTC}
        self.no_store = no_store

    def expect(self, variant, who):
        w = self.want[variant]
        return w[who] if isinstance(w, tuple) else w


def rows_for(ctx):
    """The table. ctx: the ids of the seeded hub."""
    A_SUB, A_SUB2 = ctx["subs"][("alpha", "records")], ctx["subs"][("alpha", "second")]
    B_SUB, B_SUB2 = ctx["subs"][("beta", "records")], ctx["subs"][("beta", "second")]
    NOSUB = max(ctx["subs"].values()) + 1000
    ids = ctx["ids"]
    A_REC, B_REC, A2_REC = ids[A_SUB][0], ids[B_SUB][0], ids[A_SUB2][0]
    NOREC = max(max(v) for v in ids.values()) + 100000
    sign = (303, 200, 200, 200, 200)          # a page for anyone signed in
    signed_404 = (303, 404, 404, 404, 404)
    post_anon = (403, 404, 404, 404, 404)     # a POST to a signed-in area that is not a form
    adm = (303, 403, 403, 403, 200)           # an administrator's page
    def adm_get(a): return (303, 403, 403, 403, a)
    def adm_post(a): return (403, 403, 403, 403, a)
    inv = (303, 403, 403, 200, 200)           # an analyst's or administrator's page
    inv_post = (403, 403, 403, 405, 405)
    def inv_get(a): return (303, 403, 403, a, a)
    R = Row
    rows = [
        # ---- public: the same for everyone; a POST with a body is refused
        # before the route (no body allowed: 413), without one 405
        R("/", 200, 405, 413),
        R("/?org_region=all", 200, 405, 413),
        R("/api/v1/meta", 200, 405, 413),
        R("/api/v1/stats/{TABLE}", 200, 405, 413),
        R("/api/v1/stats/{TABLE}.csv", 200, 405, 413),
        R("/api/v1/stats/no_such_table", 404, 405, 413),
        R("/static/app.css", 200, 405, 413),
        R("/static/no-such-file.js", 404, 405, 413),
        R("/data/ransom.json", 200, 405, 413),
        R("/data/coverage.csv", 200, 405, 413),
        R("/data/no_such.json", 404, 405, 413),
        R("/country/VN", 200, 405, 413),
        R("/country/ZZ", 404, 405, 413),
        R("/no/such/page", 404, 404, 413),
        # ---- sign-in: the form for anyone; a POST needs the sp_login
        # double-submit pair (POSTC sends it, without credentials: 400)
        R("/login", 200, 403, 400, body="login", no_store=True),
        # ---- the portal
        R("/portal", sign, 405, 413, no_store=True),
        R("/portal/template.csv", sign, post_anon, post_anon, no_store=True),
        R("/portal/template.xlsx", sign, post_anon, post_anon, no_store=True),
        R("/portal/form.xlsx", sign, post_anon, post_anon, no_store=True),
        R("/portal/nothing", signed_404, post_anon, post_anon, no_store=True),
        # upload: a CSV of neutral records; the CSRF token is checked
        # before the role (the analyst may not submit; the admin submits
        # for its own organisation)
        R("/portal/upload", 405, 403, (403, 200, 200, 403, 200), body="upload", no_store=True),
        # ---- records and the case form (src/portal_cases.c): a contributor
        # lists, adds and edits its own organisation's records; another
        # organisation's record, and one that does not exist, are 404; the
        # analyst reads its own organisation's (none) but submits nothing;
        # the administrator adds for its own organisation only. The CSRF
        # token is checked before anything else.
        R("/portal/records", sign, (403, 405, 405, 405, 405), (403, 405, 405, 405, 405),
          no_store=True, needs="/portal/records"),
        R("/portal/records?page=0", (303, 400, 400, 400, 400), (403, 405, 405, 405, 405),
          (403, 405, 405, 405, 405), no_store=True, needs="/portal/records"),
        R("/portal/cases/new", (303, 200, 200, 403, 200), 403, (403, 303, 303, 403, 303),
          body={"case_ref": "FORM-CASE-1", "year_identified": "2023", "gender": "female",
                "nationality": "VN"}, no_store=True, needs="/portal/cases/new"),
        R("/portal/cases/new?mistake", (303, 200, 200, 403, 200), 403, (403, 422, 422, 403, 422),
          body={"case_ref": "FORM-CASE-2", "year_identified": "20x3", "nationality": "Atlantis"},
          no_store=True, needs="/portal/cases/new"),
        R("/portal/records/{A_REC}/edit", (303, 200, 404, 404, 404), 403, (403, 303, 404, 404, 404),
          body={"case_ref": "ALPHA-QZQ7X1-01", "year_identified": "2022", "gender": "female",
                "nationality": "VN"}, no_store=True, needs="/portal/records/{}/edit"),
        R("/portal/records/{A_REC}/edit?mistake", (303, 200, 404, 404, 404), 403,
          (403, 422, 404, 404, 404), body={"case_ref": "ALPHA-QZQ7X1-01", "year_identified": "20x3"},
          no_store=True, needs="/portal/records/{}/edit"),
        R("/portal/records/{B_REC}/edit", (303, 404, 200, 404, 404), 403, (403, 404, 303, 404, 404),
          body={"case_ref": "BETA-KWK3ZW-01", "year_identified": "2022", "gender": "male",
                "nationality": "KH"}, no_store=True, needs="/portal/records/{}/edit"),
        R("/portal/records/{NOREC}/edit", signed_404, 403, (403, 404, 404, 404, 404),
          body={"case_ref": "X-1"}, no_store=True, needs="/portal/records/{}/edit"),
        R("/portal/records/abc/edit", signed_404, post_anon, post_anon,
          no_store=True, needs="/portal/records/{}/edit"),
        R("/portal/records/{A_REC}", signed_404, post_anon, post_anon, no_store=True,
          needs="/portal/records/"),
        R("/portal/records/", signed_404, post_anon, post_anon, no_store=True,
          needs="/portal/records/"),
        # ---- the API: a bearer token only, never a session (401)
        R("/api/v1/submissions", 405, 401, 401, no_store=True),
        R("/api/v1/submissions/{A_SUB}", 404, 404, 413),
        # withdrawal: a form; another organisation's submission and one
        # that does not exist get the same 403; GET is not routed
        R("/portal/submissions/{NOSUB}/withdraw", signed_404, 403, 403, no_store=True),
        R("/portal/submissions/abc/withdraw", signed_404, (403, 404, 404, 404, 404),
          (403, 404, 404, 404, 404), no_store=True),
        R("/portal/submissions/{A_SUB2}/withdraw", signed_404, 403, (403, 303, 403, 403, 303),
          no_store=True),
        R("/portal/submissions/{B_SUB2}/withdraw", signed_404, 403, (403, 403, 303, 403, 303),
          no_store=True),
        # a record of a withdrawn submission cannot be edited (409), but
        # stays another organisation's secret (404)
        R("/portal/records/{A2_REC}/edit", (303, 409, 404, 404, 404), 403, (403, 409, 404, 404, 404),
          body={"case_ref": "ALPHA2-QZQ7X1-01"}, no_store=True, needs="/portal/records/{}/edit"),
        # ---- the administration (src/admin.c): administrators only; the
        # others are refused (403) whatever the address, the anonymous sent
        # to sign in; the administrator's forms are CSRF-checked
        R("/admin", adm, adm_post(405), adm_post(405), no_store=True, needs="/admin"),
        R("/admin/", adm, adm_post(405), adm_post(405), no_store=True, needs="/admin/"),
        R("/admin/audit", adm, adm_post(405), adm_post(405), no_store=True, needs="/admin/audit"),
        R("/admin/nothing", adm_get(404), adm_post(404), adm_post(404), no_store=True,
          needs="/admin/"),
        R("/admin/orgs", adm, 403, adm_post(303), body={"name": "Matrix Org", "country": "VN"},
          no_store=True, needs="/admin/orgs"),
        R("/admin/orgs?bad", adm, 403, adm_post(422), body={"name": " ", "country": "Atlantis"},
          no_store=True, needs="/admin/orgs"),
        R("/admin/users", adm, 403, adm_post(303),
          body={"email": "new.matrix@central.example", "org": "Central Hub", "role": "contributor",
                "password": PW}, no_store=True, needs="/admin/users"),
        R("/admin/users/{VICTIM}/disable", adm_get(405), 403, adm_post(303), no_store=True,
          needs="/admin/users/"),
        R("/admin/users/{VICTIM}/enable", adm_get(405), 403, adm_post(303), no_store=True,
          needs="/admin/users/"),
        R("/admin/users/{NOUSER}/disable", adm_get(405), 403, adm_post(404), no_store=True,
          needs="/admin/users/"),
        R("/admin/users/{AD_SELF}/disable", adm_get(405), 403, adm_post(422), no_store=True,
          needs="/admin/users/", note="an administrator cannot disable itself"),
        R("/admin/users/{VICTIM}/frobnicate", adm_get(404), adm_post(404), adm_post(404),
          no_store=True, needs="/admin/users/"),
        R("/admin/users/{CA_ID}/tokens/{VTOK}/revoke", adm_get(405), 403, adm_post(404),
          no_store=True, needs="/admin/users/", note="the token is not this user's"),
        R("/admin/users/{VICTIM}/tokens/{VTOK}/revoke", adm_get(405), 403, adm_post(303),
          no_store=True, needs="/admin/users/"),
        # ---- the investigation views (src/analyst.c): analysts and
        # administrators; contributors 403; a POST is refused (405) once
        # the role is checked
        R("/analyst", inv, inv_post, inv_post, no_store=True, needs="/analyst"),
        R("/analyst/indicators", inv, inv_post, inv_post, no_store=True, needs="/analyst/indicators"),
        R("/analyst/indicators?min_orgs=1&type=email", inv, inv_post, inv_post, no_store=True,
          needs="/analyst/indicators"),
        R("/analyst/indicators?min_orgs=0", inv_get(400), inv_post, inv_post, no_store=True,
          needs="/analyst/indicators"),
        R("/analyst/indicators/email/h1:" + "0" * 64, inv_get(404), inv_post, inv_post,
          no_store=True, needs="/analyst/indicators/", note="no case has this match key"),
        R("/analyst/indicators/email/h1:zz", inv_get(400), inv_post, inv_post, no_store=True,
          needs="/analyst/indicators/"),
        R("/analyst/network", inv, inv_post, inv_post, no_store=True, needs="/analyst/network"),
        R("/analyst/network.svg", inv, inv_post, inv_post, no_store=True,
          needs="/analyst/network.svg"),
        R("/analyst/export.csv", inv, inv_post, inv_post, no_store=True, needs="/analyst/export.csv"),
        R("/analyst/export.ftm.json", inv, inv_post, inv_post, no_store=True,
          needs="/analyst/export.ftm.json"),
        R("/analyst/nothing", inv_get(404), inv_post, inv_post, no_store=True, needs="/analyst"),
        # ---- person links (src/analyst_links.c): analysts and administrators;
        # contributors refused whatever the address; a decision is a CSRF-checked
        # POST (this hub has no links: a well-formed pair is 404)
        R("/analyst/links", (303, 403, 403, 200, 200), (403, 403, 403, 405, 405),
          (403, 403, 403, 405, 405), no_store=True, needs="/analyst/links"),
        R("/analyst/links?status=rejected", (303, 403, 403, 200, 200), (403, 403, 403, 405, 405),
          (403, 403, 403, 405, 405), no_store=True, needs="/analyst/links"),
        R("/analyst/links?status=maybe", (303, 403, 403, 400, 400), (403, 403, 403, 405, 405),
          (403, 403, 403, 405, 405), no_store=True, needs="/analyst/links"),
        R("/analyst/links/1-2/confirm", (303, 403, 403, 405, 405), (403, 403, 403, 403, 403),
          (403, 403, 403, 404, 404), no_store=True, needs="/analyst/links"),
        R("/analyst/links/1-2/reject", (303, 403, 403, 405, 405), (403, 403, 403, 403, 403),
          (403, 403, 403, 404, 404), no_store=True, needs="/analyst/links"),
        R("/analyst/links/2-2/reject", (303, 403, 403, 404, 404), (403, 403, 403, 404, 404),
          (403, 403, 403, 404, 404), no_store=True, needs="/analyst/links"),
        # ---- sign-out last: GET is not routed; with the token it ends the session
        R("/logout", 405, 403, (403, 303, 303, 303, 303), no_store=True),
    ]
    users = ctx["users"]
    subst = {"A_SUB": A_SUB, "A_SUB2": A_SUB2, "B_SUB": B_SUB, "B_SUB2": B_SUB2, "NOSUB": NOSUB,
             "TABLE": ctx["table"], "VICTIM": users["victim@alpha.example"],
             "A_REC": A_REC, "B_REC": B_REC, "A2_REC": A2_REC, "NOREC": NOREC,
             "AD_SELF": users[EMAILS[AD]], "CA_ID": users[EMAILS[CA]],
             "NOUSER": max(users.values()) + 1000, "VTOK": ctx["vtok"]}
    for r in rows:
        r.template = template_of(r.path)
        r.concrete = re.sub(r"\{([A-Z_0-9]+)\}", lambda m: str(subst[m.group(1)]), r.path)
    return rows


def multipart(fields, fname, content):
    b = "----authzmatrix7731"
    parts = []
    for k, v in fields.items():
        parts.append('--%s\r\nContent-Disposition: form-data; name="%s"\r\n\r\n%s\r\n' % (b, k, v))
    parts.append('--%s\r\nContent-Disposition: form-data; name="file"; filename="%s"\r\n'
                 'Content-Type: text/csv\r\n\r\n%s\r\n--%s--\r\n' % (b, fname, content, b))
    return "multipart/form-data; boundary=" + b, "".join(parts)


SEC = {"content-security-policy": ("default-src 'none'", "frame-ancestors 'none'"),
       "x-content-type-options": ("nosniff",), "referrer-policy": ("no-referrer",),
       "x-frame-options": ("DENY",)}
NO_STORE_AREAS = re.compile(r"^/(portal|admin|analyst|login|logout|api/v1/submissions)(/|$|\?)")


def check_common(label, r, who, row):
    for h, needles in SEC.items():
        v = r.h(h)
        if v is None or not all(n in v for n in needles):
            fail("%s: security header %s is %r" % (label, h, v))
    if (row.no_store or NO_STORE_AREAS.match(row.concrete)) and r.h("cache-control") != "no-store":
        fail("%s: Cache-Control is %r, not no-store" % (label, r.h("cache-control")))
    body = scanned(r)
    if who in (ANON, CB, AN) and MARK["A"] in body:
        fail("%s: carries organisation A's data (%s)" % (label, MARK["A"]))
    if who in (ANON, CA, AN) and MARK["B"] in body:
        fail("%s: carries organisation B's data (%s)" % (label, MARK["B"]))


def main():
    global PORT
    if not os.path.exists(BIN):
        raise SystemExit("FAIL: no binary %s" % BIN)
    work = sys.argv[1] if len(sys.argv) > 1 else tempfile.mkdtemp(prefix="sp-authz-")
    db, subs, ids, users, vtok = build_hub(work)
    proc, PORT, errf = start_server(db, work)
    seen = {"A": 0, "B": 0}
    nreq = 0
    try:
        meta = json.loads(request("GET", "/api/v1/meta").text())
        ctx = {"subs": subs, "ids": ids, "users": users, "vtok": vtok, "table": meta["tables"][0]}
        named = source_paths()
        routes = serve_routes()
        names = set(named) | {p for p, _, _, _ in routes}
        rows = []
        for r in rows_for(ctx):
            if r.needs and r.needs not in names:
                print("skip: %s (%s is not routed yet)" % (r.path, r.needs))
            else:
                rows.append(r)

        # ---- every route of the server has a row
        templates = [r.template for r in rows]
        for path, prefix, methods, portal in routes:
            if not covered(path, templates, prefix=bool(prefix)):
                fail("the route %s (src/serve.c routes[]) has no row in the matrix" % path)
        for lit, files in sorted(named.items()):
            if not covered(lit, templates):
                fail("%s names %s, which the matrix does not list" % (", ".join(sorted(files)), lit))

        # the bare-socket reader sees a body when there is one (so the HEAD
        # check below could see one)
        r = raw_request("GET", "/login", {"Host": "127.0.0.1:%d" % PORT, "Connection": "close"})
        if r.status != 200 or b"<form" not in r.body:
            fail("a bare GET /login: %d, %d bytes" % (r.status, len(r.body)))

        # ---- sign in
        sess = [None] * 5
        for who in (CA, CB, AN, AD):
            sess[who] = login(EMAILS[who])
        # the sign-in form's Origin: another site is refused; "null" (what
        # browsers send under Referrer-Policy: no-referrer) and this site pass
        for origin, want in (("http://evil.example", 403), ("null", 303),
                             ("http://127.0.0.1:%d" % PORT, 303)):
            r0 = request("GET", "/login")
            tok = cookie_value(r0, "sp_login")
            r = request("POST", "/login", {"Cookie": "sp_login=" + tok, "Origin": origin,
                                           "Content-Type": "application/x-www-form-urlencoded"},
                        urllib.parse.urlencode({"login_token": tok, "email": EMAILS[CA],
                                                "password": PW}))
            nreq += 1
            if r.status != want:
                fail("sign-in with Origin: %s: %d, want %d" % (origin, r.status, want))

        for row in rows:
            for who in range(5):
                ck, csrf = sess[who] if sess[who] else (None, "")
                for variant in ("GET", "HEAD", "POST", "POSTC"):
                    want = row.expect(variant, who)
                    method = "POST" if variant.startswith("POST") else variant
                    hd, body = {}, None
                    if ck:
                        hd["Cookie"] = ck
                    if method == "POST":
                        if row.body == "upload":
                            fields = {"csrf": csrf} if variant == "POSTC" else {}
                            ctype, body = multipart(fields, "matrix-%d-%s.csv" % (who, variant),
                                                    records_csv("mx%d" % who, "neutral", 2, False))
                            hd["Content-Type"] = ctype
                        elif row.body == "login":
                            if variant == "POSTC":
                                r0 = request("GET", "/login")
                                tok = cookie_value(r0, "sp_login")
                                hd["Cookie"] = "sp_login=" + tok + ("; " + ck if ck else "")
                                body = "login_token=" + tok
                            else:
                                body = None
                            hd["Content-Type"] = "application/x-www-form-urlencoded"
                        else:
                            fields = dict(row.body or {})
                            if variant == "POSTC":
                                fields["csrf"] = csrf
                            body = urllib.parse.urlencode(fields) if fields else None
                            hd["Content-Type"] = "application/x-www-form-urlencoded"
                    r = request(method, row.concrete, hd, body)
                    nreq += 1
                    label = "%s %s as %s" % (variant, row.concrete, NAMES[who])
                    if r.status != want:
                        fail("%s: %d, want %d%s" % (label, r.status, want,
                                                    (" (" + row.note + ")") if row.note else ""))
                    if r.status == 303 and who == ANON and variant in ("GET", "HEAD") and \
                            r.h("location") != "/login":
                        fail("%s: 303 to %r, not /login" % (label, r.h("location")))
                    if method == "HEAD" and r.body:
                        fail("%s: HEAD answered with a body" % label)
                    check_common(label, r, who, row)
                    low = scanned(r)
                    if who == CA and MARK["A"] in low:
                        seen["A"] += 1
                    if who == CB and MARK["B"] in low:
                        seen["B"] += 1
        # positive controls: the markers are visible where they belong, so
        # the leak checks above could see a leak
        if not seen["A"] or not seen["B"]:
            fail("the contributors never saw their own data (markers %s)" % seen)
        # the sessions ended with the last row
        for who in (CA, CB, AN, AD):
            r = request("GET", "/portal", {"Cookie": sess[who][0]})
            if r.status != 303:
                fail("after sign-out %s still gets /portal: %d" % (NAMES[who], r.status))
        # bearer tokens at the API door: the contributors and the admin
        # submit for their own organisation, the analyst may not
        for who, want in ((CA, 201), (CB, 201), (AN, 403), (AD, 201)):
            tok = run(["--db", db, "token", "create", "--user", EMAILS[who]]).strip()
            r = request("POST", "/api/v1/submissions",
                        {"Authorization": "Bearer " + tok, "Content-Type": "text/csv"},
                        records_csv("tk%d" % who, "token", 2, False))
            nreq += 1
            check_common("API as %s" % NAMES[who], r, who, Row("/api/v1/submissions", 0, 0, 0, no_store=True))
            if r.status != want:
                fail("POST /api/v1/submissions with %s's token: %d, want %d" % (NAMES[who], r.status, want))
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            rc = proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            rc = "killed"
        errf.seek(0)
        log = errf.read()
    if rc != 0:
        fail("the server exited %s" % rc)
    if "ERROR: AddressSanitizer" in log or "runtime error:" in log or "LeakSanitizer" in log:
        fail("the server's sanitizers complained:\n" + log[-4000:])
    print("authz_matrix: %d rows, %d requests, %d failures" % (len(rows), nreq, len(failures)))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
