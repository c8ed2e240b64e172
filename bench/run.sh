#!/usr/bin/env bash
# Runs the benchmarks and the load test, and writes BENCHMARKS.md at the
# repository root with each figure and the command that reproduces it.
# Takes about seven minutes (1,000 users applied twice, and onboarded
# twice, over 50 ms of latency per call dominates). Not part of CI.
#
#   bash bench/run.sh                     # everything, 1,000 users, 50 ms
#   BENCH_USERS=200 bash bench/run.sh     # a quicker apply figure
#   BENCH_BASE=2638683 bash bench/run.sh  # dsmctl of that commit measured beside this one
#   BENCH_SECTION=onboard bash bench/run.sh  # the onboarding section alone, to stdout
#   BENCH_BASE=2638683 BENCH_SECTION=cli bash bench/run.sh  # dsmctl at 16,000 users alone, to stdout
#   BENCH_CLI_LATENCIES=0ms BENCH_SECTION=cli bash bench/run.sh  # that section at 0 ms only
set -euo pipefail
cd "$(dirname "$0")/.."

users=${BENCH_USERS:-1000}
latency=${BENCH_LATENCY_MS:-50}
out_md=BENCHMARKS.md
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT

metric() { # metric LINE UNIT: the value before UNIT in a benchmark line
	awk -v unit="$2" '{ for (i = 2; i <= NF; i++) if ($i == unit) print $(i-1) }' <<<"$1"
}
say() { printf '%s\n' "$*" | tee -a "$tmp"; }

onboard_section() {
	local load0 cmd out line
	load0=$(cut -d' ' -f1-3 /proc/loadavg)
	cmd="BENCH_USERS=$users BENCH_LATENCY_MS=$latency go test ./bench -run '^\$' -bench Onboard -benchtime 1x -timeout 60m"
	out=$(eval "$cmd")
	line=$(grep '^BenchmarkOnboard' <<<"$out")
	say "## Onboarding $users users: one compound request each against one call per change"
	say ""
	say "$users existing users, each given 5 shared-folder rights, a quota and 2 application rules (8 changes), against one simulator whose every answer takes ${latency} ms, $(printf %.0f "$(metric "$line" workers)") users at a time on each side, each side on users of its own: once with a user's 8 changes in one \`SYNO.Entry.Request\` (\`Users.SetProfile\`, as \`dsmctl apply\` sends them and DSM's own user dialog applies its tabs together: the 5 rights in one call, the quota, the 2 rules in one call), once with one request per change (\`Permissions.SetFor\`, \`Quotas.Set\`, \`Apps.SetRules\`). Requests counted at the client's transport, the login left out; afterwards up to 50 users of each side, spread from the first to the last, are read back and must hold exactly what they were given. Measured on $(date -u +%Y-%m-%d), load average $load0 before and $(cut -d' ' -f1-3 /proc/loadavg) after ($(nproc) cores, shared)."
	say ""
	say "| | requests | time |"
	say "|---|---|---|"
	say "| one compound request per user | $(printf %.0f "$(metric "$line" req-batched)") | $(metric "$line" s-batched) s |"
	say "| one request per change | $(printf %.0f "$(metric "$line" req-one-call-each)") | $(metric "$line" s-one-call-each) s |"
	say ""
	say "One request per change against one compound per user: **$(metric "$line" req-ratio)x** the requests, **$(metric "$line" time-ratio)x** the time."
	say "The latency alone accounts for $(awk -v n="$users" -v l="$latency" -v w="$(metric "$line" workers)" 'BEGIN{printf "%.2f s and %.2f s", n*l/w/1000, 8*n*l/w/1000}') (requests / workers x ${latency} ms). The simulator's latency is per request, whatever it carries, and its own work is small: on a NAS each call of a compound still takes its own time, so there a compound saves the round trips, not the work."
	say ""
	say "    $cmd"
	say ""
}

