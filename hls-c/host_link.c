/* host_link: cycle-exact C model of hdl/host_link.v, register by register (see
 * host_link.h). The big always blocks of the RTL appear below as blocks in the same order,
 * the small registered-every-cycle ones (rlast, rec_len/rec_left, hdr_byte, the
 * room flags) next to the block that uses them; every right-hand side reads `o`, the
 * registers before the edge, so the C assignment order only matters where the RTL has a
 * later non-blocking assignment override an earlier one. */
#include <string.h>
#include "host_link.h"

#define SYNC      ((uint8_t)MINFLUX_PROTO_SYNC)
#define RTO_MAX   ((uint16_t)(MINFLUX_PROTO_RX_TIMEOUT - 1))   /* 14-bit counter at its top */
#define FIFO_N    MINFLUX_LINK_FIFO_BYTES

void host_link_init(host_link_t *s)
{
  memset(s, 0, sizeof *s);
  s->quiet_w = MINFLUX_LINK_QUIET_W;
  s->wpre_w = MINFLUX_LINK_WDOG_PRE_W;
}

uint16_t host_link_crc_byte(uint16_t crc, uint8_t b)
{
  uint16_t r = (uint16_t)(crc ^ ((uint16_t)b << 8));
  for (int n = 0; n < 8; n++)
    r = (r & 0x8000u) ? (uint16_t)((r << 1) ^ MINFLUX_PROTO_CRC_POLY) : (uint16_t)(r << 1);
  return r;
}

/* Stage 1 of the header mux: byte (g, lo) of the header for the frame kind `rec`; group g
 * of four by the low index bits lo (group 4 holds bytes 16, 17). */
static uint8_t hdr_part(const host_link_t *o, const host_link_in_t *in, unsigned g, unsigned lo, int rec)
{
  const uint8_t flags = (uint8_t)(((in->state & 15u) << 4) | (o->sat_any << 1) | (in->est_ok != 0));
  switch (g * 4u + lo) {
  case 0:  return SYNC;
  case 1:  return rec ? (uint8_t)MINFLUX_PROTO_T_CYCLE : o->resp_type;
  case 2:  return o->w_len;
  case 3:  return rec ? (uint8_t)(o->w_seq >> 8) : (uint8_t)(o->resp_pl >> 32);
  case 4:  return rec ? (uint8_t)o->w_seq        : (uint8_t)(o->resp_pl >> 24);
  case 5:  return rec ? (uint8_t)(in->rec_ts >> 24) : (uint8_t)(o->resp_pl >> 16);
  case 6:  return rec ? (uint8_t)(in->rec_ts >> 16) : (uint8_t)(o->resp_pl >> 8);
  case 7:  return rec ? (uint8_t)(in->rec_ts >> 8)  : (uint8_t)o->resp_pl;
  case 8:  return (uint8_t)in->rec_ts;
  case 9:  return (uint8_t)(in->rec_cx >> 8);
  case 10: return (uint8_t)in->rec_cx;
  case 11: return (uint8_t)(in->rec_cy >> 8);
  case 12: return (uint8_t)in->rec_cy;
  case 13: return (uint8_t)(in->est_x >> 8);
  case 14: return (uint8_t)in->est_x;
  case 15: return (uint8_t)(in->est_y >> 8);
  case 16: return (uint8_t)in->est_y;
  default: return flags;   /* 17, 18, 19 */
  }
}

/* cnt_byte: byte w_b of the exposure on the counts read port, packed ch0 << 12 | ch1
 * big-endian. */
static uint8_t cnt_byte(const host_link_t *o, const host_link_in_t *in)
{
  const uint32_t w = (in->cnt_data & 0xFFFu) << 12 | (in->cnt_data >> 12 & 0xFFFu);
  return (uint8_t)(o->w_b == 0 ? w >> 16 : o->w_b == 1 ? w >> 8 : w);
}

