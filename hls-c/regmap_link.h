/* Host link (issue #4): framed protocol constants and link registers; included by regmap.h.
 * Same X-macro shapes as MINFLUX_CONSTS / MINFLUX_REGS. docs/protocol.md describes the
 * frames; host/protocol.c (host, virtual board, tests) and hdl/host_link.v both use these
 * numbers, so they cannot drift. */
#ifndef MINFLUX_REGMAP_LINK_H
#define MINFLUX_REGMAP_LINK_H

#define MINFLUX_LINK_CONSTS(X) \
  X(PROTO_SYNC,      0xA5,   "first byte of every frame") \
  X(PROTO_MAX_CMD,   5,      "longest command payload in bytes (WRITE: addr + 4 data)") \
  X(PROTO_CRC_INIT,  0xFFFF, "CRC-16/CCITT-FALSE (poly 0x1021, no reflection) over type, len, payload") \
  X(PROTO_CRC_POLY,  0x1021, "CRC-16 polynomial") \
  X(PROTO_T_PING,    0x01,   "host: ping, no payload -> PONG") \
  X(PROTO_T_READ,    0x02,   "host: register read, payload addr -> READ_R") \
  X(PROTO_T_WRITE,   0x03,   "host: register write, payload addr, data (BE) -> WRITE_R") \
  X(PROTO_T_PONG,    0x81,   "firmware: answer to PING, no payload") \
  X(PROTO_T_READ_R,  0x82,   "firmware: payload addr, data (BE 32 bit)") \
  X(PROTO_T_WRITE_R, 0x83,   "firmware: payload addr of the register written") \
  X(PROTO_T_CYCLE,   0x10,   "firmware: one multiplex cycle record (docs/protocol.md)") \
  X(PROTO_CYCLE_HDR, 15,     "CYCLE payload bytes before the counts (seq..flags)") \
  X(PROTO_CYCLE_EXP, 3,      "CYCLE payload bytes per exposure: ch0, ch1 as two 12-bit fields") \
  X(PROTO_RX_TIMEOUT,16384,  "clk cycles of silence inside a frame after which the deframer hunts again") \
  X(LINK_FIFO_BYTES, 512,    "transmit FIFO bytes (one EBR)") \
  X(LINK_DIV_3M,     16,     "uart clocks per bit at 3 Mbaud (48 MHz)") \
  X(LINK_QUIET_W,    26,     "a rate other than 3 Mbaud falls back to 3 Mbaud after 2^26 clk cycles (1.40 s) without an accepted command") \
  X(LINK_WDOG_PRE_W, 14,     "host watchdog unit: 2^14 clk cycles (341.33 us at 48 MHz); WDOG counts in these units")

/* Registers served by the link itself (the core's read mux returns 0 there). */
#define MINFLUX_LINK_REGS(X) \
  X(CLK_HZ,      0x12, 32, "RO system clock in Hz") \
  X(REC_SEQ,     0x13, 16, "RO sequence number the next CYCLE record will carry") \
  X(REC_DROPPED, 0x14, 16, "RO CYCLE records dropped because the transmit FIFO was full (wraps)") \
  X(RX_ERRORS,   0x15, 16, "RO frames refused: bad CRC, length, type, timeout, UART stop bit, busy (wraps)") \
  X(LINK_RESET,  0x16,  1, "WO bit0: clear REC_SEQ, REC_DROPPED, RX_ERRORS (acknowledged first)") \
  X(LINK_BAUD,   0x17,  2, "UART rate: 0 = 3 Mbaud, 1 = 6 Mbaud, 2 = 12 Mbaud (3 is stored as 0); takes effect once the answer and every queued byte are sent; back to 0 after LINK_QUIET_W without a command") \
  X(WDOG,        0x19, 16, "host watchdog: 0 = off (reset); N = during a run, N x 2^LINK_WDOG_PRE_W cycles (N x 341.33 us) without an accepted command abort the run, centre the beam (DAC 0, 0, amplitude 0) and set STATUS bit 6")

#endif