# cli_section measures dsmctl in its own process at 16,000 users, beside
# the dsmctl of BENCH_BASE when it is set; it leaves $work for the caller
# to remove.
cli_section() {
	local load0
	load0=$(cut -d' ' -f1-3 /proc/loadavg)
	work=$(mktemp -d)
	sim_pid=""
	stop_sim() { if [ -n "$sim_pid" ]; then kill "$sim_pid" 2>/dev/null || true; wait "$sim_pid" 2>/dev/null || true; sim_pid=""; fi; }
	trap 'stop_sim; rm -rf "$work" "$tmp"' EXIT
	go build -o "$work/dsmctl" ./cmd/dsmctl
	bins=(dsmctl)
	if [ -n "${BENCH_BASE:-}" ]; then
		mkdir "$work/base"
		git archive "$BENCH_BASE" | tar -x -C "$work/base"
		(cd "$work/base" && go build -o "$work/dsmctl-base" ./cmd/dsmctl)
		bins=(dsmctl-base dsmctl)
	fi
	pw=Bench-admin-pw1
	BENCH_STATE_DIR="$work/state" BENCH_ADMIN_PASSWORD=$pw go test ./bench -count=1 -run TestWriteFullNASState >/dev/null
	measure_cli() { # measure_cli BIN ARGS...: median seconds and maximum RSS of three runs, and the requests of one
		local bin=$1
		shift
		: >"$work/times"
		for _ in 1 2 3; do
			/usr/bin/time -o "$work/time.out" -f '%e %M' "$work/$bin" "$@" >/dev/null 2>&1
			tail -1 "$work/time.out" >>"$work/times"
		done
		local n
		n=$("$work/$bin" --debug "$@" 2>&1 >/dev/null | grep -c 'msg="dsm call"' || true)
		sort -n "$work/times" | awk -v n="$n" 'NR == 2 { t = $1 } { if ($2 > m) m = $2 } END { printf "%.2f s, %.0f MiB, %d requests", t, m/1024, n }'
	}
	say "## dsmctl at 16,000 users"
	say ""
	say "\`dsmctl\` built and run in its own process against \`dsmctl sim --data\` holding 16,000 users (each with email and a group), in a session saved by \`dsmctl login\`: wall time (median of three runs) and maximum resident memory (the largest of the three, \`/usr/bin/time\`), and the requests (\`--debug\`)."
	say ""
	local lats lat head sep row
	read -r -a lats <<<"${BENCH_CLI_LATENCIES:-0ms 20ms}"
	head="| command | build |"
	sep="|---|---|"
	for lat in "${lats[@]}"; do
		head="$head ${lat%ms} ms latency |"
		sep="$sep---|"
	done
	say "$head"
	say "$sep"
	declare -A cells
	for lat in "${lats[@]}"; do
		stop_sim
		DSM_SIM_ADMIN_PASSWORD=$pw "$work/dsmctl" sim --data "$work/state" --listen 127.0.0.1:0 --latency "$lat" >"$work/sim.out" 2>&1 &
		sim_pid=$!
		for _ in $(seq 1 100); do grep -q '^listening on' "$work/sim.out" && break; sleep 0.2; done
		url=$(awk '/^listening on/ { print $3 }' "$work/sim.out")
		for bin in "${bins[@]}"; do
			export DSM_CONFIG_DIR="$work/config-$bin" DSM_URL=$url DSM_USER=admin
			echo "$pw" | "$work/$bin" login --password-stdin >/dev/null 2>&1
			cells[$bin,list,$lat]=$(measure_cli "$bin" user list --fields email,groups)
			cells[$bin,all,$lat]=$(measure_cli "$bin" user list --fields all -o json)
			cells[$bin,export,$lat]=$(measure_cli "$bin" export)
			cells[$bin,exportjson,$lat]=$(measure_cli "$bin" export -o json)
			unset DSM_CONFIG_DIR DSM_URL DSM_USER
		done
	done
	stop_sim
	for c in "list:user list --fields email,groups" "all:user list --fields all -o json" "export:export" "exportjson:export -o json"; do
		key=${c%%:*}
		for bin in "${bins[@]}"; do
			label="this one"
			[ "$bin" = dsmctl-base ] && label="$BENCH_BASE"
			row="| \`dsmctl ${c#*:}\` | $label |"
			for lat in "${lats[@]}"; do
				row="$row ${cells[$bin,$key,$lat]} |"
			done
			say "$row"
		done
	done
	say ""
	say "    BENCH_BASE=<commit> BENCH_SECTION=cli bash bench/run.sh   # this section alone: it builds dsmctl (and the base), writes the state with go test ./bench -run TestWriteFullNASState, serves it with dsmctl sim --data"
	say ""
	local cmd out line
	cmd="go test ./manifest -run '^\$' -bench ExportWrite -benchmem -benchtime 5x"
	out=$(eval "$cmd")
	say "The writing of that export alone, in one process, of the same 16,000 users read from a \`dsmtest\` simulator: the node tree of the whole file encoded at once (\`dsmctl export\` before it wrote the users a few at a time), against \`File.Write\` (100 users to an encoder), and one user to an encoder; the peak heap above the heap before the write (the exported file held throughout, sampled every millisecond) and the bytes allocated."
	say ""
	say "| format | writer | peak heap | allocated | time |"
	say "|---|---|---|---|---|"
	for f in yaml json; do
		for w in whole-tree batches-of-100 one-item-an-encoder; do
			line=$(grep "^BenchmarkExportWrite/$f/$w-" <<<"$out")
			say "| $f | $w | $(metric "$line" MiB-peak) MiB | $(awk -v b="$(metric "$line" B/op)" 'BEGIN{printf "%.0f", b/1048576}') MiB | $(awk '{printf "%.0f ms", $3/1e6}' <<<"$line") |"
		done
	done
	say ""
	say "    $cmd"
	say ""
	say "Load average $load0 before and $(cut -d' ' -f1-3 /proc/loadavg) after ($(nproc) cores, shared), measured on $(date -u +%Y-%m-%d)."
	say ""
}

