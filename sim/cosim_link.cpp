// Co-simulation of hdl/host_link.v (Verilated) against hls-c/host_link.c, plus an
// independent check of the byte stream the RTL sends to the UART.
//
// Every cycle the same inputs go into both: command bytes (valid PING/READ/WRITE frames
// built with mfx_frame_encode, garbage, truncated frames, bad CRC, bad length, unknown
// types, random gaps and silences past the 16384-cycle timeout; never closer than
// --min-gap cycles, 40 by default, as uart_rx delivers them), UART error pulses, the
// core's read data (a register array behind a 3-edge address pipeline), CYCLE records
// with random fields at random intervals (>= 200 cycles), and random UART backpressure
// with long stalls so that the FIFO fills and records are dropped. Directed tests first
// put a LINK_RESET across the framing of a record and a command across the framing of a
// pending answer, cycle by cycle. After every edge the outputs AND every RTL register
// (through Verilator's root, the FIFO memory included) are compared with the model; the
// first difference stops the run.
//
// The stream check does not trust the model's bytes: it decodes what the RTL hands to the
// UART (m_valid && m_ready) with mfx_dec_feed and checks every frame against what the
// harness itself expects: a CYCLE record equal to mfx_cycle_encode of the fields presented
// with its i_rec_valid, numbered by a counter the harness keeps (one number per record,
// framed or dropped, restarted by LINK_RESET and reset), so the seq gaps equal the drops;
// one response per accepted command, in order, with the address and data the harness
// wrote or holds (core registers) or counted (link registers). The model is used only to
// learn which command frames were accepted and which records were dropped, and those
// decisions are themselves checked: an accepted frame must be a well-formed frame in the
// bytes sent, and a valid frame sent to an idle deframer may only be refused as busy.
//
// Usage: cosim_link [--cycles N] [--seed S] [--min-gap CYCLES] [--stream-only]
//   --stream-only: report RTL/model differences but keep running (mutation diagnostics:
//   shows whether the stream check alone catches a fault).
#include <algorithm>
#include <cinttypes>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <deque>
#include <random>
#include <string>
#include <vector>
#include "Vhost_link.h"
#include "Vhost_link___024root.h"
#include "verilated.h"
#include "host_link.h"
extern "C" {
#include "protocol.h"
}

namespace {

const uint32_t kTimeout = MINFLUX_PROTO_RX_TIMEOUT;

// Every register of hdl/host_link.v (RTL name, host_link_t field), compared every cycle.
#define LINK_REGS(X)                                                                          \
  X(seq_reg, seq) X(dropped_reg, dropped) X(rxerr_reg, rxerr) X(clr_reg, clr) X(rs_reg, rs)   \
  X(rtype_reg, rtype) X(rlen_reg, rlen) X(rcnt_reg, rcnt) X(rpl_reg, rpl) X(rcrc_reg, rcrc)   \
  X(rcrch_reg, rcrch) X(rto_reg, rto) X(rlast_reg, rlast) X(fdone_reg, fdone)                 \
  X(fcrc_ok_reg, fcrc_ok)                                                                     \
  X(fping_reg, fping) X(fread_reg, fread) X(fwrite_reg, fwrite) X(ex_ping_reg, ex_ping)       \
  X(ex_read_reg, ex_read) X(ex_write_reg, ex_write) X(resp_pend_reg, resp_pend)               \
  X(resp_type_reg, resp_type) X(resp_len_reg, resp_len) X(resp_pl_reg, resp_pl)               \
  X(rd_wait_reg, rd_wait) X(link_val_reg, link_val) X(link_adr_reg, link_adr)                 \
  X(rec_pend_reg, rec_pend) X(w_busy_reg, w_busy) X(w_rec_reg, w_rec) X(w_idx_reg, w_idx)     \
  X(hn_reg, hn) X(hg_reg, hg) X(sat_any_reg, sat_any)                                         \
  X(w_len_reg, w_len) X(w_left_reg, w_left) X(w_cnt_reg, w_cnt) X(w_crc2_reg, w_crc2)         \
  X(w_data_reg, w_data) X(rec_len_reg, rec_len) X(rec_left_reg, rec_left) X(hdr_byte, hdr_byte) \
  X(w_e_reg, w_e) X(w_b_reg, w_b) X(w_seq_reg, w_seq)                                         \
  X(room_rec_reg, room_rec) X(room_resp_reg, room_resp) X(fill_reg, fill)                     \
  X(a_valid_reg, a_valid) X(a_kind_reg, a_kind) X(a_byte_reg, a_byte) X(wcrc_reg, wcrc)       \
  X(wr_reg, wr) X(wbyte_reg, wbyte) X(wp_reg, wp) X(rp_reg, rp) X(rd_byte_reg, rd_byte)       \
  X(out_valid_reg, out_valid) X(fill_nz_reg, fill_nz) X(pop_q_reg, pop_q)                     \
  X(dec_rec_reg, dec_rec) X(dec_resp_reg, dec_resp) X(refuse_q_reg, refuse_q)                  \
  X(rto_top_reg, rto_top) X(wclr_reg, wclr) X(rv_reg, rv) X(rxd_reg, rxd) X(rx_err_reg, rx_err) \
  X(rx_sync_reg, rx_sync) X(rx_zero_reg, rx_zero) X(rx_lenbad_reg, rx_lenbad)                 \
  X(wbaud_reg, wbaud) X(baud_reg, baud) X(baud_req_reg, baud_req) X(baud_pend_reg, baud_pend)  \
  X(tx_idle_reg, tx_idle) X(quiet_reg, quiet) X(quiet_top_reg, quiet_top)                      \
  X(wwdog_reg, wwdog) X(wdog_reg, wdog) X(wpre_reg, wpre) X(wcnt_reg, wcnt) X(weq_reg, weq)     \
  X(wexp_reg, wexp) X(wfired_reg, wfired) X(wfeed_reg, wfeed) X(wwr_reg, wwr)

// Registers are read through Verilator's root by name. Verilator drops a register nothing
// reads (a mutant can make one dead): such a register is listed once at start and skipped
// instead of breaking the build; the ports are compared regardless.
#define LINK_REG_GETTER(rtl, field)                                                           \
  template <class R>                                                                          \
  auto get_##rtl(const R *r, uint64_t &v, int)->decltype((void)r->host_link__DOT__##rtl, bool()) { \
    v = (uint64_t)r->host_link__DOT__##rtl;                                                   \
    return true;                                                                              \
  }                                                                                           \
  template <class R>                                                                          \
  bool get_##rtl(const R *, uint64_t &, long) { return false; }
LINK_REGS(LINK_REG_GETTER)
template <class R>
auto get_mem(const R *r, unsigned i, uint32_t &v, int)->decltype((void)r->host_link__DOT__mem, bool()) {
  v = r->host_link__DOT__mem[i];
  return true;
}
template <class R>
bool get_mem(const R *, unsigned, uint32_t &, long) { return false; }

uint32_t pick(std::mt19937_64 &r, uint32_t lo, uint32_t hi) {
  return lo + (uint32_t)(r() % ((uint64_t)hi - lo + 1));
}

bool is_link_addr(uint8_t a) {
  return (a >= MINFLUX_REG_CLK_HZ && a <= MINFLUX_REG_LINK_BAUD) || a == MINFLUX_REG_WDOG;
}

// ------------------------------------------------------------------ command bytes

enum ItemKind { I_CMD, I_GARBAGE, I_TRUNC, I_BADCRC, I_BADLEN, I_BADTYPE, I_SILENCE, I_N };
const char *const kItemName[I_N] = {"valid", "garbage", "truncated", "bad-crc", "bad-len", "bad-type", "silence"};

struct TxItem {
  ItemKind kind = I_SILENCE;
  bool valid = false;                // a command frame the firmware must accept when idle
  uint8_t type = 0, addr = 0;
  uint32_t data = 0;
  std::vector<uint8_t> bytes;
  std::vector<uint32_t> gaps;        // idle cycles before each byte
  uint32_t tail = 0;                 // idle cycles after the last byte (silences)
  bool wait_idle = false;            // before the first byte: wait until no answer is pending
  bool clean = true;                 // sync byte met a hunting deframer, no gap >= timeout
};

