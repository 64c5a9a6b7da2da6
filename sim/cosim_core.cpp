// Co-simulation of hdl/minflux_core.v (Verilated) against hls-c/minflux_core.c: the same
// register writes and APD pulse trains drive both; every output is compared every cycle.
// Directed scenarios also check the physics the user cares about (timing in cycles,
// counts equal to the pulses inside the gate, DAC codes inside the safe window, laser
// blanked while frames are sent), independently of the model.
// Usage: cosim_core [--seed S] [--cycles N] [--bench]
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <chrono>
#include <random>
#include <string>
#include <vector>
#include "Vminflux_core.h"
#include "verilated.h"
#include <cmath>
#include "minflux_core.h"
#include "core_config.h"
#include "est_regs.h"

namespace {

enum Block { B_APD, B_CNT, B_SEQ, B_DAC, B_EST, B_CTL, B_REGS, B_N };
const char *const kBlockName[B_N] = {"apd_capture", "photon_counter", "mux_sequencer",
                                     "dac_spi", "estimators_in_core", "track_ctl", "minflux_core"};

struct DacFrame { uint64_t cycle; uint32_t bits; };

class Cosim {
 public:
  explicit Cosim(uint64_t seed) : seed_(seed), rng_(seed) {
    ctx_.randReset(0);
    top_ = new Vminflux_core(&ctx_);
    minflux_core_init(&model_);
    top_->clk = 0;
    top_->i_apd = 0;
    top_->eval();
  }
  ~Cosim() { top_->final(); delete top_; }

  uint64_t cycle() const { return cycle_; }
  uint64_t events(int b) const { return events_[b]; }
  const minflux_core_t &model() const { return model_; }
  Vminflux_core *rtl() { return top_; }
  std::mt19937_64 &rng() { return rng_; }
  const std::vector<DacFrame> &frames() const { return frames_; }
  void clear_frames() { frames_.clear(); }
  bool failed() const { return failed_; }
  uint64_t mismatches() const { return mismatches_; }
  uint64_t frames_checked() const { return frames_checked_; }
  uint64_t records_in_state(int st) const { return rec_by_state_[st & 15]; }

  // One clock cycle: APD edges (counts per channel) arrive during the low phase, the bus
  // is sampled at the rising edge, then both sides are compared.
  bool step(const minflux_core_in_t &in) {
    for (int ch = 0; ch < MINFLUX_N_CH; ch++) {
      for (unsigned e = 0; e < in.apd_edges[ch]; e++) {
        top_->i_apd |= (1u << ch);
        top_->eval();
        top_->i_apd &= ~(1u << ch);
        top_->eval();
      }
    }
    top_->rst = in.rst;
    top_->i_wr_en = in.wr_en;
    top_->i_wr_addr = in.wr_addr;
    top_->i_wr_data = in.wr_data;
    top_->i_rd_addr = in.rd_addr;
    top_->i_estop = in.estop;
    top_->i_wdog = in.wdog;
    top_->i_cnt_rd_addr = in.cnt_rd_addr;
    top_->clk = 1;
    top_->eval();
    minflux_core_step(&model_, &in);
    cycle_++;
    bool ok = compare();
    // The DAC selects the clamped codes with the window registers as they were at the edge
    // that raised o_dbg_moved; the harness tracks them from the writes it issues.
    if (top_->o_dbg_moved) memcpy(move_win_, reg_win_, sizeof move_win_);
    // (bus writes act one cycle after they are presented)
    if (in.rst) {
      frame_reset_ = true;
      reg_win_[0] = reg_win_[2] = INT16_MIN;
      reg_win_[1] = reg_win_[3] = INT16_MAX;
    } else if (last_wr_.wr_en && last_wr_.wr_addr >= MINFLUX_REG_SAFE_XMIN && last_wr_.wr_addr <= MINFLUX_REG_SAFE_YMAX) {
      reg_win_[last_wr_.wr_addr - MINFLUX_REG_SAFE_XMIN] = (int16_t)(uint16_t)last_wr_.wr_data;
    }
    last_wr_ = in;
    if (in.rst) last_wr_.wr_en = 0;
    check_invariants();
    top_->clk = 0;
    top_->eval();
    return ok && !failed_;
  }

  void fail_invariant(const char *what) {
    if (!failed_)
      printf("FAIL invariant: %s at cycle %" PRIu64 " (seed %" PRIu64 ")\n", what, cycle_, seed_);
    failed_ = true;
  }

 private:
  template <typename T>
  bool cmp(Block b, const char *field, T rtl, T mdl, T &prev) {
    if (rtl != mdl) {
      printf("MISMATCH %s.%s at cycle %" PRIu64 " (seed %" PRIu64 "): rtl 0x%" PRIx64
             " model 0x%" PRIx64 "\n",
             kBlockName[b], field, cycle_, seed_, (uint64_t)rtl, (uint64_t)mdl);
      failed_ = true;
      mismatches_++;
      return false;
    }
    if (rtl != prev) events_[b]++;
    prev = rtl;
    return true;
  }

  bool compare() {
    const minflux_core_t &m = model_;
    Vminflux_core *t = top_;
    bool ok = true;
    ok &= cmp<uint32_t>(B_APD, "cnt", t->o_dbg_apd_cnt, (uint32_t)(m.apd[0].cnt | (m.apd[1].cnt << 4)), p_apd_);
    // sequencer
    ok &= cmp<uint32_t>(B_SEQ, "dac_req", t->o_dbg_dac_req, m.seq.dac_req, p_req_);
    const uint64_t xy = ((uint64_t)((uint32_t)m.seq.y & 0x1FFFFu) << 17) | ((uint32_t)m.seq.x & 0x1FFFFu);
    ok &= cmp<uint64_t>(B_SEQ, "dac_xy", t->o_dbg_dac_xy, xy, p_xy_);
    ok &= cmp<uint32_t>(B_SEQ, "exp", t->o_dbg_exp, m.seq.exp, p_exp_);
    ok &= cmp<uint32_t>(B_SEQ, "gate", t->o_gate, m.seq.gate, p_gate_);
    ok &= cmp<uint32_t>(B_SEQ, "laser_en", t->o_laser_en, m.seq.gate, p_laser_);
    ok &= cmp<uint32_t>(B_SEQ, "running", t->o_running, (uint32_t)mux_sequencer_running(&m.seq), p_run_);
    ok &= cmp<uint32_t>(B_SEQ, "rec_ts", t->o_rec_ts, m.seq.rec_ts, p_ts_);
    ok &= cmp<uint32_t>(B_SEQ, "rec_cx", t->o_rec_cx, (uint16_t)m.seq.rec_cx, p_cx_);
    ok &= cmp<uint32_t>(B_SEQ, "rec_cy", t->o_rec_cy, (uint16_t)m.seq.rec_cy, p_cy_);
    // photon counter
    ok &= cmp<uint32_t>(B_CNT, "rec_valid", t->o_rec_valid, m.cnt.rec_valid, p_rv_);
    // the bank through its read port (the harness moves the address at random every cycle)
    ok &= cmp<uint32_t>(B_CNT, "cnt_rd_data", t->o_cnt_rd_data, m.cnt.rd_data, p_cnt_rd_);
    ok &= cmp<uint32_t>(B_CNT, "rec_sat", t->o_rec_sat, m.cnt.sat_any, p_sat_);
    // DAC
    ok &= cmp<uint32_t>(B_DAC, "sclk", t->o_dac_sclk, m.dac.sclk, p_sclk_);
    ok &= cmp<uint32_t>(B_DAC, "mosi", t->o_dac_mosi, m.dac.mosi, p_mosi_);
    ok &= cmp<uint32_t>(B_DAC, "sync_n", t->o_dac_sync_n, m.dac.sync_n, p_sync_);
    ok &= cmp<uint32_t>(B_DAC, "busy", t->o_dbg_busy, m.dac.busy, p_busy_);
    ok &= cmp<uint32_t>(B_DAC, "xy_code", t->o_dbg_xy_code,
                        ((uint32_t)(uint16_t)m.dac.y_code << 16) | (uint16_t)m.dac.x_code, p_code_);
    ok &= cmp<uint32_t>(B_DAC, "moved", t->o_dbg_moved, m.dac.moved, p_moved_);
    ok &= cmp<uint32_t>(B_DAC, "clamp", t->o_dbg_clamp, (uint32_t)(m.dac.clamp_x | (m.dac.clamp_y << 1)), p_clamp_);
    // the live mLMS as wired in the core
    ok &= cmp<uint32_t>(B_EST, "est_valid", t->o_est_valid_reg, m.est_valid, p_ev_);
    ok &= cmp<uint32_t>(B_EST, "est_x", t->o_est_x_reg, (uint16_t)m.est.x, p_ex_);
    ok &= cmp<uint32_t>(B_EST, "est_y", t->o_est_y_reg, (uint16_t)m.est.y, p_ey_);
    ok &= cmp<uint32_t>(B_EST, "est_ok", t->o_est_ok_reg, m.est.ok, p_eok_);
    // tracking controller: record state and pins (its centre reaches the sequencer's x/y)
    const int run = mux_sequencer_running(&m.seq);
    ok &= cmp<uint32_t>(B_CTL, "rec_state", t->o_rec_state, m.rec_st, p_rst_);
    ok &= cmp<uint32_t>(B_CTL, "beam_gauss", t->o_beam_gauss, (uint32_t)track_ctl_gauss(&m.ctl, run), p_gauss_);
    ok &= cmp<uint32_t>(B_CTL, "act405", t->o_act405, (uint32_t)track_ctl_act405(&m.ctl, run), p_act_);
    if (t->o_est_valid_reg) rec_by_state_[m.rec_st & 15]++;
    // register file
    ok &= cmp<uint32_t>(B_REGS, "rd_data", t->o_rd_data_reg, m.rd_data, p_rd_);
    return ok;
  }

  // Checks on the RTL pins alone: the laser is off while a DAC frame is on the wire and
  // while the DAC is busy; every x/y code that reaches the DAC lies in the safe window.
  void check_invariants() {
    Vminflux_core *t = top_;
    if (t->o_laser_en && (!t->o_dac_sync_n || t->o_dbg_busy)) fail_invariant("laser on during a beam move");
    if (t->o_laser_en && estop_age_ >= 3) fail_invariant("laser on 3 cycles after the emergency stop");
    if (!t->o_dac_sync_n) {
      if (prev_sclk_ && !t->o_dac_sclk) {
        frame_bits_ = (frame_bits_ << 1) | t->o_dac_mosi;
        nbits_++;
      }
    } else if (!prev_sync_) {
      // A reset may cut a frame (SYNC high before the 24th edge: the DAC discards it).
      if (nbits_ != 24 && !frame_reset_) fail_invariant("DAC frame without exactly 24 SCLK falling edges");
      if (nbits_ == 24) frames_.push_back({cycle_, frame_bits_ & 0xFFFFFFu});
      const unsigned sel = (frame_bits_ >> 17) & 3u;
      const int16_t code = (int16_t)(uint16_t)((frame_bits_ & 0xFFFFu) ^ 0x8000u);
      const int16_t *w = move_win_;   // xmin xmax ymin ymax; checked when legal (min <= max)
      if (nbits_ == 24 && sel == 0 && w[0] <= w[1] && (code < w[0] || code > w[1]))
        fail_invariant("DAC x code outside the safe window");
      if (nbits_ == 24 && sel == 1 && w[2] <= w[3] && (code < w[2] || code > w[3]))
        fail_invariant("DAC y code outside the safe window");
      if (nbits_ == 24) frames_checked_++;
      frame_bits_ = 0;
      nbits_ = 0;
    }
    if (t->o_dac_sync_n) frame_reset_ = false;
    prev_sclk_ = t->o_dac_sclk;
    prev_sync_ = t->o_dac_sync_n;
  }

