#!/usr/bin/env bash
# kvclass load's latency against wrk's, on one kvclass node serving one key:
#
#   bench/loadvswrk.sh [SECONDS]     (default 10)
#
# Three runs of GET key-0, one after another:
#   1. kvclass load --rate 500 (open loop: a request every 2 ms);
#   2. wrk -c1 with a 2 ms pause before each request (bench/paced.lua):
#      the node idles between requests as under run 1, so the two measure
#      the same thing and their latencies should agree, but for the
#      clients' own cost;
#   3. wrk -c1 flat out: the node never idles, so its latency is lower; this
#      is what "wrk's latency" usually means.
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-10}
for cmd in wrk go; do
  command -v "$cmd" >/dev/null || { echo "loadvswrk.sh: $cmd not found (apt-get install -y wrk)" >&2; exit 1; }
done
tmp=$(mktemp -d)
node_pid=
cleanup() { [ -n "$node_pid" ] && kill "$node_pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT
go build -o "$tmp/kvclass" ./cmd/kvclass
go build -o "$tmp/kit" ./bench/kit
port=$("$tmp/kit" ports 1)
url=http://127.0.0.1:$port
"$tmp/kvclass" node -n bench -p "$port" >"$tmp/node.log" 2>&1 &
node_pid=$!
for _ in $(seq 100); do "$tmp/kvclass" health "$url" >/dev/null 2>&1 && break; sleep 0.05; done
curl -fs -o /dev/null -X POST -H 'Content-Type: application/json' -d '{"value": "value-0"}' "$url/put?key=key-0"

echo "## $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg), ${secs} s each"
echo "### 1. kvclass load --rate 500"
"$tmp/kvclass" load --proxy "$url" --rate 500 --duration "${secs}s" --put-ratio 0 --keys 1 | tail -n 4
echo "### 2. wrk -t1 -c1, 2 ms pause before each request"
wrk -t1 -c1 -d"${secs}s" --latency -s bench/paced.lua "$url" -- 2 | sed -n '/Latency Distribution/,/Requests\/sec/p'
echo "### 3. wrk -t1 -c1 flat out"
wrk -t1 -c1 -d"${secs}s" --latency "$url/get?key=key-0" | sed -n '/Latency Distribution/,/Requests\/sec/p'