struct RecExp {
  mfx_cycle c;
  int state = 0;                     // 0 pending, 1 dropped, 2 framed
  uint64_t epoch = 0;
};

struct RespExp {
  uint8_t type, addr;
  uint32_t data;
  bool data_ready;
  uint64_t accept_cycle;
};

struct Counters { uint16_t seq, dropped, rxerr; };

class LinkCosim {
 public:
  LinkCosim(uint64_t seed, bool stream_only, uint32_t min_gap)
      : seed_(seed), stream_only_(stream_only), min_gap_(min_gap), rng_(seed) {
    ctx_.randReset(0);
    top_ = new Vhost_link(&ctx_);
    host_link_init(&m_);
#ifdef COSIM_LINK_QUIET_W
    m_.quiet_w = COSIM_LINK_QUIET_W;   // the RTL is Verilated with the same QUIET_W
#endif
#ifdef COSIM_LINK_WDOG_PRE_W
    m_.wpre_w = COSIM_LINK_WDOG_PRE_W; // and the same WDOG_PRE_W
#endif
    memset(&in_, 0, sizeof in_);
    for (auto &v : regs_) v = (uint32_t)rng_();
    for (auto &h : addr_hist_) h = {0, 0};
    mfx_dec_init(&dec_);
    top_->clk = 0;
    top_->eval();
    new_record_fields();
    std::string missing;
    uint64_t v;
    uint32_t v32;
#define LINK_REG_MISSING(rtl, field) if (!get_##rtl(top_->rootp, v, 0)) missing += " " #rtl;
    LINK_REGS(LINK_REG_MISSING)
#undef LINK_REG_MISSING
    if (!get_mem(top_->rootp, 0, v32, 0)) missing += " mem";
    if (!missing.empty()) printf("cosim_link: not in the Verilated RTL, not compared:%s\n", missing.c_str());
  }
  ~LinkCosim() { top_->final(); delete top_; }

  bool ok() const { return mismatches_ == 0 && stream_errors_ == 0; }

  // ---------------------------------------------------------------- one clock cycle
  // Inputs for the cycle are in in_; the edge is taken by both sides, then compared.
  void step() {
    // the core's read port: data of the address o_addr_reg had three edges ago; the
    // TIMESTAMP address returns the edge number that address was set at, so a READ_R
    // sampled one cycle early or late shows
    const AddrAt &a3 = addr_hist_[3];
    in_.rd_data = a3.addr == MINFLUX_REG_TIMESTAMP ? (uint32_t)a3.cycle : regs_[a3.addr];
    drive_rtl();
    const unsigned cnt_addr = top_->o_cnt_addr & 7u;   // the counts RAM reads it at this edge
    const host_link_t before = m_;
    const bool took_byte = top_->m_valid && in_.m_ready;
    const uint8_t byte = top_->m_data;
    top_->clk = 1;
    top_->eval();
    host_link_step(&m_, &in_);
    cycle_++;
    // the counts RAM's registered output for the next cycle
    in_.cnt_data = (uint32_t)(rec_counts_[cnt_addr][1] & 0xFFFu) << 12 | (rec_counts_[cnt_addr][0] & 0xFFFu);
    compare();
    if (took_byte) feed_stream(byte);
    after_edge(before);
    top_->clk = 0;
    top_->eval();
  }

  // ---------------------------------------------------------------- stimulus
  void cycle_random() {
    in_.rst = 0;
    in_.rx_err = 0;
    in_.rec_valid = 0;
    if (reset_left_) { in_.rst = 1; reset_left_--; }
    drive_bytes(true);
    if (pick(rng_, 0, 3999) == 0) in_.rx_err = 1;              // UART stop bit missing
    if (--run_left_ == 0) {                                      // the core runs or not
      in_.running = pick(rng_, 0, 3) != 0;
      run_left_ = pick(rng_, 0, 3) ? pick(rng_, 50, 3000) : pick(rng_, 3000, 60000);
    }
    if (rec_enable_ && --rec_wait_ == 0) {
      in_.rec_valid = 1;
      new_record_fields();
      rec_wait_ = next_record_gap();
    }
    drive_ready();
    step();
  }

  // Ends the run: no new commands or records, the UART takes every byte, until the
  // link is idle and the FIFO is empty (a frame left half-sent times out meanwhile).
  void drain() {
    rec_enable_ = false;
    for (int n = 0; n < 3 * (int)kTimeout; n++) {
      in_.rst = 0;
      in_.rx_err = 0;
      in_.rec_valid = 0;
      drive_bytes(false);
      in_.m_ready = 1;
      step();
      if (tx_done() && link_idle()) break;
    }
  }

  // Directed tests, before the random part:
  //  - LINK_RESET frames ending at every third offset across the framing of a record (the
  //    clear must neither tear nor renumber the record in flight);
  //  - commands back to back at the minimum byte spacing;
  //  - a command (PING, READ or WRITE) completing at every cycle around the framing of a
  //    pending READ_R: while it waits or is framed the command must be refused (accepted,
  //    it would overwrite the answer), right after it must be accepted.
  void directed() {
    rec_enable_ = false;
    const uint32_t S = min_gap_;
    for (int off = -4; off < 56; off += 3) {
      const std::vector<uint8_t> f = frame_write(MINFLUX_REG_LINK_RESET, 1);
      const int n = (int)f.size();
      const int rec_at = (n - 1) * (int)S + 100, last_at = rec_at + off;
      for (int t = 0; t < rec_at + 400; t++) {
        in_.rst = 0; in_.rx_err = 0; in_.s_valid = 0; in_.rec_valid = 0; in_.m_ready = 1;
        if (t == rec_at) { in_.rec_valid = 1; new_record_fields(); }
        const int d = last_at - t;            // the byte (n - 1 - d / S) is due now
        if (d >= 0 && d % (int)S == 0 && d / (int)S < n) {
          const int i = n - 1 - d / (int)S;
          in_.s_valid = 1;
          in_.s_data = f[i];
          note_byte(f[i]);
          if (i == n - 1) expect_valid_frame(MINFLUX_PROTO_T_WRITE, MINFLUX_REG_LINK_RESET, 1);
        }
        step();
        if (failed()) return;
      }
    }
    for (int rep = 0; rep < 40; rep++) {
      send_cmd(random_cmd(), 1);
      if (failed()) return;
    }
    idle(100, 1);
    for (int j = -2; j <= 16; j++) {
      answer_overlap(j);
      if (failed()) return;
    }
    rec_enable_ = true;
  }

