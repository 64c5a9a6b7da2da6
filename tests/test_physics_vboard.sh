#!/usr/bin/env bash
# test_physics_vboard: the physics model inside the virtual board, end to end through the
# host program (the firmware runs open loop: the pattern stays at the configured centre).
# - static.ini: the mean counts of every exposure against S17 at the beam positions the
#   firmware drives (pattern of README "Acquisition keys", gate length from the raw
#   header), within 5 standard errors; truth.csv and physics.json as documented;
# - lissajous.ini: every truth.csv row against the analytic S82 average of the Lissajous
#   figure over its cycle (the timestamp -> model time mapping of sim/vboard.cpp);
# - a multi-site sample (origami.ini's sites, fast switching): truth.csv's n_on columns,
#   the site list and the time-weighted statistics of physics.json;
# - a bad scenario key is refused by the host in one line naming the key.
# Usage: tests/test_physics_vboard.sh [BUILD]
set -u
BUILD=${1:-build}
MF=$BUILD/minflux
[ -x "$MF" ] || { echo "FAIL physics_vboard: $MF not built"; exit 1; }
SCN=$(cd "$(dirname "$0")/../sim/scenarios" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0
fail() { fails=$((fails+1)); echo "FAIL physics_vboard: $*"; }
jreg() { sed -n 's/.*"registers":{[^}]*"'"$2"'":\([0-9]*\).*/\1/p' "$1/raw.mfx" | head -1; }

# ---- static emitter: counts per exposure against S17 ----
D=$tmp/static
if "$MF" acquire --board "sim:$SCN/static.ini" --mode track --duration 0.25 --out "$D" >/dev/null 2>"$tmp/err"; then
  gate=$(jreg "$D" gate)
  [ -n "$gate" ] || fail "no gate register in the raw header"
  # emitter (12, -8) nm, A0 1e6 Hz, dark 100 Hz, fwhm 360 nm; exposure 0 at the centre, i at
  # i x 120 deg on a circle of diameter 100 nm, offsets rounded to 0.1 nm DAC LSB
  out=$(awk -F, -v gate="$gate" 'NR > 1 { for (i = 0; i < 4; i++) s[i] += $(3 + i); n++ }
    END {
      T = gate / 48e6; pi = atan2(0, -1); bad = 0
      for (i = 0; i < 4; i++) {
        bx = 0; by = 0
        if (i) { a = i * 2 * pi / 3; bx = int(500 * cos(a) + (cos(a) >= 0 ? 0.5 : -0.5)) / 10; by = int(500 * sin(a) + (sin(a) >= 0 ? 0.5 : -0.5)) / 10 }
        r2 = (12 - bx)^2 + (-8 - by)^2; q = 4 * log(2) * r2 / 360^2
        mu = (1e6 * exp(1) * q * exp(-q) + 100) * T
        m = s[i] / n; se = sqrt(mu / n)
        printf "  exposure %d at (%.1f, %.1f) nm: mean %.4f counts, S17 %.4f (se %.4f)\n", i, bx, by, m, mu, se
        if ((m - mu)^2 > 25 * se^2) bad++
      }
      print "bad", bad
    }' "$D/cycles.csv")
  echo "$out" | grep -v '^bad'
  [ "$(echo "$out" | sed -n 's/^bad //p')" = 0 ] || fail "static: exposure counts off the S17 expectation"
  [ "$(awk -F, 'NR > 1 && ($2 != "12.000" || $3 != "-8.000" || $4 != 1) {b++} END {print b+0}' "$D/truth.csv")" = 0 ] \
    || fail "static: truth.csv rows are not (12, -8, on)"
  grep -q '"seed": 1,' "$D/physics.json" || fail "static: physics.json lacks the scenario seed 1"
  grep -q '"what": "activate", "molecule": 0' "$D/physics.json" || fail "static: physics.json lacks the activation"
else
  fail "static acquire: $(cat "$tmp/err")"
fi

# ---- Lissajous: truth rows are the S82 cycle averages ----
D=$tmp/liss
# (open loop: controller=off overrides the scenario's [acquire] controller = on)
if "$MF" acquire --board "sim:$SCN/lissajous.ini" --mode track --duration 0.25 --out "$D" controller=off >/dev/null 2>"$tmp/err"; then
  k=$(jreg "$D" k); delay=$(jreg "$D" delay); gate=$(jreg "$D" gate)
  # a cycle stamped ts starts at model time (ts + 16) / clk; its truth averages the figure
  # (pp 500 nm, 1.5 / 1 Hz, centre 0) up to its last gate, 1 + K (DELAY + GATE) clocks later
  res=$(awk -F, -v len="$(( 1 + k * (delay + gate) ))" 'NR > 1 {
      pi = atan2(0, -1); t0 = $1 + 16 / 48e6; t1 = t0 + len / 48e6
      wx = 2 * pi * 1.5; wy = 2 * pi * 1.0
      ex = 250 * (cos(wx * t0) - cos(wx * t1)) / (wx * (t1 - t0))
      ey = 250 * (cos(wy * t0) - cos(wy * t1)) / (wy * (t1 - t0))
      d = ($2 - ex)^2 + ($3 - ey)^2; if (d > max) max = d
      if ($4 != 1) off++
      if (NR == 2) x0 = $2; x1 = $2; n++
    } END { printf "%d %.6f %d %.3f %.3f\n", n, sqrt(max), off + 0, x0, x1 }' "$D/truth.csv")
  read -r n maxd off x0 x1 <<<"$res"
  echo "  lissajous: $n truth rows, x $x0 -> $x1 nm, largest distance to the analytic S82 mean $maxd nm"
  [ "$n" = 2000 ] || fail "lissajous: $n truth rows for 2000 cycles"
  awk -v d="$maxd" 'BEGIN {exit !(d < 0.005)}' || fail "lissajous: truth $maxd nm from the analytic cycle mean"
  [ "$off" = 0 ] || fail "lissajous: $off cycles off for a bead that does not blink"
else
  fail "lissajous acquire: $(cat "$tmp/err")"
fi

# ---- multi-site sample: truth.csv n_on columns against physics.json ----
# origami.ini's sites with fast spontaneous switching (no 405 nm open loop): 200/s per
# site, ON 3 ms, so sites come and go many times in 0.25 s
D=$tmp/sites
sed -e 's/^spontaneous_hz = .*/spontaneous_hz = 200/' -e 's/^t_on_ms = .*/t_on_ms = 3/' \
    -e 's/^bleach_prob = .*/bleach_prob = 0.01/' "$SCN/origami.ini" >"$tmp/sites.ini"
if "$MF" acquire --board "sim:$tmp/sites.ini" --mode track --duration 0.25 --out "$D" controller=off >/dev/null 2>"$tmp/err"; then
  [ "$(head -1 "$D/truth.csv")" = "t_s,x_nm,y_nm,on,n_on,n_on_mean" ] || fail "sites: truth.csv header $(head -1 "$D/truth.csv")"
  grep -q '"sites": \[' "$D/physics.json" && grep -q '"x_nm": -12.000, "y_nm": -6.000' "$D/physics.json" \
    || fail "sites: physics.json lacks the site list"
  jnum() { sed -n 's/.*"'"$2"'": \([-0-9.e+]*\).*/\1/p' "$1/physics.json" | head -1; }
  f1=$(jnum "$D" frac_on_ge1); f2=$(jnum "$D" frac_on_ge2); mn=$(jnum "$D" mean_n_on)
  sp=$(jnum "$D" activations_spontaneous); a4=$(jnum "$D" activations_405)
  # the truth rows: mean of n_on_mean over the cycles (which cover most of the run) against
  # physics.json's run average; every row's columns consistent (0 <= n_on <= 5, on <=> n_on_mean
  # >= 0.5 possible only when some site was on, x, y near the origami when exactly one is on)
  res=$(awk -F, 'NR > 1 { n++; s += $6; if ($5 < 0 || $5 > 5 || $6 < 0 || $6 > 5) bad++
      if ($4 == 1 && $6 == 0) bad++
      if ($5 == 1 && $6 == 1 && (($2 + 12)^2 + ($3 + 6)^2 > 0.01) && ($2^2 + ($3 + 6)^2 > 0.01) && (($2 - 12)^2 + ($3 + 6)^2 > 0.01) \
          && (($2 + 3)^2 + ($3 - 12)^2 > 0.01) && (($2 - 3)^2 + ($3 - 12)^2 > 0.01)) bad++
      if ($6 >= 1.5) two++ }
      END { printf "%d %.4f %d %d\n", n, s / n, bad + 0, two + 0 }' "$D/truth.csv")
  read -r n mean bad two <<<"$res"
  echo "  sites: $n truth rows, mean n_on_mean $mean (physics.json mean_n_on $mn, >=1 on $f1, >=2 on $f2), $two rows with >= 1.5 on; activations $sp spontaneous, $a4 by 405 nm"
  [ "$bad" = 0 ] || fail "sites: $bad inconsistent truth rows"
  [ "$a4" = 0 ] || fail "sites: $a4 activations by 405 nm in an open-loop run"
  # physics.json's mean is over the whole run incl. the start-up before the first cycle:
  # within 10 % of the cycles' mean
  awk -v a="$mean" -v b="$mn" 'BEGIN {exit !(b > 0.5 && (a - b)^2 < (0.1 * b)^2)}' || fail "sites: truth mean $mean vs physics.json $mn"
  [ "$two" -gt 0 ] || fail "sites: no cycle with two sites on"
else
  fail "sites acquire: $(cat "$tmp/err")"
fi

# ---- the host refuses a bad scenario key in one line ----
printf '[trajectory]\nmodel = spiral\n' >"$tmp/bad.ini"
if "$MF" info --board "sim:$tmp/bad.ini" >/dev/null 2>"$tmp/err"; then
  fail "a scenario with model = spiral was accepted"
else
  [ "$(wc -l <"$tmp/err")" = 1 ] && grep -q "model = 'spiral' is not one of: static, brownian, lissajous, steps, csv" "$tmp/err" \
    || fail "bad scenario message: $(cat "$tmp/err")"
fi

[ $fails = 0 ] && echo "physics_vboard: all checks passed"
[ $fails = 0 ]
