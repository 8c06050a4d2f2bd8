#!/usr/bin/env bash
# bench/soak.sh: a long steady run against the reference target, printing
# per minute the runner's RSS, the CPU seconds it used in that minute, the
# checkpoint bytes it wrote in that minute, its goroutines and the requests
# sent (issue 8, "Long runs"; issue 14, "Runs of any length at constant
# cost"). Memory must stay flat and per-minute CPU and bytes constant:
# histograms are fixed-size, nothing keeps a record per request, and each
# period is appended to the checkpoint (--output) instead of rewriting the
# whole report, so minute 60 costs what minute 2 did.
#
# Usage: bench/soak.sh                 (10 minutes, 10 s periods)
#        MINUTES=2 bench/soak.sh       (a quick check)
#        LONG=1 bench/soak.sh          (the long-run mode: 15 minutes of
#                                       100 ms periods, 9,000 periods = 25 h
#                                       of 10 s ones, then the same run with
#                                       10 s periods; their p999 compared)
# Environment: MINUTES (10; 15 with LONG=1), RATE arrivals/s (100; each runs
# the seed's flow, 2-3 requests), PERIOD (10s), PORT (18083), DEBUG_PORT
# (18084), TARGET_CPU (0), TOOL_CPU (1), KEEP=1 keeps the work directory
# with the reports.
set -euo pipefail

LONG=${LONG:-0}
MINUTES=${MINUTES:-$([[ $LONG == 1 ]] && echo 15 || echo 10)}
RATE=${RATE:-100}
PERIOD=${PERIOD:-$([[ $LONG == 1 ]] && echo 100ms || echo 10s)}
PORT=${PORT:-18083}
DEBUG_PORT=${DEBUG_PORT:-18084}
TARGET_CPU=${TARGET_CPU:-0}
TOOL_CPU=${TOOL_CPU:-1}
TOKEN=soak-token-not-a-secret

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
WORK=$(mktemp -d "${TMPDIR:-/tmp}/primeload-soak.XXXXXX")
PIDS=()

log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() {
	log "error: $*"
	exit 1
}

