#!/usr/bin/env bash
# test_fault: fault injection on the virtual board (sim/vboard.cpp --fault-* / --usb-buffer
# through MINFLUX_VBOARD_ARGS, the host stall through MINFLUX_SIM_STALL; docs/reliability.md).
# For each fault: `minflux acquire` exits with the documented code, the files are complete
# and readable up to the fault (cycles.csv has one row per record received, `minflux
# decode` of raw.mfx reproduces it byte for byte) and summary.json accounts for what was
# lost. Exit codes: 0 complete, 3 link failed mid-run, 4 records lost on the link, 5 the
# firmware was reset during the run.
# Usage: tests/test_fault.sh [path/to/minflux]   (default ${BUILD:-build}/minflux)
set -u
MF=${1:-${BUILD:-build}/minflux}
[ -x "$MF" ] || { echo "FAIL fault: $MF not built"; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0; checks=0
ok()   { checks=$((checks+1)); }
fail() { checks=$((checks+1)); fails=$((fails+1)); echo "FAIL fault: $*"; }
check() { local what=$1; shift; if "$@"; then ok; else fail "$what"; fi; }
jget() { sed -n "s/^ *\"$2\": \([^,]*\),\{0,1\}$/\1/p" "$1"; }

# acq NAME RC_WANTED DURATION [ENV=VALUE ...]: one acquisition with faults, then the checks
# every fault shares; leaves D (the run directory), S (its summary.json) and RC (the exit
# code). RC_WANTED may list alternatives: "4|0".
acq() {
  local name=$1 want=$2 dur=$3; shift 3
  D=$tmp/$name; S=$D/summary.json
  # shellcheck disable=SC2086
  env "$@" "$MF" acquire --board sim --mode track --duration "$dur" --out "$D" ${ACQ_KEYS:-} >"$tmp/$name.out" 2>"$tmp/$name.err"
  local rc=$?; RC=$rc
  case "|$want|" in *"|$rc|"*) ok ;; *) fail "$name: exit $rc, expected $want ($(tail -1 "$tmp/$name.err"))" ;; esac
  [ -s "$S" ] || { fail "$name: no summary.json"; return 1; }
  check "$name: summary exit_code" [ "$(jget "$S" exit_code)" = "$rc" ]
  check "$name: raw.mfx starts with its magic" [ "$(head -c 13 "$D/raw.mfx")" = "MINFLUX-RAW 1" ]
  local r; r=$(jget "$S" records)
  check "$name: cycles.csv holds every record ($r)" [ "$(wc -l <"$D/cycles.csv")" = $((r + 1)) ]
  if "$MF" decode "$D/raw.mfx" --out "$D/dec" >/dev/null 2>"$tmp/$name.dec"; then
    check "$name: decode reproduces cycles.csv" cmp -s "$D/cycles.csv" "$D/dec/cycles.csv"
    check "$name: decode reproduces tracks.csv" cmp -s "$D/tracks.csv" "$D/dec/tracks.csv"
  else
    fail "$name: decode: $(cat "$tmp/$name.dec")"
  fi
  check "$name: truth.csv has a row for every record" [ "$(($(wc -l <"$D/truth.csv") - 1))" -ge "$r" ]
  return 0
}

# ---- the host stops reading for 1 s; the FT2232H side drops what finds no room ----
# (watchdog off: the firmware runs on, as without a watchdog)
ACQ_KEYS="watchdog_ms=0"
if acq stall 4 0.4 MINFLUX_SIM_STALL=0.8:1.0 MINFLUX_VBOARD_ARGS="--usb-buffer 4096 --seed 11"; then
  g=$(jget "$S" gaps); l=$(jget "$S" lost_on_link); f=$(jget "$S" fifo_overflows); r=$(jget "$S" records); c=$(jget "$S" cycles_run)
  check "stall: records lost on the link ($l)" [ "${l:-0}" -gt 0 ]
  check "stall: gaps = lost on the link + FIFO overflows ($g = $l + $f)" [ "$g" = $((l + f)) ]
  check "stall: records + gaps = cycles run ($r + $g = $c)" [ $((r + g)) = "$c" ]
  check "stall: the board reports the bytes it could not deliver" grep -q "bytes to the host lost" "$tmp/stall.err"
  check "stall: the host names the loss" grep -q "records lost on the link" "$tmp/stall.err"
fi

ACQ_KEYS=""

