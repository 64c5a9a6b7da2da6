// The virtual board: the Verilated firmware (hdl/minflux_system.v at 48 MHz, no PLL) with
// its UART pins modelled at bit level, the DAC SPI frames decoded into the beam position
// and a physics model of the sample (sim/physics.c) producing APD pulses. It speaks the
// protocol bytes on stdin/stdout, exactly what the FT2232H would carry; `minflux
// --board sim[:SCENARIO.ini]` spawns it over a socketpair.
//
// usage: vboard [--scenario F.ini] [--truth TRUTH.csv] [--seed S]
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <deque>
#include <vector>

#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>

#include "Vminflux_system.h"
#include "verilated.h"
#include "physics.h"
#include "regmap.h"

namespace {

// Clocks per UART bit on both lines: the firmware's LINK_BAUD divider (o_dbg_link_div). The
// FT2232H side switches with it; the host switches after the firmware's answer, so the
// bytes on the socket are the same as with a real board.
unsigned g_div = MINFLUX_LINK_DIV_3M;

// Host -> FPGA line: 8N1 bytes back to back, LSB first.
struct UartDriver {
  std::deque<uint8_t> q;
  int bit = -1;          // -1 idle, 0 start, 1..8 data, 9 stop
  unsigned tick = 0;
  uint8_t cur = 0;
  int line() const {
    if (bit < 0 || bit == 9) return 1;
    if (bit == 0) return 0;
    return (cur >> (bit - 1)) & 1;
  }
  void step() {
    if (bit < 0) {
      if (q.empty()) return;
      cur = q.front();
      q.pop_front();
      bit = 0;
      tick = 0;
      return;
    }
    if (++tick == g_div) {
      tick = 0;
      if (++bit > 9) bit = -1;
    }
  }
  bool idle() const { return bit < 0 && q.empty(); }
};

// FPGA -> host line: samples the TX pin in the middle of each bit like the FT2232H.
struct UartReceiver {
  int bit = -1;
  unsigned tick = 0;
  uint8_t sh = 0;
  uint64_t framing_errors = 0;
  // Returns 1 and the byte when a byte with a good stop bit completed this cycle.
  int step(int line, uint8_t *out) {
    if (bit < 0) {
      if (!line) { bit = 0; tick = 0; }
      return 0;
    }
    if (++tick != (bit == 0 ? g_div / 2 : g_div)) return 0;
    tick = 0;
    if (bit == 0) {              // middle of the start bit
      if (line) bit = -1;        // glitch
      else bit = 1;
      return 0;
    }
    if (bit <= 8) {
      sh = (uint8_t)((sh >> 1) | (line ? 0x80 : 0));
      bit++;
      return 0;
    }
    bit = -1;                    // stop bit
    if (!line) { framing_errors++; return 0; }
    *out = sh;
    return 1;
  }
};

// DAC8564 frames on the SPI pins: data latched on SCLK falling edges while SYNC is low;
// channel A = x, B = y (offset binary), "load" frames update the outputs.
struct DacDecoder {
  bool prev_sclk = false, prev_sync = true;
  uint32_t bits = 0;
  unsigned n = 0;
  uint16_t store[4] = {0x8000, 0x8000, 0, 0}, out[4] = {0x8000, 0x8000, 0, 0};
  uint64_t frames = 0, bad_frames = 0;
  // Returns true when the outputs changed.
  bool step(bool sclk, bool mosi, bool sync_n) {
    bool changed = false;
    if (!sync_n) {
      if (prev_sclk && !sclk) { bits = (bits << 1) | (mosi ? 1u : 0u); n++; }
    } else if (!prev_sync) {
      if (n == 24) {
        const unsigned ld = (bits >> 20) & 3u, sel = (bits >> 17) & 3u;
        store[sel] = (uint16_t)bits;
        if (ld == 2) { memcpy(out, store, sizeof out); changed = true; }   // update all
        else if (ld == 1) { out[sel] = store[sel]; changed = true; }       // update this one
        frames++;
      } else {
        bad_frames++;
      }
      bits = 0;
      n = 0;
    }
    prev_sclk = sclk;
    prev_sync = sync_n;
    return changed;
  }
  int16_t x_code() const { return (int16_t)(uint16_t)(out[0] ^ 0x8000u); }
  int16_t y_code() const { return (int16_t)(uint16_t)(out[1] ^ 0x8000u); }
};

volatile sig_atomic_t g_stop = 0;
void on_signal(int) { g_stop = 1; }

int usage(FILE *f) {
  fprintf(f, "usage: vboard [--scenario F.ini] [--truth TRUTH.csv] [--seed S]\n"
             "The virtual minflux board: protocol bytes on stdin/stdout (spawned by `minflux --board sim`).\n");
  return f == stdout ? 0 : 2;
}

}  // namespace