  // The READ_R of a READ waits for FIFO room (UART stalled, fill > the response threshold);
  // then the UART resumes and the last byte of a second command is placed so that its
  // accept decision (the edge after its last byte) falls `j` edges after the builder takes
  // the READ_R. A copy of the model, run ahead with the same inputs, tells when that is.
  void answer_overlap(int j) {
    // stall and fill: records while they fit, then PINGs (5-byte answers) past the
    // response threshold
    const unsigned resp_max = MINFLUX_LINK_FIFO_BYTES - HL_RESP_FRAME_MAX - HL_ROOM_MARGIN;
    for (int n = 0; n < 40 && m_.fill <= MINFLUX_LINK_FIFO_BYTES - HL_REC_FRAME_MAX - HL_ROOM_MARGIN; n++) {
      in_.rec_valid = 1;
      new_record_fields(8);
      in_.rst = 0; in_.rx_err = 0; in_.s_valid = 0; in_.m_ready = 0;
      step();
      idle(pick(rng_, 200, 260), 0);
    }
    for (int n = 0; n < 40 && m_.fill <= resp_max; n++) {
      send_cmd(cmd(MINFLUX_PROTO_T_PING, 0, 0), 0);
      idle(20, 0);
    }
    // the READ (its answer stays pending), then all but the last byte of the second command
    send_cmd(cmd(MINFLUX_PROTO_T_READ, (uint8_t)pick(rng_, 0, 0x11), 0), 0);
    idle(10, 0);
    if (!m_.resp_pend || m_.resp_type != MINFLUX_PROTO_T_READ_R || m_.w_busy) {
      stream_error("answer_overlap: no READ_R pending (fill %u)", m_.fill);
      return;
    }
    const TxItem second = random_cmd();
    send_cmd(second, 0, second.bytes.size() - 1);
    idle(min_gap_, 0);
    // when will the builder take the READ_R once the UART runs again?
    host_link_t ahead = m_;
    host_link_in_t in = in_;
    in.rst = 0; in.rx_err = 0; in.s_valid = 0; in.rec_valid = 0; in.m_ready = 1;
    int taken = 0;
    for (int n = 1; n < 1000 && !taken; n++) {
      host_link_step(&ahead, &in);
      if (ahead.obs.resp_started) taken = n;
    }
    // its last byte at edge taken + j - 1, so that its decision is at taken + j
    const int last = taken + j - 1;
    if (!taken) { stream_error("answer_overlap: the READ_R is never taken"); return; }
    if (last < 1) { idle(700, 1); return; }   // cannot be placed that early: send nothing
    idle((uint32_t)last - 1, 1);
    in_.rst = 0; in_.rx_err = 0; in_.rec_valid = 0; in_.m_ready = 1;
    in_.s_valid = 1;
    in_.s_data = second.bytes.back();
    note_byte(in_.s_data);
    expect_valid_frame(second.type, second.addr, second.data);
    step();
    overlap_trials_++;
    idle(700, 1);                     // the FIFO drains
  }

  TxItem cmd(uint8_t type, uint8_t addr, uint32_t data) {
    TxItem c;
    c.kind = I_CMD;
    c.valid = true;
    c.type = type;
    c.addr = type == MINFLUX_PROTO_T_PING ? 0 : addr;
    c.data = type == MINFLUX_PROTO_T_WRITE ? data : 0;
    c.bytes = type == MINFLUX_PROTO_T_PING ? frame_ping() : type == MINFLUX_PROTO_T_READ ? frame_read(addr)
                                                                                     : frame_write(addr, data);
    return c;
  }

  TxItem random_cmd() {
    const uint32_t kind = pick(rng_, 0, 2);
    const uint8_t a = (uint8_t)(pick(rng_, 0, 1) ? pick(rng_, 0x10, 0x16) : pick(rng_, 0, 255));
    return cmd(kind == 0 ? MINFLUX_PROTO_T_PING : kind == 1 ? MINFLUX_PROTO_T_READ : MINFLUX_PROTO_T_WRITE, a,
               (uint32_t)rng_());
  }

  // Idle cycles of a directed test (no byte, no record).
  void idle(uint32_t n, int m_ready) {
    for (uint32_t i = 0; i < n && !failed(); i++) {
      in_.rst = 0; in_.rx_err = 0; in_.s_valid = 0; in_.rec_valid = 0; in_.m_ready = m_ready;
      step();
    }
  }

  // The first `upto` bytes of a command (all by default), each as soon as the minimum
  // spacing allows; the frame is expected accepted unless an answer or read is pending.
  void send_cmd(const TxItem &c, int m_ready, size_t upto = SIZE_MAX) {
    upto = std::min(upto, c.bytes.size());
    for (size_t i = 0; i < upto && !failed(); i++) {
      while (cycle_ - last_byte_cycle_ < min_gap_ && !failed()) idle(1, m_ready);
      if (failed()) return;
      in_.rst = 0; in_.rx_err = 0; in_.rec_valid = 0; in_.m_ready = m_ready;
      in_.s_valid = 1;
      in_.s_data = c.bytes[i];
      note_byte(c.bytes[i]);
      if (i + 1 == c.bytes.size()) expect_valid_frame(c.type, c.addr, c.data);
      step();
    }
  }

  void schedule_reset(unsigned cycles) { reset_left_ = cycles; }

  // ---------------------------------------------------------------- final checks
  void final_checks() {
    if (!resp_q_.empty())
      stream_error("%zu accepted command(s) never answered (first: type 0x%02x addr 0x%02x)", resp_q_.size(),
                   resp_q_.front().type, resp_q_.front().addr);
    for (const RecExp &r : rec_q_) {
      if (r.state != 1) {
        stream_error("record (ts 0x%08x) %s but never seen on the link", r.c.ts, r.state ? "framed" : "pending");
        break;
      }
      trailing_drops_++;
    }
    if (dec_.n != 0) stream_error("%zu bytes of an unfinished frame left in the stream", dec_.n);
    if (dec_.crc_errors || dec_.skipped_bytes)
      stream_error("decoder: %" PRIu64 " CRC errors, %" PRIu64 " skipped bytes", dec_.crc_errors, dec_.skipped_bytes);
    // every drop is a gap in the numbers the host sees, or after the last record it saw
    if (gaps_ + trailing_drops_ + lost_at_reset_drops_ != drops_)
      stream_error("seq gaps %" PRIu64 " + %" PRIu64 " trailing + %" PRIu64 " before a reset != %" PRIu64 " drops",
                   gaps_, trailing_drops_, lost_at_reset_drops_, drops_);
  }

  void report() const {
    printf("cosim host_link: %" PRIu64 " cycles, %" PRIu64 " events, %" PRIu64 " mismatches (seed %" PRIu64 ")\n",
           cycle_, events_, mismatches_, seed_);
    printf("link stream: %" PRIu64 " frames, %" PRIu64 " records, %" PRIu64 " dropped (counted), %" PRIu64
           " responses, %" PRIu64 " errors (seed %" PRIu64 ")\n",
           dec_total_frames_, records_, drops_, responses_, stream_errors_, seed_);
    printf("link coverage: accepted %" PRIu64 " PING, %" PRIu64 " READ (%" PRIu64 " of link registers), %" PRIu64
           " WRITE (%" PRIu64 " LINK_RESET clears); %" PRIu64 " valid frames refused as busy; %" PRIu64
           " refusals counted, %" PRIu64 " timeouts; seq gaps %" PRIu64 "; max FIFO fill %u; resets %u\n",
           acc_[0], acc_[1], link_reads_, acc_[2], clears_, refused_busy_, refusals_, timeouts_, gaps_, max_fill_,
           resets_);
    printf("link rate: %" PRIu64 " LINK_BAUD changes applied with an empty transmit path, %" PRIu64
           " fallbacks to 3 Mbaud after 2^%u quiet cycles\n", rate_changes_, rate_fallbacks_, (unsigned)m_.quiet_w);
    printf("link watchdog: %" PRIu64 " trips (o_wdog pulses during a run, each at WDOG x 2^%u + 3 cycles after the "
           "last accepted command executed), %" PRIu64 " re-armed by a command after a trip, %" PRIu64 " expiries while not running "
           "(no trip), %" PRIu64 " WDOG writes (%" PRIu64 " of 0 = off), %" PRIu64 " WDOG reads\n", wd_trips_,
           (unsigned)m_.wpre_w, wd_rearmed_, wd_idle_expiries_, wd_writes_, wd_off_writes_, wd_reads_);
    printf("link corner cases: %" PRIu64 " command frames completed while an answer was being framed (%" PRIu64
           " directed), %" PRIu64
           " LINK_RESET clears while a record was being framed; record fields read up to %" PRIu64
           " cycles after i_rec_valid\n", refused_framing_, overlap_trials_, clear_in_record_, max_rec_latency_);
    printf("link items sent:");
    for (int k = 0; k < I_N; k++) printf(" %s %" PRIu64 "%s", kItemName[k], items_[k], k + 1 < I_N ? "," : "\n");
    printf("link records by k (1..8):");
    for (int k = 1; k <= 8; k++) printf(" %" PRIu64, rec_by_k_[k]);
    printf("\n");
  }

  uint64_t cycle() const { return cycle_; }

 private:
  struct AddrAt { uint8_t addr; uint64_t cycle; };

