// The virtual board: the Verilated firmware (hdl/minflux_system.v at 48 MHz, no PLL) with
// its UART pins modelled at bit level, the DAC SPI frames decoded into the beam position
// and a physics model of the sample (sim/physics.c, docs/physics.md) producing APD pulses.
// It speaks the protocol bytes on stdin/stdout, exactly what the FT2232H would carry;
// `minflux --board sim[:SCENARIO.ini]` spawns it over a socketpair.
//
// usage: vboard [--scenario F.ini] [--truth TRUTH.csv] [--seed S] [--stats] [fault options]
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <poll.h>
#include <sys/socket.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <deque>
#include <string>
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

// Firmware outputs that the physics reads when the firmware has them (the tracking
// controller adds them): o_beam_gauss (1 = Gaussian beam) and o_act405 (405 nm light).
// Without the pin the value is 0 (doughnut, no activation light).
template <class T> auto pin_beam_gauss(const T *t, int) -> decltype((int)t->o_beam_gauss) { return t->o_beam_gauss; }
template <class T> int pin_beam_gauss(const T *, long) { return 0; }
template <class T> auto pin_act405(const T *t, int) -> decltype((int)t->o_act405) { return t->o_act405; }
template <class T> int pin_act405(const T *, long) { return 0; }

// The firmware's TIMESTAMP counts from the clock edge after reset is released: a cycle
// stamped ts started at board clock cycle ts + kTsOffset (physics time = cycles / clk)
// after power-up; after a fault-injected reset, ts + the cycle after its last reset cycle.
const uint64_t kResetCycles = 16;
const uint64_t kTsOffset = kResetCycles;

// Activations and bleaches of the sample, for DIR/physics.json.
struct PhysEvent { double t_s; const char *what; int molecule; double x, y; };
void on_phys_event(void *ctx, double t_s, const char *what, int molecule, double x, double y) {
  static_cast<std::vector<PhysEvent> *>(ctx)->push_back({t_s, what, molecule, x, y});
}

// DIR/physics.json next to truth.csv: seed, scenario, photon statistics, events.
void write_physics_json(const char *truth_path, const char *scenario, uint64_t seed, const phys_model *pm,
                        const std::vector<PhysEvent> &ev, double clk_hz) {
  std::string path(truth_path);
  const size_t slash = path.rfind('/');
  path = (slash == std::string::npos ? std::string() : path.substr(0, slash + 1)) + "physics.json";
  FILE *f = fopen(path.c_str(), "w");
  if (!f) { fprintf(stderr, "vboard: cannot write %s: %s\n", path.c_str(), strerror(errno)); return; }
  const phys_stats *st = phys_get_stats(pm);
  fprintf(f, "{\n  \"seed\": %" PRIu64 ",\n  \"scenario\": \"", seed);
  for (const char *c = scenario ? scenario : ""; *c; c++) {
    if (*c == '"' || *c == '\\') fputc('\\', f);
    if ((unsigned char)*c >= 0x20) fputc(*c, f);
  }
  fprintf(f, "\",\n  \"t_end_s\": %.9f,\n", phys_time(pm) - kTsOffset / clk_hz);
  fprintf(f, "  \"signal\": %" PRIu64 ", \"background\": %" PRIu64 ", \"dark\": %" PRIu64 ",\n",
          st->signal, st->background, st->dark);
  fprintf(f, "  \"pulses_apd1\": %" PRIu64 ", \"pulses_apd2\": %" PRIu64 ", \"lost_dead_time\": %" PRIu64 ",\n",
          st->pulses[0], st->pulses[1], st->lost_dead);
  fprintf(f, "  \"activations\": %" PRIu64 ", \"bleaches\": %" PRIu64 ", \"blinks_off\": %" PRIu64 ", \"on_time_s\": %.6f,\n",
          st->activations, st->bleaches, st->blinks_off, st->on_time_s);
  if (phys_n_sites(pm)) {   // a multi-site [sample] (docs/physics.md "Multi-site samples")
    const phys_scenario *sc = phys_scenario_of(pm);
    const double T = phys_time(pm);
    fprintf(f, "  \"sites\": [");
    for (int i = 0; i < sc->n_sites; i++) {
      int state;
      double x, y;
      phys_site(pm, i, &x, &y, &state);
      fprintf(f, "%s\n    {\"x_nm\": %.3f, \"y_nm\": %.3f, \"state\": \"%s\"}", i ? "," : "", sc->x_nm + sc->site_x_nm[i],
              sc->y_nm + sc->site_y_nm[i], state == PHYS_SITE_ON ? "on" : state == PHYS_SITE_DARK ? "dark" : "bleached");
    }
    fprintf(f, "\n  ],\n  \"drift_x_nm_s\": %.6g, \"drift_y_nm_s\": %.6g,\n", sc->drift_x_nm_s, sc->drift_y_nm_s);
    fprintf(f, "  \"frac_on_ge1\": %.6f, \"frac_on_ge2\": %.6f, \"mean_n_on\": %.6f,\n", T > 0 ? st->on_time_s / T : 0.0,
            T > 0 ? st->on2_time_s / T : 0.0, T > 0 ? st->n_on_time_s / T : 0.0);
    fprintf(f, "  \"activations_405\": %" PRIu64 ", \"activations_spontaneous\": %" PRIu64 ", \"offs\": %" PRIu64 ",\n",
            st->act_405, st->act_spont, st->offs);
  }
  fprintf(f, "  \"events\": [");
  for (size_t i = 0; i < ev.size(); i++)
    fprintf(f, "%s\n    {\"t_s\": %.9f, \"what\": \"%s\", \"molecule\": %d, \"x_nm\": %.3f, \"y_nm\": %.3f}",
            i ? "," : "", ev[i].t_s - kTsOffset / clk_hz, ev[i].what, ev[i].molecule, ev[i].x, ev[i].y);
  fprintf(f, "\n  ]\n}\n");
  fclose(f);
}

