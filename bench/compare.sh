#!/usr/bin/env bash
# bench/compare.sh: primeload side by side with wrk and Vegeta (issue 6).
#
# One core serves (nginx, the reference target, a hello-world server: CPU 0),
# another core loads (every tool: CPU 1; (f) lets primeload use both, to
# compare GOMAXPROCS 1 and 2). Every run is bounded by `timeout`,
# repeated, and the median kept. Absolute numbers on a shared machine are
# noise; the ratios printed at the end are computed inside this one run and
# are the figures to judge.
#
# Usage: bench/compare.sh            (about 15 minutes)
#        DURATION=3 REPEATS=1 bench/compare.sh   (a quick look, not a result)
#        SECTIONS=c bench/compare.sh             (only the held users)
#        SECTIONS=f bench/compare.sh             (only GOMAXPROCS 1 vs 2)
# Knobs (environment): DURATION seconds per run (10), REPEATS (3),
# SECTIONS of the table to run (abcdef), TARGET_CPU (0), TOOL_CPU (1),
# SEARCH_STEPS (7), VUS_HELD sizes of (c) ("10000 50000"; wrk and Vegeta
# hold the first only: one source address has 28,232 ephemeral ports; a
# size one process lacks the descriptors for runs as segments of one run in
# several primeload processes, their RSS summed),
# NGINX_PORT (18080), SERVE_PORT (18081), HELLO_PORT (18082),
# HELD_PORT (18083), HELD_RATE arrivals/s of (c)'s users (5000),
# F_RATE arrivals/s of (f)'s fixed rate (10000), F_CPUS the CPUs of (f)'s
# tool ("TOOL_CPU,TARGET_CPU"), F_SAT_NICE how much below nginx's the
# priority of (f)'s saturated tool is (0),
# KEEP=1 keeps the work directory.
set -euo pipefail

DURATION=${DURATION:-10}
REPEATS=${REPEATS:-3}
TARGET_CPU=${TARGET_CPU:-0}
TOOL_CPU=${TOOL_CPU:-1}
SEARCH_STEPS=${SEARCH_STEPS:-7}
SECTIONS=${SECTIONS:-abcdef}
VUS_HELD=${VUS_HELD:-10000 50000}
read -r -a HELD_SIZES <<<"$VUS_HELD"
HELD_MAX=$(printf '%s\n' "${HELD_SIZES[@]}" | sort -n | tail -1)
NGINX_PORT=${NGINX_PORT:-18080}
SERVE_PORT=${SERVE_PORT:-18081}
HELLO_PORT=${HELLO_PORT:-18082}
HELD_PORT=${HELD_PORT:-18083}
# Users per loopback address in (c), below half the 28,232 ephemeral ports
# (32768-60999) Linux has for one destination: connect() takes the even
# half first and searches the odd half slowly, in system time, once those
# are used. At 16,700 users per address, arrivals past 42,000 of 50,000
# waited seconds to connect (schedule lag p99 4-8 s, 1.3% timeouts).
HELD_PER_ADDR=12000
# Arrivals per second of the held users in (c), all processes together.
HELD_RATE=${HELD_RATE:-5000}
# Arrivals per second of (f), a rate one core sustains with room to spare,
# and the CPUs its tool may use at both GOMAXPROCS settings: both cores, so
# GOMAXPROCS=2 runs in parallel (nginx, on one of them, needs little of it).
F_RATE=${F_RATE:-10000}
F_CPUS=${F_CPUS:-$TOOL_CPU,$TARGET_CPU}
# How much lower than nginx's the priority of (f)'s saturated tool is. 0:
# at equal priority nginx gets its fair half of CPU 0, more than it needs at
# the rates the tool reaches there; at 5 it preempted the tool at every
# wakeup (10x the involuntary context switches), which cost 15-25% more CPU
# per request at GOMAXPROCS=2, a cost of sharing the core and not of the tool.
F_SAT_NICE=${F_SAT_NICE:-0}
TOKEN=bench-token-not-a-secret
VEGETA_VERSION=v12.13.0
# Every tool run is killed after this long, whatever happens.
LIMIT=$((DURATION + 30))

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
WORK=$(mktemp -d "${TMPDIR:-/tmp}/primeload-compare.XXXXXX")
PIDS=()

log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() {
	log "error: $*"
	exit 1
}

