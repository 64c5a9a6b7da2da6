#!/usr/bin/env bash
# Runs each test command given as NAME=COMMAND, prints PASS/FAIL per test and
# a closing "N passed, N failed" line; exits non-zero when any test failed.
set -u
pass=0; fail=0; failed=""
for spec in "$@"; do
  name=${spec%%=*}; cmd=${spec#*=}
  echo "=== $name: $cmd"
  start=$(date +%s)
  if bash -c "$cmd"; then
    pass=$((pass+1)); echo "--- PASS $name ($(( $(date +%s) - start )) s)"
  else
    fail=$((fail+1)); failed="$failed $name"; echo "--- FAIL $name ($(( $(date +%s) - start )) s)"
  fi
done
[ -n "$failed" ] && echo "failed:$failed"
echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