# BENCH_SECTION=onboard or cli prints that section alone, and leaves
# BENCHMARKS.md as it is.
case ${BENCH_SECTION:-} in
"") ;;
onboard)
	onboard_section
	exit 0
	;;
cli)
	cli_section
	exit 0
	;;
*)
	echo "run.sh: unknown BENCH_SECTION \"$BENCH_SECTION\"; the ones that run alone are onboard and cli" >&2
	exit 2
	;;
esac

say "# Benchmarks"
say ""
load_start=$(cut -d' ' -f1-3 /proc/loadavg)
say "Measured by \`bash bench/run.sh\` on $(date -u +%Y-%m-%d), $(go version | cut -d' ' -f3), $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)), load average $load_start at the start (LOAD_AT_END). Each figure comes with the command that reproduces it. Ratios are measured side by side in one run; the machine is shared, so absolute times vary between runs."
say ""

cmd="go test ./bench -run '^\$' -bench 'ClientOverhead' -benchmem -benchtime 3s"
out=$(eval "$cmd")
ratio=$(metric "$(grep '^BenchmarkClientOverheadRatio' <<<"$out")" ratio)
cl=$(grep '^BenchmarkClientOverhead/client' <<<"$out")
ba=$(grep '^BenchmarkClientOverhead/bare' <<<"$out")
say "## Client overhead"
say ""
say "\`Users.Get\` through the library against a bare \`net/http\` POST of the same form (decoded with \`encoding/json\`) to the same simulator, interleaved call for call."
say ""
say "| | time per call | allocations per call | bytes per call |"
say "|---|---|---|---|"
say "| dsm client | $(metric "$cl" ns/op) ns | $(metric "$cl" allocs/op) | $(metric "$cl" B/op) |"
say "| bare net/http | $(metric "$ba" ns/op) ns | $(metric "$ba" allocs/op) | $(metric "$ba" B/op) |"
say ""
say "Ratio client / bare, interleaved: **$ratio** (target: at most 1.25)."
say ""
say "    $cmd"
say ""

cmd="go test ./bench -run '^\$' -bench 'SimulatorThroughput' -benchtime 5s"
out=$(eval "$cmd")
say "## Simulator throughput"
say ""
say "Simple calls (\`SYNO.Core.User get\`) from concurrent bare HTTP callers against one simulator on this machine: **$(metric "$(grep '^BenchmarkSimulatorThroughput' <<<"$out")" calls/s) calls/s**."
say ""
say "    $cmd"
say ""

