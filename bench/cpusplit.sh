#!/usr/bin/env bash
# bench/cpusplit.sh: a CPU profile from bench/profile.sh split into disjoint
# buckets, in µs per request: the kernel by syscall, then user space by what
# the code was doing (GC, allocation, scheduler, the net/http or fasthttp
# server, the fasthttp client, kvclass's own code).
#
#   bench/cpusplit.sh PROFILE REQUESTS_PER_SECOND [SECONDS, default 7]
#
# REQUESTS_PER_SECOND is the case's req/s from profile.sh's table and
# SECONDS the profile's duration (profile.sh: its seconds per case - 1), so
# requests = req/s × seconds. Each sample goes to the first bucket that
# matches its stack, in the order below, so the buckets add up to the
# profile's total. A profile samples the process's CPU time (user and
# kernel) at 100 Hz, so its total is a bit under the CPU that /proc counts.
set -euo pipefail
[ $# -ge 2 ] || { echo "usage: bench/cpusplit.sh PROFILE REQ_PER_SEC [SECONDS]" >&2; exit 2; }
go tool pprof -traces "$1" 2>/dev/null | awk -v rps="$2" -v secs="${3:-7}" '
function val(s) { if (s ~ /ms$/) return s / 1000; if (s ~ /us$/) return s / 1e6; if (s ~ /ns$/) return s / 1e9; return s + 0 }
function has(re) { return stack ~ re }
function bucket() {
  leaf = frames[1]
  if (leaf ~ /Syscall6|runtime\.futex$|runtime\.usleep|epollwait|EpollWait|runtime\.nanosleep|runtime\.osyield|runtime\.madvise|runtime\.mmap|runtime\.write1|runtime\.raise|runtime\.tgkill/) {
    if (has("syscall\\.write")) return has("HostClient|fasthttp\\.\\(\\*transport\\)") ? "kernel: write, request to the node" : "kernel: write, response to the client"
    if (has("syscall\\.read")) return has("HostClient|fasthttp\\.\\(\\*transport\\)") ? "kernel: read, the node'"'"'s answer" : (has("backgroundRead") ? "kernel: read, net/http background read" : "kernel: read, the client'"'"'s request")
    if (has("EpollWait|netpoll")) return "kernel: epoll (netpoller)"
    if (has("futex|usleep|nanosleep|osyield")) return "kernel: futex, sleeps (scheduler)"
    return "kernel: other"
  }
  if (has("gcBgMarkWorker|bgsweep|bgscavenge|gcAssist|markroot|gcDrain")) return "user: GC"
  if (has("runtime\\.mallocgc|runtime\\.newobject|runtime\\.makeslice|runtime\\.growslice|runtime\\.makemap|newarray")) return "user: allocation"
  if (has("runtime\\.mcall|runtime\\.schedule|findRunnable|runtime\\.sysmon|runtime\\.netpoll|runtime\\.wakep|runtime\\.startm|runtime\\.park_m|runtime\\.goexit0|gopark|goready|runtime\\.newproc")) return "user: scheduler, netpoller"
  if (has("HostClient|fasthttp\\.\\(\\*transport\\)")) return "user: fasthttp client (call to the node)"
  if (has("kvclass/kvclass/(proxy|node|kvapi|placement|web)")) return "user: kvclass handler code (incl. header writes it makes)"
  if (has("fasthttp|kvclass/kvclass/serve")) return "user: fasthttp server (and serve), pools"
  if (has("Deadline")) return "user: net/http read and write deadlines (timers)"
  if (has("backgroundRead|abortPendingRead|startBackgroundRead|context\\.|time\\.Now")) return "user: net/http per-request machinery (background read, context, clock)"
  if (has("readRequest")) return "user: net/http request parsing"
  if (has("finishRequest|chunkWriter|WriteHeader|\\(\\*response\\)")) return "user: net/http response writing"
  if (has("net/http")) return "user: net/http other"
  return "user: other"
}
function flush() {
  if (n == 0) return
  b = bucket(); sum[b] += v; total += v
  if (b ~ /^kernel/) kern += v
  n = 0; stack = ""
}
/^-+\+-+$/ { flush(); next }
/^ *[0-9.]+(ms|s|us|ns) / { flush(); v = val($1); sub(/^ *[0-9.]+(ms|s|us|ns) +/, ""); frames[++n] = $0; stack = stack "\n" $0; next }
n > 0 && NF > 0 { sub(/^ +/, ""); frames[++n] = $0; stack = stack "\n" $0 }
END {
  flush()
  req = rps * secs
  printf "| bucket | µs/req | share |\n| --- | ---: | ---: |\n"
  for (b in sum) printf "| %s | %.2f | %.0f%% |\n", b, sum[b] * 1e6 / req, 100 * sum[b] / total | "sort"
  close("sort")
  printf "| **total sampled** (kernel %.1f, user %.1f) | **%.1f** | 100%% |\n", kern * 1e6 / req, (total - kern) * 1e6 / req, total * 1e6 / req
}'
