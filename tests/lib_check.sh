# Check helpers shared by the shell tests that source it (test_acquire_bayes.sh,
# test_acquire_image_fw.sh, test_acquire_hex.sh, test_analyze.sh, test_image.sh). Set T (the test's name in FAIL lines), tmp (a scratch
# directory) and, for decoded_same, MF (the minflux binary) first; the test ends with: echo "...: $checks checks, $fails failed"; [ $fails -eq 0 ]
fails=0; checks=0
ok()   { checks=$((checks+1)); }
fail() { checks=$((checks+1)); fails=$((fails+1)); echo "FAIL $T: $*"; }
check() { local what=$1; shift; if "$@"; then ok; else fail "$what"; fi; }
# png_ok NAME FILE: FILE is a well-formed PNG that is not blank (tests/png_check.py)
png_ok() { local out; if out=$(python3 "$(dirname "${BASH_SOURCE[0]}")/png_check.py" "$2" 2>&1); then ok; else fail "$1: $out"; fi; }
# jget FILE KEY: the value of "KEY": in a pretty-printed JSON file (the first one)
jget() { sed -n "s/^ *\"$2\": \([^,]*\),\{0,1\}$/\1/p" "$1" | head -1; }
# refused NAME EXIT PATTERN CMD...: CMD exits EXIT with one stderr line matching PATTERN
# (acquire's D-table progress lines aside)
refused() {
  local name=$1 code=$2 pat=$3; shift 3
  "$@" >"$tmp/out" 2>"$tmp/err" </dev/null; local rc=$?
  if [ $rc -ne "$code" ]; then fail "$name: exit $rc (expected $code): $(cat "$tmp/err")"; return; fi
  if [ "$(grep -vc '^minflux acquire: computing\|^minflux acquire: D(sigma) done' "$tmp/err")" -ne 1 ]; then
    fail "$name: stderr has $(wc -l <"$tmp/err") lines: $(cat "$tmp/err")"; return
  fi
  if ! grep -qE -- "$pat" "$tmp/err"; then fail "$name: stderr '$(cat "$tmp/err")' lacks /$pat/"; return; fi
  ok
}
# decoded_same NAME RUN OUT FILE...: `$MF decode RUN/raw.mfx --out OUT` succeeds and rebuilds
# each FILE byte for byte as the acquisition wrote it (its stderr in OUT.err for more checks)
decoded_same() {
  local name=$1 run=$2 out=$3 f; shift 3
  if ! "$MF" decode "$run/raw.mfx" --out "$out" >/dev/null 2>"$out.err"; then fail "$name: decode: $(cat "$out.err")"; return 1; fi
  for f in "$@"; do check "$name: decode reproduces $f" cmp -s "$run/$f" "$out/$f"; done
}
