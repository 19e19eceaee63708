#!/usr/bin/env bash
# Reproduces the load numbers in docs/BENCHMARKS.md: wrk against the node and
# a bare net/http server, and against the kvclass proxy and nginx in front of
# the same 3 nodes. Every pair is measured in the same run, alternating, so
# the ratios hold on a shared, noisy machine.
#
#   bench/run.sh [seconds per run, default 5] [rounds, default 2]
#
# Needs wrk and nginx (apt-get install wrk nginx). Listens on 127.0.0.1:7000-7030.
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-5}
rounds=${2:-2}
conns=64
tmp=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  [ -f "$tmp/nginx/nginx.pid" ] && kill "$(cat "$tmp/nginx/nginx.pid")" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT

go build -o "$tmp/kvclass" ./cmd/kvclass
go build -o "$tmp/bare" ./bench/bare

wait_up() { for _ in $(seq 100); do curl -fs "$1" >/dev/null 2>&1 && return; sleep 0.05; done; echo "not up: $1" >&2; exit 1; }
preload() { # preload key-0..key-999 on $1, over one keep-alive connection
  for i in $(seq 0 999); do
    [ "$i" -gt 0 ] && echo "next"
    echo "url = \"$1/put?key=key-$i\""
    echo "data = \"{\\\"value\\\": \\\"value-$i\\\"}\""
    echo "header = \"Content-Type: application/json\""
    echo "output = \"/dev/null\""
  done | curl -s -K -
}
# rps URL SCRIPT: requests per second of one wrk run
rps() { wrk -t2 -c$conns -d${secs}s -s "$2" "$1" | awk '/Requests\/sec/ {print $2}'; }
best() { printf '%s\n' "$@" | sort -g | tail -1; }

"$tmp/bare" -addr 127.0.0.1:7000 & pids+=($!)
"$tmp/kvclass" node -n bench -p 7001 2>/dev/null >/dev/null & pids+=($!)
for p in 7011 7012 7013; do
  "$tmp/kvclass" node -n kv$((p-7010)) -p $p 2>/dev/null >/dev/null & pids+=($!)
done
printf 'mode: sharding\nnodes:\n  - {name: kv1, url: "http://127.0.0.1:7011"}\n  - {name: kv2, url: "http://127.0.0.1:7012"}\n  - {name: kv3, url: "http://127.0.0.1:7013"}\n' > "$tmp/proxy.yml"
"$tmp/kvclass" proxy -c "$tmp/proxy.yml" -p 7010 --state "$tmp/state.json" 2>/dev/null >/dev/null & pids+=($!)
mkdir -p "$tmp/nginx/tmp"
sed -e "s#PREFIX#$tmp/nginx#g" -e s/NODE1/7011/ -e s/NODE2/7012/ -e s/NODE3/7013/ -e s/PORT/7020/ bench/nginx.conf > "$tmp/nginx/nginx.conf"
nginx -c "$tmp/nginx/nginx.conf" -p "$tmp/nginx" 2>/dev/null

for u in http://127.0.0.1:7000/ http://127.0.0.1:7001/health http://127.0.0.1:7010/health http://127.0.0.1:7020/health; do wait_up "$u"; done
sleep 0.5 # the proxy's first health check
preload http://127.0.0.1:7001
# every key on every node, so nginx's placement and kvclass's both answer 200
for p in 7011 7012 7013; do preload http://127.0.0.1:$p; done

declare -A r
for round in $(seq "$rounds"); do
  r[bare_get]+=" $(rps http://127.0.0.1:7000 bench/get.lua)"
  r[node_get]+=" $(rps http://127.0.0.1:7001 bench/get.lua)"
  r[bare_put]+=" $(rps http://127.0.0.1:7000 bench/put.lua)"
  r[node_put]+=" $(rps http://127.0.0.1:7001 bench/put.lua)"
  r[nginx_get]+=" $(rps http://127.0.0.1:7020 bench/get.lua)"
  r[proxy_get]+=" $(rps http://127.0.0.1:7010 bench/get.lua)"
done
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
bg=$(best ${r[bare_get]}); ng=$(best ${r[node_get]})
bp=$(best ${r[bare_put]}); np=$(best ${r[node_put]})
xg=$(best ${r[nginx_get]}); pg=$(best ${r[proxy_get]})
echo "wrk -t2 -c$conns -d${secs}s, best of $rounds rounds, $(nproc) cores, $(date -u +%Y-%m-%d)"
echo "| pair | baseline req/s | kvclass req/s | ratio |"
echo "| --- | ---: | ---: | ---: |"
echo "| node GET vs bare net/http | $bg | $ng | $(ratio "$ng" "$bg") |"
echo "| node PUT vs bare net/http | $bp | $np | $(ratio "$np" "$bp") |"
echo "| proxy GET (sharding, 3 nodes) vs nginx hash+keepalive | $xg | $pg | $(ratio "$pg" "$xg") |"
echo "all runs: bare_get${r[bare_get]}; node_get${r[node_get]}; bare_put${r[bare_put]}; node_put${r[node_put]}; nginx${r[nginx_get]}; proxy${r[proxy_get]}"