cleanup() {
	local pid
	for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
	for pid in "${PIDS[@]}"; do
		timeout 10 tail --pid="$pid" -f /dev/null 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
	done
	if [[ ${KEEP:-0} == 1 ]]; then log "work directory kept: $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

for tool in go curl jq taskset; do
	command -v "$tool" >/dev/null || die "$tool is needed"
done
(($(nproc) >= 2)) || { TARGET_CPU=0 TOOL_CPU=0; log "one CPU: target and runner share it"; }

log "building primeload"
(cd "$ROOT" && go build -o "$WORK/primeload" .)
PRIMELOAD=$WORK/primeload

TARGET=http://127.0.0.1:$PORT
taskset -c "$TARGET_CPU" "$PRIMELOAD" serve --addr "127.0.0.1:$PORT" --token "$TOKEN" >"$WORK/serve.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 150); do
	curl -fsS -o /dev/null "$TARGET/readyz" 2>/dev/null && break
	sleep 0.1
done
curl -fsS -o /dev/null "$TARGET/readyz" || die "the target did not start: $(tail -3 "$WORK/serve.log")"

{
	cat <<EOF
config:
  target: "http://127.0.0.1"
  phases:
    - duration: $((MINUTES * 60 + 30))
      arrivalRate: $RATE
      name: soak
  defaults:
    headers:
      Authorization: "Bearer {{ \$processEnvironment.API_TOKEN }}"
      Content-Type: "application/json"
EOF
	# The seed's journey without its login, shared with bench/compare.sh.
	sed -n '/^scenarios:/,$p' "$ROOT/examples/seed-no-login.yml"
} >"$WORK/soak.yml"

TICK=$(getconf CLK_TCK)
rss_mib() { awk '/^VmRSS/ { printf "%.1f\n", $2 / 1024 }' "/proc/$1/status" 2>/dev/null || echo n/a; }
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat" 2>/dev/null || echo 0; }
goroutines() {
	curl -fsS "http://127.0.0.1:$DEBUG_PORT/debug/pprof/goroutine?debug=1" 2>/dev/null |
		awk 'NR == 1 { print $NF }' || echo n/a
}
file_bytes() { stat -c %s "$1" 2>/dev/null || echo 0; }
# requests_after FILE LINE: the requests of the checkpoint's period lines
# after LINE (line 1 is its head), so each minute reads only its own lines.
requests_after() {
	tail -n +"$(($2 + 1))" "$1" 2>/dev/null | grep '^{"period"' |
		jq -s 'map(.period.counters["http.requests"] // 0) | add // 0' 2>/dev/null || echo 0
}

# soak PERIOD NAME: one run of MINUTES minutes with --period PERIOD, its
# table on stdout; leaves the final report in $WORK/NAME.json.
soak() {
	local period=$1 name=$2 out=$WORK/$2.json
	# The runner itself is started directly (no timeout wrapper) so its pid
	# is the one whose /proc and pprof we read; the minute loop bounds it.
	API_TOKEN=$TOKEN taskset -c "$TOOL_CPU" "$PRIMELOAD" run "$WORK/soak.yml" -t "$TARGET" --quiet \
		-o "$out" --period "$period" --debug-addr "127.0.0.1:$DEBUG_PORT" >"$WORK/$name.log" 2>&1 &
	local run=$!
	PIDS+=("$run")
	log "soak ($name): $MINUTES min at $RATE arrivals/s, --period $period, against $TARGET, runner pid $run"
	echo
	echo "--period $period:"
	echo
	echo "| minute | runner RSS MiB | CPU s in minute | checkpoint KiB in minute | goroutines | requests in minute |"
	echo "|---:|---:|---:|---:|---:|---:|"
	local rows=() start=$SECONDS m ticks bytes lines row
	local prev_ticks=0 prev_bytes=0 prev_lines=1
	# The schedule runs 30 s past the last sample so every minute is
	# measured under load; samples are due on the clock, not after
	# accumulated sleeps.
	for ((m = 1; m <= MINUTES; m++)); do
		while ((SECONDS < start + m * 60)); do
			kill -0 "$run" 2>/dev/null || break 2
			sleep 1
		done
		ticks=$(cpu_ticks "$run")
		bytes=$(file_bytes "$out")
		lines=$(wc -l <"$out" 2>/dev/null || echo 1)
		row="$m $(rss_mib "$run") $(awk -v t=$((ticks - prev_ticks)) -v hz="$TICK" 'BEGIN { printf "%.2f", t / hz }')"
		row+=" $(awk -v b=$((bytes - prev_bytes)) 'BEGIN { printf "%.1f", b / 1024 }') $(goroutines) $(requests_after "$out" "$prev_lines")"
		prev_ticks=$ticks prev_bytes=$bytes prev_lines=$lines
		rows+=("$row")
		awk '{ printf "| %s | %s | %s | %s | %s | %s |\n", $1, $2, $3, $4, $5, $6 }' <<<"$row"
	done

	# The schedule is over; give the last users a minute, then stop it (it
	# still writes its report on SIGTERM).
	timeout 60 tail --pid="$run" -f /dev/null || kill -TERM "$run" 2>/dev/null || true
	local code=0
	wait "$run" || code=$?
	log "runner exit code $code"
	tail -25 "$WORK/$name.log" >&2

	# Flat means: from minute 2 on (after warm-up), RSS grows by less than
	# 10% and no minute's CPU or checkpoint bytes pass minute 2's by 25%.
	if ((${#rows[@]} >= 3)); then
		printf '%s\n' "${rows[@]:1}" | awk '
			NR == 1 { base = $2; cpu0 = $3; kib0 = $4 }
			$2 > peak { peak = $2 }
			$3 > cpu { cpu = $3 }
			$4 > kib { kib = $4 }
			END {
				growth = (peak - base) / base * 100
				printf "\nRSS from minute 2: %.1f MiB, peak after it: %.1f MiB (%+.1f%%): %s\n",
					base, peak, growth, (growth < 10 ? "flat" : "GROWING")
				printf "CPU per minute: minute 2 %.2f s, highest after it %.2f s: %s\n",
					cpu0, cpu, (cpu <= cpu0 * 1.25 + 0.05 ? "flat" : "GROWING")
				printf "checkpoint per minute: minute 2 %.1f KiB, highest after it %.1f KiB: %s\n",
					kib0, kib, (kib <= kib0 * 1.25 + 1 ? "flat" : "GROWING")
				exit (growth >= 10) }' || return 1
	fi
}

p999() { jq -r '.aggregate.summaries["http.response_time"].p999' "$1"; }

echo "primeload $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown), $(date -u +%Y-%m-%dT%H:%M:%SZ), $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
status=0
soak "$PERIOD" main || status=1
if [[ $LONG == 1 ]]; then
	soak 10s reference || status=1
	a=$(p999 "$WORK/main.json") b=$(p999 "$WORK/reference.json")
	awk -v a="$a" -v b="$b" -v p="$PERIOD" 'BEGIN {
		r = a / b
		printf "\np999 with --period %s: %.1f ms; with --period 10s: %.1f ms; ratio %.2f: %s\n",
			p, a, b, r, (r <= 1.2 ? "within 20%" : "the bookkeeping shows in the latencies")
		exit (r > 1.2) }' || status=1
fi
exit $status