  uint64_t seed_;
  std::mt19937_64 rng_;
  VerilatedContext ctx_;
  Vminflux_core *top_;
  minflux_core_t model_;
  uint64_t cycle_ = 0;
  uint64_t events_[B_N] = {0};
  bool failed_ = false;
  uint64_t mismatches_ = 0;
  uint32_t p_apd_ = 0, p_req_ = 0, p_exp_ = 0, p_gate_ = 0, p_laser_ = 0, p_run_ = 0, p_ts_ = 0,
           p_cx_ = 0, p_cy_ = 0, p_rv_ = 0, p_sclk_ = 0, p_mosi_ = 0, p_sync_ = 1, p_busy_ = 0,
           p_code_ = 0, p_clamp_ = 0, p_moved_ = 0, p_ev_ = 0, p_ex_ = 0, p_ey_ = 0, p_eok_ = 0, p_rd_ = 0,
           p_rst_ = 0, p_gauss_ = 0, p_act_ = 0;
  uint64_t rec_by_state_[16] = {};
  uint64_t p_xy_ = 0;
  uint32_t p_cnt_rd_ = 0, p_sat_ = 0;
  bool prev_sclk_ = false, prev_sync_ = true;
  uint32_t frame_bits_ = 0;
  std::vector<DacFrame> frames_;
  int nbits_ = 0;
  bool frame_reset_ = false;
  minflux_core_in_t last_wr_ = {};
  unsigned estop_age_ = 0;
  int16_t reg_win_[4] = {INT16_MIN, INT16_MAX, INT16_MIN, INT16_MAX};
  int16_t move_win_[4] = {INT16_MIN, INT16_MAX, INT16_MIN, INT16_MAX};
  uint64_t frames_checked_ = 0;
};

minflux_core_in_t idle_in() {
  minflux_core_in_t in;
  memset(&in, 0, sizeof in);
  return in;
}

bool write_reg(Cosim &s, uint8_t addr, uint32_t data) {
  minflux_core_in_t in = idle_in();
  in.wr_en = 1;
  in.wr_addr = addr;
  in.wr_data = data;
  return s.step(in);
}

bool reset(Cosim &s, int cycles) {
  minflux_core_in_t in = idle_in();
  in.rst = 1;
  for (int i = 0; i < cycles; i++)
    if (!s.step(in)) return false;
  return true;
}

// Register read: the address is sampled at one edge, the data is visible two edges later.
bool read_reg(Cosim &s, uint8_t addr, uint32_t *val) {
  minflux_core_in_t in = idle_in();
  in.rd_addr = addr;
  if (!s.step(in) || !s.step(in) || !s.step(in)) return false;
  *val = s.rtl()->o_rd_data_reg;
  return true;
}

uint32_t pack_off(int16_t x, int16_t y) { return ((uint32_t)(uint16_t)y << 16) | (uint16_t)x; }

#define CHECK(cond, ...)                                                    \
  do {                                                                      \
    if (!(cond)) {                                                          \
      printf("FAIL %s: ", __func__);                                        \
      printf(__VA_ARGS__);                                                  \
      printf("\n");                                                         \
      return false;                                                         \
    }                                                                       \
  } while (0)

// ---------------------------------------------------------------- directed scenarios

struct TimingResult {
  std::vector<uint64_t> req_cycles, gate_rise, gate_fall, rec_cycles;
};

// Runs `ncycles` multiplex cycles with the given timing and collects event cycles.
bool run_timing(Cosim &s, unsigned k, unsigned delay, unsigned gate, unsigned win, unsigned ncycles,
                TimingResult &r) {
  if (!reset(s, 4)) return false;
  const uint32_t regs[][2] = {{MINFLUX_REG_K, k}, {MINFLUX_REG_DELAY, delay}, {MINFLUX_REG_GATE, gate},
                              {MINFLUX_REG_WIN, win}, {MINFLUX_REG_NCYCLES, ncycles}};
  for (auto &rv : regs)
    if (!write_reg(s, (uint8_t)rv[0], rv[1])) return false;
  if (!write_reg(s, MINFLUX_REG_CTRL, 1)) return false;
  bool prev_gate = false;
  for (uint64_t n = 0; n < (uint64_t)ncycles * (k * (delay + gate + 200) + win + 100) + 100; n++) {
    if (!s.step(idle_in())) return false;
    Vminflux_core *t = s.rtl();
    if (t->o_dbg_dac_req) r.req_cycles.push_back(s.cycle());
    if (t->o_gate && !prev_gate) r.gate_rise.push_back(s.cycle());
    if (!t->o_gate && prev_gate) r.gate_fall.push_back(s.cycle());
    if (t->o_rec_valid) r.rec_cycles.push_back(s.cycle());
    prev_gate = t->o_gate;
    if (!t->o_running && n > 10 && r.rec_cycles.size() == ncycles) break;
  }
  return true;
}

// Seed 003 section 6.4.3: 8 kHz tracking, gate delay 7.4 us, gate 23.2 us, window 2 us.
bool directed_tracking_timing(Cosim &s) {
  const unsigned delay = 355, gate = 1114, win = 95;  // 7.40, 23.21, 2.00 us (with START) at 48 MHz
  TimingResult r;
  if (!run_timing(s, 4, delay, gate, win, 5, r)) return false;
  CHECK(r.rec_cycles.size() == 5, "records %zu, want 5", r.rec_cycles.size());
  CHECK(r.req_cycles.size() == 20 && r.gate_rise.size() == 20, "moves %zu gates %zu, want 20",
        r.req_cycles.size(), r.gate_rise.size());
  for (size_t i = 0; i < 20; i++) {
    CHECK(r.gate_rise[i] - r.req_cycles[i] == delay, "exposure %zu: gate opens %" PRIu64 " cycles after the move, want %u",
          i, r.gate_rise[i] - r.req_cycles[i], delay);
    CHECK(r.gate_fall[i] - r.gate_rise[i] == gate, "exposure %zu: gate %" PRIu64 " cycles, want %u", i,
          r.gate_fall[i] - r.gate_rise[i], gate);
  }
  const uint64_t period = r.req_cycles[4] - r.req_cycles[0];
  // one cycle (START) loads the next cycle's centre: period = K (DELAY + GATE) + WIN + 1
  CHECK(period == 4 * (delay + gate) + win + 1, "cycle period %" PRIu64 " cycles", period);
  printf("directed tracking timing: delay %u cycles (%.2f us), gate %u (%.2f us), window %u (%.2f us), "
         "period %" PRIu64 " cycles = %.2f us (%.3f kHz); record %" PRIu64 " cycles after the last gate\n",
         delay, delay / 48.0, gate, gate / 48.0, win + 1, (win + 1) / 48.0, period, period / 48.0, 48e3 / period,
         r.rec_cycles[0] - r.gate_fall[3]);
  return true;
}

// Seed 003 section 6.3.1: imaging, multiplex period 125 us, gate 13.6 us, delay 13.6 us.
bool directed_imaging_timing(Cosim &s) {
  const unsigned delay = 653, gate = 653, win = 6000 - 4 * (653 + 653) - 1;
  TimingResult r;
  if (!run_timing(s, 4, delay, gate, win, 3, r)) return false;
  CHECK(r.rec_cycles.size() == 3, "records %zu, want 3", r.rec_cycles.size());
  const uint64_t period = r.req_cycles[4] - r.req_cycles[0];
  CHECK(period == 6000, "imaging period %" PRIu64 " cycles, want 6000 (125 us)", period);
  for (size_t i = 0; i < r.gate_rise.size(); i++)
    CHECK(r.gate_rise[i] - r.req_cycles[i] == delay && r.gate_fall[i] - r.gate_rise[i] == gate,
          "imaging exposure %zu timing", i);
  printf("directed imaging timing: delay %u (%.2f us), gate %u (%.2f us), window %u (%.2f us), period %" PRIu64
         " cycles = %.2f us\n", delay, delay / 48.0, gate, gate / 48.0, win + 1, (win + 1) / 48.0, period,
         period / 48.0);
  return true;
}

// Shortest exposure: delay and gate of 1 cycle; the move (3 DAC frames) sets the pace.
bool directed_shortest_exposure(Cosim &s, unsigned *period_out) {
  TimingResult r;
  if (!run_timing(s, 8, 1, 1, 1, 2, r)) return false;
  CHECK(r.req_cycles.size() >= 9, "moves %zu", r.req_cycles.size());
  const uint64_t exp_period = r.req_cycles[1] - r.req_cycles[0];
  // request cycle + DAC busy + 2 cycles to see the DAC idle (registered) + 1 gate cycle
  CHECK(exp_period == dac_spi_move_cycles() + 4, "shortest exposure period %" PRIu64 " cycles, want %u",
        exp_period, dac_spi_move_cycles() + 4);
  *period_out = (unsigned)exp_period;
  printf("directed shortest exposure: %" PRIu64 " cycles = %.3f us (DAC busy %u cycles per move, gate 1 cycle)\n",
         exp_period, exp_period / 48.0, dac_spi_move_cycles());
  return true;
}

// Pulses in bursts at the APD dead time (22 ns) and pulses on both sides of the gate edges:
// the record must hold exactly the pulses whose rising edge fell while the gate pin was high.
bool directed_bursts_and_gate_edges(Cosim &s) {
  if (!reset(s, 4)) return false;
  const unsigned delay = 200, gate = 300, win = 20, k = 3;
  const uint32_t regs[][2] = {{MINFLUX_REG_K, k}, {MINFLUX_REG_DELAY, delay}, {MINFLUX_REG_GATE, gate},
                              {MINFLUX_REG_WIN, win}, {MINFLUX_REG_NCYCLES, 4}};
  for (auto &rv : regs)
    if (!write_reg(s, (uint8_t)rv[0], rv[1])) return false;
  if (!write_reg(s, MINFLUX_REG_CTRL, 1)) return false;
  // truth[cycle-of-run][exposure][ch]: pulses emitted while the gate pin is high
  std::vector<std::vector<uint32_t>> truth;
  const double period_ns = 1e9 / 48e6, dead_ns = 22.0;
  double next_t[2] = {3.0, 11.0};      // ns, phase differs per channel
  double t_ns = 0;                     // time of the last rising clk edge
  unsigned recs = 0, expo = 0, burst_left = 0;
  uint64_t total = 0;
  std::vector<uint32_t> cur(k * 2, 0);
  for (int n = 0; n < 40000 && recs < 4; n++) {
    minflux_core_in_t in = idle_in();
    const bool gate_high = s.rtl()->o_gate;
    // bursts: 40 pulses at exactly the dead time, then a pause; always dense near gate edges
    for (int ch = 0; ch < 2; ch++) {
      while (next_t[ch] < t_ns + period_ns) {
        in.apd_edges[ch]++;
        if (gate_high) cur[expo * 2 + ch]++;
        total++;
        if (++burst_left % 40 == 0) next_t[ch] += 7 * period_ns + 5.3;
        else next_t[ch] += dead_ns;
      }
    }
    if (!s.step(in)) return false;
    t_ns += period_ns;
    if (gate_high && !s.rtl()->o_gate) expo++;
    if (s.rtl()->o_rec_valid) {
      const minflux_core_t &m = s.model();
      for (unsigned e = 0; e < k; e++)
        for (int ch = 0; ch < 2; ch++)
          CHECK(m.cnt.bank[e][ch] == cur[e * 2 + ch], "cycle %u exposure %u ch %d: counted %u, %u pulses in gate",
                recs, e, ch, m.cnt.bank[e][ch], cur[e * 2 + ch]);
      recs++;
      expo = 0;
      std::fill(cur.begin(), cur.end(), 0);
    }
  }
  CHECK(recs == 4, "records %u, want 4", recs);
  printf("directed bursts: %" PRIu64 " pulses at 22 ns spacing, gate-edge pulses included, counts exact in 4 cycles\n",
         total);
  return true;
}

// Counter saturation: 2 pulses per cycle for a 3000-cycle gate -> 4095 with the flag.
bool directed_saturation(Cosim &s) {
  if (!reset(s, 4)) return false;
  const uint32_t regs[][2] = {{MINFLUX_REG_K, 1}, {MINFLUX_REG_DELAY, 170}, {MINFLUX_REG_GATE, 3000},
                              {MINFLUX_REG_WIN, 10}, {MINFLUX_REG_NCYCLES, 1}};
  for (auto &rv : regs)
    if (!write_reg(s, (uint8_t)rv[0], rv[1])) return false;
  if (!write_reg(s, MINFLUX_REG_CTRL, 1)) return false;
  bool got = false;
  for (int n = 0; n < 5000 && !got; n++) {
    minflux_core_in_t in = idle_in();
    in.apd_edges[0] = 2;
    in.apd_edges[1] = 1;
    if (!s.step(in)) return false;
    got = s.rtl()->o_rec_valid;
  }
  CHECK(got, "no record");
  const minflux_core_t &m = s.model();
  CHECK(m.cnt.bank[0][0] == 4095 && m.cnt.sat_any == 1, "ch0 %u sat %u, want 4095 and the record flag",
        m.cnt.bank[0][0], m.cnt.sat_any);
  CHECK(m.cnt.bank[0][1] == 3000, "ch1 %u, want 3000", m.cnt.bank[0][1]);
  uint32_t st = 0;   // the sticky bit is set one cycle after the record
  if (!s.step(idle_in()) || !read_reg(s, MINFLUX_REG_STATUS, &st)) return false;
  CHECK((st & 8u) != 0, "STATUS saturation bit not set: 0x%x", st);
  printf("directed saturation: ch0 4095 + flag at 2 pulses/cycle over 3000 cycles, ch1 3000, STATUS bit 3 set\n");
  return true;
}

// Offsets beyond the safe window: the frames carry the window edge, STATUS shows it.
bool directed_clamp(Cosim &s) {
  if (!reset(s, 4)) return false;
  const uint32_t regs[][2] = {
      {MINFLUX_REG_K, 4}, {MINFLUX_REG_DELAY, 170}, {MINFLUX_REG_GATE, 5}, {MINFLUX_REG_WIN, 5},
      {MINFLUX_REG_NCYCLES, 1}, {MINFLUX_REG_SAFE_XMIN, (uint16_t)-1000}, {MINFLUX_REG_SAFE_XMAX, 2000},
      {MINFLUX_REG_SAFE_YMIN, (uint16_t)-3000}, {MINFLUX_REG_SAFE_YMAX, 500}, {MINFLUX_REG_CENTRE_X, 1500},
      {MINFLUX_REG_CENTRE_Y, (uint16_t)-2900}, {MINFLUX_REG_LASER_AMP, 0x1234},
      {MINFLUX_REG_OFFSET0 + 0, pack_off(0, 0)}, {MINFLUX_REG_OFFSET0 + 1, pack_off(32767, -32768)},
      {MINFLUX_REG_OFFSET0 + 2, pack_off(-32768, 32767)},
      {MINFLUX_REG_OFFSET0 + 3, pack_off(-2500, 3400)}};   // exactly on xmin and ymax: not clamped
  for (auto &rv : regs)
    if (!write_reg(s, (uint8_t)rv[0], rv[1])) return false;
  s.clear_frames();
  if (!write_reg(s, MINFLUX_REG_CTRL, 1)) return false;
  for (int n = 0; n < 1200; n++)
    if (!s.step(idle_in())) return false;
  const auto &f = s.frames();
  CHECK(f.size() == 12, "frames %zu, want 12", f.size());
  const int want_x[4] = {1500, 2000, -1000, -1000}, want_y[4] = {-2900, -3000, 500, 500};
  for (int e = 0; e < 4; e++) {
    const uint32_t fx = f[3 * e].bits, fy = f[3 * e + 1].bits, fa = f[3 * e + 2].bits;
    CHECK(fx == dac_spi_frame(0, 0, (uint16_t)(want_x[e] ^ 0x8000)), "exposure %d x frame 0x%06x", e, fx);
    CHECK(fy == dac_spi_frame(0, 1, (uint16_t)(want_y[e] ^ 0x8000)), "exposure %d y frame 0x%06x", e, fy);
    CHECK(fa == dac_spi_frame(2, 2, 0x1234), "exposure %d amp frame 0x%06x", e, fa);
  }
  uint32_t st = 0;
  if (!read_reg(s, MINFLUX_REG_STATUS, &st)) return false;
  CHECK((st & 6u) == 6u, "STATUS clamp bits 0x%x", st);
  // a write acts one cycle after it is presented
  if (!write_reg(s, MINFLUX_REG_STATUS, 0xE) || !s.step(idle_in()) || !read_reg(s, MINFLUX_REG_STATUS, &st))
    return false;
  CHECK((st & 0xEu) == 0, "STATUS not cleared: 0x%x", st);
  uint32_t id = 0;
  if (!read_reg(s, MINFLUX_REG_ID, &id)) return false;
  CHECK(id == MINFLUX_DESIGN_ID, "ID 0x%08x", id);
  printf("directed clamp: 12 DAC frames decoded from the pins, x/y clamped to the window (edges kept), STATUS set and cleared\n");
  return true;
}

// K lowered below the current exposure mid-cycle: the cycle ends after that exposure
// (6 exposures here), the next cycle uses the new K.
bool directed_k_lowered(Cosim &s) {
  if (!reset(s, 4)) return false;
  const uint32_t regs[][2] = {{MINFLUX_REG_K, 8}, {MINFLUX_REG_DELAY, 170}, {MINFLUX_REG_GATE, 10},
                              {MINFLUX_REG_WIN, 5}, {MINFLUX_REG_NCYCLES, 2}};
  for (auto &rv : regs)
    if (!write_reg(s, (uint8_t)rv[0], rv[1])) return false;
  if (!write_reg(s, MINFLUX_REG_CTRL, 1)) return false;
  unsigned gates = 0, recs = 0, gates_at_rec[2] = {0, 0};
  bool prev = false, lowered = false;
  for (int n = 0; n < 6000 && recs < 2; n++) {
    minflux_core_in_t in = idle_in();
    if (!lowered && s.rtl()->o_dbg_exp == 5 && s.rtl()->o_gate) {
      in.wr_en = 1; in.wr_addr = MINFLUX_REG_K; in.wr_data = 2;
      lowered = true;
    }
    if (!s.step(in)) return false;
    if (s.rtl()->o_gate && !prev) gates++;
    prev = s.rtl()->o_gate;
    if (s.rtl()->o_rec_valid) gates_at_rec[recs++] = gates;
  }
  CHECK(recs == 2 && gates_at_rec[0] == 6 && gates_at_rec[1] == 8, "records %u, exposures %u then %u; want 6 then 2",
        recs, gates_at_rec[0], gates_at_rec[1] - gates_at_rec[0]);
  printf("directed K lowered from 8 to 2 during exposure 5: that cycle ends after 6 exposures, the next has 2\n");
  return true;
}

// ---------------------------------------------------------------- random stimulus

// Aggregation (AGG = 3, K = 2): pulses placed in the middle of gates and counted by the
// harness per exposure; each record must hold the sum over its 3 cycles, the estimate
// follows once per record, and a stop in the second cycle of a record ends the run after
// that record's third cycle.
bool directed_aggregation(Cosim &s) {
  if (!reset(s, 4)) return false;
  const uint32_t regs[][2] = {{MINFLUX_REG_K, 2}, {MINFLUX_REG_DELAY, 170}, {MINFLUX_REG_GATE, 40},
                              {MINFLUX_REG_WIN, 30}, {MINFLUX_REG_NCYCLES, 6}, {MINFLUX_REG_AGG, 3}};
  for (auto &rv : regs)
    if (!write_reg(s, (uint8_t)rv[0], rv[1])) return false;
  for (int pass = 0; pass < 2; pass++) {
    if (pass == 1 && !write_reg(s, MINFLUX_REG_NCYCLES, 0)) return false;   // until stopped
    if (!write_reg(s, MINFLUX_REG_CTRL, 1)) return false;
    unsigned want[2][2] = {{0, 0}, {0, 0}}, recs = 0, ests = 0, cyc = 0, gate_len = 0;
    bool prev_gate = false, stopped = false;
    for (uint64_t n = 0; n < 20000; n++) {
      minflux_core_in_t in = idle_in();
      Vminflux_core *t = s.rtl();
      gate_len = t->o_gate ? gate_len + 1 : 0;
      if (t->o_gate && gate_len > 4 && gate_len < 35) {   // well inside the gate
        const unsigned e = t->o_dbg_exp & 1u, ch = n % 3 == 0 ? 1u : 0u;
        in.apd_edges[ch] = 1;
        want[e][ch]++;
      }
      if (pass == 1 && !stopped && cyc == 2 && t->o_gate) {   // second cycle of the record
        in.wr_en = 1; in.wr_addr = MINFLUX_REG_CTRL; in.wr_data = 2;
        stopped = true;
      }
      if (!s.step(in)) return false;
      if (!prev_gate && t->o_gate && (t->o_dbg_exp & 1u) == 0u) cyc++;
      prev_gate = t->o_gate;
      if (t->o_est_valid_reg) ests++;
      if (t->o_rec_valid) {
        const minflux_core_t &m = s.model();
        for (int e = 0; e < 2; e++)
          for (int ch = 0; ch < 2; ch++)
            CHECK(m.cnt.bank[e][ch] == want[e][ch], "pass %d record %u count[%d][%d] = %u, harness counted %u",
                  pass, recs, e, ch, m.cnt.bank[e][ch], want[e][ch]);
        CHECK(cyc == 3 * (recs + 1), "pass %d record %u after %u cycles, want %u", pass, recs, cyc, 3 * (recs + 1));
        memset(want, 0, sizeof want);
        recs++;
      }
      if (!t->o_running && n > 400) break;
    }
    const unsigned want_recs = pass == 0 ? 2 : 1;
    CHECK(recs == want_recs && cyc == 3 * want_recs, "pass %d: %u records over %u cycles, want %u over %u", pass,
          recs, cyc, want_recs, 3 * want_recs);
    for (int i = 0; i < 40; i++)
      if (!s.step(idle_in())) return false;
    CHECK(ests == want_recs, "pass %d: %u estimates for %u records", pass, ests, recs);
  }
  printf("directed aggregation: AGG 3, K 2: records hold the harness's pulse counts summed over 3 cycles; "
         "one estimate per record; a stop in a record's 2nd cycle ends the run after its 3rd\n");
  return write_reg(s, MINFLUX_REG_AGG, 1);
}


// AGG written during a run at every clock offset of one multiplex cycle (K = 1, short
// timings): the record boundary that write moves must agree with the model's in every case
// (AGG reaches the aggregation compare two edges after the write, a registered AGG - 1).
bool directed_agg_write(Cosim &s) {
  if (!reset(s, 4)) return false;
  const uint32_t regs[][2] = {{MINFLUX_REG_K, 1}, {MINFLUX_REG_DELAY, 6}, {MINFLUX_REG_GATE, 6},
                              {MINFLUX_REG_WIN, 9}, {MINFLUX_REG_NCYCLES, 0}, {MINFLUX_REG_PHOTON_STOP, 0}};
  for (auto &rv : regs)
    if (!write_reg(s, (uint8_t)rv[0], rv[1])) return false;
  // the cycle period P: the clocks between the 2nd and 3rd record of an AGG 1 run
  unsigned period = 0;
  {
    if (!write_reg(s, MINFLUX_REG_AGG, 1) || !write_reg(s, MINFLUX_REG_CTRL, 1)) return false;
    unsigned r = 0, t2 = 0;
    for (unsigned n = 0; n < 20000 && r < 3; n++) {
      if (!s.step(idle_in())) return false;
      if (s.rtl()->o_rec_valid && ++r == 2) t2 = n;
      if (r == 3) period = n - t2;
    }
    CHECK(period > 0, "AGG writes: no cycle period measured");
    if (!write_reg(s, MINFLUX_REG_CTRL, 2)) return false;
    for (unsigned n = 0; n < 20000 && s.rtl()->o_running; n++)
      if (!s.step(idle_in())) return false;
  }
  unsigned recs = 0, runs = 0;
  for (unsigned d = 0; d < period + 4; d++) {
    if (!write_reg(s, MINFLUX_REG_AGG, 1 + d % 3) || !write_reg(s, MINFLUX_REG_CTRL, 1)) return false;
    for (unsigned n = 0; n < 9 * period; n++) {
      minflux_core_in_t in = idle_in();
      if (n == 3 * period + d) { in.wr_en = 1; in.wr_addr = MINFLUX_REG_AGG; in.wr_data = 3 - d % 3; }
      if (!s.step(in)) return false;
      if (s.rtl()->o_rec_valid) recs++;
    }
    if (!write_reg(s, MINFLUX_REG_CTRL, 2)) return false;
    for (unsigned n = 0; n < 4 * period && s.rtl()->o_running; n++)
      if (!s.step(idle_in())) return false;
    CHECK(!s.rtl()->o_running, "AGG write at offset %u: the run did not stop", d);
    runs++;
  }
  CHECK(recs >= 3 * runs, "AGG writes: %u records in %u runs, want at least 3 per run", recs, runs);
  printf("directed AGG written mid-run at each clock of a %u-clock cycle (and 4 more): %u runs, %u records, model = RTL\n",
         period, runs, recs);
  return write_reg(s, MINFLUX_REG_AGG, 1);
}

// Photon budget (PHOTON_STOP): K = 7, NCYCLES = 0, random pulses in the gates (some at the
// gate edges); each pass must end by itself at the end of the first record whose counts
// bring the run's photons (as the harness sums the records) to the budget, RUN_PHOTONS
// equal to that sum, and a start from idle clears it. Pass 2 sets the budget during the
// run, pass 3 turns it off during the run (CTRL stop then ends it after record 30), AGG 2
// in pass 1.
bool directed_photon_stop(Cosim &s, std::mt19937_64 &r) {
  if (!reset(s, 4)) return false;
  const uint32_t regs[][2] = {{MINFLUX_REG_K, 7}, {MINFLUX_REG_DELAY, 20}, {MINFLUX_REG_GATE, 60},
                              {MINFLUX_REG_WIN, 12}, {MINFLUX_REG_NCYCLES, 0}};   // WIN >= 9: README
  for (auto &rv : regs)
    if (!write_reg(s, (uint8_t)rv[0], rv[1])) return false;
  const uint32_t budget[4] = {97, 4500, 40, 60};   // 4500: across the carry of the low 12 bits
  for (int pass = 0; pass < 4; pass++) {
    if (!write_reg(s, MINFLUX_REG_AGG, pass == 1 ? 2 : 1)) return false;
    if (!write_reg(s, MINFLUX_REG_PHOTON_STOP, pass == 2 ? 0 : budget[pass])) return false;
    if (!write_reg(s, MINFLUX_REG_CTRL, 1)) return false;
    uint64_t sum = 0, before_last = 0, sum3 = 0;
    unsigned recs = 0;
    bool stopped = false;
    for (uint64_t n = 0; n < 1500000; n++) {
      minflux_core_in_t in = idle_in();
      Vminflux_core *t = s.rtl();
      if (t->o_gate)
        for (int ch = 0; ch < 2; ch++) in.apd_edges[ch] = (uint8_t)(r() % 50 == 0 ? 1 + r() % 2 : 0);
      if (pass == 2 && recs == 3 && !in.wr_en) { in.wr_en = 1; in.wr_addr = MINFLUX_REG_PHOTON_STOP; in.wr_data = budget[2]; }
      if (pass == 3 && recs == 1) { in.wr_en = 1; in.wr_addr = MINFLUX_REG_PHOTON_STOP; in.wr_data = 0; }
      if (pass == 3 && recs == 30 && !stopped) { in.wr_en = 1; in.wr_addr = MINFLUX_REG_CTRL; in.wr_data = 2; stopped = true; }
      if (!s.step(in)) return false;
      if (t->o_rec_valid) {
        uint64_t rec = 0;
        const minflux_core_t &m = s.model();
        for (int e = 0; e < 7; e++) rec += (uint64_t)m.cnt.bank[e][0] + m.cnt.bank[e][1];
        before_last = sum;
        sum += rec;
        recs++;
        if (recs == 3) sum3 = sum;
      }
      if (!t->o_running && n > 400) break;
    }
    CHECK(!s.rtl()->o_running, "pass %d: still running after %u records (%" PRIu64 " photons)", pass, recs, sum);
    uint32_t rp = 0;
    if (!read_reg(s, MINFLUX_REG_RUN_PHOTONS, &rp)) return false;
    CHECK(rp == sum, "pass %d: RUN_PHOTONS %u, the records sum to %" PRIu64, pass, rp, sum);
    if (pass == 3) {
      // budget off after record 1; CTRL stop in the window after record 30 ends the run there
      CHECK(recs == 30 && sum >= budget[3], "pass 3: %u records, %" PRIu64 " photons, want 30 records past the budget of %u",
            recs, sum, budget[3]);
    } else {
      // pass 2: a budget spent when it is set (in the window after record 3) ends the run
      // with record 3 or, if the stop misses that window, record 4
      const uint64_t b = budget[pass];
      CHECK(sum >= b && (pass == 2 && sum3 >= b ? recs == 3 || recs == 4 : before_last < b),
            "pass %d: %u records, %" PRIu64 " photons (%" PRIu64 " before the last) for a budget of %" PRIu64,
            pass, recs, sum, before_last, b);
    }
    printf("directed photon budget pass %d: %u records, %" PRIu64 " photons (%" PRIu64 " before the last record), "
           "RUN_PHOTONS %u\n", pass, recs, sum, before_last, rp);
  }
  // the boundary: exactly one photon per exposure (7 per record); a budget of 21 is reached by
  // the 3rd record's last photon and ends the run there, 22 needs a 4th record
  for (uint32_t bud = 21; bud <= 22; bud++) {
    if (!write_reg(s, MINFLUX_REG_AGG, 1) || !write_reg(s, MINFLUX_REG_PHOTON_STOP, bud) || !write_reg(s, MINFLUX_REG_CTRL, 1))
      return false;
    unsigned recs = 0, gate_len = 0;
    for (uint64_t n = 0; n < 200000; n++) {
      minflux_core_in_t in = idle_in();
      gate_len = s.rtl()->o_gate ? gate_len + 1 : 0;
      if (gate_len == 10) in.apd_edges[0] = 1;
      if (!s.step(in)) return false;
      if (s.rtl()->o_rec_valid) recs++;
      if (!s.rtl()->o_running && n > 400) break;
    }
    uint32_t rp = 0;
    if (!read_reg(s, MINFLUX_REG_RUN_PHOTONS, &rp)) return false;
    CHECK(recs == (bud == 21 ? 3u : 4u) && rp == 7 * recs, "budget %u at 7 photons per record: %u records, RUN_PHOTONS %u, want %u records",
          bud, recs, rp, bud == 21 ? 3u : 4u);
  }
  printf("directed photon budget: 7 photons per record, budget 21 ends after 3 records, 22 after 4\n");
  // a start from idle clears the count (NCYCLES 1, no pulses)
  if (!write_reg(s, MINFLUX_REG_PHOTON_STOP, 0) || !write_reg(s, MINFLUX_REG_NCYCLES, 1) ||
      !write_reg(s, MINFLUX_REG_CTRL, 1))
    return false;
  for (int n = 0; n < 3000; n++)
    if (!s.step(idle_in())) return false;
  uint32_t rp = 1;
  if (!read_reg(s, MINFLUX_REG_RUN_PHOTONS, &rp)) return false;
  CHECK(rp == 0, "RUN_PHOTONS %u after a dark run, want 0", rp);
  // saturation: 15 pulses per cycle on both channels for 10 gates of 60000 cycles (1.8e7 > 2^24 - 1)
  if (!write_reg(s, MINFLUX_REG_K, 1) || !write_reg(s, MINFLUX_REG_GATE, 60000) || !write_reg(s, MINFLUX_REG_NCYCLES, 10) ||
      !write_reg(s, MINFLUX_REG_CTRL, 1))
    return false;
  for (int n = 0; n < 700000 && (n < 400 || s.rtl()->o_running); n++) {
    minflux_core_in_t in = idle_in();
    if (s.rtl()->o_gate) in.apd_edges[0] = in.apd_edges[1] = 15;
    if (!s.step(in)) return false;
  }
  if (!read_reg(s, MINFLUX_REG_RUN_PHOTONS, &rp)) return false;
  CHECK(rp == (1u << MINFLUX_RUN_PH_W) - 1, "RUN_PHOTONS 0x%x after 1.8e7 photons, want 0x%x (saturated)", rp,
        (1u << MINFLUX_RUN_PH_W) - 1);
  printf("directed photon budget: a start clears RUN_PHOTONS; 1.8e7 photons saturate it at 0x%x\n", rp);
  return write_reg(s, MINFLUX_REG_AGG, 1);
}

// The tracking controller end to end on the RTL (bit-exact against the model as always):
// an emitter under the Gaussian beam (search, pre-localization; S19) or the doughnut
// (tracking; S17), 1 DAC LSB = 1 nm. It is found by the raster, pre-localized, tracked,
// switched off (dark -> lost -> search at the raster position where it was found).
bool directed_controller(Cosim &s, unsigned dark_limit) {
  const double L = 100.0, fwhm = 360.0, gfwhm = 320.0, Lp = 300.0, ex = 130.0, ey = -60.0;
  const double g_peak_hz = 0.8e6, d_peak_hz = 4e6;   // both APDs, Gaussian centre / doughnut crest
  const int step = 127, n = 8, org = -(n - 1) * step / 2;
  if (!reset(s, 4)) return false;
  char err[256];
  const double beta[3] = {1.27, 3.8, 0.0};
  mlms_regs_t mr;
  if (est_mlms_regs(L, fwhm, 1, beta, 6, &mr, err, sizeof err)) { printf("controller: %s\n", err); return false; }
  const uint32_t G = (uint32_t)lround(gfwhm * gfwhm / (8 * std::log(2.0) * Lp) * 64);
  const uint32_t regs[][2] = {
      {MINFLUX_REG_K, 4}, {MINFLUX_REG_NCYCLES, 0}, {MINFLUX_REG_AGG, 1},
      {MINFLUX_REG_EST_K, mr.k}, {MINFLUX_REG_EST_THRESH, mr.thresh}, {MINFLUX_REG_EST_L, mr.L},
      {MINFLUX_REG_EST_F, mr.F}, {MINFLUX_REG_EST_BETA0, (uint16_t)mr.beta[0]},
      {MINFLUX_REG_EST_BETA1, (uint16_t)mr.beta[1]}, {MINFLUX_REG_EST_G, G},
      {MINFLUX_REG_CTL_ORIGIN, pack_off((int16_t)org, (int16_t)org)},
      {MINFLUX_REG_CTL_RASTER, (uint32_t)step | ((uint32_t)n << 16)},
      {MINFLUX_REG_CTL_SEARCH, 2400u | (15u << 16)}, {MINFLUX_REG_CTL_ACT, 3u | (1u << 16)},
      {MINFLUX_REG_CTL_PRE, 9600u | (20u << 16)}, {MINFLUX_REG_CTL_PRE_GAIN, 2048u | (300u << 16)},
      {MINFLUX_REG_CTL_GAIN, 1024u | (50u << 16)},
      {MINFLUX_REG_CTL_LOSS, 61u | (16u << 8) | (dark_limit << 16)}, {MINFLUX_REG_CTL_MODE, 1}};
  for (auto &rv : regs)
    if (!write_reg(s, (uint8_t)rv[0], rv[1])) return false;
  for (int e = 0; e < 4; e++) {
    const int16_t ox = e ? (int16_t)lround(L / 2 * cos(e * 2 * M_PI / 3)) : 0;
    const int16_t oy = e ? (int16_t)lround(L / 2 * sin(e * 2 * M_PI / 3)) : 0;
    if (!write_reg(s, (uint8_t)(MINFLUX_REG_OFFSET0 + e), pack_off(ox, oy))) return false;
  }
  const int16_t h = (int16_t)lround(Lp / 2);
  const uint32_t pre[4] = {pack_off(h, 0), pack_off((int16_t)-h, 0), pack_off(0, h), pack_off(0, (int16_t)-h)};
  for (int e = 0; e < 4; e++)
    if (!write_reg(s, (uint8_t)(MINFLUX_REG_OFFSET0 + MINFLUX_CTL_PRE_BASE + e), pre[e])) return false;
  uint32_t v = 0;
  if (!read_reg(s, MINFLUX_REG_CTL_MODE, &v)) return false;
  CHECK(v == 1, "CTL_MODE reads %u after writing 1", v);
  if (!write_reg(s, MINFLUX_REG_CTRL, 1)) return false;

  struct Rec { int st; int cx, cy; bool ok; double ex, ey; unsigned n[4]; };
  std::vector<Rec> recs;
  bool on = true;
  size_t off_at = 0;            // record index at which the emitter was switched off
  size_t ntrack = 0;
  unsigned act_cycles_on = 0;   // search records with 405 nm on
  bool act_now = false;
  const double kg = 4 * std::log(2.0) / (gfwhm * gfwhm), kd = 4 * std::log(2.0) / (fwhm * fwhm);
  for (uint64_t c = 0; c < 4000000; c++) {
    minflux_core_in_t in = idle_in();
    Vminflux_core *t = s.rtl();
    const double bx = (int16_t)(t->o_dbg_xy_code & 0xFFFF), by = (int16_t)(t->o_dbg_xy_code >> 16);
    const double r2 = (bx - ex) * (bx - ex) + (by - ey) * (by - ey);
    double rate = 0;
    if (t->o_laser_en && on)
      rate = t->o_beam_gauss ? g_peak_hz * std::exp(-kg * r2) : d_peak_hz * std::exp(1.0) * kd * r2 * std::exp(-kd * r2);
    std::poisson_distribution<unsigned> pois(rate / 48e6 / 2 + 1e-12);
    for (int ch = 0; ch < 2; ch++) in.apd_edges[ch] = (uint8_t)std::min(pois(s.rng()), 15u);
    if (t->o_act405 && t->o_gate) act_now = true;   // 405 nm during an exposure of the record
    if (!s.step(in)) return false;
    if (t->o_est_valid_reg) {
      recs.push_back({(int)t->o_rec_state, (int16_t)t->o_rec_cx, (int16_t)t->o_rec_cy, t->o_est_ok_reg != 0,
                      (int16_t)t->o_est_x_reg / 32.0, (int16_t)t->o_est_y_reg / 32.0, {0, 0, 0, 0}});
      for (int e = 0; e < 4; e++) recs.back().n[e] = s.model().cnt.nsum[e];
      if (recs.back().st == MINFLUX_CTL_ST_SEARCH && act_now) act_cycles_on++;
      act_now = false;
      // tracked records since the last pre-localization (the controller may lose a far
      // pre-localization while it settles and find the emitter again)
      if (recs.back().st == MINFLUX_CTL_ST_PRELOC) ntrack = 0;
      ntrack += recs.back().st == MINFLUX_CTL_ST_TRACK;
      if (on && ntrack >= 60) { on = false; off_at = recs.size(); }
      if (!on && recs.back().st == MINFLUX_CTL_ST_SEARCH && recs.size() > off_at + 3) break;
    }
  }
  if (!write_reg(s, MINFLUX_REG_CTRL, 4)) return false;
  CHECK(off_at > 0, "the emitter was never tracked: %zu records", recs.size());
  // 1. the search visits the raster in order: groups of 4 pixels along x, then rows
  size_t i = 0;
  for (; i < recs.size() && recs[i].st == MINFLUX_CTL_ST_SEARCH; i++) {
    const int col = (int)(i % 2), row = (int)(i / 2) % n;
    CHECK(recs[i].cx == org + 4 * step * col && recs[i].cy == org + step * row,
          "search record %zu at (%d, %d), raster position (%d, %d)", i, recs[i].cx, recs[i].cy,
          org + 4 * step * col, org + step * row);
    CHECK(!recs[i].ok, "search record %zu carries a valid estimate", i);
    for (int e = 0; e < 4; e++)
      CHECK(i + 1 >= recs.size() || recs[i + 1].st != MINFLUX_CTL_ST_SEARCH || recs[i].n[e] < 15,
            "search record %zu: pixel %d has %u >= 15 counts, the raster went on", i, e, recs[i].n[e]);
  }
  unsigned act_want = 0;   // the first 3 search records of every frame (act_every 1)
  for (size_t j = 0; j < i; j++) act_want += (j % (2 * n)) < 3;
  CHECK(act_cycles_on == act_want, "405 nm on in %u search records, want %u", act_cycles_on, act_want);
  // 2. pre-localization at the found pixel (the emitter is within a pixel diagonal of it)
  CHECK(i < recs.size() && recs[i].st == MINFLUX_CTL_ST_PRELOC, "no pre-localization after %zu search records", i);
  const Rec &p = recs[i];
  const Rec found = recs[i - 1];
  {
    int e = 0;
    while (e < 4 && found.n[e] < 15) e++;
    CHECK(e < 4 && p.cx == found.cx + e * step && p.cy == found.cy,
          "pre-localized at (%d, %d): the first pixel over the threshold is %d of the group at (%d, %d)",
          p.cx, p.cy, e, found.cx, found.cy);
  }
  CHECK(p.ok, "pre-localization record without a valid estimate (N = %u)", p.n[0] + p.n[1] + p.n[2] + p.n[3]);
  CHECK(recs[i + 1].st == MINFLUX_CTL_ST_TRACK, "record after pre-localization in state %d", recs[i + 1].st);
  // A pre-localization far from the emitter (found in a Gaussian tail) can be lost while
  // the tracking settles (the central-ratio rule): the search then resumes at the group of
  // the find, and the tracking segment checked below is the one after the last find.
  size_t ip = i, refinds = 0;
  for (size_t j = i + 1; j < off_at; j++)
    if (recs[j].st == MINFLUX_CTL_ST_PRELOC) { ip = j; refinds++; }
  if (ip != i) {
    size_t q = i + 1;
    while (q < ip && recs[q].st == MINFLUX_CTL_ST_TRACK) q++;
    CHECK(q < ip && recs[q].st == MINFLUX_CTL_ST_SEARCH && recs[q].cx == found.cx && recs[q].cy == found.cy,
          "lost while settling: record %zu in state %d at (%d, %d), want the search at the find (%d, %d)", q,
          recs[q].st, recs[q].cx, recs[q].cy, found.cx, found.cy);
    CHECK(recs[ip - 1].st == MINFLUX_CTL_ST_SEARCH && recs[ip + 1].st == MINFLUX_CTL_ST_TRACK,
          "re-find at record %zu: states %d, %d around it", ip, recs[ip - 1].st, recs[ip + 1].st);
  }
  const Rec found_last = recs[ip - 1];
  // 3. tracking: the centre converges on the emitter
  double mx = 0, my = 0;
  int nm = 0;
  for (size_t j = ip + 21; j < off_at; j++) {   // after 20 records of settling
    CHECK(recs[j].st == MINFLUX_CTL_ST_TRACK, "record %zu lost while the emitter was on (state %d)", j, recs[j].st);
    mx += recs[j].cx; my += recs[j].cy; nm++;
  }
  mx /= nm; my /= nm;
  CHECK(std::hypot(mx - ex, my - ey) < 8, "tracked centre (%.1f, %.1f) over %d records, emitter (%.0f, %.0f)",
        mx, my, nm, ex, ey);
  // 4. dark -> lost (dark-record limit or central-ratio window) -> search where the emitter was found
  size_t k = off_at;
  while (k < recs.size() && recs[k].st == MINFLUX_CTL_ST_TRACK) k++;
  CHECK(k < recs.size() && recs[k].st == MINFLUX_CTL_ST_SEARCH, "no search after the emitter went dark");
  // dark limit 13: not on a boundary of the 16-record ratio window, so the dark rule alone
  // decides; dark limit 0 (off): the ratio rule decides at the first all-dark window
  // (256 * 0 >= ratio * 0), tracked records 65..80 (the emitter goes dark after 60)
  if (dark_limit)
    CHECK(k - off_at >= dark_limit && k - off_at <= dark_limit + 1,
          "lost %zu records after the emitter went dark (dark limit %u)", k - off_at, dark_limit);
  else
    CHECK(k - off_at >= 20 && k - off_at <= 21,
          "lost %zu records after the emitter went dark (ratio window of 16, dark limit off)", k - off_at);
  CHECK(recs[k].cx == found_last.cx && recs[k].cy == found_last.cy, "search resumed at (%d, %d), found at (%d, %d)",
        recs[k].cx, recs[k].cy, found_last.cx, found_last.cy);
  printf("directed controller (%s): raster search (%zu records, 405 nm in the first 3) -> pre-localization at (%d, %d) -> "
         "tracking: centre (%.1f, %.1f) nm for an emitter at (%.0f, %.0f) -> dark -> lost after %zu records -> search"
         "%s\n", dark_limit ? "dark limit 13" : "ratio window 16", i, p.cx, p.cy, mx, my, ex, ey, k - off_at,
         refinds ? " (lost once while settling, found again)" : "");
  return true;
}

// Imaging mode (issue #10) end to end on the RTL (bit-exact against the model as always):
// one emitter, off at first; the conditional 405 nm light (lp below the threshold: on for
// 3 search records, off for 4) switches it on after 5 records with 405 nm; search ->
// pre-localization -> stages 0, 1, 2 (L 160, 80, 40 nm; photon limits 40, 60, 100) -> the
// last stage repeats; then a second emitter 70 nm away comes on: the central-to-outer
// ratio aborts at a stage end; it goes off, the first goes off: dark abort after 20 records.
bool directed_imaging(Cosim &s) {
  const double L = 160.0, fwhm = 360.0, gfwhm = 320.0, Lp = 300.0, ex = 37.0, ey = 21.0;
  const double e2x = ex + 70.0, e2y = ey;
  const double g_peak_hz = 0.8e6, d_peak_hz = 8e6;   // stage 2 (L 40 nm): ~10 counts per record, its limit of 100 well inside the 20-record dark abort
  const int step = 127, n = 4, org = -(n - 1) * step / 2;
  const unsigned lim[3] = {40, 60, 100}, act_on = 3, act_off = 4, idark = 20, ratio = 77;   // 0.30
  if (!reset(s, 4)) return false;
  char err[256];
  const double beta[3] = {1.27, 3.8, 0.0};
  mlms_regs_t mr[3];
  for (int i = 0; i < 3; i++)
    if (est_mlms_regs(L / (1 << i), fwhm, 1, beta, 6, &mr[i], err, sizeof err)) { printf("imaging: %s\n", err); return false; }
  const uint32_t G = (uint32_t)lround(gfwhm * gfwhm / (8 * std::log(2.0) * Lp) * 64);
  const uint32_t regs[][2] = {
      {MINFLUX_REG_K, 4}, {MINFLUX_REG_NCYCLES, 0}, {MINFLUX_REG_AGG, 1},
      {MINFLUX_REG_EST_K, mr[0].k}, {MINFLUX_REG_EST_THRESH, mr[0].thresh}, {MINFLUX_REG_EST_L, mr[0].L},
      {MINFLUX_REG_EST_F, mr[0].F}, {MINFLUX_REG_EST_BETA0, (uint16_t)mr[0].beta[0]},
      {MINFLUX_REG_EST_BETA1, (uint16_t)mr[0].beta[1]}, {MINFLUX_REG_EST_G, G},
      {MINFLUX_REG_CTL_ORIGIN, pack_off((int16_t)org, (int16_t)org)},
      {MINFLUX_REG_CTL_RASTER, (uint32_t)step | ((uint32_t)n << 16)},
      {MINFLUX_REG_CTL_SEARCH, 2400u | (15u << 16)}, {MINFLUX_REG_CTL_ACT, 3u | (1u << 16)},   // unused in imaging
      {MINFLUX_REG_CTL_PRE, 9600u | (20u << 16)}, {MINFLUX_REG_CTL_PRE_GAIN, 2048u | (300u << 16)},
      {MINFLUX_REG_CTL_GAIN, 2048u | (100u << 16)},                                          // gain 1: to the estimate
      {MINFLUX_REG_CTL_LOSS, ratio | (16u << 8) | (13u << 16)},
      {MINFLUX_REG_CTL_IACT, 8u | (3u << 16)},                                               // 0.5 counts per record
      {MINFLUX_REG_CTL_IACT_T, act_on | (act_off << 16)}, {MINFLUX_REG_CTL_IABORT, idark},
      {MINFLUX_REG_CTL_ISTG0, lim[0] | (0u << 14) | ((uint32_t)mr[0].F << 16)},
      {MINFLUX_REG_CTL_ISTG1, lim[1] | (1u << 14) | ((uint32_t)mr[1].F << 16)},
      {MINFLUX_REG_CTL_ISTG2, lim[2] | (2u << 14) | ((uint32_t)mr[2].F << 16)},
      {MINFLUX_REG_CTL_MODE, 3u | (2u << 2)}};
  for (auto &rv : regs)
    if (!write_reg(s, (uint8_t)rv[0], rv[1])) return false;
  for (int e = 0; e < 4; e++) {
    const int16_t ox = e ? (int16_t)lround(L / 2 * cos(e * 2 * M_PI / 3)) : 0;
    const int16_t oy = e ? (int16_t)lround(L / 2 * sin(e * 2 * M_PI / 3)) : 0;
    if (!write_reg(s, (uint8_t)(MINFLUX_REG_OFFSET0 + e), pack_off(ox, oy))) return false;
  }
  const int16_t h = (int16_t)lround(Lp / 2);
  const uint32_t pre[4] = {pack_off(h, 0), pack_off((int16_t)-h, 0), pack_off(0, h), pack_off(0, (int16_t)-h)};
  for (int e = 0; e < 4; e++)
    if (!write_reg(s, (uint8_t)(MINFLUX_REG_OFFSET0 + MINFLUX_CTL_PRE_BASE + e), pre[e])) return false;
  uint32_t v = 0;
  if (!read_reg(s, MINFLUX_REG_CTL_MODE, &v)) return false;
  CHECK(v == 11, "CTL_MODE reads %u after writing 11", v);
  if (!write_reg(s, MINFLUX_REG_CTRL, 1)) return false;

  struct Rec { int st; int cx, cy; bool ok, act; double ex, ey; unsigned n[4]; };
  std::vector<Rec> recs;
  int phase = 0;                 // 0 off, 1 on, 2 both on, 3 first on again, 4 both off
  size_t phase_at[5] = {0, 0, 0, 0, 0};
  unsigned act_recs = 0;
  bool act_now = false;
  const double kg = 4 * std::log(2.0) / (gfwhm * gfwhm), kd = 4 * std::log(2.0) / (fwhm * fwhm);
  auto rate_of = [&](double bx, double by, bool gauss, double px, double py) {
    const double r2 = (bx - px) * (bx - px) + (by - py) * (by - py);
    return gauss ? g_peak_hz * std::exp(-kg * r2) : d_peak_hz * std::exp(1.0) * kd * r2 * std::exp(-kd * r2);
  };
  size_t locs2 = 0;
  for (uint64_t c = 0; c < 12000000 && phase < 5; c++) {
    minflux_core_in_t in = idle_in();
    Vminflux_core *t = s.rtl();
    const double bx = (int16_t)(t->o_dbg_xy_code & 0xFFFF), by = (int16_t)(t->o_dbg_xy_code >> 16);
    double rate = 0;
    if (t->o_laser_en) {
      if (phase == 1 || phase == 2 || phase == 3) rate += rate_of(bx, by, t->o_beam_gauss, ex, ey);
      if (phase == 2) rate += rate_of(bx, by, t->o_beam_gauss, e2x, e2y);
    }
    std::poisson_distribution<unsigned> pois(rate / 48e6 / 2 + 1e-12);
    for (int ch = 0; ch < 2; ch++) in.apd_edges[ch] = (uint8_t)std::min(pois(s.rng()), 15u);
    if (t->o_act405 && t->o_gate) act_now = true;
    if (!s.step(in)) return false;
    if (t->o_est_valid_reg) {
      recs.push_back({(int)t->o_rec_state, (int16_t)t->o_rec_cx, (int16_t)t->o_rec_cy, t->o_est_ok_reg != 0, act_now,
                      (int16_t)t->o_est_x_reg / 32.0, (int16_t)t->o_est_y_reg / 32.0, {0, 0, 0, 0}});
      for (int e = 0; e < 4; e++) recs.back().n[e] = s.model().cnt.nsum[e];
      act_now = false;
      const Rec &q = recs.back();
      if (phase == 0 && q.st == MINFLUX_CTL_ST_SEARCH && q.act && ++act_recs == 5) { phase = 1; phase_at[1] = recs.size(); }
      if (phase == 1 && q.st == (MINFLUX_CTL_ST_LOC | (MINFLUX_CTL_ST_STAGE0 + 2)) && ++locs2 == 12) { phase = 2; phase_at[2] = recs.size(); }
      if (phase == 2 && q.st == MINFLUX_CTL_ST_SEARCH) { phase = 3; phase_at[3] = recs.size(); }
      if (phase == 3 && recs.size() > phase_at[3] + 200) { phase = 4; phase_at[4] = recs.size(); }
      if (phase == 4 && recs.size() > phase_at[4] + 60) phase = 5;
    }
  }
  if (!write_reg(s, MINFLUX_REG_CTRL, 4)) return false;
  CHECK(phase == 5, "imaging run stopped in phase %d after %zu records", phase, recs.size());
  // 1. the 405 nm light: lp stays 0 < threshold while all is dark, so on in search records
  //    j mod 7 < 3 (counted from the run start) up to the activation
  size_t j = 0;
  for (; j < phase_at[1]; j++) {
    CHECK(recs[j].st == MINFLUX_CTL_ST_SEARCH, "record %zu in state %d while the sample is dark", j, recs[j].st);
    CHECK(recs[j].act == ((j % (act_on + act_off)) < act_on), "search record %zu: 405 nm %s", j, recs[j].act ? "on" : "off");
  }
  // 2. found -> pre-localization -> stages 0, 1, 2, 2, ...; a stage ends at the record that
  //    brings its N to the limit (state bit 3), no 405 nm outside the search
  size_t i = phase_at[1];
  while (i < phase_at[2] && recs[i].st == MINFLUX_CTL_ST_SEARCH) i++;
  if (getenv("COSIM_DUMP"))
    for (size_t d = 0; d < recs.size() && d < 400; d++)
      printf("rec %zu st %d c (%d,%d) ok %d est (%.1f,%.1f) n %u %u %u %u\n", d, recs[d].st, recs[d].cx, recs[d].cy,
             recs[d].ok, recs[d].ex, recs[d].ey, recs[d].n[0], recs[d].n[1], recs[d].n[2], recs[d].n[3]);
  while (i < phase_at[2] && recs[i].st == MINFLUX_CTL_ST_PRELOC && recs[i + 1].st == MINFLUX_CTL_ST_SEARCH)   // a failed one
    for (i++; i < phase_at[2] && recs[i].st == MINFLUX_CTL_ST_SEARCH; i++) {}
  CHECK(i < phase_at[2] && recs[i].st == MINFLUX_CTL_ST_PRELOC && (recs[i + 1].st & 7) == MINFLUX_CTL_ST_STAGE0,
        "no pre-localization -> stage 0 after the emitter came on (record %zu state %d)", i, recs[i].st);
  int stage = 0;
  unsigned sn = 0, sn0 = 0, nloc[3] = {0, 0, 0};
  double fx = 0, fy = 0;
  int nf = 0;
  for (size_t k = i + 1; k < phase_at[2]; k++) {
    const Rec &q = recs[k];
    CHECK((q.st & 7) == MINFLUX_CTL_ST_STAGE0 + stage, "record %zu in state %d, want stage %d", k, q.st, stage);
    CHECK(!q.act, "405 nm on in stage record %zu", k);
    sn += q.n[0] + q.n[1] + q.n[2] + q.n[3];
    sn0 += q.n[0];
    const bool end = sn >= lim[stage];
    CHECK(((q.st & MINFLUX_CTL_ST_LOC) != 0) == end, "record %zu: stage %d N %u, limit %u, end flag %d", k, stage, sn,
          lim[stage], (q.st & MINFLUX_CTL_ST_LOC) != 0);
    if (end) {
      CHECK(q.ok, "stage %d end at record %zu without a valid estimate", stage, k);
      if (stage == 2 && nloc[2] >= 2) { fx += q.cx + q.ex; fy += q.cy + q.ey; nf++; }
      nloc[stage]++;
      if (stage) CHECK(256u * sn0 < ratio * sn, "stage %d end at record %zu: cfr %u/%u over the limit", stage, k, sn0, sn);
      stage = stage < 2 ? stage + 1 : 2;
      sn = sn0 = 0;
    }
  }
  CHECK(nloc[0] == 1 && nloc[1] == 1 && nloc[2] >= 12, "localizations per stage %u/%u/%u", nloc[0], nloc[1], nloc[2]);
  fx /= nf; fy /= nf;
  CHECK(std::hypot(fx - ex, fy - ey) < 3, "final localizations average (%.1f, %.1f) over %d, emitter (%.0f, %.0f)",
        fx, fy, nf, ex, ey);
  // 3. a second emitter 70 nm away: the central-to-outer ratio aborts at a stage end
  {
    const Rec &q = recs[phase_at[3] - 2];
    CHECK((q.st & MINFLUX_CTL_ST_LOC) && (q.st & 7) != MINFLUX_CTL_ST_STAGE0,
          "the abort after the second emitter came on did not follow a stage end (state %d)", q.st);
  }
  // 4. both dark: the stage does not reach its limit; abort after 20 records -> search at
  //    the raster position of the find
  size_t k = phase_at[4];
  while (k < recs.size() && (recs[k].st & 4)) k++;
  CHECK(k < recs.size() && recs[k].st == MINFLUX_CTL_ST_SEARCH, "no search after the emitters went dark");
  CHECK(k - phase_at[4] <= idark + 1, "dark abort %zu records after the emitters went dark (limit %u)", k - phase_at[4], idark);
  printf("directed imaging: 405 nm on 3 / off 4 search records while dark (%zu records) -> search -> pre-localization -> "
         "stages 0/1/2 (L 160/80/40 nm, limits 40/60/100): %u/%u/%u localizations, final mean (%.1f, %.1f) nm for "
         "(%.0f, %.0f); second emitter -> cfr abort; dark -> abort after %zu records\n",
         phase_at[1], nloc[0], nloc[1], nloc[2], fx, fy, ex, ey, k - phase_at[4]);
  return true;
}

uint32_t pick(std::mt19937_64 &r, uint32_t lo, uint32_t hi) {
  return lo + (uint32_t)(r() % (uint64_t)(hi - lo + 1));
}

// One random segment: a configuration (legal or not), a run with mid-run register writes,
// stops and aborts, and an APD pulse train of a random kind.
bool random_segment(Cosim &s, uint64_t max_cycles) {
  auto &r = s.rng();
  if (pick(r, 0, 9) == 0 && !reset(s, (int)pick(r, 1, 3))) return false;
  const uint32_t kind = pick(r, 0, 5);
  auto timing = [&](void) -> uint32_t {
    switch (pick(r, 0, 5)) {
      case 0: return pick(r, 0, 3);           // 0 acts as 1; shorter than the move
      case 1: return pick(r, 150, 175);        // around the DAC move time
      case 2: return pick(r, 1, 600);
      default: return pick(r, 100, 1400);
    }
  };
  // configuration
  std::vector<std::pair<uint8_t, uint32_t>> cfg;
  cfg.push_back({MINFLUX_REG_K, pick(r, 0, 9) < 8 ? pick(r, 1, 8) : pick(r, 0, 15)});
  cfg.push_back({MINFLUX_REG_DELAY, timing()});
  cfg.push_back({MINFLUX_REG_GATE, kind == 5 ? pick(r, 2100, 4500) : timing()});
  cfg.push_back({MINFLUX_REG_WIN, pick(r, 0, 3) == 0 ? pick(r, 0, 4) : pick(r, 1, 300)});
  cfg.push_back({MINFLUX_REG_NCYCLES, pick(r, 0, 2) == 0 ? 0 : pick(r, 1, 12)});
  cfg.push_back({MINFLUX_REG_CENTRE_X, (uint32_t)r()});
  cfg.push_back({MINFLUX_REG_CENTRE_Y, (uint32_t)r()});
  cfg.push_back({MINFLUX_REG_LASER_AMP, (uint32_t)r()});
  {
    const uint32_t a = pick(r, 0, 9);
    cfg.push_back({MINFLUX_REG_AGG, a < 5 ? 1u : a < 8 ? pick(r, 2, 5) : a < 9 ? 0u : (uint32_t)r()});
    // the photon budget: off, small (stops within a few records at the higher rates), any bits
    const uint32_t p = pick(r, 0, 9);
    cfg.push_back({MINFLUX_REG_PHOTON_STOP, p < 5 ? 0u : p < 9 ? pick(r, 1, 400) : (uint32_t)r()});
  }
  int16_t w[4];
  bool edge_window = false;
  if (pick(r, 0, 3) == 0) {
    w[0] = INT16_MIN; w[1] = INT16_MAX; w[2] = INT16_MIN; w[3] = INT16_MAX;
  } else {
    for (int i = 0; i < 4; i++) w[i] = (int16_t)r();   // sometimes min > max: illegal, defined
  }
  if (pick(r, 0, 3) == 0) {   // window edges exactly on beam positions (clamp flag must stay 0)
    const int32_t cx = (int16_t)(uint16_t)cfg[5].second, cy = (int16_t)(uint16_t)cfg[6].second;
    w[0] = (int16_t)std::max<int32_t>(INT16_MIN, cx - 150); w[1] = (int16_t)std::min<int32_t>(INT16_MAX, cx + 150);
    w[2] = (int16_t)std::max<int32_t>(INT16_MIN, cy - 150); w[3] = (int16_t)std::min<int32_t>(INT16_MAX, cy + 150);
    edge_window = true;
  }
  cfg.push_back({MINFLUX_REG_SAFE_XMIN, (uint16_t)w[0]});
  cfg.push_back({MINFLUX_REG_SAFE_XMAX, (uint16_t)w[1]});
  cfg.push_back({MINFLUX_REG_SAFE_YMIN, (uint16_t)w[2]});
  cfg.push_back({MINFLUX_REG_SAFE_YMAX, (uint16_t)w[3]});
  for (int e = 0; e < MINFLUX_K_MAX; e++) {
    uint32_t off = pick(r, 0, 1) ? (uint32_t)r() : pack_off((int16_t)pick(r, 0, 400) - 200, (int16_t)pick(r, 0, 400) - 200);
    if (edge_window && pick(r, 0, 1))   // this exposure sits exactly on a window edge
      off = pack_off((int16_t)(pick(r, 0, 1) ? -150 : 150), (int16_t)(pick(r, 0, 1) ? -150 : 150));
    cfg.push_back({(uint8_t)(MINFLUX_REG_OFFSET0 + e), off});
  }
  // estimator parameters: random register values (any bits), sometimes the live defaults
  cfg.push_back({MINFLUX_REG_EST_K, pick(r, 0, 3)});
  cfg.push_back({MINFLUX_REG_EST_THRESH, pick(r, 0, 3) ? pick(r, 0, 40) : (uint32_t)r()});
  const bool live = pick(r, 0, 1);
  cfg.push_back({MINFLUX_REG_EST_L, live ? 6400u : (uint32_t)r()});            // 100 nm, UQ10.6
  cfg.push_back({MINFLUX_REG_EST_F, live ? 8655u : (uint32_t)r()});            // fwhm 360 nm, UQ3.13
  cfg.push_back({MINFLUX_REG_EST_BETA0, live ? 0x1452u : (uint32_t)r()});      // 1.27, Q4.12
  cfg.push_back({MINFLUX_REG_EST_BETA1, live ? 0x3CCDu : (uint32_t)r()});      // 3.8
  cfg.push_back({MINFLUX_REG_EST_BETA2, (uint32_t)r()});
  cfg.push_back({MINFLUX_REG_EST_G, (uint32_t)r()});
  // tracking controller: off, or on with sensible or arbitrary register values
  const bool ctl = pick(r, 0, 9) < 5;
  bool calm = false;   // a long controller run: no strobes or mid-run writes
  if (ctl) {
    const bool sens = pick(r, 0, 3) != 0;
    auto any = [&](uint32_t lo, uint32_t hi) { return sens ? pick(r, lo, hi) : (uint32_t)r(); };
    cfg.push_back({MINFLUX_REG_CTL_ORIGIN, (uint32_t)r()});
    cfg.push_back({MINFLUX_REG_CTL_RASTER, any(1, 400) | (any(0, 12) << 16)});
    cfg.push_back({MINFLUX_REG_CTL_SEARCH, (sens ? timing() : (uint32_t)r() & 0xFFFF) | (any(0, 12) << 16)});
    cfg.push_back({MINFLUX_REG_CTL_ACT, any(0, 30) | (any(0, 3) << 16)});
    cfg.push_back({MINFLUX_REG_CTL_PRE, (sens ? timing() : (uint32_t)r() & 0xFFFF) | (any(0, 40) << 16)});
    cfg.push_back({MINFLUX_REG_CTL_PRE_GAIN, (uint32_t)r()});
    cfg.push_back({MINFLUX_REG_CTL_GAIN, (uint32_t)r()});
    cfg.push_back({MINFLUX_REG_CTL_LOSS, any(0, 255) | (any(0, 12) << 8) | (any(0, 12) << 16)});
    // imaging mode (issue #10): 405 nm rule, aborts, stages (limit, L shift, F)
    cfg.push_back({MINFLUX_REG_CTL_IACT, any(0, 400) | (any(0, 15) << 16)});
    cfg.push_back({MINFLUX_REG_CTL_IACT_T, any(0, 6) | (any(0, 6) << 16)});
    cfg.push_back({MINFLUX_REG_CTL_IABORT, any(0, 12) | (any(0, 6) << 16)});
    for (int i = 0; i < 3; i++)
      cfg.push_back({(uint8_t)(MINFLUX_REG_CTL_ISTG0 + i), sens ? any(1, 300) | (any(0, 3) << 14) | ((live ? 8655u - 400u * i : any(0, 65535)) << 16)
                                                                : (uint32_t)r()});
    if (sens && pick(r, 0, 1)) {   // short exposures: many records (and controller decisions) per segment
      calm = pick(r, 0, 1);
      if (calm) { cfg.push_back({MINFLUX_REG_NCYCLES, 0}); cfg.push_back({MINFLUX_REG_AGG, 1}); }
      cfg.push_back({MINFLUX_REG_DELAY, pick(r, 0, 30)});
      cfg.push_back({MINFLUX_REG_GATE, pick(r, 0, 40)});
      cfg.push_back({MINFLUX_REG_WIN, pick(r, 0, 40)});
      cfg.push_back({MINFLUX_REG_CTL_SEARCH, pick(r, 0, 40) | (pick(r, 0, 12) << 16)});
      cfg.push_back({MINFLUX_REG_CTL_PRE, pick(r, 0, 40) | (pick(r, 0, 40) << 16)});
    }
  }
  const uint32_t ctl_mode = !ctl ? 0u : pick(r, 0, 7) == 0 ? (uint32_t)r() : pick(r, 0, 1) ? 1u : 3u | (pick(r, 0, 3) << 2);
  cfg.push_back({MINFLUX_REG_CTL_MODE, ctl_mode});
  if (ctl && pick(r, 0, 1))   // the controller decides per record
    for (auto &c : cfg) if (c.first == MINFLUX_REG_AGG) c.second = 1;
  for (auto &c : cfg)
    if (!write_reg(s, c.first, c.second)) return false;
  if (!write_reg(s, MINFLUX_REG_CTRL, 1)) return false;

  const double rate = kind == 0 ? 0.0 : kind == 1 ? 0.02 : kind == 2 ? 0.3 : kind == 3 ? 0.9 : kind == 4 ? 3.0 : 2.2;
  std::poisson_distribution<unsigned> pois(rate > 0 ? rate : 1e-9);
  const uint32_t len_hi = (uint32_t)std::min<uint64_t>(max_cycles, 60000);
  const uint64_t len = pick(r, std::min<uint32_t>(calm ? 20000 : 2000, len_hi), len_hi);
  bool prev_gate = false;
  unsigned edge_boost = 0, estop_left = 0;
  for (uint64_t n = 0; n < len; n++) {
    minflux_core_in_t in = idle_in();
    for (int ch = 0; ch < 2; ch++) {
      unsigned e = rate > 0 ? pois(r) : 0;
      if (edge_boost) e += pick(r, 0, 1);      // pulses right at the gate edges
      in.apd_edges[ch] = (uint8_t)std::min(e, 15u);
    }
    if (edge_boost) edge_boost--;
    in.rd_addr = (uint8_t)(pick(r, 0, 3) ? pick(r, 0, 0x30) : pick(r, 0x38, 0x5F));
    in.cnt_rd_addr = (uint8_t)pick(r, 0, 7);
    const uint32_t act = calm ? pick(r, 8, 996) : pick(r, 0, 999);
    if (act < 4) {                       // centre moves mid-run (takes effect next cycle)
      in.wr_en = 1; in.wr_addr = pick(r, 0, 1) ? MINFLUX_REG_CENTRE_X : MINFLUX_REG_CENTRE_Y; in.wr_data = (uint32_t)r();
    } else if (act < 5) {                // timing / K / offset change mid-run
      static const uint8_t regs[] = {MINFLUX_REG_K, MINFLUX_REG_DELAY, MINFLUX_REG_GATE, MINFLUX_REG_WIN,
                                     MINFLUX_REG_OFFSET0 + 3, MINFLUX_REG_NCYCLES, MINFLUX_REG_LASER_AMP,
                                     MINFLUX_REG_SAFE_XMIN, MINFLUX_REG_SAFE_YMAX, MINFLUX_REG_EST_BETA1,
                                     MINFLUX_REG_EST_G, MINFLUX_REG_EST_THRESH, MINFLUX_REG_AGG,
                                     MINFLUX_REG_CTL_MODE, MINFLUX_REG_CTL_GAIN, MINFLUX_REG_OFFSET0 + 4,
                                     MINFLUX_REG_PHOTON_STOP};
      in.wr_en = 1; in.wr_addr = regs[pick(r, 0, 16)];
      in.wr_data = in.wr_addr == MINFLUX_REG_K ? pick(r, 0, 15) : in.wr_addr == MINFLUX_REG_NCYCLES ? pick(r, 0, 5) :
                   in.wr_addr == MINFLUX_REG_AGG ? pick(r, 0, 4) : pick(r, 0, 900);
    } else if (act < 6) {                // control strobes in any combination
      in.wr_en = 1; in.wr_addr = MINFLUX_REG_CTRL; in.wr_data = pick(r, 0, 7);
    } else if (act < 7) {
      in.wr_en = 1; in.wr_addr = MINFLUX_REG_STATUS; in.wr_data = (uint32_t)r();
    } else if (act < 8) {
      in.wr_en = 1; in.wr_addr = (uint8_t)pick(r, 0x12, 0xFF); in.wr_data = (uint32_t)r(); // unmapped
    }
    if (act == 999) estop_left = pick(r, 1, 400);   // emergency stop pulses of any length
    if (estop_left) { in.estop = 1; estop_left--; }
    if (act == 998 || (act == 997 && pick(r, 0, 3) == 0)) in.wdog = 1;   // host watchdog trips (abort + centring move)
    if (!s.step(in)) return false;
    const bool g = s.rtl()->o_gate;
    if (g != prev_gate) edge_boost = 3;
    prev_gate = g;
    if (!calm && !s.rtl()->o_running && n > 50 && pick(r, 0, 199) == 0) break;
  }
  // finish: abort so the next segment starts from idle
  return write_reg(s, MINFLUX_REG_CTRL, 4);
}

// Demo: the seed's tracking timing on the RTL (checked against the model as always) with
// a static emitter under a doughnut beam (S17: I ~ r^2/fwhm^2 exp(-4 ln2 r^2/fwhm^2)),
// Poisson photon pulses split over both APDs; prints and writes the count records.
bool demo(Cosim &s, unsigned ncycles, const char *csv_path) {
  core_config_t c;
  core_config_tracking_preset(&c);
  c.ncycles = ncycles;
  const double L = 100.0, fwhm = 360.0, ex = 12.0, ey = -8.0;  // nm; 1 DAC LSB = 1 nm here
  const double peak_rate_hz = 6e6;                            // doughnut crest, both APDs
  for (int i = 1; i < 4; i++) {
    c.off_x[i] = (int32_t)lround(L / 2 * cos(i * 2 * M_PI / 3));
    c.off_y[i] = (int32_t)lround(L / 2 * sin(i * 2 * M_PI / 3));
  }
  char err[256];
  if (core_config_validate(&c, err, sizeof err)) { printf("demo config: %s\n", err); return false; }
  if (!reset(s, 4)) return false;
  const uint32_t regs[][2] = {{MINFLUX_REG_K, c.k}, {MINFLUX_REG_DELAY, c.delay_cycles},
                              {MINFLUX_REG_GATE, c.gate_cycles}, {MINFLUX_REG_WIN, c.win_cycles},
                              {MINFLUX_REG_NCYCLES, c.ncycles}};
  for (auto &rv : regs)
    if (!write_reg(s, (uint8_t)rv[0], rv[1])) return false;
  for (int e = 0; e < 4; e++)
    if (!write_reg(s, (uint8_t)(MINFLUX_REG_OFFSET0 + e), pack_off((int16_t)c.off_x[e], (int16_t)c.off_y[e])))
      return false;
  // live mLMS parameters (k = 1, beta0 1.27, beta1 3.8, reaction threshold 6)
  const double beta[3] = {1.27, 3.8, 0.0};
  mlms_regs_t mr;
  if (est_mlms_regs(L, fwhm, 1, beta, 6, &mr, err, sizeof err)) { printf("demo estimator: %s\n", err); return false; }
  const uint32_t est[][2] = {{MINFLUX_REG_EST_K, mr.k}, {MINFLUX_REG_EST_THRESH, mr.thresh},
                             {MINFLUX_REG_EST_L, mr.L}, {MINFLUX_REG_EST_F, mr.F},
                             {MINFLUX_REG_EST_BETA0, (uint16_t)mr.beta[0]}, {MINFLUX_REG_EST_BETA1, (uint16_t)mr.beta[1]}};
  for (auto &rv : est)
    if (!write_reg(s, (uint8_t)rv[0], rv[1])) return false;
  if (!write_reg(s, MINFLUX_REG_CTRL, 1)) return false;
  FILE *f = fopen(csv_path, "w");
  if (!f) { printf("demo: cannot write %s\n", csv_path); return false; }
  fprintf(f, "t_us,cx,cy,n0,n1,n2,n3\n");
  printf("demo: emitter at (%.0f, %.0f) nm, L = %.0f nm, fwhm %.0f nm, 8 kHz tracking timing on the RTL\n", ex, ey, L, fwhm);
  printf("  t_us      n0   n1   n2   n3   (sum of both APDs per exposure)\n");
  unsigned recs = 0, ests = 0;
  uint64_t sum[4] = {0, 0, 0, 0}, rec_cycle = 0, est_lat = 0;
  double ex_sum = 0, ey_sum = 0;
  for (uint64_t n = 0; n < (uint64_t)ncycles * 6100 + 2000 && recs < ncycles; n++) {
    minflux_core_in_t in = idle_in();
    Vminflux_core *t = s.rtl();
    // beam position as the DAC was last told (x/y codes), photons only with the laser on
    const double bx = (int16_t)(t->o_dbg_xy_code & 0xFFFF), by = (int16_t)(t->o_dbg_xy_code >> 16);
    const double r2 = (bx - ex) * (bx - ex) + (by - ey) * (by - ey);
    const double k = 4 * std::log(2.0) / (fwhm * fwhm);
    const double rate = t->o_laser_en ? peak_rate_hz * std::exp(1.0) * k * r2 * std::exp(-k * r2) : 0.0;
    std::poisson_distribution<unsigned> pois(rate / 48e6 / 2 + 1e-12);
    for (int ch = 0; ch < 2; ch++) in.apd_edges[ch] = (uint8_t)std::min(pois(s.rng()), 15u);
    if (!s.step(in)) return false;
    if (t->o_est_valid_reg) {
      est_lat = s.cycle() - rec_cycle;
      if (t->o_est_ok_reg) {
        ex_sum += (int16_t)t->o_est_x_reg / 32.0;
        ey_sum += (int16_t)t->o_est_y_reg / 32.0;
        ests++;
      }
    }
    if (t->o_rec_valid) {
      rec_cycle = s.cycle();
      const minflux_core_t &m = s.model();
      unsigned nq[4];
      for (int e = 0; e < 4; e++) { nq[e] = m.cnt.bank[e][0] + m.cnt.bank[e][1]; sum[e] += nq[e]; }
      const double t_us = t->o_rec_ts / 48.0;
      fprintf(f, "%.3f,%d,%d,%u,%u,%u,%u\n", t_us, (int16_t)t->o_rec_cx, (int16_t)t->o_rec_cy, nq[0], nq[1], nq[2], nq[3]);
      if (recs < 8) printf("  %8.1f %4u %4u %4u %4u\n", t_us, nq[0], nq[1], nq[2], nq[3]);
      recs++;
    }
  }
  fclose(f);
  printf("demo: live mLMS (k=1, beta 1.27/3.8) in the firmware: mean estimate (%.1f, %.1f) nm over %u valid "
         "records, true position (%.0f, %.0f) nm; estimate ready %" PRIu64 " cycles after the counts\n",
         ex_sum / (ests ? ests : 1), ey_sum / (ests ? ests : 1), ests, ex, ey, est_lat);
  printf("demo: %u records (all bit-exact against the C model); mean counts n0..n3 = %.1f %.1f %.1f %.1f; "
         "written to %s\n", recs, sum[0] / (double)recs, sum[1] / (double)recs, sum[2] / (double)recs,
         sum[3] / (double)recs, csv_path);
  return recs == ncycles;
}

}  // namespace

