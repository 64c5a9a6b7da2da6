#!/usr/bin/env python3
"""Mutation check of the foundation RTL: each entry breaks one comparison or arithmetic
operator; the co-simulation (fixed seed) must report a mismatch for every one.
Usage: tests/mutants.py [SEED]   (works on a copy in build/mutants; sources untouched)"""
import os, shutil, subprocess, sys

MUTANTS = [
    ("hdl/apd_capture.v", "else     o_cnt_reg <= bin2 - prev_reg;", "else     o_cnt_reg <= bin2 + prev_reg;"),
    ("hdl/photon_counter.v", "o_sat_any_reg <= (first_open ? 1'b0 : o_sat_any_reg) | (gd && |ovf);",
     "o_sat_any_reg <= (first_open ? 1'b0 : o_sat_any_reg) | (gd && &ovf);"),
    ("hdl/photon_counter.v", "    if (gd) acc_reg <= acc_next;", "    if (gd) acc_reg <= acc_next + 1'b1;"),
    ("hdl/photon_counter.v", "    base_reg <= keep_reg ? base_q_reg : {W{1'b0}};", "    base_reg <= base_q_reg;"),
    ("hdl/mux_sequencer.v", "add_s16 = {a[15], a} + {b[15], b};", "add_s16 = {a[15], a} - {b[15], b};"),
    ("hdl/mux_sequencer.v", "((a[1] ~^ b[1]) & (a[0] | ~b[0]))", "((a[1] ~^ b[1]) & (a[0] & ~b[0]))"),
    ("hdl/mux_sequencer.v", "tmr_last_reg <= tmr_last_reg || ((tmr_reg[15:2] == 14'd0) && !(tmr_reg[1] && tmr_reg[0]));",
     "tmr_last_reg <= tmr_last_reg || ((tmr_reg[15:2] == 14'd0) && !(tmr_reg[1] || tmr_reg[0]));"),
    ("hdl/dac_spi.v", "x_lt_reg <= {~x_raw_reg[16], x_raw_reg[15:0]} < {~i_xmin[15], i_xmin};",
     "x_lt_reg <= {~x_raw_reg[16], x_raw_reg[15:0]} <= {~i_xmin[15], i_xmin};"),
    ("hdl/dac_spi.v", "ph_lt47_reg <= (ph_next < 6'd47);", "ph_lt47_reg <= (ph_next < 6'd46);"),
    ("hdl/minflux_core.v", "ts_reg <= rst ? 32'd0 : ts_reg + 32'd1;", "ts_reg <= rst ? 32'd0 : ts_reg + 32'd2;"),
    ("hdl/minflux_core.v", "agg_last_reg <= {1'b0, agg_cnt_reg} + 9'd1 >= {1'b0, agg_m};",
     "agg_last_reg <= {1'b0, agg_cnt_reg} + 9'd1 > {1'b0, agg_m};"),
    ("hdl/minflux_core.v", "(ctrl_reg[1] || stop_hold_reg) && (!o_running || rec_win_reg || rec_end)",
     "(ctrl_reg[1] || stop_hold_reg) && (!o_running || rec_end)"),
]

def main():
    seed = sys.argv[1] if len(sys.argv) > 1 else "1"
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    work = os.path.join(root, "build", "mutants")
    killed = 0
    for path, old, new in MUTANTS:
        src = os.path.join(work, "src")
        shutil.rmtree(src, ignore_errors=True)
        os.makedirs(src)
        for d in ("hdl", "hls-c", "host", "sim", "tests", "mk"):
            shutil.copytree(os.path.join(root, d), os.path.join(src, d))
        shutil.copy(os.path.join(root, "Makefile"), src)
        text = open(os.path.join(src, path)).read()
        if text.count(old) != 1:
            print(f"NOT APPLIED {path}: pattern found {text.count(old)} times: {old}")
            continue
        open(os.path.join(src, path), "w").write(text.replace(old, new))
        exe = "build/vl/cosim_core/cosim_core"
        b = subprocess.run(["make", "-s", "MK_FRAGMENTS=mk/core.mk mk/estimators.mk", exe], cwd=src,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        if b.returncode != 0:
            print(f"BUILD FAILED {path}: {new}\n{b.stdout[-400:]}")
            continue
        r = subprocess.run([exe, "--seed", seed, "--cycles", "300000"], cwd=src,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        first = next((l for l in r.stdout.splitlines() if l.startswith(("MISMATCH", "FAIL"))), "")
        if r.returncode != 0 and first:
            killed += 1
            print(f"killed   {path}: '{new.strip()}'\n         -> {first}")
        else:
            print(f"SURVIVED {path}: '{new.strip()}'")
    print(f"mutants: {killed} killed of {len(MUTANTS)} (seed {seed})")
    return 0 if killed == len(MUTANTS) else 1

if __name__ == "__main__":
    sys.exit(main())