cleanup() {
	local pid
	for pid in "${PIDS[@]}"; do
		kill -TERM "$pid" 2>/dev/null || true
	done
	for pid in "${PIDS[@]}"; do
		# Give each a moment to drain, then make sure.
		timeout 5 tail --pid="$pid" -f /dev/null 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
	done
	if [[ ${KEEP:-0} == 1 ]]; then
		log "work directory kept: $WORK"
	else
		rm -rf "$WORK"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---------------------------------------------------------------- tools

as_root() {
	if [[ $(id -u) == 0 ]]; then "$@"; else sudo "$@"; fi
}

APT_UPDATED=0
apt_install() {
	command -v apt-get >/dev/null || die "missing $*: install it (no apt-get here)"
	if [[ $APT_UPDATED == 0 ]]; then
		log "apt-get update"
		as_root apt-get update -qq >&2
		APT_UPDATED=1
	fi
	log "apt-get install $*"
	as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >&2
}

ensure_tools() {
	export PATH="$PATH:/usr/sbin:/sbin:/usr/local/go/bin"
	command -v go >/dev/null || die "go is needed to build primeload (https://go.dev/dl/)"
	local missing=()
	command -v wrk >/dev/null || missing+=(wrk)
	command -v nginx >/dev/null || missing+=(nginx-light)
	command -v jq >/dev/null || missing+=(jq)
	command -v curl >/dev/null || missing+=(curl)
	command -v taskset >/dev/null || missing+=(util-linux)
	[[ -x /usr/bin/time ]] || missing+=(time)
	if ((${#missing[@]})); then apt_install "${missing[@]}"; fi
	GOBIN_DIR=$(go env GOPATH)/bin
	export PATH="$PATH:$GOBIN_DIR"
	if ! command -v vegeta >/dev/null; then
		log "go install github.com/tsenart/vegeta/v12@$VEGETA_VERSION"
		go install "github.com/tsenart/vegeta/v12@$VEGETA_VERSION"
	fi
	(($(nproc) >= 2)) || die "need 2 CPUs (one serves, one loads), found $(nproc)"
	# Held connections need as many descriptors in the tool and nginx.
	ulimit -n $((HELD_MAX + 1000)) 2>/dev/null || ulimit -n "$(ulimit -Hn)"
	(($(ulimit -n) > HELD_MAX + 1000)) || log "note: ulimit -n is $(ulimit -n) (hard limit $(ulimit -Hn); raising it needs CAP_SYS_RESOURCE), too low for $HELD_MAX connections in one process: larger sizes of (c) run as several primeload processes, and wrk and Vegeta are held at the sizes one process can"
}

build() {
	log "building primeload and bench/hello"
	mkdir -p "$WORK/bin"
	(cd "$ROOT" && go build -trimpath -o "$WORK/bin/primeload" . && go build -trimpath -o "$WORK/bin/hello" ./bench/hello)
	PRIMELOAD=$WORK/bin/primeload
}

# ---------------------------------------------------------------- servers

port_free() { ! ss -Hltn "sport = :$1" | grep -q .; }

# wait_http URL [HEADER]: until it answers 200, for at most 15 s.
wait_http() {
	local i
	for i in $(seq 150); do
		if curl -fsS -o /dev/null ${2:+-H "$2"} "$1" 2>/dev/null; then return 0; fi
		sleep 0.1
	done
	log "$1 did not answer within 15 s"
	return 1
}

start_nginx() {
	port_free "$NGINX_PORT" || die "port $NGINX_PORT is taken; set NGINX_PORT"
	mkdir -p "$WORK/nginx/logs"
	cat >"$WORK/nginx/nginx.conf" <<EOF
daemon off;
worker_processes 1;
worker_rlimit_nofile 65536;
pid $WORK/nginx/nginx.pid;
error_log $WORK/nginx/logs/error.log warn;
events { worker_connections 32768; }
http {
    access_log off;
    keepalive_timeout 120s;
    keepalive_requests 100000000;
    client_body_temp_path $WORK/nginx/body;
    proxy_temp_path $WORK/nginx/proxy;
    fastcgi_temp_path $WORK/nginx/fastcgi;
    uwsgi_temp_path $WORK/nginx/uwsgi;
    scgi_temp_path $WORK/nginx/scgi;
    server {
        listen 127.0.0.1:$NGINX_PORT reuseport backlog=65535;
        location = /json {
            default_type application/json;
            return 200 '{"status":"ok","service":"primepre"}';
        }
        location = /nginx_status { stub_status; }
    }
}
EOF
	taskset -c "$TARGET_CPU" nginx -p "$WORK/nginx" -c "$WORK/nginx/nginx.conf" &
	PIDS+=($!)
	NGINX=http://127.0.0.1:$NGINX_PORT
	wait_http "$NGINX/json" || die "nginx did not start: $(tail -3 "$WORK/nginx/logs/error.log")"
	log "nginx on CPU $TARGET_CPU at $NGINX"
}

# start_held_nginx: nginx for (c), listening on as many loopback addresses
# (127.0.0.1, .2, ...) as the largest size needs, with enough workers to
# hold it within the descriptor limit; sets HELD_HOSTS.
start_held_nginx() {
	port_free "$HELD_PORT" || die "port $HELD_PORT is taken; set HELD_PORT"
	local addrs=$(((HELD_MAX + HELD_PER_ADDR - 1) / HELD_PER_ADDR)) per_worker workers i listen=""
	per_worker=$(($(ulimit -n) - 100))
	((per_worker <= 32768)) || per_worker=32768
	# reuseport spreads connections over the workers by a hash: leave room.
	workers=$(((HELD_MAX * 3 / 2 + per_worker - 1) / per_worker))
	HELD_HOSTS=()
	for ((i = 1; i <= addrs; i++)); do
		listen+="        listen 127.0.0.$i:$HELD_PORT reuseport backlog=65535;"$'\n'
		HELD_HOSTS+=("127.0.0.$i:$HELD_PORT")
	done
	mkdir -p "$WORK/held-nginx/logs"
	cat >"$WORK/held-nginx/nginx.conf" <<EOF
daemon off;
worker_processes $workers;
worker_rlimit_nofile $(ulimit -n);
pid $WORK/held-nginx/nginx.pid;
error_log $WORK/held-nginx/logs/error.log warn;
events { worker_connections $per_worker; }
http {
    access_log off;
    keepalive_timeout 120s;
    keepalive_requests 100000000;
    client_body_temp_path $WORK/held-nginx/body;
    proxy_temp_path $WORK/held-nginx/proxy;
    fastcgi_temp_path $WORK/held-nginx/fastcgi;
    uwsgi_temp_path $WORK/held-nginx/uwsgi;
    scgi_temp_path $WORK/held-nginx/scgi;
    server {
$listen        location = /json {
            default_type application/json;
            return 200 '{"status":"ok","service":"primepre"}';
        }
        location = /nginx_status { stub_status; }
    }
}
EOF
	taskset -c "$TARGET_CPU" nginx -p "$WORK/held-nginx" -c "$WORK/held-nginx/nginx.conf" &
	PIDS+=($!)
	HELD_NGINX=http://127.0.0.1:$HELD_PORT
	wait_http "$HELD_NGINX/json" || die "nginx for (c) did not start: $(tail -3 "$WORK/held-nginx/logs/error.log")"
	log "nginx for (c): $workers workers on CPU $TARGET_CPU at ${HELD_HOSTS[*]}"
}

start_serve() {
	port_free "$SERVE_PORT" || die "port $SERVE_PORT is taken; set SERVE_PORT"
	taskset -c "$TARGET_CPU" "$PRIMELOAD" serve --addr "127.0.0.1:$SERVE_PORT" --token "$TOKEN" \
		>"$WORK/serve.log" 2>&1 &
	PIDS+=($!)
	SERVE=http://127.0.0.1:$SERVE_PORT
	wait_http "$SERVE/api/goods-received/" "Authorization: Bearer $TOKEN" || {
		log "primeload serve did not start, (d) and (e) are skipped: $(tail -3 "$WORK/serve.log")"
		return 1
	}
	log "primeload serve (memory store) on CPU $TARGET_CPU at $SERVE"
}

start_hello() {
	port_free "$HELLO_PORT" || die "port $HELLO_PORT is taken; set HELLO_PORT"
	taskset -c "$TARGET_CPU" "$WORK/bin/hello" -addr "127.0.0.1:$HELLO_PORT" &
	PIDS+=($!)
	HELLO=http://127.0.0.1:$HELLO_PORT
	wait_http "$HELLO/" || die "bench/hello did not start"
	log "hello-world net/http on CPU $TARGET_CPU at $HELLO"
}

# nginx_status FIELD: "active" connections now, or "accepts" so far, of
# the nginx for (c).
nginx_status() {
	curl -fsS "$HELD_NGINX/nginx_status" | awk -v f="$1" '
		f == "active" && /^Active connections/ { print $3 }
		f == "accepts" && prev ~ /server accepts/ { print $1 }
		{ prev = $0 }'
}

# ---------------------------------------------------------------- numbers

# median V...: the middle of the numeric values, "n/a" when none.
median() {
	printf '%s\n' "$@" | grep -E '^-?[0-9.]+(e[-+]?[0-9]+)?$' | sort -g |
		awk '{ v[NR] = $1 } END {
			if (NR == 0) print "n/a"
			else if (NR % 2) print v[(NR + 1) / 2]
			else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# calc EXPR: awk arithmetic, "n/a" when any operand is.
calc() {
	[[ $* == *n/a* ]] && { echo n/a; return; }
	awk "BEGIN { printf \"%.6g\n\", $* }"
}

# repeat FUNC ARGS...: run a measurement REPEATS times, print the median of
# each of its output fields (it prints "v1 v2 ..." per run).
repeat() {
	local i runs=()
	for ((i = 1; i <= REPEATS; i++)); do
		runs+=("$("$@")")
	done
	local n
	n=$(awk '{ print NF }' <<<"${runs[0]}")
	local f out=()
	for ((f = 1; f <= n; f++)); do
		# shellcheck disable=SC2046
		out+=("$(median $(printf '%s\n' "${runs[@]}" | awk -v f="$f" '{ print $f }'))")
	done
	echo "${out[*]}"
}

# time_field FILE FIELD: from /usr/bin/time -v output: rss (MiB) or cpu (s).
time_field() {
	[[ -s $1 ]] || { echo n/a; return; }
	case $2 in
	rss) awk -F': ' '/Maximum resident set size/ { printf "%.1f\n", $2 / 1024 }' "$1" ;;
	cpu) awk -F': ' '/User time/ { u = $2 } /System time/ { s = $2 } END { printf "%.3f\n", u + s }' "$1" ;;
	esac
}

# ---------------------------------------------------------------- tools' runs

# on_tool FILE.time CMD...: run CMD on the tool core under /usr/bin/time,
# bounded; TOOL_NICE, when set, lowers its priority by that much.
on_tool() {
	local tf=$1
	shift
	# shellcheck disable=SC2086 # "nice -n N" or nothing
	/usr/bin/time -v -o "$tf" timeout -k 5 "$LIMIT" taskset -c "$TOOL_CPU" ${TOOL_NICE:+nice -n $TOOL_NICE} "$@"
}

# wrk_rps CONNS URL [HEADER]: requests/s of one wrk run; also leaves $WORK/wrk.time.
wrk_rps() {
	local out
	out=$(on_tool "$WORK/wrk.time" wrk -t1 -c"$1" -d"${DURATION}s" ${3:+-H "$3"} "$2" 2>&1) || {
		log "wrk failed: $out"
		echo n/a
		return
	}
	awk '/^Requests\/sec/ { print $2 }' <<<"$out"
}

# vegeta_run NAME ARGS...: one attack of DURATION against the targets file
# $WORK/NAME.targets, results decoded into $WORK/NAME.json.
vegeta_run() {
	local name=$1
	shift
	if ! on_tool "$WORK/$name.time" vegeta attack -targets="$WORK/$name.targets" -duration="${DURATION}s" \
		-keepalive=true "$@" >"$WORK/$name.bin" 2>"$WORK/$name.err"; then
		log "vegeta failed: $(tail -3 "$WORK/$name.err")"
		return 1
	fi
	vegeta report -type=json <"$WORK/$name.bin" >"$WORK/$name.json"
	rm -f "$WORK/$name.bin"
}

vegeta_targets() { # NAME URL [HEADER]
	{
		echo "GET $2"
		[[ -z ${3:-} ]] || echo "$3"
	} >"$WORK/$1.targets"
}

# prime_run NAME SCRIPT TARGET [FLAGS]: one primeload run; report in $WORK/NAME.json.
# Exit 3 (fell behind) still measured something, so only a missing report fails.
prime_run() {
	local name=$1 script=$2 target=$3
	shift 3
	rm -f "$WORK/$name.json"
	API_TOKEN=$TOKEN on_tool "$WORK/$name.time" "$PRIMELOAD" run "$script" -t "$target" --quiet \
		-o "$WORK/$name.json" "$@" >"$WORK/$name.log" 2>&1 || true
	if ! jq -e .aggregate "$WORK/$name.json" >/dev/null 2>&1; then
		log "primeload run $name wrote no report: $(tail -3 "$WORK/$name.log")"
		return 1
	fi
}

# prime_get NAME JQ: a number from a primeload report, "n/a" when absent.
prime_get() {
	[[ -s $WORK/$1.json ]] || { echo n/a; return; }
	jq -r "($2) // \"n/a\"" "$WORK/$1.json"
}

# script_single FILE PHASE_YAML [POOL]: one GET of /json per virtual user.
# With POOL, users share POOL keep-alive connections as Vegeta's attackers
# do; without, each user dials its own (Artillery's model, and primeload's
# default), so an open-model arrival pays a TCP connect.
script_single() {
	cat >"$1" <<EOF
config:
  target: "http://127.0.0.1"
${3:+  http:
    pool: $3
}  phases:
$2
scenarios:
  - name: single GET
    flow:
      - get:
          url: "/json"
EOF
}

# ---------------------------------------------------------------- (a)

a_wrk() { wrk_rps 50 "$NGINX/json"; }

a_vegeta() {
	vegeta_targets a-vegeta "$NGINX/json"
	vegeta_run a-vegeta -rate=0 -max-workers=50 -workers=50 || { echo n/a; return; }
	jq -r .throughput "$WORK/a-vegeta.json"
}

a_prime_closed() {
	script_single "$WORK/a-closed.yml" "    - duration: $DURATION
      vusers: 50"
	prime_run a-closed "$WORK/a-closed.yml" "$NGINX" || { echo n/a; return; }
	calc "$(prime_get a-closed '.aggregate.counters["http.responses"]') / $DURATION"
}

# a_prime_open RATE: prints "achieved lag_p99_ms" for one open-model run,
# users sharing 50 connections like Vegeta's.
a_prime_open() {
	script_single "$WORK/a-open.yml" "    - duration: $DURATION
      arrivalRate: $1" 50
	prime_run a-open "$WORK/a-open.yml" "$NGINX" || { echo "n/a n/a n/a"; return; }
	echo "$(calc "$(prime_get a-open '.aggregate.counters["http.responses"]') / $DURATION")" \
		"$(prime_get a-open '.scheduleLag.p99')" \
		"$(prime_get a-open '.aggregate.summaries["http.response_time"].p50')"
}

# sustains RATE: the run achieved >= 99% of RATE with schedule lag p99 < 5 ms
# and median response time < 5 ms. Arrivals can start on time while the
# requests queue for the pool's connections: the run still "achieves" its
# rate, its responses coming in after the schedule, but the queue grows
# (at 60,181/s the median was 263 ms, at 55,000/s 0.6 ms), and a generator
# that cannot send at a rate does not sustain it. Leaves the achieved rate
# in ACHIEVED for the search.
ACHIEVED=n/a
sustains() {
	local got achieved lag p50
	got=$(a_prime_open "$1")
	read -r achieved lag p50 <<<"$got"
	ACHIEVED=$achieved
	log "  open model at $1/s: achieved $achieved/s, schedule lag p99 $lag ms, response time p50 $p50 ms"
	[[ $achieved != n/a && $lag != n/a && $p50 != n/a ]] || return 1
	awk -v a="$achieved" -v r="$1" -v l="$lag" -v m="$p50" 'BEGIN { exit !(a >= 0.99 * r && l < 5 && m < 5) }'
}

# a_prime_open_max START: grow by half until a rate fails, then bisect;
# SEARCH_STEPS runs in all. Prints the highest rate that passed. Until one
# passes, a failed run's achieved rate bounds the next try: a generator that
# managed 14,000/s of 90,000 asked will not sustain 45,000.
a_prime_open_max() {
	local lo=0 hi=0 r=$1 step
	for ((step = 1; step <= SEARCH_STEPS; step++)); do
		if sustains "$r"; then lo=$r; else hi=$r; fi
		if ((hi == 0)); then
			r=$((r * 3 / 2))
		elif ((lo == 0)); then
			r=$(awk -v a="$ACHIEVED" -v r="$r" 'BEGIN { n = (a == "n/a") ? r / 2 : a * 0.9; printf "%d", (n < 100 ? 100 : n) }')
		else
			r=$(((lo + hi) / 2))
			((hi - lo > hi / 50)) || break # within 2%: close enough for a search
		fi
	done
	((lo > 0)) && echo "$lo" || echo n/a
}

# ---------------------------------------------------------------- (b)

b_vegeta() {
	vegeta_targets b-vegeta "$NGINX/json"
	vegeta_run b-vegeta -rate=2000 || { echo "n/a n/a n/a"; return; }
	jq -r '"\(.rate) \(.latencies["50th"] / 1e6) \(.latencies["99th"] / 1e6)"' "$WORK/b-vegeta.json"
}

# b_prime [POOL]: 2,000 arrivals/s; with POOL shared connections, else one per user.
b_prime() {
	script_single "$WORK/b-open.yml" "    - duration: $DURATION
      arrivalRate: 2000" "${1:-}"
	prime_run b-open "$WORK/b-open.yml" "$NGINX" || { echo "n/a n/a n/a"; return; }
	# Achieved: requests over the schedule's length stretched by the p99
	# schedule lag, so late arrivals lower it (the report's own rate also
	# counts the wait for the last responses, which is not sending).
	local n lag
	n=$(prime_get b-open '.aggregate.counters["http.requests"]')
	lag=$(prime_get b-open '.scheduleLag.p99')
	echo "$(calc "$n / ($DURATION + $lag / 1000)")" \
		"$(prime_get b-open '.aggregate.summaries["http.response_time"].p50')" \
		"$(prime_get b-open '.aggregate.summaries["http.response_time"].p99')"
}

# ---------------------------------------------------------------- (c)

# held RUN CMD...: run CMD while sampling nginx's active connections; prints
# "peak_rss_mib peak_active accepted".
held() {
	local name=$1
	shift
	local before peak=0 now
	before=$(nginx_status accepts)
	"$@" >/dev/null || true
	# The sampler ran alongside; see c_sample.
	peak=$(sort -n "$WORK/$name.active" 2>/dev/null | tail -1)
	now=$(nginx_status accepts)
	echo "$(time_field "$WORK/$name.time" rss) ${peak:-n/a} $((now - before))"
}

# sampling NAME CMD...: CMD with a background sampler of nginx's active
# connections every 200 ms, written to $WORK/NAME.active.
sampling() {
	local name=$1
	shift
	: >"$WORK/$name.active"
	(
		end=$((SECONDS + LIMIT))
		while ((SECONDS < end)); do
			nginx_status active >>"$WORK/$name.active" 2>/dev/null || true
			sleep 0.2
		done
	) &
	local sampler=$!
	PIDS+=("$sampler")
	"$@" || true
	kill "$sampler" 2>/dev/null || true
	wait "$sampler" 2>/dev/null || true
}

# c_wrk N
c_wrk() {
	held c-wrk sampling c-wrk on_tool "$WORK/c-wrk.time" wrk -t1 -c"$1" -d"${DURATION}s" "$HELD_NGINX/json"
}

# c_vegeta N
c_vegeta() {
	vegeta_targets c-vegeta "$HELD_NGINX/json"
	held c-vegeta sampling c-vegeta vegeta_run c-vegeta -rate=0 -max-workers="$1" \
		-workers="$1" -connections="$1"
}

# held_procs N: how many generator processes hold N users. One process
# needs a descriptor per user and ~1,000 more; where the hard limit is
# lower (20,000 on machines without CAP_SYS_RESOURCE, which setrlimit needs
# to raise it), the users are split as segments of one run (--segment i/K)
# over K processes on this machine, as a distributed run would be.
held_procs() {
	local per=$(($(ulimit -n) - 1000))
	((per > 0)) || per=1
	echo $((($1 + per - 1) / per))
}

# c_script N: N users arrive over N/HELD_RATE s, each GETs /json, thinks until
# the last has arrived and 10 s more, and GETs again: all N hold a
# keep-alive connection at once. They are spread over HELD_HOSTS. Sets
# C_LIMIT, the seconds one run may take.
c_script() {
	local n=$1 ramp think h
	ramp=$(((n + HELD_RATE - 1) / HELD_RATE))
	# 10 s of slack: with 3 s, 50,000 users in several processes that arrived
	# late under load had not all connected when the first left (44,878 held).
	think=$((ramp + 10))
	# The run takes the ramp, the think and the second GET.
	C_LIMIT=$((ramp + think + 40))
	{
		cat <<EOF
config:
  target: "http://127.0.0.1"
  phases:
    - duration: $ramp
      arrivalCount: $n
scenarios:
EOF
		for h in "${HELD_HOSTS[@]}"; do
			cat <<EOF
  - name: hold a keep-alive connection to $h
    flow:
      - get:
          url: "http://$h/json"
      - think: $think
      - get:
          url: "http://$h/json"
EOF
		done
	} >"$WORK/c-held.yml"
}

# c_prime N: the held users from one process, or K (held_procs) when one
# cannot have the descriptors; prints "rss_mib peak_active accepted K
# largest_process_rss_mib". With K processes rss_mib is the sum of their
# peak RSS (they ramp together, so each peaks at about the same time and
# the sum is close to, and never below, the peak of the sum).
c_prime() {
	local n=$1 k
	k=$(held_procs "$n")
	c_script "$n"
	local LIMIT=$C_LIMIT
	if ((k == 1)); then
		echo "$(held c-held sampling c-held prime_run c-held "$WORK/c-held.yml" "$HELD_NGINX") 1 n/a"
		return
	fi
	local line
	line=$(held c-held sampling c-held c_segments "$k")
	local i rss total=0 largest=0
	for ((i = 1; i <= k; i++)); do
		rss=$(time_field "$WORK/c-held-$i.time" rss)
		if [[ $rss == n/a ]]; then
			total=n/a largest=n/a
			break
		fi
		total=$(calc "$total + $rss")
		largest=$(calc "($rss > $largest) ? $rss : $largest")
	done
	read -r _ active accepted <<<"$line"
	echo "$total $active $accepted $k $largest"
}

# c_segments K: segment i/K of c-held.yml in process i, all K at once,
# starting together at one instant fixed before any is launched.
c_segments() {
	local k=$1 i at pids=()
	at=$(date -u -d '+3 seconds' +%Y-%m-%dT%H:%M:%SZ)
	for ((i = 1; i <= k; i++)); do
		rm -f "$WORK/c-held-$i.time"
		prime_run "c-held-$i" "$WORK/c-held.yml" "$HELD_NGINX" --segment "$i/$k" --start-at "$at" &
		pids+=($!)
	done
	for i in "${pids[@]}"; do wait "$i" || true; done
}

# section_c: one line per measurement, "TOOL N rss_mib peak_active
# accepted [processes largest_process_rss_mib]": primeload at every size,
# wrk and Vegeta at the first.
section_c() {
	local n first=1
	for n in "${HELD_SIZES[@]}"; do
		log "(c) $n users holding a keep-alive connection each, as $(held_procs "$n") process(es), $REPEATS x"
		echo "primeload $n $(repeat c_prime "$n")"
		if ((first)); then
			if (($(ulimit -n) <= n + 1000)); then
				log "(c) wrk and Vegeta skipped at $n: one process needs $((n + 1000)) descriptors, ulimit -n is $(ulimit -n) (hard limit $(ulimit -Hn))"
				echo "wrk $n n/a n/a n/a"
				echo "vegeta $n n/a n/a n/a"
			else
				echo "wrk $n $(repeat c_wrk "$n")"
				echo "vegeta $n $(repeat c_vegeta "$n")"
			fi
			first=0
		fi
	done
}

# c_rows: the table's (c) rows from section_c's lines; wrk's and Vegeta's
# columns at the first size only.
c_rows() {
	local tool n rss active accepted wr=n/a vr=n/a wn=n/a vn=n/a wa=n/a va=n/a
	while read -r tool n rss active accepted; do
		if [[ $tool == wrk ]]; then
			wr=$rss wa=$active wn=$accepted
		elif [[ $tool == vegeta ]]; then
			vr=$rss va=$active vn=$accepted
		fi
	done <<<"$1"
	local per cw cv rw rv caw cav cnw cnv procs largest how
	while read -r tool n rss active accepted procs largest; do
		[[ $tool == primeload ]] || continue
		per=n/a
		[[ $rss == n/a ]] || per=$(calc "$rss * 1024 / $n")
		how="primeload: VUs arriving at $(fmt "$HELD_RATE")/s, 2 GETs apart"
		if [[ ${procs:-1} != 1 ]]; then
			how="$how, as $procs processes (--segment i/$procs) because one may have $(fmt "$(ulimit -Hn)") descriptors (hard limit), RSS summed; largest process $(fmt "$largest" 1) MiB"
		fi
		cw=" " cv=" " rw=" " rv=" " caw=" " cav=" " cnw=" " cnv=" "
		if [[ $n == "${HELD_SIZES[0]}" ]]; then
			cw=" $(fmt "$wr" 1) " cv=" $(fmt "$vr" 1) "
			rw=" $(ratio "$rss" "$wr") " rv=" $(ratio "$rss" "$vr") "
			caw=" $(fmt "$wa") " cav=" $(fmt "$va") " cnw=" $(fmt "$wn") " cnv=" $(fmt "$vn") "
		fi
		row " (c) peak RSS MiB, $(fmt "$n") connections ($how) " \
			"$cw" "$cv" " $(fmt "$rss" 1) = $(fmt "$per" 1) KiB/user " "$rv" "$rw" \
			" ≤ 10 KiB/user " " $(verdict 'a <= 10' "$per") "
		row " (c) nginx: peak active connections, $(fmt "$n") " "$caw" "$cav" " $(fmt "$active") " " " " " \
			" $(fmt "$n") held " " $(verdict "a >= $n" "$active") "
		row " (c) nginx: connections accepted, $(fmt "$n") " "$cnw" "$cnv" " $(fmt "$accepted") " " " " " " " " "
	done <<<"$1"
}

# ---------------------------------------------------------------- (d), (e)

d_prime() {
	{
		cat <<EOF
config:
  target: "http://127.0.0.1"
  phases:
    - duration: $DURATION
      vusers: 50
  defaults:
    headers:
      Authorization: "Bearer {{ \$processEnvironment.API_TOKEN }}"
      Content-Type: "application/json"
EOF
		# The seed's journey without its login, shared with bench/soak.sh.
		sed -n '/^scenarios:/,$p' "$ROOT/examples/seed-no-login.yml"
	} >"$WORK/d-seed.yml"
	prime_run d-seed "$WORK/d-seed.yml" "$SERVE" || { echo "n/a n/a n/a"; return; }
	local n cpu
	n=$(prime_get d-seed '.aggregate.counters["http.responses"]')
	cpu=$(time_field "$WORK/d-seed.time" cpu)
	echo "$(calc "$n / $DURATION") $(calc "$cpu / $n * 1000") $(prime_get d-seed '.aggregate.counters["vusers.failed"] // 0')"
}

d_vegeta() {
	vegeta_targets d-vegeta "$SERVE/api/goods-received/" "Authorization: Bearer $TOKEN"
	vegeta_run d-vegeta -rate=0 -max-workers=50 -workers=50 || { echo "n/a n/a"; return; }
	local n cpu
	n=$(jq -r .requests "$WORK/d-vegeta.json")
	cpu=$(time_field "$WORK/d-vegeta.time" cpu)
	echo "$(jq -r .throughput "$WORK/d-vegeta.json") $(calc "$cpu / $n * 1000")"
}

e_target() { wrk_rps 50 "$SERVE/api/goods-received/" "Authorization: Bearer $TOKEN"; }
e_hello() { wrk_rps 50 "$HELLO/"; }

# ---------------------------------------------------------------- (f)

# f_prime PROCS: one open-model run at F_RATE/s against nginx, users sharing
# 50 connections, with GOMAXPROCS=PROCS and the tool allowed on F_CPUS (the
# same CPUs for every setting, so GOMAXPROCS is all that differs); prints
# "cpu_s_per_1000_requests achieved lag_p99_ms wakeups_per_1000_requests".
# The CPU is the whole process's (/usr/bin/time), start-up and report
# included; the wakeups (voluntary context switches) say why it moves: below
# saturation, a process woken for every event pays a syscall round for each,
# one that finds several waiting pays once.
f_prime() {
	script_single "$WORK/f-open.yml" "    - duration: $DURATION
      arrivalRate: $F_RATE" 50
	local TOOL_CPU=$F_CPUS
	GOMAXPROCS=$1 prime_run "f-$1" "$WORK/f-open.yml" "$NGINX" || { echo "n/a n/a n/a n/a"; return; }
	local n lag cpu vcs
	n=$(prime_get "f-$1" '.aggregate.counters["http.requests"]')
	lag=$(prime_get "f-$1" '.scheduleLag.p99')
	cpu=$(time_field "$WORK/f-$1.time" cpu)
	vcs=$(awk -F': ' '/Voluntary context switches/ { print $2 }' "$WORK/f-$1.time")
	echo "$(calc "$cpu / $n * 1000")" "$(calc "$n / ($DURATION + $lag / 1000)")" "$lag" "$(calc "${vcs:-n/a} / $n * 1000")"
}

# f_sat PROCS: one closed-loop run at its maximum, as (a)'s: 50 users, each
# on its own connection, against nginx, with GOMAXPROCS=PROCS; prints
# "cpu_s_per_1000_requests req_per_s voluntary_cs_per_1000 involuntary_cs_per_1000".
# Saturated, every P has requests waiting, so the runtime's idle wakeups of
# the fixed rate drop out and what is left growing with GOMAXPROCS is
# contention. The tool may use both CPUs at both settings (only GOMAXPROCS
# differs), at F_SAT_NICE below nginx's priority; few voluntary context
# switches say it always had work, involuntary ones how often it was
# preempted (by nginx on CPU 0, or others' work).
f_sat() {
	script_single "$WORK/f-sat.yml" "    - duration: $DURATION
      vusers: 50"
	local TOOL_CPU=$F_CPUS TOOL_NICE=$F_SAT_NICE
	GOMAXPROCS=$1 prime_run "f-sat-$1" "$WORK/f-sat.yml" "$NGINX" || { echo "n/a n/a n/a n/a"; return; }
	local n cpu vcs ics
	n=$(prime_get "f-sat-$1" '.aggregate.counters["http.requests"]')
	cpu=$(time_field "$WORK/f-sat-$1.time" cpu)
	vcs=$(awk -F': ' '/Voluntary context switches/ { print $2 }' "$WORK/f-sat-$1.time")
	ics=$(awk -F': ' '/Involuntary context switches/ { print $2 }' "$WORK/f-sat-$1.time")
	echo "$(calc "$cpu / $n * 1000")" "$(calc "$(prime_get "f-sat-$1" '.aggregate.counters["http.responses"]') / $DURATION")" \
		"$(calc "${vcs:-n/a} / $n * 1000")" "$(calc "${ics:-n/a} / $n * 1000")"
}

# f_sat_priority: how (f)'s saturated tool's priority stands to nginx's.
f_sat_priority() {
	((F_SAT_NICE)) && echo "at nice +$F_SAT_NICE to nginx" || echo "at nginx's priority"
}

# f_pair FUNC: FUNC 1 then FUNC 2 (f_sat or f_prime) back to back, their
# fields and the ratio of their CPU (2 over 1). The ratio of each pair is
# what the median is taken of: the machine's drift over the repeats (others'
# load changes the CPU a request costs by up to 2x here) falls on both of a
# pair.
f_pair() {
	local one two r
	one=$("$1" 1)
	two=$("$1" 2)
	r=$(calc "${two%% *} / ${one%% *}")
	log "  $1: CPU-seconds per 1,000 requests $(fmt "${one%% *}" 4) at GOMAXPROCS=1, $(fmt "${two%% *}" 4) at 2: ratio $(fmt "$r" 2)"
	echo "$one $two $r"
}

# ---------------------------------------------------------------- table

# fmt V [DECIMALS]
fmt() {
	[[ $1 == n/a || -z $1 ]] && { echo "n/a"; return; }
	printf "%'.${2:-0}f" "$1"
}

# ratio A B: A/B to two decimals.
ratio() {
	[[ $1 == n/a || $2 == n/a || $2 == 0 ]] && { echo "n/a"; return; }
	awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'
}

# verdict AWK_CONDITION VALUES...: ✅ when the condition over a, b holds.
verdict() {
	local cond=$1
	shift
	[[ $* == *n/a* ]] && { echo "n/a"; return; }
	awk -v a="$1" -v b="${2:-0}" "BEGIN { exit !($cond) }" && echo "met" || echo "NOT met"
}

row() { local IFS='|'; echo "| $* |"; }

# want S: section S of the table is to run.
want() { [[ $SECTIONS == *"$1"* ]]; }

main() {
	ensure_tools
	build
	local started commit
	started=$(date -u +%Y-%m-%dT%H:%M:%SZ)
	# Other work on the machine skews every figure; say how busy it was.
	local load_before
	load_before=$(cut -d' ' -f1-3 /proc/loadavg)
	commit=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)
	[[ -z $(git -C "$ROOT" status --porcelain 2>/dev/null) ]] || commit="$commit (with local changes)"

	local a_w=n/a a_v=n/a a_pc=n/a a_po=n/a b_v="n/a n/a n/a" b_p="n/a n/a n/a" b_o="n/a n/a n/a" c_lines=""
	if want a || want b || want f; then start_nginx; fi
	if want a; then
		log "(a) closed loop, 50 connections / virtual users, $REPEATS x ${DURATION}s each"
		a_w=$(repeat a_wrk)
		a_v=$(repeat a_vegeta)
		a_pc=$(repeat a_prime_closed)
		log "(a) open-model search from the closed-loop rate"
		local seed=${a_pc%.*}
		[[ $seed =~ ^[0-9]+$ && $seed -ge 1000 ]] || seed=10000
		a_po=$(a_prime_open_max "$seed")
	fi

	if want b; then
		log "(b) fixed 2,000 req/s for ${DURATION}s"
		b_v=$(repeat b_vegeta)
		b_p=$(repeat b_prime 50)
		b_o=$(repeat b_prime)
	fi

	if want c; then
		start_held_nginx
		c_lines=$(section_c)
	fi

	local d_p="n/a n/a n/a" d_v="n/a n/a" e_t=n/a e_h=n/a
	if want d || want e; then
		start_hello
		if start_serve; then
			log "(d) the seed's multi-step scenario against primeload serve"
			d_p=$(repeat d_prime)
			d_v=$(repeat d_vegeta)
			log "(e) the reference target against hello-world, both under wrk"
			e_t=$(repeat e_target)
		fi
		e_h=$(repeat e_hello)
	fi

	local f_12="n/a n/a n/a n/a n/a n/a n/a n/a n/a" f_s="n/a n/a n/a n/a n/a n/a n/a n/a n/a"
	if want f; then
		log "(f) GOMAXPROCS 1 and 2 saturated (closed loop, 50 VUs), tool on CPUs $F_CPUS $(f_sat_priority)"
		f_s=$(repeat f_pair f_sat)
		log "(f) GOMAXPROCS 1 and 2 at a fixed $F_RATE/s, tool on CPUs $F_CPUS"
		f_12=$(repeat f_pair f_prime)
	fi

	local bv bv50 bv99 bp bp50 bp99 bo bo50 bo99 dpr dpc dpf dvr dvc fc1 fr1 fl1 fw1 fc2 fr2 fl2 fw2 fratio
	local sc1 sr1 sw1 si1 sc2 sr2 sw2 si2 sratio
	read -r fc1 fr1 fl1 fw1 fc2 fr2 fl2 fw2 fratio <<<"$f_12"
	read -r sc1 sr1 sw1 si1 sc2 sr2 sw2 si2 sratio <<<"$f_s"
	read -r bv bv50 bv99 <<<"$b_v"
	read -r bp bp50 bp99 <<<"$b_p"
	read -r bo bo50 bo99 <<<"$b_o"
	read -r dpr dpc dpf <<<"$d_p"
	read -r dvr dvc <<<"$d_v"

	echo
	echo "primeload $commit, $started, $(nproc) CPUs ($(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo)), Linux $(uname -r)"
	echo "load average (1/5/15 min) $load_before at the start, $(cut -d' ' -f1-3 /proc/loadavg) at the end"
	echo "target core $TARGET_CPU, tool core $TOOL_CPU, ${DURATION}s runs, median of $REPEATS; wrk $(wrk -v 2>&1 | awk 'NR == 1 { print $2 }'), vegeta $VEGETA_VERSION, $(nginx -v 2>&1 | sed 's/.*: //')"
	echo
	row " Measure " " wrk " " Vegeta " " primeload " " primeload/Vegeta " " primeload/wrk " " Goal " " Verdict "
	row "---" "---:" "---:" "---:" "---:" "---:" "---" "---"
	if want a; then
		row " (a) max req/s, closed loop, 50 conns / VUs " " $(fmt "$a_w") " " $(fmt "$a_v") " " $(fmt "$a_pc") " \
			" $(ratio "$a_pc" "$a_v") " " $(ratio "$a_pc" "$a_w") " " ≥ 2.0× Vegeta, ≥ 0.4× wrk " \
			" $(verdict 'a >= 2 && b >= 0.4' "$(ratio "$a_pc" "$a_v")" "$(ratio "$a_pc" "$a_w")") "
		row " (a) max sustained open-model arrivals/s (≥ 99% achieved, lag p99 < 5 ms, response p50 < 5 ms; pool of 50 conns) " " " " " " $(fmt "$a_po") " \
			" $(ratio "$a_po" "$a_v") " " $(ratio "$a_po" "$a_w") " " ≥ 2.0× Vegeta, ≥ 0.4× wrk " \
			" $(verdict 'a >= 2 && b >= 0.4' "$(ratio "$a_po" "$a_v")" "$(ratio "$a_po" "$a_w")") "
	fi
	if want b; then
		row " (b) achieved req/s at a fixed 2,000/s (primeload: pool of 50 conns) " " can't " " $(fmt "$bv" 1) " " $(fmt "$bp" 1) " \
			" $(ratio "$bp" "$bv") " " " " within 0.1% of 2,000 " " $(verdict 'a >= 1998 && a <= 2002' "$bp") "
		row " (b) p50 ms at 2,000/s " " can't " " $(fmt "$bv50" 3) " " $(fmt "$bp50" 3) " \
			" $(ratio "$bp50" "$bv50") " " " " ≤ Vegeta " " $(verdict 'a <= b' "$bp50" "$bv50") "
		row " (b) p99 ms at 2,000/s " " can't " " $(fmt "$bv99" 3) " " $(fmt "$bp99" 3) " \
			" $(ratio "$bp99" "$bv99") " " " " ≤ Vegeta " " $(verdict 'a <= b' "$bp99" "$bv99") "
		row " (b) same, a new connection per arrival (Artillery's model): req/s, p50, p99 ms " " can't " " " \
			" $(fmt "$bo" 1), $(fmt "$bo50" 3), $(fmt "$bo99" 3) " " " " " " (dial counted in latency) " " "
	fi
	if want c; then c_rows "$c_lines"; fi
	if want d || want e; then
		row " (d) req/s vs primeload serve (Vegeta: one cached GET; primeload: seed flow) " " " " $(fmt "$dvr") " \
			" $(fmt "$dpr") " " $(ratio "$dpr" "$dvr") " " " " " " "
		row " (d) tool CPU-seconds per 1,000 requests " " " " $(fmt "$dvc" 3) " " $(fmt "$dpc" 3) " \
			" $(ratio "$dpc" "$dvc") " " " " ≤ 1.5× Vegeta " " $(verdict 'a <= 1.5' "$(ratio "$dpc" "$dvc")") "
		row " (d) primeload failed virtual users " " " " " " $(fmt "$dpf") " " " " " " 0 " " $(verdict 'a == 0' "$dpf") "
		row " (e) req/s under wrk: target GET /api/goods-received/ (cached) vs hello-world " \
			" $(fmt "$e_t") vs $(fmt "$e_h") " " " " " " " " " " target ≥ 0.5× hello ($(ratio "$e_t" "$e_h")) " \
			" $(verdict 'a >= 0.5' "$(ratio "$e_t" "$e_h")") "
	fi
	if want f; then
		row " (f) tool CPU-seconds per 1,000 requests, saturated (closed loop, 50 conns / VUs; tool on CPUs $F_CPUS $(f_sat_priority)), GOMAXPROCS=1 vs 2 " " " " " \
			" $(fmt "$sc1" 4) vs $(fmt "$sc2" 4) " " " " " " within 15% of each other (median ratio $(fmt "$sratio" 2)) " \
			" $(verdict '(a >= 1 ? a : 1 / a) <= 1.15' "$sratio") "
		row " (f) saturated: req/s, tool voluntary and involuntary context switches per 1,000 requests, GOMAXPROCS=1 vs 2 " " " " " \
			" $(fmt "$sr1"), $(fmt "$sw1"), $(fmt "$si1") vs $(fmt "$sr2"), $(fmt "$sw2"), $(fmt "$si2") " " " " " \
			" (few voluntary: it always had work; involuntary: preempted) " " "
		row " (f) the runtime's idle wakeups below saturation: tool CPU-seconds per 1,000 requests at a fixed $(fmt "$F_RATE")/s (pool of 50 conns; tool on CPUs $F_CPUS), GOMAXPROCS=1 vs 2 " " " " " \
			" $(fmt "$fc1" 4) vs $(fmt "$fc2" 4) " " " " " " (informational; median ratio $(fmt "$fratio" 2)) " " "
		row " (f) achieved req/s and schedule lag p99 ms, GOMAXPROCS=1 vs 2 " " " " " \
			" $(fmt "$fr1" 1), $(fmt "$fl1" 3) vs $(fmt "$fr2" 1), $(fmt "$fl2" 3) " " " " " \
			" ≥ 99% of $(fmt "$F_RATE") at both " " $(verdict "a >= 0.99 * $F_RATE && b >= 0.99 * $F_RATE" "$fr1" "$fr2") "
		row " (f) tool wakeups (voluntary context switches) per 1,000 requests, GOMAXPROCS=1 vs 2 " " " " " \
			" $(fmt "$fw1" 0) vs $(fmt "$fw2" 0) " " " " " " (why the CPU moves) " " "
	fi
}

main "$@"
