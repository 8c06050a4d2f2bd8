#!/usr/bin/env bash
# examples/distributed.sh: a distributed primeload run on one machine, the
# same flow as examples/k8s/ without Kubernetes.
#
# It starts the reference target (primeload serve) on a loopback port, then N
# `primeload run --segment i/N` processes that all wait for one wall-clock
# instant and each send 1/N of the script's arrivals, writing one report part
# each; then `primeload report` merges the parts and gates on the SLOs. Its
# exit code is the merged run's (0 passed, 1 an SLO failed, 3 a generator
# fell behind).
#
# Usage: examples/distributed.sh [SCRIPT]
#   SCRIPT defaults to a short version of the seed's scenario (about 20 s).
# Environment: N processes (4), PORT for the target (18090), OUT directory for
# the parts and merged.json (./distributed-out), LIMIT seconds any process
# may run (300).
set -euo pipefail

N=${N:-4}
PORT=${PORT:-18090}
OUT=${OUT:-distributed-out}
LIMIT=${LIMIT:-300}
# Only for this local demo target; a real run takes it from a secret.
TOKEN=distributed-demo-token

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
WORK=$(mktemp -d "${TMPDIR:-/tmp}/primeload-distributed.XXXXXX")
PIDS=()

log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

# shellcheck disable=SC2317 # called by the EXIT trap
cleanup() {
	local pid
	for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
	for pid in "${PIDS[@]}"; do
		timeout 10 tail --pid="$pid" -f /dev/null 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
	done
	rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

[[ $N =~ ^[1-9][0-9]*$ ]] || { log "N=$N: want a whole number of processes, 1 or more"; exit 2; }

log "building primeload"
(cd "$ROOT" && go build -o "$WORK/primeload" .)
PRIMELOAD=$WORK/primeload

SCRIPT=${1:-}
if [[ -z $SCRIPT ]]; then
	SCRIPT=$WORK/script.yml
	# The seed's scenario (module 08, part 6) at a tenth of its length and
	# rate, without the login that would only measure 401s.
	{
		cat <<'EOF'
config:
  target: "http://127.0.0.1"
  phases:
    - duration: 5
      arrivalRate: 10
      name: "Warm up"
    - duration: 10
      arrivalRate: 40
      name: "Sustained load"
    - duration: 5
      arrivalRate: 10
      rampTo: 80
      name: "Peak load"
  defaults:
    headers:
      Authorization: "Bearer {{ $processEnvironment.API_TOKEN }}"
      Content-Type: "application/json"
  ensure:
    thresholds:
      - http.response_time.p95: 500
EOF
		# The journey itself is examples/seed-no-login.yml's.
		sed -n '/^scenarios:/,$p' "$ROOT/examples/seed-no-login.yml"
	} >"$SCRIPT"
fi
"$PRIMELOAD" validate "$SCRIPT" >&2

if ss -Hltn "sport = :$PORT" | grep -q .; then
	log "port $PORT is taken; set PORT"
	exit 2
fi
TARGET=http://127.0.0.1:$PORT
"$PRIMELOAD" serve --addr "127.0.0.1:$PORT" --token "$TOKEN" >"$WORK/serve.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 100); do
	curl -fsS -o /dev/null "$TARGET/readyz" 2>/dev/null && break
	sleep 0.1
done
curl -fsS -o /dev/null "$TARGET/readyz" || {
	log "the target did not become ready: $(tail -3 "$WORK/serve.log")"
	exit 1
}
log "reference target at $TARGET"

# One instant for every process, fixed before any starts: a relative
# --start-at +5s would drift by however long the launches take.
START_AT=$(date -u -d '+5 seconds' +%Y-%m-%dT%H:%M:%SZ)
mkdir -p "$OUT"
rm -f "$OUT"/part-*.json "$OUT/merged.json"
parts=()
runs=()
for ((i = 1; i <= N; i++)); do
	part=$OUT/part-$i.json
	parts+=("$part")
	API_TOKEN=$TOKEN timeout -k 10 "$LIMIT" "$PRIMELOAD" run "$SCRIPT" --segment "$i/$N" \
		--start-at "$START_AT" -t "$TARGET" -o "$part" --quiet >"$OUT/part-$i.log" 2>&1 &
	runs+=($!)
	PIDS+=($!)
done
log "$N segments start together at $START_AT; logs in $OUT/part-*.log"

failed=0
for ((i = 1; i <= N; i++)); do
	code=0
	wait "${runs[i - 1]}" || code=$?
	# 1 and 3 are verdicts on this segment alone; the merged report decides.
	case $code in
	0 | 1 | 3) log "segment $i/$N done (exit $code)" ;;
	*)
		log "segment $i/$N failed with exit $code: $(tail -3 "$OUT/part-$i.log")"
		failed=1
		;;
	esac
done
((failed == 0)) || exit 1

log "merging ${#parts[@]} parts into $OUT/merged.json"
code=0
"$PRIMELOAD" report "${parts[@]}" -o "$OUT/merged.json" || code=$?
log "merged run exit code: $code"
exit "$code"