  // ---------------------------------------------------------------- RTL inputs
  void drive_rtl() {
    Vhost_link *t = top_;
    t->rst = in_.rst;
    t->s_valid = in_.s_valid;
    t->s_data = in_.s_data;
    t->i_rx_err = in_.rx_err;
    t->i_rd_data = in_.rd_data;
    t->i_rec_valid = in_.rec_valid;
    t->i_k = in_.k;
    t->i_state = in_.state;
    t->i_rec_ts = in_.rec_ts;
    t->i_rec_cx = in_.rec_cx;
    t->i_rec_cy = in_.rec_cy;
    t->i_est_x = in_.est_x;
    t->i_est_y = in_.est_y;
    t->i_est_ok = in_.est_ok;
    t->i_rec_sat = in_.rec_sat;
    t->i_cnt_data = in_.cnt_data;
    t->m_ready = in_.m_ready;
    t->i_running = in_.running;
  }

  // ---------------------------------------------------------------- comparison
  template <typename T>
  void cmp(const char *name, T rtl, T mdl, T &prev) {
    if (rtl != mdl) {
      if (mismatches_ == 0 || !stream_only_)
        printf("MISMATCH host_link.%s at cycle %" PRIu64 " (seed %" PRIu64 "): rtl 0x%" PRIx64 " model 0x%" PRIx64 "\n",
               name, cycle_, seed_, (uint64_t)rtl, (uint64_t)mdl);
      mismatches_++;
      return;
    }
    if (rtl != prev) events_++;
    prev = rtl;
  }