cmd="go test -run TestLoad -v ./loadtest -args -load.duration=10s -load.clients=16"
out=$(eval "$cmd" 2>&1)
say "## Under load"
say ""
say "16 \`dsm.Client\`s doing mixed reads and writes (list, get, create, update, delete, group members) for 10 s; no call may fail and the heap must not grow:"
say ""
say '```'
grep -E 'load_test.go:[0-9]+: ' <<<"$out" | sed 's/^ *load_test.go:[0-9]*: //' | tee -a "$tmp" >/dev/null
say '```'
say ""
say "    $cmd"
say ""

cmd="go test ./bench -run '^\$' -bench 'Login' -benchmem -benchtime 3s"
out=$(eval "$cmd")
h=$(grep '^BenchmarkLogin/http-envelope-[0-9]' <<<"$out")
hs=$(grep '^BenchmarkLogin/http-envelope-secure-signin' <<<"$out")
s=$(grep '^BenchmarkLogin/https-[0-9]' <<<"$out")
ss=$(grep '^BenchmarkLogin/https-secure-signin' <<<"$out")
ms() { awk '{printf "%.2f ms", $3/1e6}' <<<"$1"; }
say "## Login cost"
say ""
say "With DSM 7's secure sign-in, a login makes one more request (SYNO.API.Auth.UIConfig, for the NAS's key) and a Noise IK handshake."
say ""
say "| | without secure sign-in | with secure sign-in | allocations (without / with) |"
say "|---|---|---|---|"
say "| http, credentials in the encryption envelope (getinfo, RSA-4096, AES) | $(ms "$h") | $(ms "$hs") | $(metric "$h" allocs/op) / $(metric "$hs" allocs/op) |"
say "| https, new TLS connection each request | $(ms "$s") | $(ms "$ss") | $(metric "$s" allocs/op) / $(metric "$ss" allocs/op) |"
say ""
say "    $cmd"
say ""

cmd="go test ./bench -run '^\$' -bench 'Signing' -benchtime 3s"
out=$(eval "$cmd")
line=$(grep '^BenchmarkSigning' <<<"$out")
say "## Cost of X-SYNO-HASH per call"
say ""
say "\`Users.Get\` in a session with the secure sign-in (each request signed, each signature checked by the simulator) and in one without, interleaved call for call: $(metric "$line" µs/signed-call) µs against $(metric "$line" µs/plain-call) µs, ratio **$(metric "$line" ratio)**."
say ""
say "    $cmd"
say ""

cmd="go test ./bench -run '^\$' -bench 'ListPaging' -benchtime 500x"
out=$(eval "$cmd")
p0=$(grep '^BenchmarkListPaging/offset=0-' <<<"$out")
p9=$(grep '^BenchmarkListPaging/offset=90000-' <<<"$out")
say "## List paging at 100,000 users"
say ""
say "A page of 100 users (with their email) from a simulator seeded with 100,000 users (beyond DSM's limit of 16,000, which applies to creation)."
say ""
say "| offset | time per page |"
say "|---|---|"
say "| 0 | $(awk '{printf "%.2f ms", $3/1e6}' <<<"$p0") |"
say "| 90,000 | $(awk '{printf "%.2f ms", $3/1e6}' <<<"$p9") |"
say ""
say "    $cmd"
say ""

cmd="go test ./bench -run '^\$' -bench 'StateChange' -benchtime 2s"
out=$(eval "$cmd")
say "## Durable changes at DSM's full size"
say ""
say "A user's description changed through the library against a simulator keeping its state in a data directory (each change answered only once it is on disk), with 100, 1,000 and 16,000 users (DSM 7's maximum): one writer at a time, and 16 concurrent writers (each its own user)."
say ""
say "| users | one writer: time per change | 16 writers: changes/s |"
say "|---|---|---|"
for n in 100 1000 16000; do
	one=$(grep "^BenchmarkStateChange/users=$n-" <<<"$out")
	par=$(grep "^BenchmarkStateChangeParallel/users=$n-" <<<"$out")
	say "| $n | $(awk '{printf "%.2f ms", $3/1e6}' <<<"$one") | $(metric "$par" changes/s) |"
