#!/usr/bin/env bash
# bench/profile.sh: where a request's CPU goes, in the real servers under
# load. It runs the kvclass proxy (in front of 3 kvclass nodes that joined
# it) and a lone kvclass node in-process with pprof (bench/prof), next to
# the baselines with the same debug listener (bench/bare: bare net/http;
# bench/bareproxy: a bare Go proxy with net/http's or fasthttp's server),
# drives each with wrk -t1 -c32, and for each case records:
#   - CPU µs per request (utime+stime of the process / requests served),
#   - allocations and bytes allocated per request (runtime.MemStats,
#     exact, before and after) and GC cycles per 10k requests,
#   - syscalls, reads that found nothing (EAGAIN) and context switches per
#     request (perf stat on tracepoints, when perf can read them),
#   - a CPU profile and an allocation profile of the run (pprof files).
#
#   bench/profile.sh [seconds per case, default 10] [output dir, default /tmp/kvclass-prof]
#
# Then e.g.: go tool pprof -top -cum /tmp/kvclass-prof/proxy-get-1k.cpu.pprof
# Environment: CONNS=32, WRK_CPU= (taskset core for wrk), CASES= (a subset of
# proxy-get-1,proxy-get-1k,proxy-put-1k,node-get-1k,node-put-1k,bare-get-1k,
# bare-put-1k,bareproxy-get-1k,fastproxy-get-1k,nginx-get-1k,haproxy-get-1k,
# class-get-1k,class-put-1k; all by default: nginx and HAProxy get no pprof,
# only CPU and perf counts; the class cases profile a second proxy with
# CLASS_NODES=200 joined nodes (bench/kit fleet) and VIEWERS=50 viewers),
# PERF=0 (skip perf stat's syscall and context-switch counts).
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-10}
out=${2:-/tmp/kvclass-prof}
CONNS=${CONNS:-32}
CASES=${CASES:-proxy-get-1,proxy-get-1k,proxy-put-1k,node-get-1k,node-put-1k,bare-get-1k,bare-put-1k,bareproxy-get-1k,fastproxy-get-1k,nginx-get-1k,haproxy-get-1k,class-get-1k,class-put-1k}
CLASS_NODES=${CLASS_NODES:-200}
VIEWERS=${VIEWERS:-50}
CODE=bench-class-code
mkdir -p "$out"
tmp=$(mktemp -d)
pids=()
cleanup() {
  set +e
  local p
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null; done
  for _ in $(seq 50); do
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
start() { local name=$1; shift; "$@" >"$tmp/$name.log" 2>&1 & pids+=($!); }
wait_up() { for _ in $(seq 200); do curl -fs -o /dev/null "$1" && return; sleep 0.05; done; echo "profile.sh: not up: $1" >&2; exit 1; }
preload() {
  local i
  for ((i = 0; i < 1000; i++)); do
    [ "$i" -gt 0 ] && echo "next"
    echo "url = \"$1/put?key=key-$i\""
    echo "data = \"{\\\"value\\\": \\\"value-$i\\\"}\""
    echo "header = \"Content-Type: application/json\""
    echo "output = \"/dev/null\""
  done | curl -s -K -
}
ticks() { local f=() p; for p; do f+=("/proc/$p/stat"); done; awk '{ sub(/^.*\) /, ""); s += $12 + $13 } END { print s }' "${f[@]}"; }
wrk_cmd=(wrk)
[ -n "${WRK_CPU:-}" ] && wrk_cmd=(taskset -c "$WRK_CPU" wrk)

go build -o "$tmp/prof" ./bench/prof
go build -o "$tmp/kvclass" ./cmd/kvclass
go build -o "$tmp/kit" ./bench/kit
go build -o "$tmp/bare" ./bench/bare
go build -o "$tmp/bareproxy" ./bench/bareproxy
mapfile -t port < <("$tmp/kit" ports 17)
P_PROXY=${port[0]} D_PROXY=${port[1]} P_NODE=${port[2]} D_NODE=${port[3]}

start proxy "$tmp/prof" proxy -port "$P_PROXY" -debug "127.0.0.1:$D_PROXY" -token "$CODE"; PID_PROXY=$!
start node "$tmp/prof" node -port "$P_NODE" -debug "127.0.0.1:$D_NODE"; PID_NODE=$!
wait_up "http://127.0.0.1:$P_PROXY/health"
for i in 0 1 2; do
  start "kv$i" "$tmp/kvclass" node -n "kv$((i + 1))" -p "${port[4 + i]}" --join "http://127.0.0.1:$P_PROXY" --token "$CODE" --state "$tmp/kv$i"
done
for i in 0 1 2; do wait_up "http://127.0.0.1:${port[4 + i]}/health"; done
P_BARE=${port[7]} D_BARE=${port[8]} P_BP=${port[9]} D_BP=${port[10]} P_FP=${port[11]} D_FP=${port[12]}
nodes=127.0.0.1:${port[4]},127.0.0.1:${port[5]},127.0.0.1:${port[6]}
start bare "$tmp/bare" -addr "127.0.0.1:$P_BARE" -debug "127.0.0.1:$D_BARE"; PID_BARE=$!
start bareproxy "$tmp/bareproxy" -server nethttp -addr "127.0.0.1:$P_BP" -nodes "$nodes" -debug "127.0.0.1:$D_BP"; PID_BP=$!
start fastproxy "$tmp/bareproxy" -server fasthttp -addr "127.0.0.1:$P_FP" -nodes "$nodes" -debug "127.0.0.1:$D_FP"; PID_FP=$!
P_NGINX=${port[13]} P_HAPROXY=${port[14]}
mkdir -p "$tmp/nginx/tmp"
sed -e "s#PREFIX#$tmp/nginx#g" -e "s/NODE1/${port[4]}/" -e "s/NODE2/${port[5]}/" -e "s/NODE3/${port[6]}/" -e "s/PORT/$P_NGINX/" bench/nginx.conf >"$tmp/nginx/nginx.conf"
start nginx nginx -c "$tmp/nginx/nginx.conf" -p "$tmp/nginx" -e "$tmp/nginx/error.log"; PID_NGINX=$!
sed -e "s/NODE1/${port[4]}/" -e "s/NODE2/${port[5]}/" -e "s/NODE3/${port[6]}/" -e "s/PORT/$P_HAPROXY/" bench/haproxy.cfg >"$tmp/haproxy.cfg"
start haproxy haproxy -db -f "$tmp/haproxy.cfg"; PID_HAPROXY=$!
wait_up "http://127.0.0.1:$P_BARE/"; wait_up "http://127.0.0.1:$D_BP/debug/memstats"; wait_up "http://127.0.0.1:$D_FP/debug/memstats"
wait_up "http://127.0.0.1:$P_NGINX/health"; wait_up "http://127.0.0.1:$P_HAPROXY/health"
PIDS_NGINX="$PID_NGINX $(ps -o pid= --ppid "$PID_NGINX" | tr '\n' ' ')"
has() { [[ ",$CASES," == *",$1,"* ]]; }
P_CLASS=${port[15]} D_CLASS=${port[16]}
if has class-get-1k || has class-put-1k; then
  start class "$tmp/prof" proxy -port "$P_CLASS" -debug "127.0.0.1:$D_CLASS" -token "$CODE" -max-per-addr $((CLASS_NODES + 16)); PID_CLASS=$!
  wait_up "http://127.0.0.1:$P_CLASS/health"
  start fleet "$tmp/kit" fleet -n "$CLASS_NODES" -join "http://127.0.0.1:$P_CLASS" -token "$CODE"
  for _ in $(seq 600); do grep -q '^ready' "$tmp/fleet.log" && break; sleep 0.1; done
  grep -q '^ready' "$tmp/fleet.log" || { echo "profile.sh: the fleet did not start" >&2; cat "$tmp/fleet.log" >&2; exit 1; }
  preload "http://127.0.0.1:$P_CLASS"
  start viewers "$tmp/kit" viewers -n "$VIEWERS" -url "ws://127.0.0.1:$P_CLASS/ws"
  for _ in $(seq 300); do grep -q '^ready' "$tmp/viewers.log" && break; sleep 0.05; done
  grep -q '^ready' "$tmp/viewers.log" || { echo "profile.sh: the viewers did not connect" >&2; cat "$tmp/viewers.log" >&2; exit 1; }
fi
wait_up "http://127.0.0.1:$P_NODE/health"
for _ in $(seq 100); do # all three joined: a put through the proxy lands
  [ "$(curl -s -o /dev/null -w '%{http_code}' -d '{"value": 1}' "http://127.0.0.1:$P_PROXY/put?key=probe")" = 200 ] && break
  sleep 0.1
done
preload "http://127.0.0.1:$P_PROXY" # each key on its owner
preload "http://127.0.0.1:$P_NODE"
for i in 0 1 2; do preload "http://127.0.0.1:${port[4 + i]}"; done # the bare proxies place keys their own way

hz=$(getconf CLK_TCK)
summary=$tmp/summary
echo "| case | req/s | CPU µs/req | syscalls/req | EAGAIN reads/req | context switches/req | allocs/req | bytes/req | GCs per 10k req |" >"$summary"
echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |" >>"$summary"
# perf counts syscalls and context switches when it can read tracepoints
perf=0
if [ "${PERF:-1}" = 1 ] && command -v perf >/dev/null && perf stat -e raw_syscalls:sys_enter -e syscalls:sys_exit_read --filter 'ret == -11' -p $$ -- sleep 0.1 >/dev/null 2>&1; then perf=1; fi
# profile NAME URL DEBUGURL PID SCRIPT KEYS
profile() {
  local name=$1 url=$2 dbg=$3 pids=$4 script=$5 keys=$6
  echo "[$(date +%H:%M:%S)] $name" >&2
  "${wrk_cmd[@]}" -t1 -c"$CONNS" -d2s -s "$script" "$url" -- "$keys" >/dev/null # warm up
  local m0="" m1="" t0 t1 bg=()
  [ -n "$dbg" ] && m0=$(curl -s "$dbg/debug/memstats")
  t0=$(ticks $pids)
  "${wrk_cmd[@]}" -t1 -c"$CONNS" -d"${secs}s" -s "$script" "$url" -- "$keys" >"$tmp/wrk.out" &
  bg+=($!)
  sleep 0.5
  if [ -n "$dbg" ]; then
    curl -s -o "$out/$name.cpu.pprof" "$dbg/debug/pprof/profile?seconds=$((secs - 1))" & bg+=($!)
    curl -s -o "$out/$name.allocs.pprof" "$dbg/debug/pprof/allocs?seconds=$((secs - 1))" & bg+=($!)
  fi
  rm -f "$tmp/perf.out"
  if [ "$perf" = 1 ]; then
    perf stat -x, -e raw_syscalls:sys_enter,context-switches \
      -e syscalls:sys_exit_read --filter 'ret == -11' -e syscalls:sys_exit_recvfrom --filter 'ret == -11' \
      -p "$(echo $pids | tr ' ' ,)" -o "$tmp/perf.out" -- sleep $((secs - 1)) >/dev/null 2>&1 & bg+=($!)
  fi
  wait "${bg[@]}"
  [ -n "$dbg" ] && m1=$(curl -s "$dbg/debug/memstats")
  t1=$(ticks $pids)
  awk -v name="$name" -v m0="$m0" -v m1="$m1" -v dt=$((t1 - t0)) -v hz="$hz" -v win=$((secs - 1)) -v perf="$tmp/perf.out" '
    / requests in / { n = $1 }
    /Requests\/sec/ { rps = $2 }
    END {
      while ((getline line < perf) > 0) {
        split(line, f, ","); ev = f[3]
        if (ev ~ /raw_syscalls/) sys = f[1]; else if (ev ~ /context-switches/) cs = f[1]; else if (ev ~ /sys_exit_read|sys_exit_recvfrom/) again += f[1]
      }
      pr = rps * win # requests during the perf window
      per = (sys != "" && pr > 0)
      if (m0 != "") {
        split(m0, a, " "); split(m1, b, " ")
        al = sprintf("%.1f | %.0f | %.1f", (b[1] - a[1]) / n, (b[2] - a[2]) / n, (b[3] - a[3]) * 10000 / n)
      } else al = "- | - | -"
      printf "| %s | %.0f | %.1f | %s | %s | %s | %s |\n", name, rps, dt * 1e6 / hz / n,
        per ? sprintf("%.2f", sys / pr) : "-", per ? sprintf("%.2f", again / pr) : "-", per ? sprintf("%.2f", cs / pr) : "-", al
    }' "$tmp/wrk.out" >>"$summary"
}
PX="http://127.0.0.1:$P_PROXY" PD="http://127.0.0.1:$D_PROXY" NX="http://127.0.0.1:$P_NODE" ND="http://127.0.0.1:$D_NODE"
has proxy-get-1 && profile proxy-get-1 "$PX" "$PD" "$PID_PROXY" bench/get.lua 1
has proxy-get-1k && profile proxy-get-1k "$PX" "$PD" "$PID_PROXY" bench/get.lua 1000
has proxy-put-1k && profile proxy-put-1k "$PX" "$PD" "$PID_PROXY" bench/put.lua 1000
has node-get-1k && profile node-get-1k "$NX" "$ND" "$PID_NODE" bench/get.lua 1000
has node-put-1k && profile node-put-1k "$NX" "$ND" "$PID_NODE" bench/put.lua 1000
has bare-get-1k && profile bare-get-1k "http://127.0.0.1:$P_BARE" "http://127.0.0.1:$D_BARE" "$PID_BARE" bench/get.lua 1000
has bare-put-1k && profile bare-put-1k "http://127.0.0.1:$P_BARE" "http://127.0.0.1:$D_BARE" "$PID_BARE" bench/put.lua 1000
has bareproxy-get-1k && profile bareproxy-get-1k "http://127.0.0.1:$P_BP" "http://127.0.0.1:$D_BP" "$PID_BP" bench/get.lua 1000
has nginx-get-1k && profile nginx-get-1k "http://127.0.0.1:$P_NGINX" "" "$PIDS_NGINX" bench/get.lua 1000
has haproxy-get-1k && profile haproxy-get-1k "http://127.0.0.1:$P_HAPROXY" "" "$PID_HAPROXY" bench/get.lua 1000
has class-get-1k && profile class-get-1k "http://127.0.0.1:$P_CLASS" "http://127.0.0.1:$D_CLASS" "$PID_CLASS" bench/get.lua 1000
has class-put-1k && profile class-put-1k "http://127.0.0.1:$P_CLASS" "http://127.0.0.1:$D_CLASS" "$PID_CLASS" bench/put.lua 1000
has fastproxy-get-1k && profile fastproxy-get-1k "http://127.0.0.1:$P_FP" "http://127.0.0.1:$D_FP" "$PID_FP" bench/get.lua 1000

echo "## Profiles: $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, wrk -t1 -c$CONNS -d${secs}s, load $(cut -d' ' -f1-3 /proc/loadavg)"
echo
cat "$summary"
for f in "$out"/*.cpu.pprof; do
  case ,$CASES, in *",$(basename "$f" .cpu.pprof),"*) ;; *) continue ;; esac
  echo
  echo "### $(basename "$f" .cpu.pprof): CPU, top 25 by flat time"
  echo '```'
  go tool pprof -top -nodecount=25 "$f" 2>/dev/null | sed -n '1,/^ *flat/{/^Showing/p;/^ *flat/p;d};p' | head -27
  echo '```'
  echo "allocations (bytes), top 10:"
  echo '```'
  go tool pprof -top -nodecount=10 -sample_index=alloc_space "${f%.cpu.pprof}.allocs.pprof" 2>/dev/null | sed -n '/^ *flat/,$p' | head -11
  echo '```'
done
echo
echo "Profiles are in $out (go tool pprof -http :0 $out/NAME.cpu.pprof)."
