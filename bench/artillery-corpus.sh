#!/usr/bin/env bash
# bench/artillery-corpus.sh: every script of Artillery 2.0.34's own
# repository, run through primeload as an Artillery user would (issue 18).
#
# It extracts every YAML/JSON file under examples/ and packages/*/test/ of
# the Artillery repository, classifies each (declarative HTTP, a non-HTTP
# engine, JavaScript hooks or functions, a plugin that needs JavaScript, or
# not a script at all), and runs each declarative one with the arguments
# Artillery's own tests (or the example's README) give it: `primeload
# validate`, then a bounded `primeload run` against bench/artstub on
# loopback. It prints one row per invocation and "N of M declarative pass".
#
# Usage: bench/artillery-corpus.sh [ARTILLERY_GIT_DIR]
#   ARTILLERY_GIT_DIR defaults to /work/.mirror/artilleryio+artillery/repo,
#   a bare mirror whose HEAD is the v2.0.34 release commit. Without one:
#     git clone --bare https://github.com/artilleryio/artillery art.git
#     git --git-dir=art.git update-ref HEAD artillery@2.0.34^{commit}
#   (or any clone, with `git checkout artillery@2.0.34`; the script reads
#   HEAD only).
# Knobs (environment): PORT of the stub (18391), LIMIT seconds a run may
# take before it is interrupted (30), KEEP=1 keeps the work directory,
# VERBOSE=1 prints each failing run's output.
#
# Every run is bounded: --overrides replaces config.phases with one phase
# of 2 arrivals in 1 s (after -e and --config, so it wins over both), the
# target is the stub (-t), HTTP_PROXY and HTTPS_PROXY point at the stub so
# an absolute URL to a public host ends there too, and `timeout` interrupts
# a run still going after LIMIT seconds (think times, long loops).
# Validation sees the script's own phases. Pass means: validate exits 0
# and the run completes (exit 0, 1 for an SLO verdict, 21 for failed
# expectations: verdicts about the stub's answers, not about primeload)
# or is stopped by the LIMIT bound (124). The vusers column has the
# report's errors.* counters: a capture or match the stub's fixed answer
# cannot satisfy fails there as it would under Artillery.
set -euo pipefail

GIT_DIR=${1:-/work/.mirror/artilleryio+artillery/repo}
PORT=${PORT:-18391}
LIMIT=${LIMIT:-30}
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

if ! git --git-dir="$GIT_DIR" rev-parse -q --verify HEAD >/dev/null 2>&1; then
	echo "artillery-corpus: no git repository at $GIT_DIR" >&2
	sed -n '/^# Usage/,/^#   HEAD only/p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
	exit 2
fi
for tool in yq jq go timeout curl column; do
	command -v "$tool" >/dev/null || { echo "artillery-corpus: needs $tool" >&2; exit 2; }
done
# The classifier is a jq program: it needs the yq that wraps jq (pip
# install yq), not the Go one of the same name.
if ! echo '{"a": 1}' | yq -e '.a == 1' >/dev/null 2>&1; then
	echo "artillery-corpus: needs yq, the jq wrapper for YAML (pip install yq)" >&2
	exit 2
fi

WORK=$(mktemp -d "${TMPDIR:-/tmp}/artillery-corpus.XXXXXX")
STUB_PID=
cleanup() {
	[[ -n $STUB_PID ]] && kill "$STUB_PID" 2>/dev/null && wait "$STUB_PID" 2>/dev/null
	[[ ${KEEP:-} == 1 ]] && echo "kept $WORK" >&2 || rm -rf "$WORK"
}
trap cleanup EXIT

# Extract: file by file, since a mirror may lack its largest blobs.
SRC=$WORK/src
git --git-dir="$GIT_DIR" ls-tree -r --name-only HEAD examples packages |
	grep -E '^(examples/|packages/[^/]+/test/)' |
	while IFS= read -r f; do
		mkdir -p "$SRC/$(dirname "$f")"
		git --git-dir="$GIT_DIR" show "HEAD:$f" >"$SRC/$f" 2>/dev/null || rm -f "$SRC/$f"
	done
release=$(git --git-dir="$GIT_DIR" log -1 --format='%h %s' HEAD)

