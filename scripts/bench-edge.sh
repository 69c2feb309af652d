#!/usr/bin/env bash
# Edge throughput, side by side in one run: wrk against the app container
# directly, through nginx proxying the same container, and through
# Berth's edge. Prints requests/s and p99 latency of each, per round, and
# the medians. Needs root (installs wrk, jq and nginx when missing).
#
#   bash scripts/bench-edge.sh [ROUNDS] [SECONDS] [CONNECTIONS]
set -euo pipefail
rounds=${1:-5}
secs=${2:-10}
conns=${3:-64}
cd "$(dirname "$0")/.."

need=()
command -v wrk >/dev/null || need+=(wrk)
command -v jq >/dev/null || need+=(jq)
command -v nginx >/dev/null || need+=(nginx-light)
if [ "${#need[@]}" -gt 0 ]; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi
make -s build images >/dev/null

work=$(mktemp -d)
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
api=127.0.0.1:$(port); edge=127.0.0.1:$(port); ngx=127.0.0.1:$(port)
key=sk_benchkey$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')
export BERTH_BOOTSTRAP_KEY=$key BERTH_CONFIG=$work/config.json BERTH_API_URL=http://$api BERTH_API_KEY=$key
bin/berth up --data-dir "$work/data" --listen "$api" --edge-listen "$edge" >"$work/berth.log" 2>&1 &
berth_pid=$!
cleanup() {
  [ -f "$work/nginx.pid" ] && kill "$(cat "$work/nginx.pid")" 2>/dev/null || true
  kill "$berth_pid" 2>/dev/null || true
  wait "$berth_pid" 2>/dev/null || true
  inst=$(od -An -tx1 "$work/data/instance" 2>/dev/null | tr -d ' \n')
  [ -n "$inst" ] && docker ps -aq --filter "label=berth.instance=$inst" | xargs -r docker rm -f >/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
for _ in $(seq 1 100); do curl -fs "http://$api/api/v1/healthz" >/dev/null && break; sleep 0.1; done

call() { curl -fsS -H "Authorization: Bearer $key" -H 'Content-Type: application/json' "$@"; }
org=$(call -d '{"name":"Bench"}' "http://$api/api/v1/orgs" | jq -r .id)
ws=$(call -d "{\"org_id\":\"$org\",\"name\":\"W\"}" "http://$api/api/v1/workspaces" | jq -r .id)
prj=$(call -d "{\"workspace_id\":\"$ws\",\"name\":\"Site\"}" "http://$api/api/v1/projects" | jq -r .id)
mkdir -p "$work/site"
printf 'hello, world\n' >"$work/site/index.html"
url=$(bin/berth deploy "$work/site" --project "$prj" 2>/dev/null)
host=${url#http://}; host=${host%%:*}
dep=$(call "http://$api/api/v1/deployments?project_id=$prj" | jq -r '.data[0].id')
direct=$(docker ps --filter "label=berth.deployment=$dep" --format '{{.Ports}}' | grep -o '127.0.0.1:[0-9]*' | head -1)

cat >"$work/nginx.conf" <<NGX
worker_processes auto;
pid $work/nginx.pid;
error_log $work/nginx.err;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path $work/nb; proxy_temp_path $work/np;
  fastcgi_temp_path $work/nf; uwsgi_temp_path $work/nu; scgi_temp_path $work/ns;
  upstream app { server $direct; keepalive 256; }
  server {
    listen $ngx;
    location / {
      proxy_pass http://app;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host \$host;
      proxy_set_header X-Forwarded-For \$remote_addr;
    }
  }
}
NGX
nginx -c "$work/nginx.conf"

# run NAME URL [HOST]: prints "rps p99ms"
run() {
  local out
  if [ -n "${3:-}" ]; then
    out=$(wrk -t2 -c"$conns" -d"${secs}s" --latency -H "Host: $3" "$2")
  else
    out=$(wrk -t2 -c"$conns" -d"${secs}s" --latency "$2")
  fi
  local rps p99 errs
  rps=$(awk '/^Requests\/sec/ {print $2}' <<<"$out")
  p99=$(awk '$1=="99%" {print $2}' <<<"$out")
  errs=$(awk '/Non-2xx|Socket errors/ {print}' <<<"$out")
  [ -n "$errs" ] && echo "  $1: $errs" >&2
  echo "$rps $p99"
}
to_ms() { python3 -c "import sys,re; v=sys.argv[1]; m=re.match(r'([\d.]+)(us|ms|s)',v); n=float(m.group(1)); print(round(n/1000 if m.group(2)=='us' else n*1000 if m.group(2)=='s' else n,2))" "$1"; }

echo "wrk -t2 -c$conns -d${secs}s, $rounds rounds, small response ($(wc -c <"$work/site/index.html") bytes), $(nproc) cores"
printf '%-6s %-10s %12s %10s\n' round target req/s p99-ms
declare -A all
for r in $(seq 1 "$rounds"); do
  for t in direct nginx edge; do
    case $t in
      direct) res=$(run direct "http://$direct/") ;;
      nginx) res=$(run nginx "http://$ngx/" "$host") ;;
      edge) res=$(run edge "http://$edge/" "$host") ;;
    esac
    read -r rps p99 <<<"$res"
    p99=$(to_ms "$p99")
    printf '%-6s %-10s %12s %10s\n' "$r" "$t" "$rps" "$p99"
    all[$t]+="$rps $p99;"
  done
done
echo
echo "medians:"
for t in direct nginx edge; do
  python3 - "$t" "${all[$t]}" <<'PY'
import sys, statistics
name, rows = sys.argv[1], [r.split() for r in sys.argv[2].strip(';').split(';')]
print(f"  {name:8s} {statistics.median(float(r[0]) for r in rows):10.0f} req/s   p99 {statistics.median(float(r[1]) for r in rows):6.2f} ms")
PY
done
python3 - "${all[nginx]}" "${all[edge]}" <<'PY'
import sys, statistics
med = lambda s: statistics.median(float(r.split()[0]) for r in s.strip(';').split(';'))
print(f"  edge / nginx = {med(sys.argv[2]) / med(sys.argv[1]):.2f}")
PY