  void compare() {
    const Vhost_link *t = top_;
    const auto *r = top_->rootp;
    const host_link_t &m = m_;
    const uint64_t mm0 = mismatches_;
    // ports
    cmp<uint32_t>("o_wr_en_reg", t->o_wr_en_reg, m.o_wr_en, p_.wr_en);
    cmp<uint32_t>("o_addr_reg", t->o_addr_reg, m.o_addr, p_.addr);
    cmp<uint32_t>("o_wr_data_reg", t->o_wr_data_reg, m.o_wr_data, p_.wr_data);
    cmp<uint32_t>("m_valid", t->m_valid, host_link_m_valid(&m), p_.m_valid);
    cmp<uint32_t>("m_data", t->m_data, host_link_m_data(&m), p_.m_data);
    cmp<uint32_t>("o_div_reg", t->o_div_reg, m.o_div, p_.div);
    cmp<uint32_t>("o_wdog_reg", t->o_wdog_reg, m.o_wdog, p_.o_wdog);
    // every register
    uint64_t v;
#define LINK_REG_CMP(rtl, field) \
    if (get_##rtl(r, v, 0)) cmp<uint64_t>(#rtl, v, (uint64_t)m.field, p_.field);
    LINK_REGS(LINK_REG_CMP)
#undef LINK_REG_CMP
    // the FIFO memory: the entry just written every cycle, all of it now and then
    const unsigned last = (m.wp + MINFLUX_LINK_FIFO_BYTES - 1u) % MINFLUX_LINK_FIFO_BYTES;
    uint32_t dummy = 0, mv = 0;
    if (get_mem(r, last, mv, 0)) cmp<uint32_t>("mem[wp-1]", mv, m.mem[last], dummy);
    if ((cycle_ & 1023) == 0)
      for (unsigned i = 0; i < MINFLUX_LINK_FIFO_BYTES && get_mem(r, i, mv, 0); i++)
        if (mv != m.mem[i]) {
          char name[24];
          snprintf(name, sizeof name, "mem[%u]", i);
          cmp<uint32_t>(name, mv, m.mem[i], dummy);
          break;
        }
    if (mismatches_ != mm0 && !stream_only_) failed_ = true;
  }

  // ---------------------------------------------------------------- expectations
  void after_edge(const host_link_t &b) {
    const host_link_obs_t &ob = m_.obs;
    if (m_.fill > max_fill_) max_fill_ = m_.fill;
    if (m_.fill > MINFLUX_LINK_FIFO_BYTES) stream_error("FIFO fill %u > %d", m_.fill, MINFLUX_LINK_FIFO_BYTES);
    // the core's register file takes every bus write (it acts one edge later in the
    // core; no read can be accepted that soon)
    if (top_->o_wr_en_reg) regs_[top_->o_addr_reg] = top_->o_wr_data_reg;
    check_rate();
    check_wdog();
    if (!in_.rst && top_->o_wr_en_reg != (ob.accepted == MINFLUX_PROTO_T_WRITE))
      stream_error("o_wr_en_reg %u after a type 0x%02x acceptance", top_->o_wr_en_reg, ob.accepted);
    for (int i = 3; i > 0; i--) addr_hist_[i] = addr_hist_[i - 1];
    addr_hist_[0] = {top_->o_addr_reg, cycle_};
    sent_at_[cycle_ & 7] = sent_n_;

    if (in_.rst) {
      // everything in flight is gone: FIFO, builder, pending answer, counters
      if (!b_rst_) resets_++;
      b_rst_ = true;
      flush_on_reset();
      hist_[cycle_ & 7] = {0, 0, 0};
      return;
    }
    b_rst_ = false;
    if (ob.refused) { hrxerr_++; refusals_++; }
    // a good command frame refused at this edge while the previous answer was being framed
    if (b.fdone && b.fcrc_ok && (b.fping || b.fread || b.fwrite) && b.resp_pend && b.w_busy && !b.w_rec)
      refused_framing_++;
    if (ob.cleared && b.w_busy && b.w_rec) clear_in_record_++;
    // fields of a record are read until its last data byte is selected: how long after
    // i_rec_valid (the port comment promises the core holds them long enough)
    if (b.w_busy && b.w_rec && b.w_left == 1) max_rec_latency_ = std::max(max_rec_latency_, cycle_ - rec_valid_cycle_);
    if (in_.rec_valid) rec_valid_cycle_ = cycle_;
    if (!b.rv && b.rs != HL_R_HUNT && b.rto_top) timeouts_++;
    if (ob.rec_dropped || ob.rec_started) {
      RecExp *r = nullptr;
      for (RecExp &e : rec_q_) if (e.state == 0) { r = &e; break; }
      if (!r) stream_error("record decision without a record presented");
      else {
        r->c.seq = hseq_;
        r->state = ob.rec_dropped ? 1 : 2;
        r->epoch = epoch_;
      }
      hseq_++;
      if (ob.rec_dropped) { hdrop_++; drops_++; }
    }
    if (ob.accepted) on_accept(ob.accepted);
    // a valid frame into a hunting deframer: decided at the edge after its last byte (from
    // whether an answer or a read is pending then), executed at the one after that
    if (expect_.active && cycle_ == expect_.last_edge + 1) expect_.busy = b.resp_pend || b.rd_wait != 0;
    if (expect_.active && cycle_ == expect_.last_edge + 2) check_valid_frame_end();
    if (ob.read_sampled) on_read_sampled();
    if (ob.cleared) {
      clears_++;
      hseq_ = 0;
      hdrop_ = 0;
      hrxerr_ = 0;
      epoch_++;
    }
    hist_[cycle_ & 7] = {hseq_, hdrop_, hrxerr_};
    // the link counters the harness keeps from the events equal the model's registers
    // (and so the RTL's, compared above)
    if (m_.seq != hseq_ || m_.dropped != hdrop_ || m_.rxerr != hrxerr_)
      stream_error("counters: model seq %u dropped %u rx errors %u, counted %u %u %u", m_.seq, m_.dropped, m_.rxerr,
                   hseq_, hdrop_, hrxerr_);
  }

  void flush_on_reset() {
    for (const RecExp &r : rec_q_)
      if (r.state == 1) lost_at_reset_drops_++;
    rec_q_.clear();
    resp_q_.clear();
    mfx_dec_init(&dec_);
    expect_ = Expect();
    tx_.clean = false;
    hseq_ = hdrop_ = hrxerr_ = 0;
    epoch_++;
    if (rec_enable_) rec_wait_ = next_record_gap();   // fields stay; a new pulse later
  }

  // The command executed at this edge must be the len + 5 bytes sent up to two edges ago,
  // with a good CRC; when it is the frame the harness meant as a command, its contents
  // must match.
  void on_accept(uint8_t type) {
    const unsigned len = type == MINFLUX_PROTO_T_PING ? 0 : type == MINFLUX_PROTO_T_READ ? 1 : 5;
    const uint64_t end = sent_at_[(cycle_ - 2) & 7];
    uint8_t f[10];
    for (unsigned i = 0; i < len + 5; i++) f[i] = sent_[(end - (len + 5) + i) % kSentRing];
    if (f[0] != MINFLUX_PROTO_SYNC || f[1] != type || f[2] != len ||
        mfx_crc16(MINFLUX_PROTO_CRC_INIT, f + 1, len + 2) != mfx_be16(f + 3 + len))
      stream_error("accepted a type 0x%02x frame that is not in the bytes sent", type);
    acc_[type - 1]++;
    uint8_t addr = 0;
    uint32_t data = 0;
    if (type == MINFLUX_PROTO_T_READ) addr = f[3];
    if (type == MINFLUX_PROTO_T_WRITE) { addr = f[3]; data = mfx_be32(f + 4); }
    if (expect_.active) {
      if (expect_.type != type || expect_.addr != addr || expect_.data != data)
        stream_error("accepted type 0x%02x addr 0x%02x data 0x%08x, sent 0x%02x 0x%02x 0x%08x", type, addr, data,
                     expect_.type, expect_.addr, expect_.data);
      expect_.accepted = true;
    }
    if (type == MINFLUX_PROTO_T_WRITE && (top_->o_addr_reg != addr || top_->o_wr_data_reg != data))
      stream_error("WRITE 0x%02x = 0x%08x not on the bus", addr, data);
    if (type == MINFLUX_PROTO_T_READ && top_->o_addr_reg != addr) stream_error("READ 0x%02x: address not on the bus", addr);
    RespExp e{0, addr, 0, true, cycle_};
    if (type == MINFLUX_PROTO_T_PING) e.type = MINFLUX_PROTO_T_PONG;
    if (type == MINFLUX_PROTO_T_WRITE) e.type = MINFLUX_PROTO_T_WRITE_R;
    if (type == MINFLUX_PROTO_T_READ) {
      e.type = MINFLUX_PROTO_T_READ_R;
      e.data_ready = false;
      if (is_link_addr(addr)) link_reads_++;
    }
    resp_q_.push_back(e);
  }

  // READ_R payload captured at this edge (four edges after the accept): core registers
  // are what the register array holds (TIMESTAMP: the accept edge), link registers what
  // the harness counted two edges ago (the registered read mux samples them one edge
  // before the capture, from the values of the edge before).
  void on_read_sampled() {
    RespExp *e = nullptr;
    for (RespExp &r : resp_q_) if (r.type == MINFLUX_PROTO_T_READ_R && !r.data_ready) { e = &r; break; }
    if (!e) { stream_error("READ data captured without an accepted READ"); return; }
    if (cycle_ != e->accept_cycle + 4) stream_error("READ 0x%02x answered %" PRIu64 " edges after it was accepted, want 4",
                                                    e->addr, cycle_ - e->accept_cycle);
    const Counters &c = hist_[(cycle_ - 2) & 7];
    switch (e->addr) {
    case MINFLUX_REG_CLK_HZ:      e->data = MINFLUX_CLK_HZ; break;
    case MINFLUX_REG_REC_SEQ:     e->data = c.seq; break;
    case MINFLUX_REG_REC_DROPPED: e->data = c.dropped; break;
    case MINFLUX_REG_RX_ERRORS:   e->data = c.rxerr; break;
    case MINFLUX_REG_LINK_RESET:  e->data = 0; break;
    case MINFLUX_REG_LINK_BAUD:   e->data = hbaud_hist_[(cycle_ - 2) & 7]; break;
    case MINFLUX_REG_WDOG:        e->data = hwdog_hist_[(cycle_ - 2) & 7]; wd_reads_++; break;
    case MINFLUX_REG_TIMESTAMP:   e->data = (uint32_t)e->accept_cycle; break;
    default:                      e->data = regs_[e->addr]; break;
    }
    e->data_ready = true;
  }

  // ---------------------------------------------------------------- the UART stream
  static void frame_cb(void *ctx, const mfx_frame *f) { static_cast<LinkCosim *>(ctx)->on_frame(f); }

  void feed_stream(uint8_t b) {
    const uint64_t crc0 = dec_.crc_errors, skip0 = dec_.skipped_bytes;
    mfx_dec_feed(&dec_, &b, 1, frame_cb, this);
    if (dec_.crc_errors != crc0) stream_error("frame with a bad CRC on the link");
    else if (dec_.skipped_bytes != skip0) stream_error("byte 0x%02x outside any frame on the link", b);
  }

  void on_frame(const mfx_frame *f) {
    dec_total_frames_++;
    if (f->type == MINFLUX_PROTO_T_CYCLE) { on_record(f); return; }
    if (f->type != MINFLUX_PROTO_T_PONG && f->type != MINFLUX_PROTO_T_READ_R && f->type != MINFLUX_PROTO_T_WRITE_R) {
      stream_error("frame type 0x%02x len %u on the link", f->type, f->len);
      return;
    }
    responses_++;
    if (resp_q_.empty()) { stream_error("response type 0x%02x without an accepted command", f->type); return; }
    const RespExp e = resp_q_.front();
    resp_q_.pop_front();
    if (f->type != e.type) { stream_error("response type 0x%02x, want 0x%02x", f->type, e.type); return; }
    if (f->type == MINFLUX_PROTO_T_WRITE_R && f->payload[0] != e.addr)
      stream_error("WRITE_R addr 0x%02x, want 0x%02x", f->payload[0], e.addr);
    if (f->type == MINFLUX_PROTO_T_READ_R) {
      const uint32_t d = mfx_be32(f->payload + 1);
      if (!e.data_ready) stream_error("READ_R before its data was captured");
      else if (f->payload[0] != e.addr || d != e.data)
        stream_error("READ_R addr 0x%02x data 0x%08x, want 0x%02x 0x%08x", f->payload[0], d, e.addr, e.data);
    }
  }

  void on_record(const mfx_frame *f) {
    records_++;
    while (!rec_q_.empty() && rec_q_.front().state == 1) {
      dropped_q_.push_back(rec_q_.front());
      rec_q_.pop_front();
    }
    if (rec_q_.empty() || rec_q_.front().state != 2) {
      stream_error("CYCLE record on the link that the harness did not see framed");
      return;
    }
    const RecExp r = rec_q_.front();
    rec_q_.pop_front();
    uint8_t want[MFX_FRAME_MAX];
    const size_t n = mfx_cycle_encode(&r.c, want);
    if (f->len != n || memcmp(f->payload, want, n) != 0) {
      size_t i = 0;
      while (i < n && i < f->len && f->payload[i] == want[i]) i++;
      stream_error("CYCLE record (seq %u, k %u) differs at payload byte %zu: 0x%02x, want 0x%02x (len %u, want %zu)",
                   r.c.seq, r.c.k, i, i < f->len ? f->payload[i] : 0, i < n ? want[i] : 0, f->len, n);
    }
    rec_by_k_[r.c.k]++;
    // the gap in the numbers before this record is the drops of its numbering epoch
    const uint16_t seq = mfx_be16(f->payload);
    uint64_t drops_same_epoch = 0, drops_other = 0;
    for (const RecExp &d : dropped_q_) (d.epoch == r.epoch ? drops_same_epoch : drops_other)++;
    const uint16_t base = (have_last_ && last_dec_epoch_ == r.epoch) ? (uint16_t)(last_seq_ + 1) : 0;
    const uint16_t gap = (uint16_t)(seq - base);
    if (gap != drops_same_epoch)
      stream_error("seq %u after %u: gap of %u numbers, %" PRIu64 " records dropped", seq, last_seq_, gap,
                   drops_same_epoch);
    gaps_ += gap;
    trailing_drops_ += drops_other;   // dropped after the last record of an earlier numbering
    dropped_q_.clear();
    last_seq_ = seq;
    last_dec_epoch_ = r.epoch;
    have_last_ = true;
  }

  // ---------------------------------------------------------------- records
  void new_record_fields(int k_reg = -1) {
    auto &r = rng_;
    in_.k = (uint8_t)(k_reg >= 0 ? k_reg : pick(r, 0, 1) ? pick(r, 1, 8) : pick(r, 0, 15));
    in_.state = (uint8_t)pick(r, 0, 15);
    in_.rec_ts = (uint32_t)r();
    in_.rec_cx = (uint16_t)r();
    in_.rec_cy = (uint16_t)r();
    in_.est_x = (uint16_t)r();
    in_.est_y = (uint16_t)r();
    in_.est_ok = (int)pick(r, 0, 1);
    in_.rec_sat = (int)pick(r, 0, 1);
    for (auto &e : rec_counts_)
      for (auto &c : e) c = (uint16_t)(pick(r, 0, 7) == 0 ? pick(r, 0, 1) * 0xFFFu : pick(r, 0, 0xFFF));
    if (in_.rec_valid) {
      // what the record must carry (seq filled in when the builder decides)
      RecExp e;
      memset(&e.c, 0, sizeof e.c);
      const unsigned k = in_.k == 0 ? 1u : in_.k > 8 ? 8u : in_.k;
      e.c.k = (uint8_t)k;
      e.c.ts = in_.rec_ts;
      e.c.cx = (int16_t)in_.rec_cx;
      e.c.cy = (int16_t)in_.rec_cy;
      e.c.ex = (int16_t)in_.est_x;
      e.c.ey = (int16_t)in_.est_y;
      e.c.flags = (uint8_t)(in_.state << MFX_FLAG_STATE_SHIFT | (in_.rec_sat ? MFX_FLAG_SATURATED : 0) |
                            (in_.est_ok ? MFX_FLAG_EST_VALID : 0));
      for (unsigned x = 0; x < k; x++)
        for (int ch = 0; ch < 2; ch++) e.c.counts[x][ch] = rec_counts_[x][ch];
      rec_q_.push_back(e);
    }
  }

  uint32_t next_record_gap() {
    switch (rec_mode_) {
    case 0:  return pick(rng_, 200, 260);      // fast tracking: the FIFO cannot keep up at UART pace
    case 1:  return pick(rng_, 200, 3000);
    default: return pick(rng_, 2000, 20000);
    }
  }

  // ---------------------------------------------------------------- UART backpressure
  void drive_ready() {
    if (--ready_left_ == 0) {
      const uint32_t x = pick(rng_, 0, 99);
      m_ready_mode_ = x < 30 ? 0 : x < 50 ? 1 : x < 75 ? 2 : x < 85 ? 3 : 4;
      ready_left_ = m_ready_mode_ == 3 ? pick(rng_, 500, 40000) : pick(rng_, 2000, 80000);
      rec_mode_ = (int)pick(rng_, 0, 2);
    }
    switch (m_ready_mode_) {
    case 0: in_.m_ready = 1; break;
    case 1: in_.m_ready = (int)pick(rng_, 0, 1); break;
    case 2: in_.m_ready = (cycle_ % 160) == 0; break;     // uart_tx at 3 Mbaud, 48 MHz
    case 3: in_.m_ready = 0; break;                        // long stall
    default: in_.m_ready = pick(rng_, 0, 19) != 0; break;
    }
  }

  // ---------------------------------------------------------------- command frames
  std::vector<uint8_t> encode(uint8_t type, const uint8_t *p, uint8_t len) {
    std::vector<uint8_t> f(MFX_FRAME_MAX);
    f.resize(mfx_frame_encode(f.data(), type, p, len));
    return f;
  }
  std::vector<uint8_t> frame_ping() { return encode(MINFLUX_PROTO_T_PING, nullptr, 0); }
  std::vector<uint8_t> frame_read(uint8_t a) { return encode(MINFLUX_PROTO_T_READ, &a, 1); }
  std::vector<uint8_t> frame_write(uint8_t a, uint32_t d) {
    uint8_t p[5] = {a};
    mfx_put32(p + 1, d);
    return encode(MINFLUX_PROTO_T_WRITE, p, 5);
  }

  uint8_t random_addr(bool write) {
    const uint32_t x = pick(rng_, 0, 99);
    if (write) return x < 15 ? (uint8_t)MINFLUX_REG_LINK_RESET : x < 20 ? (uint8_t)MINFLUX_REG_LINK_BAUD :
                      x < 25 ? (uint8_t)pick(rng_, 0x12, 0x15) : x < 33 ? (uint8_t)MINFLUX_REG_WDOG : (uint8_t)rng_();
    return x < 35 ? (uint8_t)pick(rng_, 0x12, 0x17) : x < 40 ? (uint8_t)MINFLUX_REG_WDOG :
           x < 45 ? (uint8_t)MINFLUX_REG_TIMESTAMP : (uint8_t)rng_();
  }

  TxItem make_item() {
    auto &r = rng_;
    TxItem it;
    const uint32_t x = pick(r, 0, 99);
    it.kind = x < 55 ? I_CMD : x < 65 ? I_GARBAGE : x < 72 ? I_TRUNC : x < 80 ? I_BADCRC : x < 87 ? I_BADLEN
            : x < 94 ? I_BADTYPE : I_SILENCE;
    std::vector<uint8_t> f;
    auto valid_frame = [&](TxItem &t) {
      const uint32_t y = pick(r, 0, 99);
      if (y < 20) { t.type = MINFLUX_PROTO_T_PING; return frame_ping(); }
      if (y < 65) { t.type = MINFLUX_PROTO_T_READ; t.addr = random_addr(false); return frame_read(t.addr); }
      t.type = MINFLUX_PROTO_T_WRITE;
      t.addr = random_addr(true);
      t.data = (uint32_t)r();
      if (t.addr == MINFLUX_REG_LINK_RESET && pick(r, 0, 9) < 7) t.data |= 1u;
      if (t.addr == MINFLUX_REG_WDOG) {   // timeouts from shorter than a command to off; bits 31:16 ignored
        const uint32_t w = pick(r, 0, 99);
        const uint32_t v = w < 15 ? 0u : w < 35 ? pick(r, 1, 4) : w < 75 ? pick(r, 5, 200) : w < 95 ? pick(r, 200, 2000)
                                                                                                : pick(r, 0, 0xFFFF);
        t.data = (t.data & 0xFFFF0000u) | v;
      }
      return frame_write(t.addr, t.data);
    };
    switch (it.kind) {
    case I_CMD:
      f = valid_frame(it);
      it.valid = true;
      break;
    case I_GARBAGE:
      for (uint32_t i = pick(r, 1, 24); i > 0; i--) f.push_back(pick(r, 0, 3) == 0 ? (uint8_t)MINFLUX_PROTO_SYNC : (uint8_t)r());
      break;
    case I_TRUNC: {
      TxItem t;
      f = valid_frame(t);
      f.resize(pick(r, 1, (uint32_t)f.size() - 1));
      if (pick(r, 0, 4) == 0) it.tail = pick(r, kTimeout - 3, kTimeout + 3000);   // let it time out
      break;
    }
    case I_BADCRC: {
      TxItem t;
      f = valid_frame(t);
      const uint32_t i = pick(r, 1, (uint32_t)f.size() - 1);
      f[i] ^= (uint8_t)(1u << pick(r, 0, 7));
      break;
    }
    case I_BADLEN: {
      // a known type with the length of another, or longer than any command
      static const uint8_t types[3] = {MINFLUX_PROTO_T_PING, MINFLUX_PROTO_T_READ, MINFLUX_PROTO_T_WRITE};
      const uint8_t type = types[pick(r, 0, 2)];
      uint8_t p[255];
      for (auto &v : p) v = (uint8_t)r();
      uint8_t len;
      if (pick(r, 0, 2) == 0) {
        len = (uint8_t)pick(r, MINFLUX_PROTO_MAX_CMD + 1, pick(r, 0, 1) ? 12 : 255);
        f = encode(type, p, len);
        f.resize(std::min<size_t>(f.size(), 3 + pick(r, 0, 8)));   // the rest is noise anyway
      } else {
        do len = (uint8_t)pick(r, 0, MINFLUX_PROTO_MAX_CMD);
        while (mfx_frame_plausible(type, len));
        f = encode(type, p, len);
      }
      break;
    }
    case I_BADTYPE: {
      uint8_t p[5];
      for (auto &v : p) v = (uint8_t)r();
      uint8_t type;
      do type = (uint8_t)r();
      while (type >= MINFLUX_PROTO_T_PING && type <= MINFLUX_PROTO_T_WRITE);
      f = encode(type, p, (uint8_t)pick(r, 0, MINFLUX_PROTO_MAX_CMD));
      break;
    }
    default:
      it.tail = pick(r, 0, 7) == 0 ? pick(r, kTimeout, kTimeout + 8000) : pick(r, 100, 3000);
      break;
    }
    it.bytes = f;
    // gaps: back to back (an answer may still be framed), UART pace, or anything
    const uint32_t mode = pick(r, 0, 9);
    for (size_t i = 0; i < f.size(); i++) {
      uint32_t g;
      switch (mode) {
      case 0: case 1: g = 0; break;
      case 2: case 3: g = pick(r, 0, 5); break;
      case 4: case 5: g = pick(r, 159, 170); break;
      default: g = pick(r, 0, 400); break;
      }
      if (i > 0 && pick(r, 0, 399) == 0) g = pick(r, kTimeout - 2, kTimeout + 2);   // around the timeout
      it.gaps.push_back(g);
    }
    if (!f.empty()) {
      const uint32_t pre = pick(r, 0, 9);
      if (pre < 4) it.wait_idle = true, it.gaps[0] = pick(r, 0, 50);
      else if (pre < 7) it.gaps[0] = pick(r, 0, 3);
      else it.gaps[0] = pick(r, 0, 800);
    }
    for (size_t i = 1; i < it.gaps.size(); i++)
      if (it.gaps[i] >= kTimeout) it.clean = false;
    return it;
  }

  bool tx_done() const { return !tx_active_; }

  bool link_idle() const {
    const host_link_t &m = m_;
    return !m.resp_pend && !m.rd_wait && !m.rec_pend && !m.w_busy && !m.a_valid && !m.wr && m.fill == 0 &&
           !m.out_valid && m.rs == HL_R_HUNT && resp_q_.empty();
  }

  // One cycle of the command byte stream. new_items: start a new item when one ends.
  void drive_bytes(bool new_items) {
    in_.s_valid = 0;
    if (!tx_active_) {
      if (!new_items) return;
      tx_ = make_item();
      items_[tx_.kind]++;
      tx_idx_ = 0;
      tx_wait_ = tx_.bytes.empty() ? tx_.tail : tx_.gaps[0];
      tx_active_ = true;
    }
    if (tx_.wait_idle && tx_idx_ == 0) {
      const host_link_t &m = m_;
      if (m.resp_pend || m.rd_wait || m.fdone || m.ex_ping || m.ex_read || m.ex_write) return;
      tx_.wait_idle = false;
    }
    if (tx_wait_ > 0) {
      tx_wait_--;
    } else if (tx_idx_ < tx_.bytes.size()) {
      if (cycle_ - last_byte_cycle_ < min_gap_) return;   // uart_rx cannot deliver faster
      in_.s_valid = 1;
      in_.s_data = tx_.bytes[tx_idx_];
      if (tx_idx_ == 0 && m_.rs != HL_R_HUNT) tx_.clean = false;   // eaten by an unfinished frame
      note_byte(in_.s_data);
      tx_idx_++;
      const bool last = tx_idx_ == tx_.bytes.size();
      if (!last) tx_wait_ = tx_.gaps[tx_idx_];
      else tx_wait_ = tx_.tail;
      if (last && tx_.valid && tx_.clean) expect_valid_frame(tx_.type, tx_.addr, tx_.data);
      if (last && tx_wait_ == 0) tx_active_ = false;
    } else {
      tx_active_ = false;   // tail of silence over
    }
  }

  void note_byte(uint8_t b) {
    if (sent_n_ && cycle_ - last_byte_cycle_ < min_gap_)
      stream_error("harness: command bytes %" PRIu64 " cycles apart, the minimum is %u", cycle_ - last_byte_cycle_,
                   min_gap_);
    last_byte_cycle_ = cycle_;
    sent_[sent_n_ % kSentRing] = b;
    sent_n_++;
  }

  // A valid command frame whose last byte is driven this cycle, into a hunting deframer.
  void expect_valid_frame(uint8_t type, uint8_t addr, uint32_t data) {
    if (expect_.active) stream_error("two command frames end within two cycles");
    expect_.active = true;
    expect_.accepted = false;
    expect_.type = type;
    expect_.addr = addr;
    expect_.data = data;
    expect_.busy = false;
    expect_.last_edge = cycle_ + 2;   // the byte is registered at the input first
  }

  // At the execute edge of such a frame: accepted, or refused only because busy.
  void check_valid_frame_end() {
    if (!expect_.accepted) {
      if (expect_.busy) refused_busy_++;
      else stream_error("valid frame (type 0x%02x addr 0x%02x) refused by an idle deframer", expect_.type, expect_.addr);
    }
    expect_ = Expect();
  }

  void stream_error(const char *fmt, ...) __attribute__((format(printf, 2, 3))) {
    if (stream_errors_ < 10) {
      printf("STREAM ERROR at cycle %" PRIu64 " (seed %" PRIu64 "): ", cycle_, seed_);
      va_list ap;
      va_start(ap, fmt);
      vprintf(fmt, ap);
      va_end(ap);
      printf("\n");
    }
    stream_errors_++;
  }

 public:
  bool failed() const { return failed_ || (stream_errors_ && !stream_only_); }

 private:
  static const unsigned kSentRing = 64;
  struct Expect {
    bool active = false, accepted = false;
    uint8_t type = 0, addr = 0;
    uint32_t data = 0;
    bool busy = false;
    uint64_t last_edge = 0;
  };
  struct Prev {   // last value of each compared signal (events = changes)
    uint32_t wr_en = 0, addr = 0, wr_data = 0, m_valid = 0, m_data = 0, div = 0, o_wdog = 0;
#define LINK_REG_PREV(rtl, field) uint64_t field = 0;
    LINK_REGS(LINK_REG_PREV)
#undef LINK_REG_PREV
  };

  uint64_t seed_;
  bool stream_only_;
  uint32_t min_gap_;                 // cycles from one command byte to the next, at least
  std::mt19937_64 rng_;
  VerilatedContext ctx_;
  Vhost_link *top_;
  host_link_t m_;
  host_link_in_t in_;
  uint64_t cycle_ = 0, events_ = 0, mismatches_ = 0, stream_errors_ = 0;
  bool failed_ = false;
  Prev p_;
  // core side
  uint32_t regs_[256];
  AddrAt addr_hist_[4];
  // records
  bool rec_enable_ = true;
  int rec_mode_ = 1;
  uint32_t rec_wait_ = 300;
  std::deque<RecExp> rec_q_;
  std::vector<RecExp> dropped_q_;
  uint16_t hseq_ = 0, hdrop_ = 0, hrxerr_ = 0, last_seq_ = 0;
  uint64_t epoch_ = 0, last_dec_epoch_ = ~0ull;
  bool have_last_ = false;
  Counters hist_[8] = {};
  // the record's counts as the photon counter's bank holds them (the link reads them
  // through its counts port, modelled in step())
  uint16_t rec_counts_[MINFLUX_K_MAX][MINFLUX_N_CH] = {};
  // The link rate, followed independently: a LINK_BAUD write (seen on the bus) asks for a
  // code; the divider may change only to that code's divider once nothing waits for the
  // UART, or back to 3 Mbaud after 2^QUIET_W edges without an accepted command.
  uint8_t hbaud_ = 0, hbaud_req_ = 0, hbaud_hist_[8] = {};
  bool hbaud_pend_ = false;
  uint64_t last_cmd_edge_ = 0, rate_changes_ = 0, rate_fallbacks_ = 0;
  uint32_t prev_div_ = MINFLUX_LINK_DIV_3M;
  void check_rate() {
    if (in_.rst) {
      hbaud_ = 0; hbaud_pend_ = false; prev_div_ = MINFLUX_LINK_DIV_3M; last_cmd_edge_ = cycle_;
      for (auto &h : hbaud_hist_) h = 0;
      return;
    }
    if (m_.obs.accepted) last_cmd_edge_ = cycle_;
    const uint32_t div = top_->o_div_reg;
    if (div != prev_div_) {
      // o_div_reg follows the code one edge later
      if (hbaud_pend_ && div == host_link_div(hbaud_req_)) {
        if (top_->m_valid) stream_error("link rate changed while a byte waits for the UART");
        hbaud_ = hbaud_req_; hbaud_pend_ = false; rate_changes_++;
      } else if (div == MINFLUX_LINK_DIV_3M && cycle_ - last_cmd_edge_ >= (1ull << m_.quiet_w)) {
        hbaud_ = 0; rate_fallbacks_++;
      } else {
        stream_error("link divider %u -> %u without a request (pending %d, code %u)", prev_div_, div, hbaud_pend_, hbaud_req_);
      }
      prev_div_ = div;
    } else if (hbaud_pend_ && hbaud_req_ == hbaud_ && !m_.baud_pend) {
      hbaud_ = hbaud_req_; hbaud_pend_ = false;   // the same divider: applied without a visible change
    }
    if (top_->o_wr_en_reg && top_->o_addr_reg == MINFLUX_REG_LINK_BAUD) {
      hbaud_req_ = (top_->o_wr_data_reg & 3u) == 3u ? 0 : top_->o_wr_data_reg & 3u; hbaud_pend_ = true;
    }
    hbaud_hist_[cycle_ & 7] = hbaud_;
  }
  // The host watchdog, followed independently: WDOG as written (seen on the bus at the
  // accept edge, applied one edge later with the restart), the restart edge (one after the
  // last accepted command, or a reset); o_wdog_reg must pulse exactly once per silence, at
  // the first edge >= WDOG x 2^P + 2 after the restart at which the core was running in the
  // cycle before, never with WDOG = 0.
  bool wd_feed_pend_ = false, wd_wr_pend_ = false;
  uint16_t wd_wr_val_ = 0;
  uint16_t hwdog_ = 0, hwdog_hist_[8] = {};
  uint64_t wd_feed_edge_ = 0, wd_trips_ = 0, wd_rearmed_ = 0, wd_idle_expiries_ = 0, wd_writes_ = 0,
           wd_off_writes_ = 0, wd_reads_ = 0;
  bool wd_fired_ = false, wd_idle_counted_ = false;
  uint32_t run_left_ = 1;
  void check_wdog() {
    const bool pulse = top_->o_wdog_reg;
    bool want = false;
    const bool feed = wd_feed_pend_, wr = wd_wr_pend_;
    wd_feed_pend_ = wd_wr_pend_ = false;
    if (!in_.rst && m_.obs.accepted) {   // restarts at the next edge
      wd_feed_pend_ = true;
      if (m_.obs.accepted == MINFLUX_PROTO_T_WRITE && top_->o_addr_reg == MINFLUX_REG_WDOG) {
        wd_wr_pend_ = true;
        wd_wr_val_ = (uint16_t)top_->o_wr_data_reg;
      }
    }
    if (in_.rst) {
      hwdog_ = 0; wd_feed_edge_ = cycle_; wd_fired_ = false; wd_idle_counted_ = false;
    } else if (feed) {
      if (wr) {
        hwdog_ = wd_wr_val_;
        wd_writes_++;
        if (!hwdog_) wd_off_writes_++;
      }
      if (wd_fired_) wd_rearmed_++;
      wd_feed_edge_ = cycle_; wd_fired_ = false; wd_idle_counted_ = false;
    } else {
      const bool expired = hwdog_ && cycle_ - wd_feed_edge_ >= ((uint64_t)hwdog_ << m_.wpre_w) + 2;
      want = expired && in_.running && !wd_fired_;
      if (expired && !in_.running && !wd_fired_ && !wd_idle_counted_) { wd_idle_expiries_++; wd_idle_counted_ = true; }
      if (want) { wd_fired_ = true; wd_trips_++; }
    }
    if (pulse != want)
      stream_error("watchdog: o_wdog_reg %d, expected %d (WDOG %u, %" PRIu64 " edges since the last command, running %d)",
                   pulse, want, hwdog_, cycle_ - wd_feed_edge_, in_.running);
    hwdog_hist_[cycle_ & 7] = hwdog_;
  }
  // responses
  std::deque<RespExp> resp_q_;
  Expect expect_;
  // command bytes
  TxItem tx_;
  bool tx_active_ = false, b_rst_ = false;
  size_t tx_idx_ = 0;
  uint32_t tx_wait_ = 0;
  uint8_t sent_[kSentRing] = {};
  uint64_t sent_n_ = 0, sent_at_[8] = {};   // bytes sent so far; that count after edge n at [n & 7]
  uint64_t last_byte_cycle_ = 0;
  // UART side
  int m_ready_mode_ = 0;
  uint32_t ready_left_ = 5000;
  unsigned reset_left_ = 0;
  mfx_decoder dec_;
  // statistics
  uint64_t dec_total_frames_ = 0, records_ = 0, drops_ = 0, responses_ = 0, gaps_ = 0, trailing_drops_ = 0,
           lost_at_reset_drops_ = 0, acc_[3] = {0, 0, 0}, link_reads_ = 0, clears_ = 0, refused_busy_ = 0,
           refusals_ = 0, timeouts_ = 0, refused_framing_ = 0, overlap_trials_ = 0, clear_in_record_ = 0, max_rec_latency_ = 0,
           rec_valid_cycle_ = 0, items_[I_N] = {0}, rec_by_k_[9] = {0};
  unsigned max_fill_ = 0, resets_ = 0;
};

}  // namespace

