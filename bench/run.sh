#!/usr/bin/env bash
# bench/run.sh: what a request costs, not only how many go through.
#
#   bench/run.sh [seconds per wrk run, default 2] [rounds, default 4]
#
# A default run takes about 3 minutes; bench/run.sh 1 2 (a smoke run) about 1.
# The results and what they mean: docs/BENCHMARKS.md.
#
# For every process under test it reports requests/s AND CPU time per
# request: utime+stime of the whole process (all threads, from
# /proc/PID/stat) before and after each wrk run, divided by the requests wrk
# completed. CPU per request holds steadier than requests/s on a shared
# machine, and it is what a server costs.
#
#   node:  the kvclass node vs a bare net/http server (bench/bare), GET and
#          PUT, one hot key and 1,000 keys.
#   proxy: the kvclass proxy vs nginx (hash $arg_key consistent, keepalive,
#          one worker) vs HAProxy (balance url_param key, hash-type
#          consistent, nbthread 1, http-reuse always), each in front of the
#          SAME three kvclass nodes (joined to the kvclass proxy), GET, one
#          hot key and 1,000 keys. The nodes' CPU per request is shown too.
#   class: the kvclass proxy with 3 nodes and no viewers vs a second proxy
#          with 200 joined nodes (one process, bench/kit fleet), without and
#          with 50 page viewers on /ws (bench/kit viewers), GET and PUT over
#          1,000 keys: the price of the page's feed and of the followers.
#
# The load generator is wrk -t1 -c32 (one thread: it needs one core at
# most, leaving the other to the servers); its own CPU is reported, so a
# starved load generator shows. Within a round the contenders alternate
# (A B C A B C ...), the table gives each one's median over the rounds, and
# the ratios are medians from this same run. "others %" is the CPU that
# processes outside the benchmark used during the runs (a shared machine).
#
# Environment:
#   PHASES=node,proxy,class   which phases to run; add "floor" to put three
#                             bare Go proxies (bench/bareproxy: net/http or
#                             fasthttp server, fasthttp client, no kvclass
#                             logic) into the proxy phase: the floor of a Go
#                             proxy on this machine, and a bare fasthttp
#                             server into the node phase (adds ~1.5 minutes)
#   CONNS=32                  wrk connections
#   WRK_CPU=                  pin wrk to this CPU with taskset (e.g. 1)
#   CLASS_NODES=200 VIEWERS=50
#   KVCLASS_BIN=              a prebuilt kvclass binary (default: go build ./cmd/kvclass)
#   KVCLASS_REV=              how the report names the code measured (default: git)
#   OUT=                      also write the markdown report to this file
#   RAW=                      also copy the raw per-run TSV to this file
#
# Needs wrk, nginx, haproxy (apt-get install -y wrk nginx haproxy) and Go.
# Listens on free ports of 127.0.0.1 only; stops everything it started.
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-2}
rounds=${2:-4}
PHASES=${PHASES:-node,proxy,class}
CONNS=${CONNS:-32}
WRK_CPU=${WRK_CPU:-}
CLASS_NODES=${CLASS_NODES:-200}
VIEWERS=${VIEWERS:-50}
CODE=bench-class-code
started_at=$(date +%s)

for cmd in wrk nginx haproxy go curl; do
  command -v "$cmd" >/dev/null || { echo "run.sh: $cmd not found (apt-get install -y wrk nginx haproxy)" >&2; exit 1; }
done