(cd "$ROOT" && go build -o "$WORK/primeload" . && go build -o "$WORK/artstub" ./bench/artstub)
"$WORK/artstub" -port "$PORT" &
STUB_PID=$!
for _ in $(seq 50); do
	curl -fsS "http://127.0.0.1:$PORT/__counts" >/dev/null 2>&1 && break
	sleep 0.1
done

# How Artillery runs each script that needs more than `artillery run
# SCRIPT`, one invocation a line: path, then the arguments (KEY=VALUE
# first for the environment; paths relative to the script's folder, where
# the run starts). A script listed here runs only as listed. The source of
# each is the test or README named above it.
INVOCATIONS=$(
	cat <<'EOF'
# examples/functional-testing-with-expect-plugin/README.md
examples/functional-testing-with-expect-plugin/functional-load-tests.yml --environment load
examples/functional-testing-with-expect-plugin/functional-load-tests.yml --environment functional
# examples/script-overrides/README.md
examples/script-overrides/test.yaml -e smoke
examples/script-overrides/test.yaml -e preprod
examples/script-overrides/test.yaml ARRIVAL_RATE=20 DURATION=600 -e dynamic
# examples/table-driven-functional-tests/README.md
examples/table-driven-functional-tests/functional-test.yml --solo -q
# examples/multiple-scenario-specs/README.md
examples/multiple-scenario-specs/scenarios/armadillo.yml --config ../common-config.yml
examples/multiple-scenario-specs/scenarios/dino.yml --config ../common-config.yml
examples/multiple-scenario-specs/scenarios/pony.yml --config ../common-config.yml
# packages/artillery/test/cloud-e2e/fargate/misc.test.js (SECRET1/2 from its --launch-config)
packages/artillery/test/cloud-e2e/fargate/fixtures/cli-kitchen-sink/kitchen-sink.yml SECRET1=/armadillo SECRET2=/pony --dotenv kitchen-sink-env --count 2
# packages/artillery/test/cloud-e2e/fargate/expect-plugin.test.js, ensure-plugin.test.js
packages/artillery/test/cloud-e2e/fargate/fixtures/cli-exit-conditions/with-expect.yml --count 2
packages/artillery/test/cloud-e2e/fargate/fixtures/cli-exit-conditions/with-expect-ensure.yml --count 2
packages/artillery/test/cloud-e2e/fargate/fixtures/uses-ensure/with-ensure.yaml --count 15
# packages/artillery/test/cloud-e2e/fargate/bom.test.js, lambda/lambda-bom.test.js
packages/artillery/test/cloud-e2e/fargate/fixtures/mixed-hierarchy/scenarios/mixed-hierarchy-dino.yml --config ../config/config.yml -e main
packages/artillery/test/cloud-e2e/fargate/fixtures/mixed-hierarchy/scenarios/mixed-hierarchy-dino.yml --config ../config/config-no-file-uploads.yml -e main
# packages/artillery/test/core/acceptance/*.test.js hand the runner pets.csv's rows; -p is the CLI's way
packages/artillery/test/core/scripts/single_payload.json -p data/pets.csv
packages/artillery/test/core/scripts/iftrue.json -p data/pets.csv
packages/artillery/test/core/scripts/captures-regexp.json -p data/pets.csv
packages/artillery/test/core/scripts/all_features.json -p data/pets.csv
# packages/artillery/test/cli/command-run.test.js
packages/artillery/test/scripts/hello.json --config hello_config.json
packages/artillery/test/scripts/environments.yaml -e dev
packages/artillery/test/scripts/environments2.json -e production
packages/artillery/test/scripts/single_payload.json -p pets.csv
packages/artillery/test/scripts/multiple_payloads.json --environment local
packages/artillery/test/scripts/scenario-named/scenario.yml --scenario-name "Test Scenario 2"
packages/artillery/test/scripts/scenario-named/scenario.yml --scenario-name "Test Scenario (4)"
packages/artillery/test/scripts/scenario-cli-variables/scenario-with-variables.yml --variables '{"bar":"this is me","myVar":3}'
packages/artillery/test/scripts/scenario-cli-variables/scenario-with-other-nested-config.yml --variables '{"myVar":3,"defaultCookie":"abc123","anotherCookie":"hellothere"}'
packages/artillery/test/scripts/scenario-config-different-folder/scenario.yml --config config/config.yml
packages/artillery/test/scripts/scenario-config-different-folder/scenario.yml --config config/config-processor-backward-compatibility.yml
packages/artillery/test/scripts/with-dotenv/with-dotenv.yml --dotenv my-vars
packages/artillery/test/scripts/with-process-env/with-env.yml URL=http://asciiart.artillery.io:8080/ ENVIRONMENT=testing ARRIVAL_RATE=2 NESTED_HEADER_VALUE=abc123
packages/artillery/test/scripts/with-process-env/with-processEnvironment.yml URL=http://asciiart.artillery.io:8080/ ENVIRONMENT=testing ARRIVAL_RATE=2 NESTED_HEADER_VALUE=abc123
# packages/artillery/test/cli/custom-plugin.test.js adds plugins.httphooks and a processor by --overrides
packages/artillery/test/scripts/scenario-with-custom-plugin/custom-plugin.yml CLASS=plugin:httphooks
# packages/artillery/test/cli/variables-from-external-files.test.js (the CSV is outside the script's folder)
packages/artillery/test/scripts/test-calc-server.yml --environment single-cli -p ../data/calc-test-data-1.csv --allow-outside-payload
packages/artillery/test/scripts/scenario-payload-with-envs/scenario.yml --environment staging --config config/artillery-config.yml
# packages/artillery/test/cli/errors-and-warnings.test.js (its commented-out bats test)
packages/artillery/test/scripts/hello_with_xpath.json --config hello_config.json
EOF
)

