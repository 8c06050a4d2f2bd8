#!/usr/bin/env bash
# bench/soak.sh: a long steady run against the reference target, printing
# the runner's RSS and goroutine count every minute (issue 8, "Long runs").
# Memory must stay flat: histograms are fixed-size and nothing may keep a
# record per request, so after the first minute or two RSS should stop
# growing however long the run lasts.
#
# Usage: bench/soak.sh                 (10 minutes)
#        MINUTES=2 bench/soak.sh       (a quick check)
# Environment: MINUTES (10), RATE arrivals/s (100; each runs the seed's flow,
# 2-3 requests), PORT (18083), DEBUG_PORT (18084), TARGET_CPU (0),
# TOOL_CPU (1), KEEP=1 keeps the work directory with the report.
set -euo pipefail

MINUTES=${MINUTES:-10}
RATE=${RATE:-100}
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

# The runner itself is started directly (no timeout wrapper) so its pid is
# the one whose /proc and pprof we read; the minute loop below bounds it.
API_TOKEN=$TOKEN taskset -c "$TOOL_CPU" "$PRIMELOAD" run "$WORK/soak.yml" -t "$TARGET" --quiet \
	-o "$WORK/soak.json" --debug-addr "127.0.0.1:$DEBUG_PORT" >"$WORK/run.log" 2>&1 &
RUN=$!
PIDS+=("$RUN")
log "soak: $MINUTES min at $RATE arrivals/s against $TARGET, runner pid $RUN"
echo "primeload $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown), $(date -u +%Y-%m-%dT%H:%M:%SZ), load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo

rss_mib() { awk '/^VmRSS/ { printf "%.1f\n", $2 / 1024 }' "/proc/$1/status" 2>/dev/null || echo n/a; }
goroutines() {
	curl -fsS "http://127.0.0.1:$DEBUG_PORT/debug/pprof/goroutine?debug=1" 2>/dev/null |
		awk 'NR == 1 { print $NF }' || echo n/a
}
requests() { jq -r '.aggregate.counters["http.requests"] // 0' "$WORK/soak.json" 2>/dev/null || echo 0; }

echo "| minute | runner RSS MiB | goroutines | requests so far |"
echo "|---:|---:|---:|---:|"
rows=()
# The schedule runs 30 s past the last sample so every minute is measured
# under load; samples are due on the clock, not after accumulated sleeps.
start=$SECONDS
for ((m = 1; m <= MINUTES; m++)); do
	while ((SECONDS < start + m * 60)); do
		kill -0 "$RUN" 2>/dev/null || break 2
		sleep 1
	done
	row="$m $(rss_mib "$RUN") $(goroutines) $(requests)"
	rows+=("$row")
	awk '{ printf "| %s | %s | %s | %s |\n", $1, $2, $3, $4 }' <<<"$row"
done

# The schedule is over; give the last users a minute, then stop it (it still
# writes its report on SIGTERM).
timeout 60 tail --pid="$RUN" -f /dev/null || kill -TERM "$RUN" 2>/dev/null || true
code=0
wait "$RUN" || code=$?
log "runner exit code $code"
tail -25 "$WORK/run.log"

# Flat means: from minute 2 on (after warm-up), RSS grows by less than 10%.
if ((${#rows[@]} >= 3)); then
	printf '%s\n' "${rows[@]:1}" | awk '
		NR == 1 { base = $2 }
		$2 > peak { peak = $2 }
		END {
			growth = (peak - base) / base * 100
			printf "RSS from minute 2: %.1f MiB, peak after it: %.1f MiB (%+.1f%%): %s\n",
				base, peak, growth, (growth < 10 ? "flat" : "GROWING")
			exit (growth >= 10) }'
fi