volatile sig_atomic_t g_stop = 0;
void on_signal(int) { g_stop = 1; }

// Fault injection (tests/test_fault.sh, docs/reliability.md). Times are firmware seconds
// after the sequencer first starts running.
struct Faults {
  double unplug_s = -1, reset_s = -1, garbage_s = -1, rx_garbage_s = -1;
  unsigned garbage_n = 0, rx_garbage_n = 0;
  long usb_buffer = 0;          // > 0: the host side holds this many bytes, the rest is lost
  uint64_t run0 = 0;            // cycle the first run started (0: not yet)
  uint64_t dropped = 0;         // bytes lost because the host did not read
  bool done_reset = false, done_garbage = false, done_rx_garbage = false;
  // one option of argv at i (advances i); 0 not a fault option, 1 taken, -1 malformed
  int parse(int argc, char **argv, int &i) {
    const char *o = argv[i];
    double *t = !strcmp(o, "--fault-unplug") ? &unplug_s : !strcmp(o, "--fault-reset") ? &reset_s :
                !strcmp(o, "--fault-garbage") ? &garbage_s : !strcmp(o, "--fault-rx-garbage") ? &rx_garbage_s : nullptr;
    if (!t && strcmp(o, "--usb-buffer")) return 0;
    if (i + 1 >= argc) return -1;
    const char *v = argv[++i];
    char *end;
    if (!t) { usb_buffer = strtol(v, &end, 10); return *end || usb_buffer < 1 ? -1 : 1; }
    *t = strtod(v, &end);
    if (t == &garbage_s || t == &rx_garbage_s) {
      if (*end != ':') return -1;
      unsigned long n = strtoul(end + 1, &end, 10);
      (t == &garbage_s ? garbage_n : rx_garbage_n) = (unsigned)n;
      if (n < 1 || n > 65536) return -1;
    }
    return *end || !(*t >= 0) ? -1 : 1;
  }
  bool due(double t_s, uint64_t cyc) const {
    return t_s >= 0 && run0 && cyc >= run0 + (uint64_t)(t_s * MINFLUX_CLK_HZ);
  }
};
Faults g_faults;

// Writes the host-bound bytes; with --usb-buffer the write never blocks and what finds no
// room is lost (an FT2232H whose host stopped reading drops bytes). false: the link is gone.
bool send_to_host(std::vector<uint8_t> &out) {
  size_t off = 0;
  while (off < out.size()) {
    ssize_t w = g_faults.usb_buffer > 0 ? send(1, out.data() + off, out.size() - off, MSG_DONTWAIT | MSG_NOSIGNAL)
                                        : write(1, out.data() + off, out.size() - off);
    if (w < 0) {
      if (errno == EINTR) continue;
      if (g_faults.usb_buffer > 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) { g_faults.dropped += out.size() - off; break; }
      out.clear();
      return false;
    }
    off += (size_t)w;
  }
  out.clear();
  return true;
}