# ---- host silence longer than the firmware watchdog (50 ms): the firmware stops the run ----
# The host sleeps 3 s of wall time from 0.5 s on; the virtual board runs on (its FT2232H
# drops what the host does not read) and its firmware aborts the run 50 ms of firmware time
# after the last command (laser off and beam centred: P_core_laser_off_after_wdog and
# C_core_wdog_centred in make formal). Exit 6, watchdog_tripped, every record accounted for.
ACQ_KEYS="watchdog_ms=50"
if acq watchdog 6 0.4 MINFLUX_SIM_STALL=0.5:3.0 MINFLUX_VBOARD_ARGS="--usb-buffer 4096 --seed 13"; then
  g=$(jget "$S" gaps); r=$(jget "$S" records); c=$(jget "$S" cycles_run)
  check "watchdog: watchdog_tripped" [ "$(jget "$S" watchdog_tripped)" = true ]
  check "watchdog: the firmware stopped early ($c of 3200 cycles)" [ "$c" -gt 0 -a "$c" -lt 3200 ]
  check "watchdog: records + gaps = cycles run ($r + $g = $c)" [ $((r + g)) = "$c" ]
  check "watchdog: the host names the trip" grep -q "host watchdog tripped" "$tmp/watchdog.err"
fi
ACQ_KEYS=""

# ---- USB unplug: the link closes in the middle of the stream ----
if acq unplug 3 0.5 MINFLUX_VBOARD_ARGS="--fault-unplug 0.1 --seed 12"; then
  r=$(jget "$S" records)
  check "unplug: link_error" [ "$(jget "$S" link_error)" = true ]
  check "unplug: the records up to the unplug ($r of ~800)" [ "$r" -ge 780 -a "$r" -le 800 ]
  check "unplug: no gap before it" [ "$(jget "$S" gaps)" = 0 ]
  check "unplug: cycles run unknown" [ "$(jget "$S" cycles_run)" = null ]
  check "unplug: seq runs 0..records-1" [ "$(awk -F, 'NR>1 && $1!=NR-2{bad++} END{print bad+0}' "$D/cycles.csv")" = 0 ]
  check "unplug: the host names the failure" grep -q "the link failed after $r records" "$tmp/unplug.err"
fi

# ---- a garbage burst towards the host: the decoder resynchronizes, the damage is counted ----
# The burst goes in after a firmware byte; when that byte ends a frame the next frame arrives
# whole and nothing is lost (exit 0; 1 of 30 runs at 0.05 s, a frame being 32 bytes). That outcome is checked too, and
# the burst is tried at later times until one lands inside a frame.
hit=0
for t in 0.05 0.07 0.09 0.11 0.13; do
  acq "garbage_$t" "4|0" 0.2 MINFLUX_VBOARD_ARGS="--fault-garbage $t:300 --seed 13" || break
  r=$(jget "$S" records); g=$(jget "$S" gaps); c=$(jget "$S" cycles_run); k=$(jget "$S" skipped_bytes)
  check "garbage at $t s: the burst is skipped ($k bytes)" [ "${k:-0}" -ge 300 ]
  check "garbage at $t s: records + gaps = cycles run ($r + $g = $c)" [ $((r + g)) = "$c" ]
  if [ "$RC" = 4 ]; then
    check "garbage at $t s: the frame it hit is a counted gap ($g)" [ "$g" -ge 1 -a "$(jget "$S" lost_on_link)" = "$g" ]
    check "garbage at $t s: the host names the loss" grep -q "records lost on the link" "$tmp/garbage_$t.err"
    hit=1; break
  fi
  check "garbage at $t s: between two frames, nothing lost" [ "$g" = 0 -a "$r" = 1600 ]
  echo "fault: the garbage burst at $t s fell between two frames (nothing lost); trying a later time"
done
check "garbage: one of the bursts hit a frame and cost it" [ $hit = 1 ]

# ---- a garbage burst towards the firmware: refused and counted, nothing lost ----
if acq rx_garbage 0 0.2 MINFLUX_VBOARD_ARGS="--fault-rx-garbage 0.05:300 --seed 14"; then
  check "rx garbage: refused frames counted ($(jget "$S" firmware_rx_errors))" [ "$(jget "$S" firmware_rx_errors)" -ge 1 ]
  check "rx garbage: every record ($(jget "$S" records))" [ "$(jget "$S" records)" = 1600 -a "$(jget "$S" cycles_run)" = 1600 ]
fi

# ---- a firmware reset in the middle of the run ----
if acq reset 5 0.5 MINFLUX_VBOARD_ARGS="--fault-reset 0.1 --seed 15"; then
  r=$(jget "$S" records)
  check "reset: firmware_reset" [ "$(jget "$S" firmware_reset)" = true ]
  check "reset: the records up to the reset ($r of ~800)" [ "$r" -ge 780 -a "$r" -le 800 ]
  check "reset: cycles run unknown" [ "$(jget "$S" cycles_run)" = null ]
  check "reset: the host names the reset" grep -q "the firmware was reset during the run" "$tmp/reset.err"
fi

# ---- the virtual board refuses a malformed fault option in one line ----
if MINFLUX_VBOARD_ARGS="--fault-garbage 0.1" "$MF" info --board sim >/dev/null 2>"$tmp/bad"; then
  fail "a malformed fault option was accepted"
else
  check "malformed fault option named" grep -q "vboard: --fault-garbage: bad or missing value" "$tmp/bad"
fi

echo "fault: $checks checks, $fails failed"
[ $fails = 0 ]
