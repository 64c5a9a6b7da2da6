#!/usr/bin/env bash
# test_cli_bayes: `minflux bayes` as a user runs it: a small D(sigma) table (file shape, the
# sigma grid, D0 against the small-b closed form s sqrt(b/e), D tending to D0), --help and
# every refusal (non-zero exit, exactly one line on stderr naming the problem).
# Usage: tests/test_cli_bayes.sh [path/to/minflux]   (default ${BUILD:-build}/minflux)
set -u
MF=${1:-${BUILD:-build}/minflux}
[ -x "$MF" ] || { echo "FAIL bayes cli: $MF not built"; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0; checks=0
ok()   { checks=$((checks+1)); }
fail() { checks=$((checks+1)); fails=$((fails+1)); echo "FAIL bayes cli: $*"; }
refused() {
  local name=$1 pat=$2; shift 2
  "$@" >"$tmp/out" 2>"$tmp/err" </dev/null; local rc=$?
  if [ $rc -eq 0 ] || [ $rc -ge 128 ]; then fail "$name: exit $rc"; return; fi
  if [ "$(wc -l <"$tmp/err")" -ne 1 ]; then fail "$name: stderr has $(wc -l <"$tmp/err") lines: $(cat "$tmp/err")"; return; fi
  if ! grep -qE -- "$pat" "$tmp/err"; then fail "$name: stderr '$(cat "$tmp/err")' lacks /$pat/"; return; fi
  ok
}

if "$MF" bayes --help >"$tmp/out" 2>&1 && grep -q "minflux bayes dtable" "$tmp/out"; then ok; else fail "--help"; fi
if "$MF" --help | grep -q "^  bayes "; then ok; else fail "bayes missing from minflux --help"; fi

# 1 entry per octave from 0.5 nm over 3 octaves: sigma = 0.5, 1, 2, 4 nm
if "$MF" bayes dtable --mu 0.5 --b 0.01 --sigma-min 0.5 --per-octave 1 --octaves 3 --out "$tmp/d.csv" >"$tmp/out" 2>"$tmp/err"; then
  ok
  awk -F, -v s=200 -v b=0.01 '
    NR == 1 { if ($0 !~ /^# D\(sigma\) of seed 002 eq 8: mu=0.5 b=0.01 s_nm=200 /) { print "header: " $0; bad = 1 }
              if (!match($0, /D0_nm=[0-9.e+-]+/)) { print "no D0"; bad = 1 }
              d0 = substr($0, RSTART + 6, RLENGTH - 6) + 0
              q = s * sqrt(b / exp(1)); if (d0 < 0.97 * q || d0 > 1.03 * q) { print "D0 " d0 " vs " q; bad = 1 } }
    NR == 2 { if ($0 != "sigma_nm,D_nm,eig_nats") { print "columns: " $0; bad = 1 } }
    NR > 2  { n++; want = 0.5 * 2 ^ (NR - 3); if ($1 < want * 0.999999 || $1 > want * 1.000001) { print "sigma " $1 " vs " want; bad = 1 }
              if (NR == 3 && ($2 < 0.995 * d0 || $2 > 1.005 * d0)) { print "D(0.5 nm) " $2 " vs D0 " d0; bad = 1 }
              if (!($3 > 0)) { print "eig " $3; bad = 1 } }
    END { if (n != 4) { print "entries " n; bad = 1 } exit bad }' "$tmp/d.csv" >"$tmp/chk" || fail "table: $(cat "$tmp/chk")"
  grep -q "4 entries" "$tmp/out" && ok || fail "summary line: $(cat "$tmp/out")"
else
  fail "dtable: $(cat "$tmp/err")"
fi

refused "no action"      "missing action"                 "$MF" bayes
refused "bad action"     "unknown action 'frob'"          "$MF" bayes frob
refused "no mu"          "--mu, --b and --out are required" "$MF" bayes dtable --b 0.01 --out "$tmp/x.csv"
refused "mu range"       "--mu '-1': must be a number in" "$MF" bayes dtable --mu -1 --b 0.01 --out "$tmp/x.csv"
refused "b range"        "--b '1.5': must be a number in" "$MF" bayes dtable --mu 1 --b 1.5 --out "$tmp/x.csv"
refused "b text"         "--b 'abc'"                      "$MF" bayes dtable --mu 1 --b abc --out "$tmp/x.csv"
refused "octave int"     "take integers"                  "$MF" bayes dtable --mu 1 --b 0.01 --per-octave 1.5 --out "$tmp/x.csv"
refused "no value"       "--out needs a value"            "$MF" bayes dtable --mu 1 --b 0.01 --out
refused "unknown option" "unknown option '--frob'"        "$MF" bayes dtable --frob 1
refused "unwritable"     "/nonexistent/x.csv"             "$MF" bayes dtable --mu 1 --b 0.01 --sigma-min 1 --per-octave 1 --octaves 1 --out /nonexistent/x.csv

echo "test_cli_bayes: $checks checks, $fails failed"
[ "$fails" = 0 ]
