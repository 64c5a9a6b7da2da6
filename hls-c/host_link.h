/* host_link: cycle-exact C model of hdl/host_link.v (command deframer with CRC-16,
 * register bus master, response and CYCLE-record frame builder, 512-byte transmit FIFO).
 *
 * The model mirrors the RTL register by register: every `reg` of the module (the FIFO
 * memory included) is a field of host_link_t with the same name minus `_reg`, and
 * host_link_step() is one rising clock edge computed from the register values before the
 * edge, statement for statement in the order of the RTL's always blocks (a later
 * non-blocking assignment overrides an earlier one). Registers the RTL does not reset keep
 * their value through rst, as in the RTL; host_link_init() zeroes everything, which is
 * what Verilator's --x-initial 0 does to the RTL.
 *
 * The only fields that are not RTL registers are in `obs`: per-edge observations the
 * co-simulation uses to build its independent expectations (which command was accepted,
 * which record was dropped or framed, ...). They are derived from the same old values and
 * never feed back into the registers. */
#ifndef MINFLUX_HOST_LINK_H
#define MINFLUX_HOST_LINK_H
#include <stdint.h>
#include "regmap.h"
#ifdef __cplusplus
extern "C" {
#endif

/* Deframer states (rs). */
enum { HL_R_HUNT = 0, HL_R_TYPE = 1, HL_R_LEN = 2, HL_R_PAY = 3, HL_R_CRCH = 4, HL_R_CRCL = 5 };
/* Stage A byte kinds (a_kind). */
enum { HL_K_SYNC = 0, HL_K_DATA = 1, HL_K_CRCH = 2, HL_K_CRCL = 3 };

/* Frame sizes behind the FIFO room thresholds: the longest CYCLE frame (K_MAX exposures)
 * and the longest response (READ_R: addr + 4 data bytes), plus the bytes of the previous
 * frame the registered fill count does not see yet. */
#define HL_REC_FRAME_MAX  (5 + MINFLUX_PROTO_CYCLE_HDR + MINFLUX_PROTO_CYCLE_EXP * MINFLUX_K_MAX)
#define HL_RESP_FRAME_MAX (5 + 5)
#define HL_ROOM_MARGIN    4

typedef struct {
  int      rst;
  /* bytes from uart_rx */
  int      s_valid;
  uint8_t  s_data;
  int      rx_err;
  /* core read port: data of addr as it was three edges before */
  uint32_t rd_data;
  /* record fields (held still while the record is framed) */
  int      rec_valid;
  uint8_t  k;                /* 4-bit core K register */
  uint8_t  state;            /* 4-bit controller state */
  uint32_t rec_ts;
  uint16_t rec_cx, rec_cy, est_x, est_y;
  int      est_ok;
  int      rec_sat;          /* a count of the record saturated */
  /* counts read port (the photon counter's bank): {ch1, ch0} of the exposure the link
   * addressed (w_e) one edge before */
  uint32_t cnt_data;
  /* uart_tx */
  int      m_ready;
  /* the core runs a measurement (the host watchdog trips only then) */
  int      running;
} host_link_in_t;

typedef struct {
  uint8_t  accepted;         /* a command was executed (two edges after its last byte): its type, else 0 */
  uint8_t  refused;          /* RX_ERRORS counted a refusal at this edge (before a clear) */
  uint8_t  rec_dropped;      /* a pending record found no room: dropped */
  uint8_t  rec_started;      /* a pending record went into the frame builder */
  uint8_t  resp_started;     /* the pending response went into the frame builder */
  uint8_t  read_sampled;     /* READ_R payload captured (resp_pl) at this edge */
  uint8_t  cleared;          /* LINK_RESET cleared the counters at this edge */
} host_link_obs_t;

typedef struct {
  /* register bus master (outputs) */
  uint8_t  o_wr_en, o_addr;
  uint32_t o_wr_data;
  /* link registers */
  uint16_t seq, dropped, rxerr;
  uint8_t  clr;
  /* deframer */
  uint8_t  rs, rtype, rlen, rcnt;
  uint64_t rpl;              /* 40 bit, last payload byte in [7:0] */
  uint16_t rcrc;
  uint8_t  rcrch;
  uint16_t rto;              /* 14 bit */
  uint8_t  rlast;            /* rcnt + 1 == rlen, registered: payload bytes must be >= 2 cycles apart */
  /* the frame completed in the previous cycle, checked from registers (timing) */
  uint8_t  fdone, fcrc_ok, fping, fread, fwrite;
  uint8_t  ex_ping, ex_read, ex_write;   /* the registered decision: execute now */
  /* responses */
  uint8_t  resp_pend, resp_type, resp_len;
  uint64_t resp_pl;          /* 40 bit, payload byte 0 in [39:32] */
  uint8_t  rd_wait;          /* 4 bit shift register */
  uint32_t link_val;
  uint8_t  link_adr;
  /* frame builder, stage A */
  uint8_t  rec_pend, w_busy, w_rec;
  uint8_t  dec_rec, dec_resp; /* frame a record / the response from the next edge on */
  uint8_t  w_idx;            /* 6 bit */
  uint8_t  w_len;
  uint8_t  w_left;           /* 6 bit: bytes before the CRC still to select */
  uint8_t  w_cnt, w_crc2;    /* selecting count bytes; the CRC high byte was selected */
  uint8_t  w_data;           /* w_left != 0, registered */
  uint8_t  rec_len, rec_left; /* CYCLE payload length and w_left start for the current K */
  uint8_t  hdr_byte;         /* header byte selected one cycle ahead */
  uint8_t  hn, hg;           /* header index two cycles ahead (5 bit); its group a cycle later */
  uint8_t  hp[5];            /* stage 1 of the header mux, per group of four */
  uint8_t  sat_any;          /* rec_sat, registered */
  uint8_t  w_e, w_b;         /* 3 bit (exposure o_cnt_addr reads: in cnt_data from the next edge), 2 bit */
  uint16_t w_seq;
  uint8_t  room_rec, room_resp;
  uint16_t fill;             /* 10 bit */
  uint8_t  a_valid, a_kind, a_byte;
  /* stage B */
  uint16_t wcrc;
  uint8_t  wr, wbyte;
  /* FIFO */
  uint16_t wp, rp;           /* 9 bit */
  uint8_t  mem[MINFLUX_LINK_FIFO_BYTES];
  uint8_t  rd_byte, out_valid;
  uint8_t  rv, rxd, rx_err;   /* s_valid, s_data, i_rx_err registered at the input */
  uint8_t  rx_sync, rx_zero, rx_lenbad; /* rxd is SYNC / 0 / > PROTO_MAX_CMD */
  uint8_t  wclr;             /* payload is a LINK_RESET write of 1, registered */
  uint8_t  wbaud;            /* payload is a LINK_BAUD write, registered */
  /* link rate */
  uint8_t  baud, baud_req, baud_pend, tx_idle, quiet_top;
  uint32_t quiet;            /* LINK_QUIET_W bits: cycles since the last accepted command */
  uint8_t  o_div;            /* uart clocks per bit */
  uint8_t  quiet_w;          /* not a register: the RTL parameter QUIET_W (init: LINK_QUIET_W) */
  uint8_t  rto_top;          /* rto == its top value, registered */
  /* host watchdog (WDOG) */
  uint8_t  wwdog;            /* payload is a WDOG write, registered */
  uint8_t  wfeed, wwr;       /* a command executed in the previous cycle; it wrote WDOG */
  uint16_t wdog;             /* WDOG: timeout in units of 2^wpre_w cycles, 0 = off */
  uint16_t wpre;             /* wpre_w bits: cycles within the unit */
  uint16_t wcnt;             /* units since the last accepted command (wraps) */
  uint8_t  weq, wexp, wfired; /* wcnt == wdog != 0 registered; expired; pulsed, since the last command */
  uint8_t  o_wdog;           /* output: 1-cycle pulse, WDOG expired while running */
  uint8_t  wpre_w;           /* not a register: the RTL parameter WDOG_PRE_W (init: LINK_WDOG_PRE_W) */
  uint8_t  refuse_q;         /* a frame or byte was refused in the previous cycle */
  uint8_t  fill_nz, pop_q;   /* fill != 0 one cycle late; popped in the previous cycle */

  host_link_obs_t obs;       /* not registers, see the top of this file */
} host_link_t;

void host_link_init(host_link_t *s);
/* UART clocks per bit of a LINK_BAUD code (0/3: 3 Mbaud, 1: 6 Mbaud, 2: 12 Mbaud). */
unsigned host_link_div(unsigned baud_code);
/* One clk edge with the inputs seen during the cycle before it. */
void host_link_step(host_link_t *s, const host_link_in_t *in);
static inline int     host_link_m_valid(const host_link_t *s) { return s->out_valid; }
static inline uint8_t host_link_m_data(const host_link_t *s) { return s->rd_byte; }
/* CRC-16/CCITT-FALSE of one byte, as the RTL's crc_byte function. */
uint16_t host_link_crc_byte(uint16_t crc, uint8_t b);

#ifdef __cplusplus
}
#endif
#endif