int main(int argc, char **argv) {
  const char *scenario = nullptr, *truth_path = nullptr;
  bool seed_given = false;
  uint64_t seed = 0;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--scenario") && i + 1 < argc) scenario = argv[++i];
    else if (!strcmp(argv[i], "--truth") && i + 1 < argc) truth_path = argv[++i];
    else if (!strcmp(argv[i], "--seed") && i + 1 < argc) { seed = strtoull(argv[++i], nullptr, 0); seed_given = true; }
    else if (!strcmp(argv[i], "--help")) return usage(stdout);
    else { fprintf(stderr, "vboard: unknown argument '%s'\n", argv[i]); return usage(stderr); }
  }
  phys_scenario ph;
  phys_defaults(&ph);
  char err[512];
  if (scenario && phys_load(scenario, &ph, err, sizeof err)) {
    fprintf(stderr, "vboard: %s\n", err);
    return 2;
  }
  if (seed_given) ph.seed = seed;
  if (!ph.seed) ph.seed = (uint64_t)time(nullptr);
  FILE *truth = nullptr;
  if (truth_path) {
    truth = fopen(truth_path, "w");
    if (!truth) { fprintf(stderr, "vboard: cannot write %s: %s\n", truth_path, strerror(errno)); return 2; }
    fprintf(truth, "t_s,x_nm,y_nm,on\n");
  }
  signal(SIGPIPE, SIG_IGN);
  signal(SIGTERM, on_signal);
  signal(SIGINT, SIG_IGN);   // the host handles Ctrl-C and ends us by closing the pipe

  gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
  gsl_rng_set(rng, (unsigned long)ph.seed);

  VerilatedContext ctx;
  ctx.randReset(0);
  Vminflux_system *top = new Vminflux_system(&ctx);
  top->clk = 0;
  top->rst = 1;
  top->i_rx = 1;
  top->i_apd = 0;
  top->i_estop = 0;
  top->eval();

  UartDriver to_fpga;
  UartReceiver from_fpga;
  DacDecoder dac;
  std::vector<uint8_t> out;
  out.reserve(1 << 16);

  const double clk_hz = MINFLUX_CLK_HZ;
  uint64_t cyc = 0;
  double next_photon = INFINITY;   // cycle of the next photon arrival
  bool rate_dirty = true;
  bool prev_laser = false;
  uint64_t quiet = 0;              // cycles without activity on either UART line
  uint64_t ts_hi = 0;              // unwrapping of the 32-bit record timestamps
  uint32_t prev_ts = 0;
  bool eof = false;
  const unsigned kPoll = 2048;     // cycles between looks at the host pipe

  while (!g_stop) {
    // ---- host pipe: bytes in, bytes out ----
    if (cyc % kPoll == 0 || (quiet > 4 * kPoll && !top->o_running)) {
      if (!out.empty()) {
        size_t off = 0;
        while (off < out.size()) {
          ssize_t w = write(1, out.data() + off, out.size() - off);
          if (w < 0) { if (errno == EINTR) continue; eof = true; break; }
          off += (size_t)w;
        }
        out.clear();
      }
      // Idle firmware and quiet lines: wait for the host instead of spinning.
      const bool idle = !top->o_running && to_fpga.idle() && quiet > 4 * kPoll;
      struct pollfd pfd = {0, POLLIN, 0};
      int pr = poll(&pfd, 1, idle ? 100 : 0);
      if (pr > 0) {
        uint8_t buf[4096];
        ssize_t r = read(0, buf, sizeof buf);
        if (r > 0) to_fpga.q.insert(to_fpga.q.end(), buf, buf + r);
        else if (r == 0 || errno != EINTR) eof = true;
      }
      if (eof && !top->o_running) break;
      if (idle && pr == 0) continue;   // firmware time stands still while nothing happens
    }

    // ---- one clock cycle ----
    top->rst = cyc < 16;
    top->i_rx = (uint8_t)to_fpga.line();
    // Photons that arrive during this cycle: one APD pulse each.
    if (rate_dirty) {
      const double bx = dac.x_code() * ph.eod_nm_per_lsb, by = dac.y_code() * ph.eod_nm_per_lsb;
      const double rate = phys_rate_hz(&ph, bx, by, prev_laser) / clk_hz;   // per cycle
      next_photon = rate > 0 ? (double)cyc + gsl_ran_exponential(rng, 1.0 / rate) : INFINITY;
      rate_dirty = false;
    }
    while (next_photon < (double)cyc + 1) {
      const int ch = gsl_rng_uniform(rng) < ph.apd1_fraction ? 0 : 1;
      top->i_apd = (uint8_t)(1u << ch);
      top->eval();
      top->i_apd = 0;
      top->eval();
      const double bx = dac.x_code() * ph.eod_nm_per_lsb, by = dac.y_code() * ph.eod_nm_per_lsb;
      const double rate = phys_rate_hz(&ph, bx, by, prev_laser) / clk_hz;
      next_photon = rate > 0 ? next_photon + gsl_ran_exponential(rng, 1.0 / rate) : INFINITY;
    }
    top->clk = 1;
    top->eval();
    top->clk = 0;
    top->eval();
    cyc++;
    if (cyc > 32) to_fpga.step();   // the line stays idle while the firmware is in reset
    if (top->o_dbg_link_div >= 4) g_div = top->o_dbg_link_div;

    uint8_t b;
    if (from_fpga.step(top->o_tx, &b)) {
      // a noisy link (scenario [link] tx_error_rate): the host receives a wrong byte
      if (ph.tx_error_rate > 0 && gsl_rng_uniform(rng) < ph.tx_error_rate)
        b ^= (uint8_t)(1 + gsl_rng_uniform_int(rng, 255));
      out.push_back(b);
    }
    if (!top->o_tx || !to_fpga.idle() || from_fpga.bit >= 0) quiet = 0;
    else quiet++;
    if (dac.step(top->o_dac_sclk, top->o_dac_mosi, top->o_dac_sync_n)) rate_dirty = true;
    if ((bool)top->o_laser_en != prev_laser) { prev_laser = top->o_laser_en; rate_dirty = true; }

    if (top->o_dbg_cycle_end && truth) {   // one row per multiplex cycle
      const uint32_t ts = top->o_dbg_rec_ts;
      if (ts < prev_ts) ts_hi += 1ull << 32;
      prev_ts = ts;
      // static emitter: its position averaged over the cycle (S82) is the position itself
      fprintf(truth, "%.9f,%.3f,%.3f,%d\n", (double)(ts_hi + ts) / clk_hz, ph.x_nm, ph.y_nm, 1);
    }
    if (out.size() > 32768) {   // keep the pipe moving during long runs
      size_t off = 0;
      while (off < out.size()) {
        ssize_t w = write(1, out.data() + off, out.size() - off);
        if (w < 0) { if (errno == EINTR) continue; eof = true; break; }
        off += (size_t)w;
      }
      out.clear();
    }
  }
  if (truth) fclose(truth);
  if (from_fpga.framing_errors || dac.bad_frames)
    fprintf(stderr, "vboard: %" PRIu64 " UART framing errors, %" PRIu64 " malformed DAC frames\n",
            from_fpga.framing_errors, dac.bad_frames);
  top->final();
  delete top;
  gsl_rng_free(rng);
  return 0;
}