# classify prints the class of the script on stdin (a config file already
# merged in): declarative HTTP is "http"; the JavaScript-free plugins are
# expect, ensure and metrics-by-endpoint.
classify() {
	yq -r '
	def js_keys: ["function","beforeRequest","afterResponse","beforeScenario","afterScenario","whileTrue","transform"];
	def plugins: [(.config.plugins // {}), (.config.environments // {} | .[] | .plugins // {}) | keys[]]
		| map(select(IN("expect","ensure","metrics-by-endpoint") | not)) | unique;
	def engines: [(.scenarios[]?.engine // empty | select(. != "http")), (.config.engines // {} | keys[])] | unique;
	def hooks: [.. | objects | keys[] | strings | select(IN(js_keys[]))] | unique;
	if type != "object" or ((has("config") or has("scenarios")) | not) then "not-a-script"
	elif (engines | length) > 0 then "engine:" + (engines | join(","))
	elif (hooks | length) > 0 then "js:" + (hooks | join(","))
	elif (plugins | length) > 0 then "plugin:" + (plugins | join(","))
	elif has("scenarios") | not then "config-only"
	elif has("config") | not then "scenarios-only"
	else "http" end' 2>/dev/null | head -1 || echo "unreadable"
}

# merged prints the script with its --config file laid over it, for
# classify.
merged() {
	local dir=$1 script=$2 config=$3
	if [[ -n $config ]]; then
		(cd "$dir" && yq -s '.[0] * .[1]' "$script" "$config")
	else
		cat "$dir/$script"
	fi
}

BOUND='{"config":{"phases":[{"duration":1,"arrivalCount":2}]}}'
ROWS=$WORK/rows
: >"$ROWS"
declarative=0
passed=0

# run_one SCRIPT_PATH [ARGS...]: classify, validate and run one invocation.
run_one() {
	local path=$1
	shift
	local dir script envs=() args=() forced= config=
	dir=$SRC/$(dirname "$path")
	script=$(basename "$path")
	while (($#)) && [[ $1 =~ ^[A-Z_][A-Z0-9_]*= ]]; do
		if [[ $1 == CLASS=* ]]; then forced=${1#CLASS=}; else envs+=("$1"); fi
		shift
	done
	args=("$@")
	local i
	for ((i = 0; i < ${#args[@]}; i++)); do
		[[ ${args[i]} == --config ]] && config=${args[i + 1]}
	done
	local class
	class=${forced:-$(merged "$dir" "$script" "$config" | classify)}
	local label="$path${args[*]:+ ${args[*]}}${envs[*]:+ (${envs[*]})}"
	if [[ $class != http ]]; then
		printf '%s\t%s\t-\t-\t-\n' "$label" "$class" >>"$ROWS"
		return
	fi
	declarative=$((declarative + 1))
	# validate takes the flags that shape the script, not run's own.
	local vargs=()
	for ((i = 0; i < ${#args[@]}; i++)); do
		case ${args[i]} in
		--count | --scenario-name) i=$((i + 1)) ;;
		--solo | -s | -q | --quiet) ;;
		*) vargs+=("${args[i]}") ;;
		esac
	done
	local vout vrc=0 verdict
	vout=$(cd "$dir" && env "${envs[@]}" "$WORK/primeload" validate "$script" "${vargs[@]}" -t "http://127.0.0.1:$PORT" 2>&1) || vrc=$?
	if ((vrc == 0)); then
		verdict=ok
	else
		verdict="err: $(grep -v '^note:' <<<"$vout" | head -1 | cut -c1-160)"
	fi
	local rout rrc=0 report=$WORK/report.json counts=-
	rm -f "$report"
	rout=$(cd "$dir" && env "${envs[@]}" HTTP_PROXY="http://127.0.0.1:$PORT" HTTPS_PROXY="http://127.0.0.1:$PORT" \
		NO_PROXY=127.0.0.1 timeout -s INT "$LIMIT" "$WORK/primeload" run "$script" "${args[@]}" \
		-t "http://127.0.0.1:$PORT" --overrides "$BOUND" -q -o "$report" 2>&1) || rrc=$?
	if [[ -s $report ]]; then
		counts=$(jq -r '.aggregate.counters as $c
			| "\($c["vusers.created"] // 0)/\($c["vusers.completed"] // 0)/\($c["vusers.failed"] // 0)/\($c["http.requests"] // 0)"
			+ ([$c | to_entries[] | select(.key | startswith("errors.")) | " \(.key[7:])×\(.value)"] | join(""))' "$report")
	fi
	[[ $rrc == 124 ]] && rrc="124 (stopped at ${LIMIT}s)"
	if ((vrc == 0)) && [[ $rrc == 0 || $rrc == 1 || $rrc == 21 || $rrc == 124* ]]; then
		passed=$((passed + 1))
	elif [[ ${VERBOSE:-} == 1 ]]; then
		printf '%s\n%s\n' "--- $label (validate $vrc, run $rrc)" "$rout" >&2
	fi
	printf '%s\t%s\t%s\t%s\t%s\n' "$label" "$class" "$verdict" "$rrc" "$counts" >>"$ROWS"
}

listed=$(grep -v '^#' <<<"$INVOCATIONS" | awk '{print $1}' | sort -u)
while IFS= read -r f; do
	if grep -qxF "$f" <<<"$listed"; then
		while IFS= read -r line; do
			eval "run_one $line"
		done < <(grep -v '^#' <<<"$INVOCATIONS" | awk -v f="$f" '$1 == f')
	else
		run_one "$f"
	fi
done < <(cd "$SRC" && find examples packages -type f \( -name '*.yml' -o -name '*.yaml' -o -name '*.json' \) \
	! -name 'package.json' ! -name 'package-lock.json' | LC_ALL=C sort)

echo "Artillery corpus: $release ($GIT_DIR)"
echo
echo "Declarative HTTP scripts, as Artillery's tests and READMEs run them"
echo "(vusers: created/completed/failed, http.requests and errors.* of the bounded run of 2 arrivals)"
echo
{
	printf 'script\tvalidate\trun\tvusers\n'
	awk -F'\t' '$2 == "http" {print $1 "\t" $3 "\t" $4 "\t" $5}' "$ROWS" | LC_ALL=C sort
} | column -t -s$'\t'
echo
echo "Left out: not declarative HTTP"
echo
{
	printf 'script\tclass\n'
	awk -F'\t' '$2 != "http" {print $1 "\t" $2}' "$ROWS" | LC_ALL=C sort -t$'\t' -k2,2 -k1,1
} | column -t -s$'\t'
echo
awk -F'\t' '{split($2, c, ":"); n[c[1]]++} END {for (k in n) printf "%s %d, ", k, n[k]; print ""}' "$ROWS" | sed 's/, $//'
echo "$passed of $declarative declarative pass"