int usage(FILE *f) {
  fprintf(f, "usage: vboard [--scenario F.ini] [--truth TRUTH.csv] [--seed S] [--stats]\n"
             "The virtual minflux board: protocol bytes on stdin/stdout (spawned by `minflux --board sim`).\n"
             "--truth also writes physics.json (seed, photon statistics, activations, bleaches) next to it;\n"
             "--stats prints the seed, photon statistics and speed on stderr at the end.\n"
             "Fault injection (T: firmware seconds after the first run start):\n"
             "  --fault-unplug T       half the pending bytes, then the link closes (USB unplug)\n"
             "  --fault-reset T        firmware reset for 16 cycles\n"
             "  --fault-garbage T:N    N random bytes into the stream to the host (after a firmware byte)\n"
             "  --fault-rx-garbage T:N N random bytes into the line to the firmware\n"
             "  --usb-buffer BYTES     the host side buffers this much; bytes that find no room are lost\n");
  return f == stdout ? 0 : 2;
}

}  // namespace

int main(int argc, char **argv) {
  const char *scenario = nullptr, *truth_path = nullptr;
  bool seed_given = false, stats = false;
  uint64_t seed = 0;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--scenario") && i + 1 < argc) scenario = argv[++i];
    else if (!strcmp(argv[i], "--truth") && i + 1 < argc) truth_path = argv[++i];
    else if (!strcmp(argv[i], "--seed") && i + 1 < argc) { seed = strtoull(argv[++i], nullptr, 0); seed_given = true; }
    else if (!strcmp(argv[i], "--stats")) stats = true;
    else if (!strncmp(argv[i], "--fault-", 8) || !strcmp(argv[i], "--usb-buffer")) {
      const char *o = argv[i];
      if (g_faults.parse(argc, argv, i) <= 0) { fprintf(stderr, "vboard: %s: bad or missing value\n", o); return usage(stderr); }
    }
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
    // a multi-site [sample] appends n_on (sites ON at the cycle's last gate) and n_on_mean
    // (time-weighted over the cycle); single-molecule scenarios keep the four columns
    fprintf(truth, ph.n_sites ? "t_s,x_nm,y_nm,on,n_on,n_on_mean\n" : "t_s,x_nm,y_nm,on\n");
  }
  if (g_faults.usb_buffer > 0) {
    int sz = (int)g_faults.usb_buffer;
    if (setsockopt(1, SOL_SOCKET, SO_SNDBUF, &sz, sizeof sz)) {
      fprintf(stderr, "vboard: --usb-buffer needs the host link on a socket (minflux --board sim): %s\n", strerror(errno));
      return 2;
    }
  }
  signal(SIGPIPE, SIG_IGN);
  signal(SIGTERM, on_signal);
  signal(SIGINT, SIG_IGN);   // the host handles Ctrl-C and ends us by closing the pipe

  gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);          // the link's noise
  gsl_rng_set(rng, (unsigned long)(ph.seed ^ 0x9E3779B97F4A7C15ull));
  phys_model *pm = phys_new(&ph, ph.seed, err, sizeof err);   // the sample
  if (!pm) { fprintf(stderr, "vboard: %s\n", err); return 2; }
  std::vector<PhysEvent> events;
  phys_on_event(pm, on_phys_event, &events);
  const struct timespec wall0 = [] { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t; }();

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
  // [link] latency_us: bytes to the host wait in `late` (with the cycle they left the
  // UART) until that much firmware time has passed
  const uint64_t lat_cyc = (uint64_t)llround(ph.latency_us * 1e-6 * MINFLUX_CLK_HZ);
  std::deque<std::pair<uint64_t, uint8_t>> late;

  const double clk_hz = MINFLUX_CLK_HZ;
  uint64_t cyc = 0;
  phys_inputs pin = {};            // what the firmware drives, as the physics last saw it
  phys_pulse pulses[16];
  // the clock cycle holding the model's next event (its start may lie just before it)
  auto next_cycle = [clk_hz](const phys_model *m) {
    const double e = phys_next_event(m) * clk_hz;
    return e < 1.8e19 ? (e >= 1 ? (uint64_t)e - 1 : 0) : UINT64_MAX;   // one early: rounding
  };
  uint64_t phys_next_cyc = 0;
  uint64_t ts_origin = kTsOffset;  // board cycle at which the firmware's TIMESTAMP was 0
  uint64_t quiet = 0;              // cycles without activity on either UART line
  uint64_t ts_hi = 0;              // unwrapping of the 32-bit record timestamps
  uint32_t prev_ts = 0;
  bool eof = false;
  uint64_t reset_until = 0;        // a fault-injected reset holds rst until this cycle
  const unsigned kPoll = 2048;     // cycles between looks at the host pipe

  while (!g_stop) {
    // ---- host pipe: bytes in, bytes out ----
    if (cyc % kPoll == 0 || (quiet > 4 * kPoll && !top->o_running)) {
      while (!late.empty() && late.front().first + lat_cyc <= cyc) { out.push_back(late.front().second); late.pop_front(); }
      if (!out.empty() && !send_to_host(out)) eof = true;
      // Idle firmware and quiet lines: wait for the host instead of spinning (not while
      // bytes are still on their way to it).
      const bool idle = !top->o_running && to_fpga.idle() && quiet > 4 * kPoll && late.empty();
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
    top->rst = cyc < kResetCycles || cyc < reset_until;
    if (top->rst) { ts_origin = cyc + 1; ts_hi = 0; prev_ts = 0; }   // TIMESTAMP restarts after a reset
    top->i_rx = (uint8_t)to_fpga.line();
    // APD pulses whose rising edge falls in this clock cycle (nothing to do before the
    // model's next event: its cycle is cached).
    if (cyc >= phys_next_cyc) {
      for (size_t np = sizeof pulses / sizeof pulses[0]; np == sizeof pulses / sizeof pulses[0];) {
        np = phys_advance(pm, (double)(cyc + 1) / clk_hz, pulses, np);
        for (size_t i = 0; i < np; i++) {
          top->i_apd = (uint8_t)(1u << pulses[i].apd);
          top->eval();
          top->i_apd = 0;
          top->eval();
        }
      }
      phys_next_cyc = next_cycle(pm);
    }
    top->clk = 1;
    top->eval();
    top->clk = 0;
    top->eval();
    cyc++;
    if (cyc > 32) to_fpga.step();   // the line stays idle while the firmware is in reset
    if (top->o_dbg_link_div >= 4) g_div = top->o_dbg_link_div;

    uint8_t b;
    const bool got_byte = from_fpga.step(top->o_tx, &b);
    if (got_byte) {
      // a noisy link (scenario [link] tx_error_rate): the host receives a wrong byte
      if (ph.tx_error_rate > 0 && gsl_rng_uniform(rng) < ph.tx_error_rate)
        b ^= (uint8_t)(1 + gsl_rng_uniform_int(rng, 255));
      if (lat_cyc) late.emplace_back(cyc, b);
      else out.push_back(b);
    }
    if (!top->o_tx || !to_fpga.idle() || from_fpga.bit >= 0) quiet = 0;
    else quiet++;
    // what the firmware drives from this cycle on: beam (DAC x, y, laser amplitude C), laser, pins
    const bool dac_changed = dac.step(top->o_dac_sclk, top->o_dac_mosi, top->o_dac_sync_n);
    const int gauss = pin_beam_gauss(top, 0), act = pin_act405(top, 0);
    if (dac_changed || (int)top->o_laser_en != pin.laser_on || gauss != pin.gauss || act != pin.act405) {
      pin.beam_x_nm = dac.x_code() * ph.eod_nm_per_lsb;
      pin.beam_y_nm = dac.y_code() * ph.eod_nm_per_lsb;
      pin.amp_code = dac.out[2];
      pin.laser_on = top->o_laser_en;
      pin.gauss = gauss;
      pin.act405 = act;
      phys_set_inputs(pm, (double)cyc / clk_hz, &pin);
      phys_next_cyc = next_cycle(pm);
    }

    if (top->o_dbg_cycle_end && truth) {   // one row per multiplex cycle
      const uint32_t ts = top->o_dbg_rec_ts;
      if (ts < prev_ts) ts_hi += 1ull << 32;
      prev_ts = ts;
      // the emitter averaged over the cycle, from its start to its last gate (S82); on =
      // fluorescent for at least half of that time
      double mx, my, on, non = 0;
      const double c0 = (double)(ts_hi + ts + ts_origin) / clk_hz, c1 = (double)cyc / clk_hz;
      if (phys_mean(pm, c0, c1, &mx, &my, &on)) {
        int st;
        phys_emitter(pm, &mx, &my, &st);   // a cycle longer than the history: present position
        on = st == PHYS_ON;
        non = phys_n_on(pm);
      } else if (ph.n_sites && phys_mean_n_on(pm, c0, c1, &non)) {
        non = phys_n_on(pm);
      }
      phys_next_cyc = next_cycle(pm);
      if (ph.n_sites)
        fprintf(truth, "%.9f,%.3f,%.3f,%d,%d,%.4f\n", (double)(ts_hi + ts) / clk_hz, mx, my, on >= 0.5, phys_n_on(pm), non);
      else
        fprintf(truth, "%.9f,%.3f,%.3f,%d\n", (double)(ts_hi + ts) / clk_hz, mx, my, on >= 0.5);
    }
    if (out.size() > 32768 && !send_to_host(out)) eof = true;   // keep the pipe moving during long runs
    // ---- fault injection ----
    if (!g_faults.run0 && top->o_running) g_faults.run0 = cyc;
    if (g_faults.due(g_faults.garbage_s, cyc) && !g_faults.done_garbage && got_byte) {   // after a firmware byte
      g_faults.done_garbage = true;
      for (unsigned i = 0; i < g_faults.garbage_n; i++) out.push_back((uint8_t)gsl_rng_uniform_int(rng, 256));
    }
    if (g_faults.due(g_faults.rx_garbage_s, cyc) && !g_faults.done_rx_garbage) {
      g_faults.done_rx_garbage = true;
      for (unsigned i = 0; i < g_faults.rx_garbage_n; i++) to_fpga.q.push_back((uint8_t)gsl_rng_uniform_int(rng, 256));
    }
    if (g_faults.due(g_faults.reset_s, cyc) && !g_faults.done_reset) {
      g_faults.done_reset = true;
      reset_until = cyc + kResetCycles;
    }
    if (g_faults.due(g_faults.unplug_s, cyc)) {   // cut the stream in the middle, then close
      out.resize(out.size() / 2);
      send_to_host(out);
      close(1);
      close(0);
      fprintf(stderr, "vboard: fault: link unplugged at %.6f s of the run\n", (double)(cyc - g_faults.run0) / clk_hz);
      break;
    }
  }
  if (truth) fclose(truth);
  if (truth_path) write_physics_json(truth_path, scenario, ph.seed, pm, events, clk_hz);
  if (stats) {
    struct timespec w;
    clock_gettime(CLOCK_MONOTONIC, &w);
    const double wall = (double)(w.tv_sec - wall0.tv_sec) + 1e-9 * (double)(w.tv_nsec - wall0.tv_nsec);
    const phys_stats *st = phys_get_stats(pm);
    fprintf(stderr, "vboard: seed %" PRIu64 "; %.4f s simulated in %.2f s (%.3f of real time); photons: signal %" PRIu64
            ", background %" PRIu64 ", dark %" PRIu64 ", lost to dead time %" PRIu64 "; activations %" PRIu64 ", bleaches %" PRIu64 "\n",
            ph.seed, (double)cyc / clk_hz, wall, (double)cyc / clk_hz / wall, st->signal, st->background, st->dark,
            st->lost_dead, st->activations, st->bleaches);
  }
  phys_free(pm);
  if (g_faults.dropped)
    fprintf(stderr, "vboard: fault: %" PRIu64 " bytes to the host lost (--usb-buffer %ld, the host did not read)\n",
            g_faults.dropped, g_faults.usb_buffer);
  if (from_fpga.framing_errors || dac.bad_frames)
    fprintf(stderr, "vboard: %" PRIu64 " UART framing errors, %" PRIu64 " malformed DAC frames\n",
            from_fpga.framing_errors, dac.bad_frames);
  top->final();
  delete top;
  gsl_rng_free(rng);
  return 0;
}