done
r=$(awk -v a="$(grep '^BenchmarkStateChange/users=16000-' <<<"$out" | awk '{print $3}')" -v b="$(grep '^BenchmarkStateChange/users=100-' <<<"$out" | awk '{print $3}')" 'BEGIN{printf "%.2f", a/b}')
say ""
say "A change at 16,000 users against one at 100: **${r}x** (target: at most 2); 16 writers at 16,000 users: **$(metric "$(grep '^BenchmarkStateChangeParallel/users=16000-' <<<"$out")" changes/s) changes/s** (target: at least 200)."
say ""
say "    $cmd"
say ""

cmd="go test ./bench -run '^\$' -bench 'RoundTrips' -benchtime 1x -timeout 30m"
out=$(eval "$cmd")
r0=$(grep '^BenchmarkRoundTrips/latency=0ms' <<<"$out")
r20=$(grep '^BenchmarkRoundTrips/latency=20ms' <<<"$out")
row() { # row LABEL NAME: requests and time at 0 and 20 ms
	say "| $1 | $(printf %.0f "$(metric "$r0" "req-$2")") | $(metric "$r0" "ms-$2") ms | $(printf %.0f "$(metric "$r20" "req-$2")") | $(metric "$r20" "ms-$2") ms |"
}
say "## Round trips"
say ""
say "Requests (counted at the client's transport) and time over plain http (the encryption envelope included), against a simulator whose every answer takes 0 or 20 ms (\`dsmtest.WithLatency\`, as \`dsmctl sim --latency\`), side by side in one process."
say ""
say "| | requests, 0 ms | time, 0 ms | requests, 20 ms | time, 20 ms |"
say "|---|---|---|---|---|"
row "login (discovery, UIConfig, envelope key, login)" login
row "login with a saved API table (\`WithAPIInfo\`)" login-saved-table
row "a list in a saved session with a saved table" saved-session-list
row "login + list of 10 users" "login+list"
row "one create, the first after the login" create
row "the next create (the envelope key reused)" next-create
row "all 16,000 users with email and groups (\`Users.All\`), median of 5" all-users
row "one bare POST of that list, read and decoded with encoding/json, median of 5" one-list-request
row "create 1,000 users (\`manifest\` apply, 8 in parallel)" create-1000
say ""
say "All 16,000 users against one bare request of the same list ($(metric "$r0" MiB-list-answer) MiB): **$(metric "$r0" all/one-request)x** at 0 ms, **$(metric "$r20" all/one-request)x** at 20 ms (target: at most 4 requests and 1.2x at 20 ms). Creating 1,000 users takes one request each; its time is the simulator's (an RSA-4096 decryption of each envelope, one at a time on this machine), not the round trips."
say ""
say "    $cmd"
say ""

cli_section

cmd="BENCH_USERS=$users BENCH_LATENCY_MS=$latency go test ./bench -run '^\$' -bench ApplyParallel -benchtime 1x -timeout 60m"
out=$(eval "$cmd")
line=$(grep '^BenchmarkApplyParallel' <<<"$out")
say "## Apply of $users new users"
say ""
say "\`manifest\` apply of a file of $users new users (generated passwords) against a simulator whose every answer takes ${latency} ms."
say ""
say "| parallel | time | users/s |"
say "|---|---|---|"
say "| 1 | $(metric "$line" s-parallel-1) s | $(metric "$line" users/s-parallel-1) |"
say "| 8 | $(metric "$line" s-parallel-8) s | $(metric "$line" users/s-parallel-8) |"
say ""
say "Speed-up: **$(metric "$line" speedup)x**."
say ""
say "    $cmd"
say ""

onboard_section

cmd="go test ./bench -run '^\$' -bench PlanMemory -benchtime 1x"
out=$(eval "$cmd")
say "## Memory of a plan"
say ""
say "| users in the file | peak heap | held by the plan | per user |"
say "|---|---|---|---|"
for n in 1000 10000; do
	line=$(grep "^BenchmarkPlanMemory/users=$n-" <<<"$out")
	say "| $n | $(metric "$line" MiB-peak) MiB | $(metric "$line" MiB-held) MiB | $(metric "$line" B-held/user) B |"
done
say ""
say "    $cmd"

sed -i "s|LOAD_AT_END|$(cut -d' ' -f1-3 /proc/loadavg) at the end; the cores are shared with other work|" "$tmp"
mv "$tmp" "$out_md"
rm -rf "$work"
trap - EXIT
echo "wrote $out_md"
