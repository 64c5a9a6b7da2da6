#!/usr/bin/env bash
# test_cli_estimators: `minflux crb` and `minflux localize` as a user runs them: values
# (against formulas evaluated here with awk, and fixed against float), CSV shape, --help,
# and every refusal (exit code non-zero, exactly one line on stderr naming the problem).
# Usage: tests/test_cli_estimators.sh [path/to/minflux]   (default ${BUILD:-build}/minflux)
set -u
MF=${1:-${BUILD:-build}/minflux}
[ -x "$MF" ] || { echo "FAIL cli: $MF not built"; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0; checks=0
ok()   { checks=$((checks+1)); }
fail() { checks=$((checks+1)); fails=$((fails+1)); echo "FAIL cli: $*"; }

# run NAME EXPECT_RC CMD...: captures stdout/stderr in $tmp/out, $tmp/err
run() {
  local name=$1 want=$2; shift 2
  "$@" >"$tmp/out" 2>"$tmp/err"; local rc=$?
  if [ "$want" = 0 ] && [ $rc -ne 0 ]; then fail "$name: exit $rc, stderr: $(cat "$tmp/err")"; return 1; fi
  if [ "$want" = x ] && [ $rc -eq 0 ]; then fail "$name: exit 0, expected a refusal"; return 1; fi
  ok; return 0
}
# refused NAME PATTERN CMD...: non-zero exit, one stderr line matching PATTERN, no crash
refused() {
  local name=$1 pat=$2; shift 2
  "$@" >"$tmp/out" 2>"$tmp/err" </dev/null; local rc=$?
  if [ $rc -eq 0 ] || [ $rc -ge 128 ]; then fail "$name: exit $rc"; return; fi
  if [ "$(wc -l <"$tmp/err")" -ne 1 ]; then fail "$name: stderr has $(wc -l <"$tmp/err") lines: $(cat "$tmp/err")"; return; fi
  if ! grep -qE -- "$pat" "$tmp/err"; then fail "$name: stderr '$(cat "$tmp/err")' lacks /$pat/"; return; fi
  ok
}
refused_in() {   # like refused, with stdin from a string
  local name=$1 pat=$2 input=$3; shift 3
  printf "%b" "$input" | "$@" >"$tmp/out" 2>"$tmp/err"; local rc=$?
  if [ $rc -eq 0 ] || [ $rc -ge 128 ]; then fail "$name: exit $rc"; return; fi
  if [ "$(wc -l <"$tmp/err")" -ne 1 ]; then fail "$name: stderr: $(cat "$tmp/err")"; return; fi
  if ! grep -qE -- "$pat" "$tmp/err"; then fail "$name: stderr '$(cat "$tmp/err")' lacks /$pat/"; return; fi
  ok
}

# ---- crb ----
s27() { awk -v L="$1" -v f="$2" -v N="$3" 'BEGIN{printf "%.6f", L/(2*sqrt(2*N))/(1-L*L*log(2)/(f*f))}'; }
run "crb S27" 0 "$MF" crb --L 100 --fwhm 360 --N 100 &&
  { [ "$(cat "$tmp/out")" = "3.74" ] && ok || fail "crb --L 100 --fwhm 360 --N 100 printed '$(cat "$tmp/out")', want 3.74"; }
for args in "50 360 10" "130 450 9" "300 360 1000"; do
  set -- $args
  want=$(s27 "$1" "$2" "$3")
  run "crb S27 $args" 0 "$MF" crb --L "$1" --fwhm "$2" --N "$3" &&
    { awk -v a="$(cat "$tmp/out")" -v b="$want" 'BEGIN{exit !(a>0 && (a-b)/b < 0.006 && (b-a)/b < 0.006)}' && ok ||
      fail "crb $args: '$(cat "$tmp/out")' vs S27 $want"; }
done
want=$(awk -v s="$(s27 100 360 100)" 'BEGIN{S=5; printf "%.2f", s*sqrt((1+1/S)*(1+0.75/S))}')
run "crb S31" 0 "$MF" crb --L 100 --fwhm 360 --N 100 --sbr 5 &&
  { [ "$(cat "$tmp/out")" = "$want" ] && ok || fail "crb --sbr 5: '$(cat "$tmp/out")', S31 $want"; }
# S32: SBR 5 measured at L0 = 200 nm, used at L = 100 nm
want=$(awk -v s="$(s27 100 360 100)" 'BEGIN{S=5*(100*100)/(200*200)*exp(log(2)/(360*360)*(200*200-100*100));
  printf "%.2f", s*sqrt((1+1/S)*(1+0.75/S))}')
run "crb S32" 0 "$MF" crb --L 100 --fwhm 360 --N 100 --sbr 5 --sbr-L0 200 &&
  { [ "$(cat "$tmp/out")" = "$want" ] && ok || fail "crb --sbr-L0: '$(cat "$tmp/out")', want $want"; }
# numerical S25/S26: equals the closed forms at the centre, grows away from it (with background)
run "crb at 0,0" 0 "$MF" crb --L 100 --fwhm 360 --N 100 --at 0,0 &&
  { [ "$(cat "$tmp/out")" = "3.74" ] && ok || fail "crb --at 0,0: '$(cat "$tmp/out")'"; }
run "crb at 0,0 sbr" 0 "$MF" crb --L 100 --fwhm 360 --N 100 --at 0,0 --sbr 5 &&
  { [ "$(cat "$tmp/out")" = "$(awk -v s="$(s27 100 360 100)" 'BEGIN{S=5; printf "%.2f", s*sqrt((1+1/S)*(1+0.75/S))}')" ] && ok ||
    fail "crb --at 0,0 --sbr 5: '$(cat "$tmp/out")'"; }
prev=0
for x in 0 20 40 60; do
  run "crb at $x" 0 "$MF" crb --L 100 --fwhm 360 --N 100 --sbr 20 --at "$x,0" || continue
  v=$(cat "$tmp/out")
  awk -v a="$v" -v b="$prev" 'BEGIN{exit !(a>b)}' && ok || fail "crb --at $x,0 = $v not above $prev"
  prev=$v
done
run "crb verbose" 0 "$MF" crb --L 100 --fwhm 360 --N 100 --at 10,5 --verbose &&
  { grep -q "cov = " "$tmp/out" && ok || fail "crb --verbose lacks the covariance"; }
run "crb help" 0 "$MF" crb --help && { grep -q "usage: minflux crb" "$tmp/out" && ok || fail "crb --help"; }
refused "crb no N" "--N" "$MF" crb --L 100 --fwhm 360
refused "crb singular" "L must be < fwhm/sqrt\(ln 2\) = 432.4 nm" "$MF" crb --L 500 --fwhm 360 --N 100
refused "crb L=0" "L = 0 nm: must be 1..1000 nm" "$MF" crb --L 0 --fwhm 360 --N 100
refused "crb fwhm<0" "fwhm = -360 nm" "$MF" crb --L 100 --fwhm -360 --N 100
refused "crb N<0" "N = -1 photons: must be > 0" "$MF" crb --L 100 --fwhm 360 --N -1
refused "crb N text" "--N 'abc': not a finite number" "$MF" crb --L 100 --fwhm 360 --N abc
refused "crb sbr 0" "sbr = 0: must be > 0" "$MF" crb --L 100 --fwhm 360 --N 100 --sbr 0
refused "crb at" "--at '5': expected X,Y" "$MF" crb --L 100 --fwhm 360 --N 100 --at 5
refused "crb option" "unknown option '--foo'" "$MF" crb --L 100 --fwhm 360 --N 100 --foo 1

# ---- localize ----
cat >"$tmp/q.csv" <<'EOF'
n0,n1,n2,n3
0,10,10,10
5,20,3,7
0,0,0,0
1,0,0,1
3,40,2,0

12,7,9,30
8191,8191,8191,8191
0,0,5,0
EOF
rows=$(grep -c '^[0-9]' "$tmp/q.csv")
for est in mlms mlms2; do
  run "localize $est fixed" 0 "$MF" localize --estimator $est --L 100 --fwhm 360 --beta0 1.27 --beta1 3.8 <"$tmp/q.csv" &&
    cp "$tmp/out" "$tmp/fixed.csv"
  run "localize $est float" 0 "$MF" localize --estimator $est --L 100 --fwhm 360 --beta0 1.27 --beta1 3.8 --arith float <"$tmp/q.csv" &&
    cp "$tmp/out" "$tmp/float.csv"
  [ "$(head -1 "$tmp/fixed.csv")" = "x_nm,y_nm,valid" ] && ok || fail "$est: header '$(head -1 "$tmp/fixed.csv")'"
  [ "$(($(wc -l <"$tmp/fixed.csv") - 1))" = "$rows" ] && ok || fail "$est: $(wc -l <"$tmp/fixed.csv") lines for $rows rows"
  paste -d, "$tmp/fixed.csv" "$tmp/float.csv" | tail -n +2 | awk -F, '
    { d1 = $1 - $4; d2 = $2 - $5; if (d1 < 0) d1 = -d1; if (d2 < 0) d2 = -d2;
      if (d1 > 0.1 || d2 > 0.1 || $3 != $6) { print "row " NR ": " $0; bad = 1 } }
    END { exit bad }' >"$tmp/diff" && ok || fail "$est: fixed vs float beyond 0.1 nm: $(cat "$tmp/diff")"
  # symmetric quartet -> centre; N = 0 -> invalid; values as the S49/S51 float formula
  [ "$(sed -n 2p "$tmp/fixed.csv")" = "0.00000,0.00000,1" ] && ok || fail "$est: 0,10,10,10 -> $(sed -n 2p "$tmp/fixed.csv")"
  [ "$(sed -n 4p "$tmp/fixed.csv")" = "0.00000,0.00000,0" ] && ok || fail "$est: 0,0,0,0 -> $(sed -n 4p "$tmp/fixed.csv")"
done
# float mLMS k=1 row 5,20,3,7 by hand (S49 with B = 1.27 + 3.8 p0)
want=$(awk 'BEGIN{L=100; f=360; F=1/(1-L*L*log(2)/(f*f)); N=35; B=1.27+3.8*5/N;
  printf "%.5f,%.5f", L/2*F*B*(-7/N+0.5*(20+3)/N), L/2*F*B*sqrt(3)/2*(3-20)/N}')
run "localize float value" 0 "$MF" localize --estimator mlms --L 100 --fwhm 360 --arith float <"$tmp/q.csv" &&
  { [ "$(sed -n 3p "$tmp/out" | cut -d, -f1,2)" = "$want" ] && ok || fail "mlms float 5,20,3,7: $(sed -n 3p "$tmp/out"), want $want"; }
# threshold sets valid
run "localize threshold" 0 "$MF" localize --estimator mlms --L 100 --fwhm 360 --threshold 31 <"$tmp/q.csv" &&
  { [ "$(sed -n 2,3p "$tmp/out" | cut -d, -f3 | tr -d '\n')" = "01" ] && ok || fail "threshold 31: $(sed -n 2,3p "$tmp/out")"; }
# gauss1d: 2 and 4 columns; S40 by hand; n_i = 0 -> 0
printf 'n0,n1\n10,20\n0,5\n40,4\n' >"$tmp/g.csv"
want=$(awk 'BEGIN{G=360*360/(8*log(2)*300); printf "%.1f", G*log(40/4)}')
for ar in fixed float; do
  run "gauss1d $ar" 0 "$MF" localize --estimator gauss1d --L 300 --fwhm 360 --arith $ar <"$tmp/g.csv" &&
  { [ "$(sed -n 3p "$tmp/out")" = "0.00000,0.00000,1" ] && ok || fail "gauss1d $ar 0,5 -> $(sed -n 3p "$tmp/out")"
    awk -F, -v w="$want" 'NR==4{exit !($1 - w < 0.06 && w - $1 < 0.06 && $2 == 0)}' "$tmp/out" && ok ||
      fail "gauss1d $ar 40,4 -> $(sed -n 4p "$tmp/out"), S40 $want"; }
done
printf 'n0,n1,n2,n3\n10,20,30,3\n' | "$MF" localize --estimator gauss1d --L 300 --fwhm 360 >"$tmp/out" 2>"$tmp/err" &&
  awk -F, 'NR==2{exit !($1 < 0 && $2 > 0)}' "$tmp/out" && ok || fail "gauss1d 4 columns: $(cat "$tmp/out" "$tmp/err")"
run "localize help" 0 "$MF" localize --help && { grep -q "usage: minflux localize" "$tmp/out" && ok || fail "localize --help"; }
run "localize sbr note" 0 "$MF" localize --estimator mlms --L 100 --fwhm 360 --sbr 5 <"$tmp/q.csv"

L=(--L 100 --fwhm 360)
refused_in "short line" "line 3: 3 fields, expected 4" 'n0,n1,n2,n3\n1,2,3,4\n1,2,3\n' "$MF" localize --estimator mlms "${L[@]}"
refused_in "negative" "line 2: n2 = '-3': negative count" 'n0,n1,n2,n3\n1,2,-3,4\n' "$MF" localize --estimator mlms "${L[@]}"
refused_in "non-integer" "line 2: n1 = '2.5': not an integer" 'n0,n1,n2,n3\n1,2.5,3,4\n' "$MF" localize --estimator mlms "${L[@]}"
refused_in "text" "line 4: n0 = 'abc': not a number" 'n0,n1,n2,n3\n1,2,3,4\n\nabc,1,1,1\n' "$MF" localize --estimator mlms "${L[@]}"
refused_in "absurd" "line 2: n3 = 100000: above 8191" 'n0,n1,n2,n3\n1,2,3,100000\n' "$MF" localize --estimator mlms "${L[@]}"
refused_in "empty field" "line 2: n1 is empty" 'n0,n1,n2,n3\n1,,3,4\n' "$MF" localize --estimator mlms "${L[@]}"
refused_in "bad header" "line 1: expected the header n0,n1,n2,n3" 'x,y\n1,2\n' "$MF" localize --estimator mlms "${L[@]}"
refused_in "gauss header" "expected the header n0,n1 or n0,n1,n2,n3" 'n0,n1,n2\n1,2,3\n' "$MF" localize --estimator gauss1d --L 300 --fwhm 360
refused_in "no input" "no input" '' "$MF" localize --estimator mlms "${L[@]}"
refused "numlms takes no betas" "takes no --betaN" "$MF" localize --estimator numlms "${L[@]}" --beta0 1
refused "mle is double precision" "double precision" "$MF" localize --estimator mle --arith fixed "${L[@]}"
refused "unknown est" "unknown estimator 'lms'" "$MF" localize --estimator lms "${L[@]}"
refused "no est" "--estimator is required" "$MF" localize "${L[@]}"
refused "singular" "L = 433 nm with fwhm = 360 nm: L must be < fwhm/sqrt\(ln 2\) = 432.4 nm" "$MF" localize --estimator mlms --L 433 --fwhm 360
refused "singular float" "432.4 nm" "$MF" localize --estimator mlms --L 433 --fwhm 360 --arith float
refused "L<=0" "L = -5 nm: must be 1..1000 nm" "$MF" localize --estimator mlms --L -5 --fwhm 360
refused "fwhm 0" "fwhm = 0 nm: must be 1..1000" "$MF" localize --estimator gauss1d --L 100 --fwhm 0
refused "beta range" "beta1 = 9: must be -8" "$MF" localize --estimator mlms "${L[@]}" --beta1 9
refused "gain range" "beta0 \+ beta1 p0 \+ beta2 p0\^2 = -1 at p0 = 1" "$MF" localize --estimator mlms2 "${L[@]}" --beta0 1 --beta1 2 --beta2 -4
refused "beta2 for k=1" "beta2 = 0.5: mlms is the k=1 estimator" "$MF" localize --estimator mlms "${L[@]}" --beta2 0.5
refused "arith" "--arith 'double': must be fixed or float" "$MF" localize --estimator mlms "${L[@]}" --arith double
refused "G range" "needs L >= 22.8 nm" "$MF" localize --estimator gauss1d --L 10 --fwhm 360
refused "threshold" "threshold = -1: must be an integer" "$MF" localize --estimator mlms "${L[@]}" --threshold -1
refused "sbr" "sbr = -2: must be > 0" "$MF" localize --estimator mlms "${L[@]}" --sbr -2
refused "missing value" "--L needs a value" "$MF" localize --estimator mlms --fwhm 360 --L

echo "cli estimators: $checks checks, $fails failed"
[ "$fails" -eq 0 ]