int main(int argc, char **argv) {
  uint64_t seed = (uint64_t)time(nullptr);
  uint64_t cycles = 1000000;
  bool bench = false;
  const char *demo_csv = nullptr;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--seed") && i + 1 < argc) seed = strtoull(argv[++i], nullptr, 0);
    else if (!strcmp(argv[i], "--cycles") && i + 1 < argc) cycles = strtoull(argv[++i], nullptr, 0);
    else if (!strcmp(argv[i], "--bench")) bench = true;
    else if (!strcmp(argv[i], "--demo") && i + 1 < argc) demo_csv = argv[++i];
    else {
      fprintf(stderr, "usage: cosim_core [--seed S] [--cycles N] [--bench] [--demo RECORDS.csv]\n");
      return 2;
    }
  }
  Cosim s(seed);
  std::mt19937_64 prng(seed ^ 0x5051u);
  if (demo_csv) return demo(s, 400, demo_csv) ? 0 : 1;
  printf("cosim_core: seed %" PRIu64 ", %" PRIu64 " random cycles\n", seed, cycles);
  unsigned shortest = 0;
  bool ok = reset(s, 4) && directed_tracking_timing(s) && directed_imaging_timing(s) &&
            directed_shortest_exposure(s, &shortest) && directed_bursts_and_gate_edges(s) &&
            directed_saturation(s) && directed_clamp(s) && directed_k_lowered(s) && directed_aggregation(s) && directed_agg_write(s) &&
            directed_photon_stop(s, prng) && directed_controller(s, 13) && directed_controller(s, 0) && directed_imaging(s);
  const auto t0 = std::chrono::steady_clock::now();
  const uint64_t c0 = s.cycle();
  unsigned segments = 0;
  while (ok && s.cycle() - c0 < cycles) {
    ok = random_segment(s, cycles - (s.cycle() - c0));
    segments++;
  }
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  for (int b = 0; b < B_N; b++)
    printf("cosim %s: %" PRIu64 " cycles, %" PRIu64 " events, %d mismatches (seed %" PRIu64 ")\n", kBlockName[b],
           s.cycle(), s.events(b), s.mismatches(), seed);
  printf("cosim_core: %" PRIu64 " DAC frames decoded from the pins and checked against the safe window\n",
         s.frames_checked());
  printf("cosim track_ctl coverage: records by state open %" PRIu64 ", search %" PRIu64 ", preloc %" PRIu64
         ", track %" PRIu64 ", imaging stage 0/1/2 %" PRIu64 "/%" PRIu64 "/%" PRIu64
         ", stage ends 0/1/2 %" PRIu64 "/%" PRIu64 "/%" PRIu64 "\n", s.records_in_state(0), s.records_in_state(1),
         s.records_in_state(2), s.records_in_state(3),
         s.records_in_state(4) + s.records_in_state(12), s.records_in_state(5) + s.records_in_state(13),
         s.records_in_state(6) + s.records_in_state(14),
         s.records_in_state(12), s.records_in_state(13), s.records_in_state(14));
  printf("cosim_core: %u random segments; %.0f simulated cycles/s (RTL + model + checks)\n", segments,
         (s.cycle() - c0) / (secs > 0 ? secs : 1e-9));
  if (bench) {
    // Reference in the same run: the C model alone on the tracking preset with pulses.
    minflux_core_t m;
    minflux_core_init(&m);
    minflux_core_in_t in = idle_in();
    std::mt19937_64 r(seed);
    const uint64_t n_ref = s.cycle() - c0;
    const auto r0 = std::chrono::steady_clock::now();
    in.rst = 1;
    minflux_core_step(&m, &in);
    in.rst = 0;
    in.wr_en = 1; in.wr_addr = MINFLUX_REG_CTRL; in.wr_data = 1;
    minflux_core_step(&m, &in);
    in.wr_en = 0;
    for (uint64_t n = 0; n < n_ref; n++) {
      in.apd_edges[0] = (uint8_t)(r() & 1);
      in.apd_edges[1] = (uint8_t)((r() >> 1) & 1);
      minflux_core_step(&m, &in);
    }
    const double ref_secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - r0).count();
    const double cosim_rate = n_ref / (secs > 0 ? secs : 1e-9), model_rate = n_ref / (ref_secs > 0 ? ref_secs : 1e-9);
    printf("bench: co-sim (RTL + model + checks) %.3g cycles/s; C model alone %.3g cycles/s (%u records); "
           "co-sim / model = %.3f\n", cosim_rate, model_rate, m.seq.cycles_done, cosim_rate / model_rate);
    printf("bench: shortest exposure period %u cycles = %.3f us; real time at 48 MHz is %.0fx the co-sim\n",
           shortest, shortest / 48.0, 48e6 / cosim_rate);
  }
  if (!ok) printf("cosim_core: FAILED (seed %" PRIu64 "; rerun with --seed %" PRIu64 ")\n", seed, seed);
  return ok ? 0 : 1;
}
