#!/usr/bin/env bash
# run-fuzz.sh BUILD_DIR NAME... — runs each libFuzzer harness for $FUZZ_SECONDS seconds on its
# seed corpus (tests/fuzz/corpus/NAME, read-only) and its working corpus
# (BUILD_DIR/corpus/NAME, new finds), with the dictionary tests/fuzz/NAME.dict when there is
# one. Prints one line per harness with its executions, and exits 1 on any finding (the
# crashing input is kept as BUILD_DIR/findings/NAME-*).
set -uo pipefail
build=${1:?build dir}
shift
root=$(cd "$(dirname "$0")/.." && pwd)
seconds=${FUZZ_SECONDS:-60}
status=0
mkdir -p "$build/findings"
for name in "$@"; do
  seeds="$root/tests/fuzz/corpus/${name#fuzz_}"
  work="$build/corpus/${name#fuzz_}"
  mkdir -p "$work" "$seeds"
  dict=()
  [ -f "$root/tests/fuzz/${name#fuzz_}.dict" ] && dict=(-dict="$root/tests/fuzz/${name#fuzz_}.dict")
  log="$build/$name.log"
  "$build/$name" -max_total_time="$seconds" -timeout=60 -rss_limit_mb=2048 -print_final_stats=1 \
    -artifact_prefix="$build/findings/$name-" "${dict[@]}" "$work" "$seeds" >"$log" 2>&1
  rc=$?
  execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || true)
  if [ $rc -ne 0 ]; then
    echo "fuzz: $name FAILED after ${execs:-?} executions (see $log)" >&2
    tail -30 "$log" >&2
    status=1
  else
    echo "fuzz: $name ok, ${execs:-?} executions in ${seconds} s"
  fi
done
exit $status