tmp=$(mktemp -d)
pids=()    # every process started, in order
cleanup() {
  set +e
  local p i
  for ((i = ${#pids[@]} - 1; i >= 0; i--)); do kill -TERM "${pids[i]}" 2>/dev/null; done
  for _ in $(seq 50); do # up to 5 s for a clean stop (nodes leave the proxy)
    local alive=0
    for p in "${pids[@]}"; do kill -0 "$p" 2>/dev/null && alive=1; done
    [ $alive = 0 ] && break
    sleep 0.1
  done
  for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null; done
  wait 2>/dev/null
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
has() { [[ ",$PHASES," == *",$1,"* ]]; }
log() { echo "[$(date +%H:%M:%S)] $*" >&2; }
loadavg() { cut -d' ' -f1-3 /proc/loadavg; }

log "building"
if [ -n "${KVCLASS_BIN:-}" ]; then cp "$KVCLASS_BIN" "$tmp/kvclass"; else go build -o "$tmp/kvclass" ./cmd/kvclass; fi
go build -o "$tmp/bare" ./bench/bare
go build -o "$tmp/kit" ./bench/kit
has floor && go build -o "$tmp/bareproxy" ./bench/bareproxy
mapfile -t port < <("$tmp/kit" ports 13)
P_BARE=${port[0]} P_NODE=${port[1]} P_PROXY=${port[2]} P_NGINX=${port[3]} P_HAPROXY=${port[4]}
P_KV=("${port[5]}" "${port[6]}" "${port[7]}") P_CLASS=${port[8]}
P_FLOOR=("${port[9]}" "${port[10]}" "${port[11]}") P_BAREFAST=${port[12]}

wait_up() { for _ in $(seq 200); do curl -fs -o /dev/null "$1" && return; sleep 0.05; done; echo "run.sh: not up: $1" >&2; exit 1; }
# preload URL [keys]: PUT key-0..key-(keys-1) on URL over one keep-alive connection
preload() {
  local i n=${2:-1000}
  for ((i = 0; i < n; i++)); do
    [ "$i" -gt 0 ] && echo "next"
    echo "url = \"$1/put?key=key-$i\""
    echo "data = \"{\\\"value\\\": \\\"value-$i\\\"}\""
    echo "header = \"Content-Type: application/json\""
    echo "output = \"/dev/null\""
    echo "write-out = \"%{http_code}\\n\""
  done | curl -s -K - | sort | uniq -c | awk '$2 != 200 { bad = 1; print "run.sh: preload " url ": " $1 " answers " $2 > "/dev/stderr" } END { exit bad }' url="$1"
}
start() { # start NAME CMD...: run CMD in the background, logging to $tmp/NAME.log
  local name=$1; shift
  "$@" >"$tmp/$name.log" 2>&1 &
  pids+=($!)
}
children() { ps -o pid= --ppid "$1" | tr -d ' ' | tr '\n' ' '; }

# ---------------------------------------------------------------- processes
kv_pids=""
if has node; then
  start bare "$tmp/bare" -addr "127.0.0.1:$P_BARE"; PID_BARE=$!
  start node "$tmp/kvclass" node -n bench -p "$P_NODE"; PID_NODE=$!
  has floor && { start barefast "$tmp/bare" -server fasthttp -addr "127.0.0.1:$P_BAREFAST"; PID_BAREFAST=$!; }
fi
if has proxy || has class; then
  start proxy "$tmp/kvclass" proxy --port "$P_PROXY" --allow-private --state "$tmp/proxy.json" --token "$CODE"; PID_PROXY=$!
  wait_up "http://127.0.0.1:$P_PROXY/health"
  for i in 0 1 2; do
    start "kv$((i + 1))" "$tmp/kvclass" node -n "kv$((i + 1))" -p "${P_KV[i]}" --join "http://127.0.0.1:$P_PROXY" --token "$CODE" --state "$tmp/kv$((i + 1))"
    kv_pids+=" $!"
  done
  for i in 0 1 2; do wait_up "http://127.0.0.1:${P_KV[i]}/health"; done
fi
if has proxy; then
  mkdir -p "$tmp/nginx/tmp"
  sed -e "s#PREFIX#$tmp/nginx#g" -e "s/NODE1/${P_KV[0]}/" -e "s/NODE2/${P_KV[1]}/" -e "s/NODE3/${P_KV[2]}/" -e "s/PORT/$P_NGINX/" bench/nginx.conf >"$tmp/nginx/nginx.conf"
  start nginx nginx -c "$tmp/nginx/nginx.conf" -p "$tmp/nginx" -e "$tmp/nginx/error.log"; PID_NGINX=$!
  sed -e "s/NODE1/${P_KV[0]}/" -e "s/NODE2/${P_KV[1]}/" -e "s/NODE3/${P_KV[2]}/" -e "s/PORT/$P_HAPROXY/" bench/haproxy.cfg >"$tmp/haproxy.cfg"
  start haproxy haproxy -db -f "$tmp/haproxy.cfg"; PID_HAPROXY=$!
fi
floor=() # the floor contenders: name, port, PID
if has proxy && has floor; then
  nodes=127.0.0.1:${P_KV[0]},127.0.0.1:${P_KV[1]},127.0.0.1:${P_KV[2]}
  start floor1 "$tmp/bareproxy" -server nethttp -addr "127.0.0.1:${P_FLOOR[0]}" -nodes "$nodes"
  floor+=("bare Go: net/http + fasthttp client" "${P_FLOOR[0]}" $!)
  start floor2 "$tmp/bareproxy" -server fasthttp -addr "127.0.0.1:${P_FLOOR[1]}" -nodes "$nodes"
  floor+=("bare Go: fasthttp server + client" "${P_FLOOR[1]}" $!)
  start floor3 env GOMAXPROCS=1 "$tmp/bareproxy" -server fasthttp -addr "127.0.0.1:${P_FLOOR[2]}" -nodes "$nodes"
  floor+=("bare Go: fasthttp, GOMAXPROCS=1" "${P_FLOOR[2]}" $!)
fi

has node && { wait_up "http://127.0.0.1:$P_BARE/"; wait_up "http://127.0.0.1:$P_NODE/health"; preload "http://127.0.0.1:$P_NODE"; }
has node && has floor && wait_up "http://127.0.0.1:$P_BAREFAST/"
if has proxy || has class; then
  # every key on every node, so all three proxies' placements answer 200
  for i in 0 1 2; do preload "http://127.0.0.1:${P_KV[i]}"; done
  for _ in $(seq 100); do # the three nodes joined and up
    [ "$(curl -s "http://127.0.0.1:$P_PROXY/get?key=key-0" -o /dev/null -w '%{http_code}')" = 200 ] && break
    sleep 0.1
  done
fi
if has proxy; then
  wait_up "http://127.0.0.1:$P_NGINX/get?key=key-0"
  wait_up "http://127.0.0.1:$P_HAPROXY/get?key=key-0"
  for ((i = 0; i < ${#floor[@]}; i += 3)); do wait_up "http://127.0.0.1:${floor[i + 1]}/get?key=key-0"; done
  PIDS_NGINX="$PID_NGINX $(children "$PID_NGINX")" # master + the worker
fi

# ---------------------------------------------------------------- measuring
hz=$(getconf CLK_TCK)
raw=$tmp/raw.tsv
printf 'phase\tworkload\tcontender\tround\treq_s\trequests\tserver_us\tserver_user_us\tnodes_us\tviewers_us\twrk_cpu_pct\tothers_pct\tbad\tp99_ms\tload1_before\tload1_after\n' >"$raw"
wrk_cmd=(wrk)
[ -n "$WRK_CPU" ] && wrk_cmd=(taskset -c "$WRK_CPU" wrk)

ticks() { # ticks PID...: utime+stime of the processes, all threads, in clock ticks
  local f=() p
  for p in "$@"; do f+=("/proc/$p/stat"); done
  [ ${#f[@]} = 0 ] && { echo 0; return; }
  awk '{ sub(/^.*\) /, ""); s += $12 + $13 } END { print s + 0 }' "${f[@]}"
}
uticks() { # uticks PID...: utime alone
  local f=() p
  for p in "$@"; do f+=("/proc/$p/stat"); done
  awk '{ sub(/^.*\) /, ""); s += $12 } END { print s + 0 }' "${f[@]}"
}
busy() { awk '/^cpu / { print $2 + $3 + $4 + $7 + $8; exit }' /proc/stat; } # all CPUs, ticks

# measure PHASE WORKLOAD CONTENDER ROUND URL SCRIPT KEYS "SERVER PIDS" "NODE PIDS" "VIEWER PIDS"
measure() {
  local phase=$1 workload=$2 who=$3 round=$4 url=$5 script=$6 keys=$7 spids=$8 npids=$9 vpids=${10}
  local l0 l1 s0 s1 u0 u1 n0 n1 v0 v1 b0 b1 t
  l0=$(cut -d' ' -f1 /proc/loadavg)
  s0=$(ticks $spids); u0=$(uticks $spids); n0=$(ticks $npids); v0=$(ticks $vpids); b0=$(busy)
  t=$( { TIMEFORMAT='%3R %3U %3S'; time "${wrk_cmd[@]}" -t1 -c"$CONNS" -d"${secs}s" --latency -s "$script" "$url" -- "$keys" >"$tmp/wrk.out" 2>&1; } 2>&1 )
  s1=$(ticks $spids); u1=$(uticks $spids); n1=$(ticks $npids); v1=$(ticks $vpids); b1=$(busy)
  l1=$(cut -d' ' -f1 /proc/loadavg)
  awk -v phase="$phase" -v workload="$workload" -v who="$who" -v round="$round" -v hz="$hz" \
      -v ds=$((s1 - s0)) -v du=$((u1 - u0)) -v dn=$((n1 - n0)) -v dv=$((v1 - v0)) -v db=$((b1 - b0)) -v t="$t" -v l0="$l0" -v l1="$l1" '
    / requests in / { n = $1 }
    /Requests\/sec/ { rps = $2 }
    /Non-2xx/ { bad += $NF }
    /Socket errors/ { gsub(/,/, ""); bad += $4 + $6 + $8 + $10 }
    /^ +99%/ { p = $2; if (p ~ /us$/) p = p / 1000; else if (p ~ /ms$/) p = p + 0; else if (p ~ /s$/) p = p * 1000; p99 = p }
    END {
      split(t, tt, " ")
      if (n == 0) { print "run.sh: wrk served nothing for " who " " workload > "/dev/stderr"; exit 1 }
      us = 1e6 / hz / n
      wrk_ticks = (tt[2] + tt[3]) * hz
      others = db - ds - dn - dv - wrk_ticks; if (others < 0) others = 0
      printf "%s\t%s\t%s\t%d\t%.0f\t%d\t%.2f\t%.2f\t%.2f\t%.2f\t%.0f\t%.0f\t%d\t%.2f\t%s\t%s\n", phase, workload, who, round, rps, n,
        ds * us, du * us, dn * us, dv * us, 100 * (tt[2] + tt[3]) / tt[1], 100 * others / hz / tt[1], bad, p99, l0, l1
    }' "$tmp/wrk.out" >>"$raw"
  tail -1 "$raw" | awk -F'\t' '{ printf "  %-6s %-8s %-22s round %s: %7s req/s  %7s us/req  wrk %s%%  others %s%%\n", $1, $2, $3, $4, $5, $7, $11, $12 }' >&2
}
warm() { "${wrk_cmd[@]}" -t1 -c"$CONNS" -d1s -s bench/get.lua "$1" -- 1000 >/dev/null 2>&1; }

load_start=$(loadavg)
declare -A phase_load

if has node; then
  log "node phase: bare net/http vs kvclass node"
  phase_load[node]="$(loadavg)"
  warm "http://127.0.0.1:$P_BARE"; warm "http://127.0.0.1:$P_NODE"
  has floor && warm "http://127.0.0.1:$P_BAREFAST"
  for r in $(seq "$rounds"); do
    for w in "GET 1 key:get.lua:1" "GET 1k keys:get.lua:1000" "PUT 1 key:put.lua:1" "PUT 1k keys:put.lua:1000"; do
      IFS=: read -r wl script keys <<<"$w"
      measure node "$wl" "bare net/http" "$r" "http://127.0.0.1:$P_BARE" "bench/$script" "$keys" "$PID_BARE" "" ""
      measure node "$wl" "kvclass node" "$r" "http://127.0.0.1:$P_NODE" "bench/$script" "$keys" "$PID_NODE" "" ""
      has floor && measure node "$wl" "bare fasthttp (not the baseline)" "$r" "http://127.0.0.1:$P_BAREFAST" "bench/$script" "$keys" "$PID_BAREFAST" "" ""
    done
  done
  phase_load[node]+=" → $(loadavg)"
fi

if has proxy; then
  log "proxy phase: kvclass proxy vs nginx vs HAProxy, 3 nodes"
  phase_load[proxy]="$(loadavg)"
  warm "http://127.0.0.1:$P_PROXY"; warm "http://127.0.0.1:$P_NGINX"; warm "http://127.0.0.1:$P_HAPROXY"
  for ((i = 0; i < ${#floor[@]}; i += 3)); do warm "http://127.0.0.1:${floor[i + 1]}"; done
  for r in $(seq "$rounds"); do
    for w in "GET 1 key:get.lua:1" "GET 1k keys:get.lua:1000"; do
      IFS=: read -r wl script keys <<<"$w"
      measure proxy "$wl" "kvclass proxy" "$r" "http://127.0.0.1:$P_PROXY" "bench/$script" "$keys" "$PID_PROXY" "$kv_pids" ""
      measure proxy "$wl" "nginx, 1 worker" "$r" "http://127.0.0.1:$P_NGINX" "bench/$script" "$keys" "$PIDS_NGINX" "$kv_pids" ""
      measure proxy "$wl" "HAProxy, 1 thread" "$r" "http://127.0.0.1:$P_HAPROXY" "bench/$script" "$keys" "$PID_HAPROXY" "$kv_pids" ""
      for ((i = 0; i < ${#floor[@]}; i += 3)); do
        measure proxy "$wl" "${floor[i]}" "$r" "http://127.0.0.1:${floor[i + 1]}" "bench/$script" "$keys" "${floor[i + 2]}" "$kv_pids" ""
      done
    done
  done
  phase_load[proxy]+=" → $(loadavg)"
fi

if has class; then
  log "class phase: starting a proxy with $CLASS_NODES joined nodes"
  start class-proxy "$tmp/kvclass" proxy --port "$P_CLASS" --allow-private --max-per-address $((CLASS_NODES + 16)) --state "$tmp/class.json" --token "$CODE"; PID_CLASS=$!
  wait_up "http://127.0.0.1:$P_CLASS/health"
  start fleet "$tmp/kit" fleet -n "$CLASS_NODES" -join "http://127.0.0.1:$P_CLASS" -token "$CODE"; PID_FLEET=$!
  for _ in $(seq 600); do grep -q '^ready' "$tmp/fleet.log" && break; kill -0 "$PID_FLEET" 2>/dev/null || break; sleep 0.1; done
  grep -q '^ready' "$tmp/fleet.log" || { echo "run.sh: the fleet did not start:" >&2; tail -5 "$tmp/fleet.log" >&2; exit 1; }
  log "$(head -1 "$tmp/fleet.log")"
  preload "http://127.0.0.1:$P_CLASS" # through the proxy: each key on its owner
  viewers_on() {
    start viewers "$tmp/kit" viewers -n "$VIEWERS" -url "ws://127.0.0.1:$P_CLASS/ws"; PID_VIEWERS=$!
    for _ in $(seq 300); do grep -q '^ready' "$tmp/viewers.log" && return; kill -0 "$PID_VIEWERS" 2>/dev/null || break; sleep 0.05; done
    echo "run.sh: the viewers did not connect:" >&2; cat "$tmp/viewers.log" >&2; exit 1
  }
  viewers_off() { # stop the viewers, and forget their PID (it may be reused)
    kill -TERM "$PID_VIEWERS"; wait "$PID_VIEWERS" 2>/dev/null || true
    local p keep=()
    for p in "${pids[@]}"; do [ "$p" = "$PID_VIEWERS" ] || keep+=("$p"); done
    pids=("${keep[@]}")
    cat "$tmp/viewers.log" >>"$tmp/viewers.all"
  }
  log "class phase: 3 nodes vs $CLASS_NODES nodes vs $CLASS_NODES nodes + $VIEWERS viewers"
  phase_load[class]="$(loadavg)"
  warm "http://127.0.0.1:$P_CLASS"
  for r in $(seq "$rounds"); do
    for w in "GET 1k keys:get.lua:1000" "PUT 1k keys:put.lua:1000"; do
      IFS=: read -r wl script keys <<<"$w"
      measure class "$wl" "3 nodes, no viewers" "$r" "http://127.0.0.1:$P_PROXY" "bench/$script" "$keys" "$PID_PROXY" "$kv_pids" ""
      measure class "$wl" "$CLASS_NODES nodes, no viewers" "$r" "http://127.0.0.1:$P_CLASS" "bench/$script" "$keys" "$PID_CLASS" "$PID_FLEET" ""
      viewers_on
      measure class "$wl" "$CLASS_NODES nodes, $VIEWERS viewers" "$r" "http://127.0.0.1:$P_CLASS" "bench/$script" "$keys" "$PID_CLASS" "$PID_FLEET" "$PID_VIEWERS"
      viewers_off
    done
  done
  phase_load[class]+=" → $(loadavg)"
fi
load_end=$(loadavg)

# ---------------------------------------------------------------- the report
# med PHASE WORKLOAD CONTENDER COLUMN: the median over the rounds
med() {
  awk -F'\t' -v p="$1" -v w="$2" -v c="$3" -v col="$4" '
    NR == 1 { for (i = 1; i <= NF; i++) if ($i == col) k = i; next }
    $1 == p && $2 == w && $3 == c { print $k }' "$raw" | sort -g |
    awk '{ v[++n] = $1 } END { if (n == 0) print "-"; else print (n % 2) ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2 }'
}
num() { awk -v x="$1" -v d="${2:-0}" 'BEGIN { if (x == "-") print "-"; else printf "%.*f", d, x }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "-" || b == "-" || b == 0) print "-"; else printf "%.2f×", a / b }'; }
sumbad() { awk -F'\t' -v p="$1" -v w="$2" -v c="$3" 'NR > 1 && $1 == p && $2 == w && $3 == c { s += $13 } END { print s + 0 }' "$raw"; }

# row PHASE WORKLOAD CONTENDER BASELINE [with nodes] [with viewers]
row() {
  local p=$1 w=$2 c=$3 base=$4 nodes=${5:-} viewers=${6:-}
  local rps us bus nus vus wrkp oth bad
  rps=$(med "$p" "$w" "$c" req_s); us=$(med "$p" "$w" "$c" server_us); bus=$(med "$p" "$w" "$base" server_us)
  wrkp=$(med "$p" "$w" "$c" wrk_cpu_pct); oth=$(med "$p" "$w" "$c" others_pct); bad=$(sumbad "$p" "$w" "$c")
  printf '| %s | %s | %s | **%s** | %s | %s |' "$w" "$c" "$(num "$rps")" "$(num "$us" 1)" "$(num "$(med "$p" "$w" "$c" server_user_us)" 1)" "$(ratio "$us" "$bus")"
  [ -n "$nodes" ] && printf ' %s |' "$(num "$(med "$p" "$w" "$c" nodes_us)" 1)"
  [ -n "$viewers" ] && printf ' %s |' "$(num "$(med "$p" "$w" "$c" viewers_us)" 1)"
  printf ' %s%% | %s%% | %s |\n' "$wrkp" "$oth" "$bad"
}

report() {
  local commit
  if [ -n "${KVCLASS_REV:-}" ]; then
    commit=$KVCLASS_REV
  elif commit=$(git rev-parse --short HEAD 2>/dev/null); then
    [ -n "$(git status --porcelain -- cmd node proxy kvapi web serve registry placement tunnel internal go.mod 2>/dev/null)" ] && commit+=" + uncommitted changes"
  else
    commit="(not a git checkout)"
  fi
  [ -n "${KVCLASS_BIN:-}" ] && commit+=", kvclass binary $KVCLASS_BIN"
  echo "## Load: CPU per request"
  echo
  echo "- command: \`${PHASES:+PHASES=$PHASES }${WRK_CPU:+WRK_CPU=$WRK_CPU }bench/run.sh $secs $rounds\` (wrk -t1 -c$CONNS, ${secs} s per run, $rounds rounds, medians)"
  echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC'), took $(($(date +%s) - started_at)) s; kvclass $commit"
  echo "- machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), Linux $(uname -r), $(go env GOVERSION), $(wrk -v 2>&1 | head -1 | cut -d' ' -f1-2), nginx $(nginx -v 2>&1 | sed 's#.*/##'), HAProxy $(haproxy -v | head -1 | cut -d' ' -f3)"
  echo "- load average (1, 5, 15 min): $load_start before, $load_end after$(for p in node proxy class; do [ -n "${phase_load[$p]:-}" ] && printf '; %s phase %s' "$p" "${phase_load[$p]}"; done)"
  echo
  echo "µs/req: CPU time (user+system, all threads) of the process under test per request served. wrk %: the load generator's CPU, of one core (near 100% means wrk, not the server, set the pace). user µs: the user-space part of µs/req; the rest is the kernel (syscalls, TCP over loopback). others %: CPU of processes outside the benchmark during the run, of one core. bad: non-2xx answers and socket errors, all rounds."
  if has node; then
    echo
    echo "| node | server | req/s | µs/req | user µs | vs bare | wrk % | others % | bad |"
    echo "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
    for w in "GET 1 key" "GET 1k keys" "PUT 1 key" "PUT 1k keys"; do
      row node "$w" "bare net/http" "bare net/http"
      row node "$w" "kvclass node" "bare net/http"
      has floor && row node "$w" "bare fasthttp (not the baseline)" "bare net/http"
    done
  fi
  if has proxy; then
    echo
    echo "| proxy, 3 nodes | proxy | req/s | µs/req | user µs | vs nginx | nodes µs/req | wrk % | others % | bad |"
    echo "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
    for w in "GET 1 key" "GET 1k keys"; do
      for c in "nginx, 1 worker" "HAProxy, 1 thread" "kvclass proxy"; do row proxy "$w" "$c" "nginx, 1 worker" nodes; done
      for ((i = 0; i < ${#floor[@]}; i += 3)); do row proxy "$w" "${floor[i]}" "nginx, 1 worker" nodes; done
    done
  fi
  if has class; then
    echo
    echo "| class scale | kvclass proxy with | req/s | proxy µs/req | user µs | vs 3 nodes | nodes µs/req | viewers µs/req | wrk % | others % | bad |"
    echo "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
    for w in "GET 1k keys" "PUT 1k keys"; do
      for c in "3 nodes, no viewers" "$CLASS_NODES nodes, no viewers" "$CLASS_NODES nodes, $VIEWERS viewers"; do row class "$w" "$c" "3 nodes, no viewers" nodes viewers; done
    done
    [ -f "$tmp/viewers.all" ] && awk '/^viewers:/ { m += $2; b += $4; d += $(NF - 5); n++ }
      END { printf "\nThe viewers received %d messages (%.0f MB uncompressed) over %d runs; the proxy dropped %d viewers (too slow).\n", m, b / 1e6, n, d }' "$tmp/viewers.all"
  fi
  echo
  echo "<details><summary>every run</summary>"
  echo
  echo '```'
  column -t -s $'\t' "$raw"
  echo '```'
  echo "</details>"
}
report | tee "${OUT:-/dev/null}"
[ -n "${RAW:-}" ] && cp "$raw" "$RAW"
exit 0