void host_link_step(host_link_t *s, const host_link_in_t *in)
{
  const host_link_t o = *s;
  /* the received byte, its flags and rx_err one cycle late (registered at the input) */
  const int rst = in->rst != 0, sv = o.rv != 0;
  const uint8_t sd = o.rxd;
  memset(&s->obs, 0, sizeof s->obs);

  /* ---- deframer decode (combinational) ---- */
  const int is_ping = o.rtype == MINFLUX_PROTO_T_PING && o.rlen == 0;
  const int is_read = o.rtype == MINFLUX_PROTO_T_READ && o.rlen == 1;
  const int is_write = o.rtype == MINFLUX_PROTO_T_WRITE && o.rlen == 5;
  const int cmd_ok = o.fcrc_ok && (o.fping || o.fread || o.fwrite);
  const int cmd_free = !o.resp_pend && o.rd_wait == 0;
  const int rx_timeout = !sv && o.rs != HL_R_HUNT && o.rto_top;
  const int rx_refuse = rx_timeout || o.rx_err || (sv && o.rs == HL_R_LEN && o.rx_lenbad) ||
                        (o.fdone && (!cmd_ok || !cmd_free));

  /* ---- frame builder decode ---- */
  const int in_data = o.w_data;
  const int in_cnt = in_data && o.w_cnt;
  const int dec_free = !o.w_busy && !o.dec_rec && !o.dec_resp;
  const int resp_done = o.w_busy && !o.w_rec && !in_data && o.w_crc2;

  /* ======== input register ======== */
  s->rv = (uint8_t)(in->s_valid && !rst);
  s->rx_err = (uint8_t)(in->rx_err && !rst);
  s->rxd = in->s_data;
  s->rx_sync = (uint8_t)(in->s_data == SYNC);
  s->rx_zero = (uint8_t)(in->s_data == 0);
  s->rx_lenbad = (uint8_t)(in->s_data > MINFLUX_PROTO_MAX_CMD);

  /* ======== last payload byte flag, registered (the next byte is >= 2 cycles away) ======== */
  s->rlast = (uint8_t)(((o.rcnt + 1u) & 7u) == o.rlen);

  /* ======== always block 0: the completed frame, checked and decided from registers ======== */
  s->fdone = (uint8_t)(sv && o.rs == HL_R_CRCL && !rst);
  s->fcrc_ok = (uint8_t)((uint16_t)((o.rcrch << 8) | sd) == o.rcrc);
  s->fping = (uint8_t)is_ping;
  s->fread = (uint8_t)is_read;
  s->fwrite = (uint8_t)is_write;
  s->ex_ping = (uint8_t)(!rst && o.fdone && o.fcrc_ok && o.fping && cmd_free);
  s->ex_read = (uint8_t)(!rst && o.fdone && o.fcrc_ok && o.fread && cmd_free);
  s->ex_write = (uint8_t)(!rst && o.fdone && o.fcrc_ok && o.fwrite && cmd_free);

  /* ======== always block 1: deframer, execution, bus master, responses, RX_ERRORS ======== */
  s->o_wr_en = (uint8_t)(!rst && o.ex_write);
  s->clr = (uint8_t)(!rst && o.ex_write && o.wclr);
  s->wclr = (uint8_t)((uint8_t)(o.rpl >> 32) == MINFLUX_REG_LINK_RESET && (o.rpl & 1u));
  s->wbaud = (uint8_t)((uint8_t)(o.rpl >> 32) == MINFLUX_REG_LINK_BAUD);
  s->wwdog = (uint8_t)((uint8_t)(o.rpl >> 32) == MINFLUX_REG_WDOG);
  s->rd_wait = (uint8_t)((o.rd_wait << 1) & 0xEu);
  s->refuse_q = (uint8_t)(!rst && rx_refuse);
  s->rto_top = (uint8_t)(!rst && !sv && o.rs != HL_R_HUNT && o.rto == RTO_MAX - 1u);
  if (rst || o.clr) s->rxerr = 0;
  else if (o.refuse_q) s->rxerr = (uint16_t)(o.rxerr + 1u);
  s->obs.refused = (uint8_t)(!rst && !o.clr && o.refuse_q);
  if (rst) {
    s->rs = HL_R_HUNT;
    s->rto = 0;
    s->resp_pend = 0;
    s->rd_wait = 0;
  } else {
    if (sv) s->rto = 0;
    else if (o.rs != HL_R_HUNT) s->rto = (uint16_t)((o.rto + 1u) & RTO_MAX);
    if (rx_timeout) s->rs = HL_R_HUNT;
    if (sv) {
      switch (o.rs) {
      case HL_R_HUNT:
        if (o.rx_sync) { s->rs = HL_R_TYPE; s->rcrc = MINFLUX_PROTO_CRC_INIT; }
        break;
      case HL_R_TYPE:
        s->rtype = sd;
        s->rcrc = host_link_crc_byte(o.rcrc, sd);
        s->rs = HL_R_LEN;
        break;
      case HL_R_LEN:
        s->rcrc = host_link_crc_byte(o.rcrc, sd);
        s->rlen = sd & 7u;
        s->rcnt = 0;
        if (o.rx_lenbad) s->rs = HL_R_HUNT;
        else s->rs = o.rx_zero ? HL_R_CRCH : HL_R_PAY;
        break;
      case HL_R_PAY:
        s->rpl = ((o.rpl << 8) | sd) & 0xFFFFFFFFFFull;
        s->rcrc = host_link_crc_byte(o.rcrc, sd);
        s->rcnt = (o.rcnt + 1u) & 7u;
        if (o.rlast) s->rs = HL_R_CRCH;
        break;
      case HL_R_CRCH:
        s->rcrch = sd;
        s->rs = HL_R_CRCL;
        break;
      default:   /* R_CRCL: the frame is complete (checked in block 0) */
        s->rs = HL_R_HUNT;
        break;
      }
    }
    /* execute the frame completed two cycles ago */
    if (o.ex_ping) {
      s->resp_pend = 1;
      s->resp_type = MINFLUX_PROTO_T_PONG;
      s->resp_len = 0;
      s->obs.accepted = MINFLUX_PROTO_T_PING;
    } else if (o.ex_read) {
      s->o_addr = (uint8_t)o.rpl;
      s->rd_wait |= 1u;
      s->obs.accepted = MINFLUX_PROTO_T_READ;
    } else if (o.ex_write) {
      const uint8_t a = (uint8_t)(o.rpl >> 32);
      s->o_addr = a;
      s->o_wr_data = (uint32_t)o.rpl;
      s->resp_pend = 1;
      s->resp_type = MINFLUX_PROTO_T_WRITE_R;
      s->resp_len = 1;
      s->obs.accepted = MINFLUX_PROTO_T_WRITE;
    }
    if (o.rd_wait & 8u) {
      s->resp_pend = 1;
      s->resp_type = MINFLUX_PROTO_T_READ_R;
      s->resp_len = 5;
      s->obs.read_sampled = 1;
    }
    /* the response registers stay busy until the builder has read them all */
    if (resp_done) s->resp_pend = 0;
  }
  /* the response payload, outside the reset branch as in the RTL (timing) */
  if (o.ex_write) s->resp_pl = (uint64_t)(uint8_t)(o.rpl >> 32) << 32;
  if (o.rd_wait & 8u) s->resp_pl = (uint64_t)o.o_addr << 32 | (o.link_adr ? o.link_val : in->rd_data);

  /* ======== always block 2: link register read mux (registered) ======== */
  s->link_adr = (uint8_t)((o.o_addr >= MINFLUX_REG_CLK_HZ && o.o_addr <= MINFLUX_REG_LINK_BAUD) ||
                          o.o_addr == MINFLUX_REG_WDOG);
  switch (o.o_addr & 7u) {
  case MINFLUX_REG_CLK_HZ & 7:      s->link_val = (uint32_t)MINFLUX_CLK_HZ; break;
  case MINFLUX_REG_REC_SEQ & 7:     s->link_val = o.seq; break;
  case MINFLUX_REG_REC_DROPPED & 7: s->link_val = o.dropped; break;
  case MINFLUX_REG_RX_ERRORS & 7:   s->link_val = o.rxerr; break;
  case MINFLUX_REG_LINK_BAUD & 7:   s->link_val = o.baud; break;
  case MINFLUX_REG_WDOG & 7:        s->link_val = o.wdog; break;   /* (0x11 is the core's) */
  default:                          s->link_val = 0; break;
  }

  /* ======== the builder's decision, one cycle before it starts ======== */
  s->dec_rec = (uint8_t)(!rst && dec_free && o.rec_pend);
  s->dec_resp = (uint8_t)(!rst && dec_free && !o.rec_pend && o.resp_pend && o.room_resp);

  /* ======== always block 3: frame builder stage A, counters, stage B ======== */
  s->a_valid = 0;
  if (rst) {
    s->rec_pend = 0;
    s->w_busy = 0;
    s->seq = 0;
    s->dropped = 0;
  } else {
    if (in->rec_valid) s->rec_pend = 1;
    if (o.w_busy) {
      s->a_valid = 1;
      s->a_byte = in_cnt ? cnt_byte(&o, in) : o.hdr_byte;
      s->a_kind = in_data ? (o.w_idx == 0 ? HL_K_SYNC : HL_K_DATA) : o.w_crc2 ? HL_K_CRCL : HL_K_CRCH;
      s->w_idx = (o.w_idx + 1u) & 63u;
      if (in_data) {
        s->w_left = (o.w_left - 1u) & 63u;
        s->w_data = (uint8_t)(o.w_left != 1);
        if (o.w_rec && o.w_idx == 17) s->w_cnt = 1;
      } else {
        s->w_crc2 = 1;
      }
      if (in_cnt) {
        s->w_b = o.w_b == 2 ? 0 : (o.w_b + 1u) & 3u;
        if (o.w_b == 1) s->w_e = (o.w_e + 1u) & 7u;
      }
      if (!in_data && o.w_crc2) s->w_busy = 0;
    } else if (o.dec_rec) {
      s->rec_pend = (uint8_t)(in->rec_valid != 0);
      s->seq = (uint16_t)(o.seq + 1u);   /* the number is used up, framed or dropped */
      if (o.room_rec) {
        s->w_busy = 1;
        s->w_rec = 1;
        s->w_idx = 0;
        s->w_e = 0;
        s->w_b = 0;
        s->w_len = o.rec_len;
        s->w_left = o.rec_left;
        s->w_cnt = 0;
        s->w_crc2 = 0;
        s->w_data = 1;
        s->w_seq = o.seq;
        s->obs.rec_started = 1;
      } else {
        s->dropped = (uint16_t)(o.dropped + 1u);
        s->obs.rec_dropped = 1;
      }
    } else if (o.dec_resp) {
      s->w_busy = 1;
      s->w_rec = 0;
      s->w_idx = 0;
      s->w_len = o.resp_len & 7u;
      s->w_left = (uint8_t)((o.resp_len & 7u) + 3u);
      s->w_cnt = 0;
      s->w_crc2 = 0;
      s->w_data = 1;
      s->obs.resp_started = 1;
    }
    if (o.clr) {
      s->seq = 0;
      s->dropped = 0;
      s->obs.cleared = 1;
    }
  }
  /* the CYCLE length for the current K, and the header byte for the next index, both
   * registered every cycle */
  const unsigned k_sat = (in->k & 15u) == 0 ? 1u : (in->k & 15u) > 8 ? 8u : (in->k & 15u);
  s->rec_len = (uint8_t)(MINFLUX_PROTO_CYCLE_HDR + MINFLUX_PROTO_CYCLE_EXP * k_sat);
  s->rec_left = (uint8_t)((MINFLUX_PROTO_CYCLE_HDR + 3u + MINFLUX_PROTO_CYCLE_EXP * k_sat) & 63u);
  /* header: two-stage mux on the index two cycles ahead (hn), see hdl/host_link.v */
  {
    const int h_rec = o.w_busy ? o.w_rec : o.dec_rec;
    const int dec_next = dec_free && (o.rec_pend || (o.resp_pend && o.room_resp));
    const int w_start = o.dec_resp || (o.dec_rec && o.room_rec);
    const int w_ending = o.w_busy && !o.w_data && o.w_crc2;
    s->sat_any = (uint8_t)(in->rec_sat != 0);
    if (rst) s->hn = 0;
    else if (w_start) s->hn = 2;
    else if (o.w_busy && !w_ending) s->hn = (o.hn + 1u) & 31u;
    else s->hn = dec_next ? 1 : 0;
    s->hg = (uint8_t)(o.hn >> 2);
    for (unsigned g = 0; g < 4; g++) s->hp[g] = hdr_part(&o, in, g, o.hn & 3u, h_rec);
    s->hp[4] = hdr_part(&o, in, 4, (o.hn & 3u) == 0 ? 0u : 1u, h_rec);
    s->hdr_byte = o.hp[o.hg < 4 ? o.hg : 4];
  }

  /* stage B: CRC over type, len and payload; the two CRC bytes close the frame */
  s->wr = (uint8_t)(o.a_valid && !rst);
  switch (o.a_kind) {
  case HL_K_SYNC:
    s->wbyte = o.a_byte;
    s->wcrc = MINFLUX_PROTO_CRC_INIT;
    break;
  case HL_K_DATA:
    s->wbyte = o.a_byte;
    if (o.a_valid) s->wcrc = host_link_crc_byte(o.wcrc, o.a_byte);
    break;
  case HL_K_CRCH:
    s->wbyte = (uint8_t)(o.wcrc >> 8);
    break;
  default:
    s->wbyte = (uint8_t)o.wcrc;
    break;
  }

  /* ======== room thresholds (registered from the fill count) ======== */
  s->room_rec = (uint8_t)(o.fill <= FIFO_N - HL_REC_FRAME_MAX - HL_ROOM_MARGIN);
  s->room_resp = (uint8_t)(o.fill <= FIFO_N - HL_RESP_FRAME_MAX - HL_ROOM_MARGIN);

  /* ======== FIFO: one EBR, first-word-fall-through output register ======== */
  const int pop = o.fill_nz && !o.pop_q && (!o.out_valid || in->m_ready);
  s->fill_nz = (uint8_t)(!rst && o.fill != 0);
  s->pop_q = (uint8_t)pop;
  if (o.wr) s->mem[o.wp] = o.wbyte;
  if (pop) s->rd_byte = o.mem[o.rp];   /* the memory before this edge's write */
  if (rst) {
    s->wp = 0;
    s->rp = 0;
    s->fill = 0;
    s->out_valid = 0;
  } else {
    if (o.wr) s->wp = (o.wp + 1u) & (FIFO_N - 1u);
    if (pop) s->rp = (o.rp + 1u) & (FIFO_N - 1u);
    s->fill = (uint16_t)((o.fill + o.wr - (unsigned)pop) & 1023u);
    if (pop) s->out_valid = 1;
    else if (in->m_ready) s->out_valid = 0;
  }

  /* ======== link rate (LINK_BAUD) ======== */
  s->tx_idle = (uint8_t)(!o.resp_pend && !o.w_busy && !o.a_valid && !o.wr && o.fill == 0 && !o.out_valid && in->m_ready);
  const uint32_t quiet_max = (1u << o.quiet_w) - 1u;
  s->quiet_top = (uint8_t)(o.quiet == quiet_max);
  if (rst) {
    s->baud = 0;
    s->baud_pend = 0;
    s->quiet = 0;
    s->o_div = MINFLUX_LINK_DIV_3M;
  } else {
    s->quiet = (o.ex_ping || o.ex_read || o.ex_write) ? 0 : (o.quiet + 1u) & quiet_max;
    if (o.ex_write && o.wbaud) {
      s->baud_req = (uint8_t)((o.rpl & 3u) == 3u ? 0u : (o.rpl & 3u));   /* 3 is stored as 0 */
      s->baud_pend = 1;
    } else if (o.baud_pend && o.tx_idle && !o.resp_pend) {
      s->baud = o.baud_req;
      s->baud_pend = 0;
    } else if (o.quiet_top && !o.baud_pend) {
      s->baud = 0;
    }
    s->o_div = host_link_div(o.baud);
  }

  /* ======== host watchdog (WDOG) ======== */
  s->wfeed = (uint8_t)(o.ex_ping || o.ex_read || o.ex_write);
  s->wwr = (uint8_t)(!rst && o.ex_write && o.wwdog);
  if (rst) s->wdog = 0;
  else if (o.wwr) s->wdog = (uint16_t)o.rpl;
  if (rst || o.wfeed) {
    s->wpre = 0;
    s->wcnt = 0;
    s->weq = 0;
    s->wexp = 0;
    s->wfired = 0;
    s->o_wdog = 0;
  } else {
    const uint16_t pre_max = (uint16_t)((1u << o.wpre_w) - 1u);
    const int expired = o.weq || o.wexp;
    s->wpre = (uint16_t)((o.wpre + 1u) & pre_max);
    if (o.wpre == pre_max) s->wcnt = (uint16_t)(o.wcnt + 1u);
    s->weq = (uint8_t)(o.wcnt == o.wdog && o.wdog != 0);
    s->wexp = (uint8_t)expired;
    s->o_wdog = (uint8_t)(expired && in->running && !o.wfired);
    if (expired && in->running) s->wfired = 1;
  }
}

unsigned host_link_div(unsigned baud_code)
{
  return baud_code == 1 ? MINFLUX_LINK_DIV_3M / 2 : baud_code == 2 ? MINFLUX_LINK_DIV_3M / 4 : MINFLUX_LINK_DIV_3M;
}
