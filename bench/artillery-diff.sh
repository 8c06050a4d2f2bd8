#!/usr/bin/env bash
# bench/artillery-diff.sh: the differential check of issue 18, by hand.
#
# Runs each script of bench/artillery-diff/ with Artillery 2.0.34 and with
# primeload against the same bench/artstub, and prints per script the
# counters of both JSON reports side by side (vusers.*, http.requests,
# http.codes.*, errors.*, plugins.expect.*), the exit codes, and what the
# stub received (method, path, body) from each. Not for CI: it needs
# Artillery from npm and takes a minute or two.
#
# Usage: bench/artillery-diff.sh [SCRIPT.yml ...]
#   ART_DIR   a folder where `npm install artillery@2.0.34` was run
#             (default /tmp/art); INSTALL=1 installs it into a new
#             temporary folder first (PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1).
#   PORT      of the stub (18393: the scripts' target, overridden by -t
#             anyway); KEEP=1 keeps the work directory with both reports.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PORT=${PORT:-18393}
ART_DIR=${ART_DIR:-/tmp/art}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/artillery-diff.XXXXXX")
STUB_PID=
cleanup() {
	[[ -n $STUB_PID ]] && kill "$STUB_PID" 2>/dev/null && wait "$STUB_PID" 2>/dev/null
	[[ ${KEEP:-} == 1 ]] && echo "kept $WORK" >&2 || rm -rf "$WORK"
}
trap cleanup EXIT

if [[ ${INSTALL:-} == 1 ]]; then
	ART_DIR=$WORK/art
	mkdir -p "$ART_DIR"
	(cd "$ART_DIR" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm install --no-audit --no-fund artillery@2.0.34 >/dev/null)
fi
ARTILLERY=$ART_DIR/node_modules/.bin/artillery
if [[ ! -x $ARTILLERY ]]; then
	echo "artillery-diff: no Artillery at $ARTILLERY; run with INSTALL=1, or:" >&2
	echo "  mkdir -p $ART_DIR && cd $ART_DIR && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm install artillery@2.0.34" >&2
	exit 2
fi
version=$("$ARTILLERY" version 2>/dev/null | sed -n 's/^Artillery: *//p' | head -1 || true)

(cd "$ROOT" && go build -o "$WORK/primeload" . && go build -o "$WORK/artstub" ./bench/artstub)
"$WORK/artstub" -port "$PORT" &
STUB_PID=$!
STUB=http://127.0.0.1:$PORT
for _ in $(seq 50); do
	curl -fsS "$STUB/__counts" >/dev/null 2>&1 && break
	sleep 0.1
done

# Artillery phones home and checks for updates unless told not to.
export ARTILLERY_DISABLE_TELEMETRY=true NO_UPDATE_NOTIFIER=1

# run TOOL SCRIPT: one run, its report in $WORK/TOOL.json, the stub's
# counts in $WORK/TOOL.counts, its exit code in $WORK/TOOL.rc. A script's
# first line "# args: ..." gives both tools the same extra arguments (one
# word each; a JSON argument without spaces).
run() {
	local tool=$1 script=$2 rc=0 args=()
	read -r -a args <<<"$(sed -n '1s/^# args: //p' "$script")"
	curl -fsS -X DELETE "$STUB/__counts" >/dev/null
	rm -f "$WORK/$tool.json"
	case $tool in
	artillery) (cd "$(dirname "$script")" && timeout 120 "$ARTILLERY" run -t "$STUB" -o "$WORK/$tool.json" "${args[@]}" "$(basename "$script")") >"$WORK/$tool.out" 2>&1 || rc=$? ;;
	primeload) (cd "$(dirname "$script")" && timeout 120 "$WORK/primeload" run -t "$STUB" -q -o "$WORK/$tool.json" "${args[@]}" "$(basename "$script")") >"$WORK/$tool.out" 2>&1 || rc=$? ;;
	esac
	echo "$rc" >"$WORK/$tool.rc"
	curl -fsS "$STUB/__counts" | jq -c 'map({("received " + .key): .n}) | add // {}' >"$WORK/$tool.counts"
}

# counters prints the counters of a report that the check compares, as
# one JSON object (a missing report is {}).
counters() {
	if [[ -s $1 ]]; then
		jq -c '.aggregate.counters // {} | with_entries(select(.key | test("^(vusers\\.(created|completed|failed)$|http\\.requests$|http\\.codes\\.|errors\\.|plugins\\.expect\\.)")))' "$1"
	else
		echo '{}'
	fi
}

scripts=("$@")
((${#scripts[@]})) || scripts=("$ROOT"/bench/artillery-diff/*.yml)
echo "Artillery ${version:-2.0.34} and primeload $(cd "$ROOT" && git rev-parse --short HEAD), against bench/artstub"
for s in "${scripts[@]}"; do
	run artillery "$s"
	run primeload "$s"
	echo
	echo "== $(basename "$s")$(sed -n '1s/^# args: / /p' "$s")"
	jq -n -r \
		--argjson a "$(counters "$WORK/artillery.json")" --argjson p "$(counters "$WORK/primeload.json")" \
		--argjson ac "$(cat "$WORK/artillery.counts")" --argjson pc "$(cat "$WORK/primeload.counts")" \
		--arg arc "$(cat "$WORK/artillery.rc")" --arg prc "$(cat "$WORK/primeload.rc")" '
		def row(k): [k, ($a[k] // "-" | tostring), ($p[k] // "-" | tostring)];
		(["metric", "artillery", "primeload"]),
		(["exit code", $arc, $prc]),
		(($a + $p | keys) as $k | $k[] | row(.)),
		(($ac + $pc | keys)[] as $k | [$k, ($ac[$k] // "-" | tostring), ($pc[$k] // "-" | tostring)])
		| @tsv' | column -t -s$'\t'
	if [[ ! -s $WORK/artillery.json ]]; then
		echo "(artillery wrote no report:)"
		tail -5 "$WORK/artillery.out"
	fi
done
