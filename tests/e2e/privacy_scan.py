#!/usr/bin/env python3
"""Scans public output of spotlight for small numbers (docs/privacy.md).

Used by tests/e2e/privacy_http.sh. Every function returns a list of
problems (strings); empty means clean. A "count" is any number the output
presents as a number of records or mentions: data-count attributes, the
"Based on N records" captions, SVG <title> tooltips ("N records",
"N of M", "n=N"), JSON keys count/total/records, CSV count/total columns.
Each must be 0, at least k, or shown as suppressed ("<k", null with a
suppressed marker, data-suppressed="1").
"""
import csv
import html
import io
import json
import re

NUM = r"(\d{1,3}(?:,\d{3})+|\d+)"


def _n(s):
    return int(s.replace(",", ""))


def small(v, k):
    return 0 < v < k


def scan_html(text, k, where):
    bad = []
    for m in re.finditer(r'data-count="([^"]*)"([^>]*)', text):
        v, rest = m.group(1), m.group(2)
        if v == "":
            if 'data-suppressed="1"' not in rest:
                bad.append("%s: empty data-count without data-suppressed" % where)
        elif small(int(v), k):
            bad.append("%s: data-count=%s" % (where, v))
    for m in re.finditer(r'Based on <b class="n">([^<]*)</b>', text):
        v = m.group(1)
        if v.startswith("&lt;"):
            continue
        if small(_n(v), k):
            bad.append("%s: based on %s records" % (where, v))
    m = re.search(r'Showing <b>([^<]*)</b> records', text)
    if m and not m.group(1).startswith("&lt;") and small(_n(m.group(1)), k):
        bad.append("%s: showing %s records" % (where, m.group(1)))
    m = re.search(r'rest on <b>([^<]*)</b> records', text)
    if m and not m.group(1).startswith("&lt;") and small(_n(m.group(1)), k):
        bad.append("%s: rest on %s records" % (where, m.group(1)))
    for row in re.findall(r'<tr [^>]*data-suppressed="1"[^>]*>(.*?)</tr>', text, re.S):
        if "&lt;%d" % k not in row:
            bad.append("%s: suppressed row without <%d: %s" % (where, k, row[:120]))
    bad += scan_svg(text, k, where)
    return bad


def scan_svg(text, k, where):
    bad = []
    for t in re.findall(r"<title>(.*?)</title>", text, re.S):
        t = html.unescape(t)
        # a "<" right before a number marks it suppressed
        for m in re.finditer(r"(<)?" + NUM + r" (records|mentions)\b", t):
            if not m.group(1) and small(_n(m.group(2)), k):
                bad.append("%s: tooltip '%s'" % (where, t[:120]))
        for m in re.finditer(r"(<)?" + NUM + r" of (<)?" + NUM, t):
            for sup, v in ((m.group(1), m.group(2)), (m.group(3), m.group(4))):
                if not sup and small(_n(v), k):
                    bad.append("%s: tooltip '%s'" % (where, t[:120]))
        for m in re.finditer(r"n=(<)?" + NUM, t):
            if not m.group(1) and small(_n(m.group(2)), k):
                bad.append("%s: tooltip '%s'" % (where, t[:120]))
    return bad


COUNT_KEYS = ("count", "total", "records")


def scan_json(obj, k, where):
    bad = []

    def walk(o, path):
        if isinstance(o, dict):
            for key, v in o.items():
                p = path + "." + key
                if key in COUNT_KEYS and isinstance(v, int) and not isinstance(v, bool):
                    if small(v, k):
                        bad.append("%s: %s = %d" % (where, p, v))
                if key in ("count", "total") and v is None:
                    flag = "suppressed" if key == "count" else key + "_suppressed"
                    if o.get(flag) is not True:
                        bad.append("%s: %s null without %s" % (where, p, flag))
                walk(v, p)
        elif isinstance(o, list):
            for i, v in enumerate(o):
                walk(v, "%s[%d]" % (path, i))

    walk(obj, "")
    return bad


def scan_csv(text, k, where):
    bad = []
    rows = list(csv.reader(io.StringIO(text)))
    if not rows:
        return ["%s: empty CSV" % where]
    head = rows[0]
    cols = [i for i, h in enumerate(head) if h.split(".")[-1] in ("count", "total")]
    for r in rows[1:]:
        for i in cols:
            v = r[i] if i < len(r) else ""
            if v in ("", "<%d" % k):
                continue
            if not re.fullmatch(r"\d+", v):
                bad.append("%s: count cell '%s'" % (where, v))
            elif small(int(v), k):
                bad.append("%s: count cell %s" % (where, v))
    return bad


def published_cells(obj):
    """(key, value) of every published count in a stats JSON table, keyed
    by the path of labels (so the same cell under two filters matches)."""
    out = {}

    def walk(o, ident):
        if isinstance(o, dict):
            labels = tuple(
                (kk, json.dumps(vv)) for kk, vv in sorted(o.items())
                if not isinstance(vv, (dict, list)) and kk not in COUNT_KEYS
                and not kk.endswith("suppressed") and kk != "share" and not kk.endswith("share")
            )
            me = ident + labels
            for kk in COUNT_KEYS:
                if isinstance(o.get(kk), int) and not isinstance(o.get(kk), bool):
                    out[me + (kk,)] = o[kk]
            for kk, vv in o.items():
                if isinstance(vv, (dict, list)) and kk != "suppression" and kk != "filter":
                    walk(vv, me + (kk,))
        elif isinstance(o, list):
            for v in o:
                walk(v, ident)

    walk(obj, ())
    return out


def differences(a, b, k, where):
    """Cells published in both views where the broader view a is larger
    than the narrower view b by 1..k-1 (privacy_apply_filtered's rule: the
    difference would be a small count of records in a but not in b). A
    combined "other" row may hold different places in the two views and be
    larger in b; that difference counts nobody."""
    pa, pb = published_cells(a), published_cells(b)
    bad = []
    both = 0
    for key, va in pa.items():
        vb = pb.get(key)
        if vb is None:
            continue
        both += 1
        if 0 < va - vb < k:
            bad.append("%s: %s published as %d and %d" % (where, key[-3:], va, vb))
    return bad, both