int main(int argc, char **argv) {
  uint64_t seed = (uint64_t)time(nullptr);
  uint64_t cycles = 2000000;
  bool stream_only = false;
  // uart_rx delivers a byte per 10 bit times, >= 4 clocks per bit: command bytes are >= 40
  // cycles apart, and the deframer relies on it (registered last-byte flag, execution two
  // cycles after the frame)
  uint32_t min_gap = 40;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--seed") && i + 1 < argc) seed = strtoull(argv[++i], nullptr, 0);
    else if (!strcmp(argv[i], "--cycles") && i + 1 < argc) cycles = strtoull(argv[++i], nullptr, 0);
    else if (!strcmp(argv[i], "--stream-only")) stream_only = true;
    else if (!strcmp(argv[i], "--min-gap") && i + 1 < argc) min_gap = (uint32_t)strtoul(argv[++i], nullptr, 0);
    else {
      fprintf(stderr, "usage: cosim_link [--cycles N] [--seed S] [--min-gap CYCLES] [--stream-only]\n");
      return 2;
    }
  }
  printf("cosim_link: seed %" PRIu64 ", %" PRIu64 " cycles\n", seed, cycles);
  if (min_gap < 1) min_gap = 1;
  LinkCosim s(seed, stream_only, min_gap);
  s.schedule_reset(3);
  for (int i = 0; i < 3; i++) s.cycle_random();
  s.directed();
  std::mt19937_64 r(seed ^ 0x5EEDu);
  // a few resets in the random part, at random cycles
  std::vector<uint64_t> resets;
  for (int i = 0; i < 3; i++) resets.push_back(cycles / 10 + r() % (cycles - cycles / 10 + 1));
  while (!s.failed() && s.cycle() < cycles) {
    for (uint64_t at : resets)
      if (s.cycle() == at) s.schedule_reset(1 + (unsigned)(r() % 3));
    s.cycle_random();
  }
  if (!s.failed()) s.drain();
  if (!s.failed()) s.final_checks();
  s.report();
  const bool ok = s.ok();
  if (!ok) printf("cosim_link: FAILED (seed %" PRIu64 "; rerun with --seed %" PRIu64 ")\n", seed, seed);
  return ok ? 0 : 1;
}
