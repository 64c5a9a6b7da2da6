#!/usr/bin/env bash
# Runs the libFuzzer targets one after the other and prints one line per target:
#   fuzz NAME: EXECS execs in S s (R/s), crashes C, corpus N inputs, coverage F features
# usage: tests/fuzz/run.sh time SECONDS BUILD_FUZZ_DIR NAME...   (CI smoke: a fixed time each)
#        tests/fuzz/run.sh runs N       BUILD_FUZZ_DIR NAME...   (bench: N executions each)
# Each target starts from its committed seed corpus tests/fuzz/corpus/NAME (never written)
# in a fresh working corpus; a crashing input is kept as BUILD_FUZZ_DIR/crash/NAME-*
# (rerun: BUILD_FUZZ_DIR/fuzz_NAME FILE). FUZZ_SEED=S repeats a run (default: random,
# printed). Exits non-zero when any target crashed or did not run.
set -u
mode=$1 amount=$2 dir=$3
shift 3
here=$(cd "$(dirname "$0")" && pwd)
seed=${FUZZ_SEED:-$(( $(od -An -N4 -tu4 /dev/urandom) % 2147483647 + 1 ))}
case $mode in
  time) limit="-max_total_time=$amount" ;;
  runs) limit="-runs=$amount" ;;
  *) echo "fuzz: mode must be time or runs"; exit 2 ;;
esac
bad=0
mkdir -p "$dir/crash"
for name in "$@"; do
  exe=$dir/fuzz_$name
  work=$dir/work/$name
  rm -rf "$work"; mkdir -p "$work"
  log=$dir/$name.log
  [ -d "$here/corpus/$name" ] || { echo "fuzz $name: no seed corpus $here/corpus/$name"; bad=1; continue; }
  dict=; [ -f "$here/$name.dict" ] && dict=-dict=$here/$name.dict
  "$exe" $limit $dict -seed="$seed" -max_len=4096 -timeout=10 -rss_limit_mb=1024 -print_final_stats=1 \
    -artifact_prefix="$dir/crash/$name-" "$work" "$here/corpus/$name" >"$log" 2>&1
  rc=$?
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
  secs=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")
  feat=$(grep -oE 'ft: [0-9]+' "$log" | tail -1 | grep -oE '[0-9]+')
  ncorp=$(find "$work" -type f | wc -l)
  # libFuzzer stops at the first failing input and writes it out: 0 or 1 per run
  crashes=$(grep -c 'Test unit written to' "$log")
  [ $rc -ne 0 ] && [ "$crashes" = 0 ] && crashes=1
  echo "fuzz $name: ${execs:-0} execs (${secs:-0}/s), crashes $crashes, corpus $ncorp new inputs, coverage ${feat:-0} features (seed $seed)"
  if [ $rc -ne 0 ] || [ -z "$execs" ]; then
    bad=1
    echo "fuzz $name: FAILED (exit $rc); log $log:"
    grep -E 'ERROR|property|SUMMARY|Test unit written|#0 |#1 |#2 |#3 ' "$log" | head -30
  fi
done
exit $bad
