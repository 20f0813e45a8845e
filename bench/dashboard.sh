#!/bin/sh
# The dashboard under load, over a hub of RECORDS demo records (default
# 1,000,000), against nginx serving a saved copy of the same page as a static
# file on another loopback port, in the same run. Appends its rows to
# bench/out/results.md and prints them. Called by bench/run.sh; runs alone too.
#   first request    time of the first GET / (cold: boundaries decoded, store warmed)
#   latency          median curl time_total of 20 GET / after it (target < 50 ms)
#   throughput       wrk -t2 -c32 -d10s (10 s timeout), spotlight / vs nginx, the same
#                    Accept-Encoding sent to both (target: at least half of nginx)
#   memory           VmRSS and VmHWM of the server after the load
#   page weight      HTML (with its inline SVG) + CSS, gzipped (target < 500 KB)
# Needs: curl, wrk, nginx (sh scripts/deps.sh --bench). Only loopback traffic.
set -eu
cd "$(dirname "$0")/.."
RECORDS="${RECORDS:-1000000}"
OUT=bench/out
SP=./spotlight
mkdir -p "$OUT"
for tool in curl wrk nginx gzip python3; do
  command -v "$tool" >/dev/null 2>&1 || [ -x "/usr/sbin/$tool" ] ||
    { echo "bench/dashboard: $tool missing (sh scripts/deps.sh --bench)"; exit 1; }
done
NGINX=$(command -v nginx || echo /usr/sbin/nginx)

DB="$OUT/dash-$RECORDS.db"
have=$(sqlite3 "$DB" "SELECT count(*) FROM record" 2>/dev/null || echo 0)
if [ "$have" != "$RECORDS" ]; then
  rm -f "$DB" "$DB-wal" "$DB-shm"
  echo "bench/dashboard: making a hub of $RECORDS demo records in $DB"
  $SP --db "$DB" init >/dev/null
  $SP --db "$DB" demo --records "$RECORDS" --seed 42 >/dev/null
fi

TMP=$(mktemp -d)
chmod 755 "$TMP"
SP_PID=""; NG_PID=""
cleanup() {
  [ -n "$SP_PID" ] && kill "$SP_PID" 2>/dev/null && wait "$SP_PID" 2>/dev/null
  [ -n "$NG_PID" ] && kill "$NG_PID" 2>/dev/null && wait "$NG_PID" 2>/dev/null
  rm -rf "$TMP"
}
trap cleanup EXIT INT TERM

load_before=$(cut -d' ' -f1-3 /proc/loadavg)

# ---- spotlight on a free port (port 0: it prints the one it got)
$SP --db "$DB" serve --listen 127.0.0.1:0 --quiet >"$TMP/serve.out" 2>"$TMP/serve.err" &
SP_PID=$!
i=0
until grep -q '^serving http://' "$TMP/serve.out" 2>/dev/null; do
  i=$((i + 1)); [ "$i" -gt 100 ] && { echo "bench/dashboard: server did not start"; cat "$TMP/serve.err"; exit 1; }
  sleep 0.1
done
SP_URL=$(sed -n 's/^serving \(http:[^ ]*\).*/\1/p' "$TMP/serve.out" | head -n 1)

# first request: the page as a browser gets it, saved (identity) for nginx
first=$(curl -sf -o "$TMP/index.html" -w '%{time_total}' "$SP_URL/")
curl -sf -o "$TMP/app.css" "$SP_URL/static/app.css"
grep -q '<svg' "$TMP/index.html" || { echo "bench/dashboard: no SVG in the page"; exit 1; }

# latency after the first request: 20 GETs as a browser sends them (gzip)
: >"$TMP/lat"
for _ in $(seq 20); do
  curl -sf -o /dev/null -H 'Accept-Encoding: gzip' -w '%{time_total}\n' "$SP_URL/" >>"$TMP/lat"
done
lat_ms=$(sort -n "$TMP/lat" | awk '{ v[NR] = $1 } END { m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2; printf "%.1f", m * 1000 }')
lat_max=$(sort -n "$TMP/lat" | tail -n 1 | awk '{ printf "%.1f", $1 * 1000 }')
wire=$(curl -sf -o /dev/null -H 'Accept-Encoding: gzip' -w '%{size_download}' "$SP_URL/")

# page weight: the HTML with its inline SVG, and the one stylesheet, gzipped
html_raw=$(wc -c <"$TMP/index.html")
html_gz=$(gzip -6 -c "$TMP/index.html" | wc -c)
css_gz=$(gzip -6 -c "$TMP/app.css" | wc -c)
weight_kb=$(awk -v a="$html_gz" -v b="$css_gz" 'BEGIN { printf "%.0f", (a + b) / 1000 }')
other=$(grep -o '<\(script\|img\|link\)[^>]*\(src\|href\)="[^"#]*"' "$TMP/index.html" | grep -v 'app.css' | wc -l)

