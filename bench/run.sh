#!/usr/bin/env bash
# Runs the benchmarks of bench/ and prints each figure with the command
# that reproduces it. Takes about three minutes (1,000 users applied
# twice over 50 ms of latency per call). Not part of CI.
#
#   bash bench/run.sh                     # 1,000 users, 50 ms
#   BENCH_USERS=200 bash bench/run.sh     # quicker
set -euo pipefail
cd "$(dirname "$0")/.."

users=${BENCH_USERS:-1000}
latency=${BENCH_LATENCY_MS:-50}
apply_cmd="BENCH_USERS=$users BENCH_LATENCY_MS=$latency go test ./bench -run '^\$' -bench ApplyParallel -benchtime 1x -timeout 60m"
memory_cmd="go test ./bench -run '^\$' -bench PlanMemory -benchtime 1x"

metric() { # metric LINE UNIT: the value before UNIT in a benchmark line
	awk -v unit="$2" '{ for (i = 2; i <= NF; i++) if ($i == unit) print $(i-1) }' <<<"$1"
}

echo "== Apply: $users new users, ${latency} ms per call, parallel 1 and 8"
out=$(BENCH_USERS=$users BENCH_LATENCY_MS=$latency go test ./bench -run '^$' -bench ApplyParallel -benchtime 1x -timeout 60m)
line=$(grep '^BenchmarkApplyParallel' <<<"$out")
printf '  parallel 1: %s s (%s users/s)\n' "$(metric "$line" s-parallel-1)" "$(metric "$line" users/s-parallel-1)"
printf '  parallel 8: %s s (%s users/s)\n' "$(metric "$line" s-parallel-8)" "$(metric "$line" users/s-parallel-8)"
printf '  speed-up:   %sx\n' "$(metric "$line" speedup)"
echo "  reproduce:  $apply_cmd"

echo "== Memory: load and plan a file of new users"
out=$(go test ./bench -run '^$' -bench PlanMemory -benchtime 1x)
for n in 1000 10000; do
	line=$(grep "^BenchmarkPlanMemory/users=$n-" <<<"$out")
	printf '  %5d users: peak %s MiB, held by the plan %s MiB (%s B per user), allocated %s MiB\n' "$n" \
		"$(metric "$line" MiB-peak)" "$(metric "$line" MiB-held)" "$(metric "$line" B-held/user)" "$(metric "$line" MiB-allocated)"
done
echo "  reproduce:  $memory_cmd"