# ---- nginx on another free port, serving the saved page: two workers
# (spotlight's --threads defaults to the 2 cores), no access log
NG_PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
mkdir -p "$TMP/www" "$TMP/logs"
cp "$TMP/index.html" "$TMP/www/index.html"
cp "$TMP/index.html" "$TMP/www/pre.html"
gzip -6 -c "$TMP/index.html" >"$TMP/www/pre.html.gz"
chmod -R a+rX "$TMP/www"
cat >"$TMP/nginx.conf" <<CONF
worker_processes 2;
pid $TMP/nginx.pid;
error_log $TMP/logs/error.log warn;
daemon off;
events { worker_connections 1024; }
http {
  access_log off;
  sendfile on;
  tcp_nopush on;
  keepalive_requests 100000;
  default_type text/html;
  client_body_temp_path $TMP/logs/body;
  proxy_temp_path $TMP/logs/proxy;
  fastcgi_temp_path $TMP/logs/fastcgi;
  uwsgi_temp_path $TMP/logs/uwsgi;
  scgi_temp_path $TMP/logs/scgi;
  server {
    listen 127.0.0.1:$NG_PORT;
    root $TMP/www;
    # on-the-fly gzip, zlib level 6 like spotlight's, over 1 KB like spotlight's
    gzip on; gzip_comp_level 6; gzip_min_length 1024; gzip_vary on;
    # the best case for a static server: the file compressed beforehand
    location = /pre.html { gzip off; gzip_static on; }
  }
}
CONF
"$NGINX" -p "$TMP" -c "$TMP/nginx.conf" 2>"$TMP/logs/start.err" &
NG_PID=$!
i=0
until curl -sf -o /dev/null "http://127.0.0.1:$NG_PORT/"; do
  i=$((i + 1)); [ "$i" -gt 50 ] && { echo "bench/dashboard: nginx did not start"; cat "$TMP/logs/start.err"; exit 1; }
  sleep 0.1
done
[ "$(curl -sf "http://127.0.0.1:$NG_PORT/" | wc -c)" = "$html_raw" ] || { echo "bench/dashboard: nginx serves another page"; exit 1; }
# both answer gzip to the gzip request, with bodies of about the same size
for u in "$SP_URL/" "http://127.0.0.1:$NG_PORT/" "http://127.0.0.1:$NG_PORT/pre.html"; do
  curl -sf -D "$TMP/h" -o "$TMP/b" -H 'Accept-Encoding: gzip' "$u"
  grep -qi '^content-encoding: gzip' "$TMP/h" || { echo "bench/dashboard: $u answered without gzip"; exit 1; }
  [ "$(gzip -dc "$TMP/b" | wc -c)" = "$html_raw" ] || { echo "bench/dashboard: $u: another page"; exit 1; }
  echo "gzip body of $u: $(wc -c <"$TMP/b") bytes"
done

# requests per second (wrk's Requests/sec); errors are counted, must be none
rps() {
  wrk -t2 -c32 -d10s --timeout 10s "$@" >"$TMP/wrk.out" 2>&1 || { cat "$TMP/wrk.out"; exit 1; }
  if grep -q 'Non-2xx\|Socket errors' "$TMP/wrk.out"; then
    echo "bench/dashboard: errors under load: $*" >&2; cat "$TMP/wrk.out" >&2; exit 1
  fi
  awk '/^Requests\/sec:/ { printf "%.0f", $2 }' "$TMP/wrk.out"
}
GZ='Accept-Encoding: gzip'
ID='Accept-Encoding: identity'
sp_gz=$(rps -H "$GZ" "$SP_URL/")
ng_gz=$(rps -H "$GZ" "http://127.0.0.1:$NG_PORT/")
ng_pre=$(rps -H "$GZ" "http://127.0.0.1:$NG_PORT/pre.html")
sp_id=$(rps -H "$ID" "$SP_URL/")
ng_id=$(rps -H "$ID" "http://127.0.0.1:$NG_PORT/")

rss=$(awk '/^VmRSS:/ { print int($2 / 1024) }' "/proc/$SP_PID/status")
hwm=$(awk '/^VmHWM:/ { print int($2 / 1024) }' "/proc/$SP_PID/status")
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b > 0) ? a / b : 0 }'; }
r_gz=$(ratio "$sp_gz" "$ng_gz"); r_pre=$(ratio "$sp_gz" "$ng_pre"); r_id=$(ratio "$sp_id" "$ng_id")
meets() { awk -v v="$1" -v t="$2" -v op="$3" 'BEGIN { ok = (op == "<") ? (v < t) : (v >= t); print ok ? "meets" : "MISSES" }'; }

cat >>"$OUT/results.md" <<MD

| dashboard, $RECORDS demo records ($(nproc) cores, load $load_before before, $load_after after) | figure | target |
|---|---:|---|
| first GET / (cold: boundaries decoded, store warmed) | $(awk -v t="$first" 'BEGIN { printf "%.2f", t }') s | |
| GET / after it, median of 20 (gzip; slowest ${lat_max} ms) | **${lat_ms} ms** | < 50 ms ($(meets "$lat_ms" 50 "<")) |
| wrk -t2 -c32 -d10s, gzip: spotlight / vs nginx gzip on (level 6) of the saved page | $sp_gz vs $ng_gz req/s = **${r_gz}x** | >= 0.5x ($(meets "$r_gz" 0.5 ">=")) |
| same, nginx gzip_static (file compressed beforehand) | $sp_gz vs $ng_pre req/s = ${r_pre}x | |
| wrk, identity (no gzip for either): spotlight vs nginx sendfile | $sp_id vs $ng_id req/s = **${r_id}x** | >= 0.5x ($(meets "$r_id" 0.5 ">=")) |
| server memory after the load: VmRSS / VmHWM | $rss / $hwm MiB | |
| page weight gzipped: HTML+SVG $((html_gz / 1000)) KB (raw $((html_raw / 1000)) KB, on the wire $((wire / 1000)) KB) + CSS $((css_gz / 1000)) KB; $other other resources | **$weight_kb KB** | < 500 KB ($(meets "$weight_kb" 500 "<")) |
MD
tail -n 10 "$OUT/results.md"
