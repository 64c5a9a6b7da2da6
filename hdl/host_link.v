`default_nettype none
// Host link: deframes commands from the UART (ping, register read, register write; CRC-16
// checked), answers them, and frames one CYCLE record per multiplex cycle into a 512-byte
// transmit FIFO (one EBR) in front of the UART. Frames and numbers: docs/protocol.md,
// hls-c/regmap_link.h. A record that finds no room is dropped and counted, never stalls
// the core; its sequence number is used up so the host sees the gap. A host watchdog
// (WDOG) sees every accepted command: silent for longer than WDOG during a run, the link
// pulses o_wdog_reg and the core aborts the run and centres the beam.

module host_link #(
  parameter QUIET_W = 26,  // LINK_QUIET_W (checked below); co-simulation shortens it
  parameter WDOG_PRE_W = 14 // LINK_WDOG_PRE_W: cycles per WDOG unit = 2^WDOG_PRE_W (co-simulation shortens it)
) (
  input  wire         clk,
  input  wire         rst,
  // bytes from uart_rx (at least 2 cycles apart: uart_rx delivers one per >= 40 cycles)
  input  wire         s_valid,
  input  wire [7:0]   s_data,
  input  wire         i_rx_err,         // 1-cycle pulse: UART stop bit missing
  // register bus master (the core)
  output reg          o_wr_en_reg,
  output reg  [7:0]   o_addr_reg,       // write and read address
  output reg  [31:0]  o_wr_data_reg,
  input  wire [31:0]  i_rd_data,        // core data of o_addr_reg, three cycles later
  // records: framed when the estimate of the counts is ready; the fields hold still far
  // longer than the framer needs them (< 60 cycles after i_rec_valid: a response frame
  // ahead, the decision cycle and 43 header/count bytes; the co-simulation measures up
  // to 55), the next cycle's first gate is later
  input  wire         i_rec_valid,
  input  wire [3:0]   i_k,              // exposures per cycle (core K register)
  input  wire [3:0]   i_state,          // controller state (flags bits 7:4)
  input  wire [1:0]   i_flags_lo,       // flags bits 3:2 (bit 2: a Bayesian exposure record)
  input  wire [31:0]  i_rec_ts,
  input  wire [15:0]  i_rec_cx,
  input  wire [15:0]  i_rec_cy,
  input  wire [15:0]  i_est_x,
  input  wire [15:0]  i_est_y,
  input  wire         i_est_ok,
  input  wire         i_rec_sat,        // a count of the record saturated
  output wire [2:0]   o_cnt_addr,       // counts of the record: exposure read ...
  input  wire [23:0]  i_cnt_data,       // ... {ch1, ch0}, registered at the source: the
                                        // exposure of o_cnt_addr as it was an edge before
  // UART clocks per bit for uart_rx/uart_tx (LINK_BAUD)
  output reg  [4:0]   o_div_reg,
  // host watchdog
  input  wire         i_running,        // the core runs a measurement (its o_running)
  output reg          o_wdog_reg,       // 1-cycle pulse: WDOG expired while running
  // bytes to uart_tx
  output wire         m_valid,
  output wire [7:0]   m_data,
  input  wire         m_ready
);
`include "minflux_regs.vh"

  initial begin
    if (PROTO_MAX_CMD != 5 || LINK_FIFO_BYTES != 512 || PROTO_CYCLE_HDR != 15 ||
        REG_CLK_HZ != 8'h12 || REG_LINK_RESET != 8'h16 || REG_LINK_BAUD != 8'h17 ||
        LINK_DIV_3M != 16 || LINK_QUIET_W != 26 || QUIET_W < 4 || QUIET_W > 26 ||
        REG_WDOG != 8'h19 || LINK_WDOG_PRE_W != 14 || WDOG_PRE_W < 2 || WDOG_PRE_W > 14) begin
      $display("host_link: regmap_link.h changed; update the frame builder"); $finish;
    end
  end

  localparam [7:0] SYNC = PROTO_SYNC[7:0];

  // CRC-16/CCITT-FALSE of one byte (MSB first).
  function [15:0] crc_byte(input [15:0] c, input [7:0] b);
    integer n;
    reg [15:0] r;
    begin
      r = c ^ {b, 8'd0};
      for (n = 0; n < 8; n = n + 1)
        r = r[15] ? ((r << 1) ^ PROTO_CRC_POLY[15:0]) : (r << 1);
      crc_byte = r;
    end
  endfunction

  // ---- received bytes, registered once with their decoded flags (timing) ----
  reg        rv_reg = 1'b0;      // s_valid, one cycle late
  reg [7:0]  rxd_reg;            // s_data, one cycle late
  reg        rx_err_reg = 1'b0;  // i_rx_err, one cycle late
  reg        rx_sync_reg, rx_zero_reg, rx_lenbad_reg;   // rxd_reg is SYNC / 0 / > PROTO_MAX_CMD
  always @(posedge clk) begin
    rv_reg <= s_valid && !rst;
    rx_err_reg <= i_rx_err && !rst;
    rxd_reg <= s_data;
    rx_sync_reg <= s_data == SYNC;
    rx_zero_reg <= s_data == 8'd0;
    rx_lenbad_reg <= (|s_data[7:3]) || (s_data[2:1] == 2'b11);   // PROTO_MAX_CMD = 5
  end

  // ---- counters readable as link registers ----
  reg [15:0] seq_reg, dropped_reg, rxerr_reg;
  reg        clr_reg;            // LINK_RESET written
  reg        wclr_reg;           // the payload is a LINK_RESET write of 1, registered (timing;
                                 // the payload is still two cycles before it executes)
  reg        wbaud_reg;          // the payload is a LINK_BAUD write, registered likewise
  reg        wwdog_reg;          // the payload is a WDOG write, registered likewise

  // ---- deframer ----
  localparam [2:0] R_HUNT = 3'd0, R_TYPE = 3'd1, R_LEN = 3'd2, R_PAY = 3'd3,
                   R_CRCH = 3'd4, R_CRCL = 3'd5;
  reg [2:0]  rs_reg;
  reg [7:0]  rtype_reg;
  reg [2:0]  rlen_reg, rcnt_reg;
  reg [39:0] rpl_reg;            // payload, last byte in [7:0]
  reg [15:0] rcrc_reg;
  reg [7:0]  rcrch_reg;
  reg [13:0] rto_reg;            // silence inside a frame (PROTO_RX_TIMEOUT = 2^14)
  reg        rlast_reg;          // == (rcnt_reg + 1 == rlen_reg), registered (timing)
  always @(posedge clk) rlast_reg <= rcnt_reg + 3'd1 == rlen_reg;

  // a complete frame with a good CRC, and whether it is a command this firmware knows
  // A frame completes with its last CRC byte; it is checked and executed one cycle later
  // from registers (timing).
  reg        fdone_reg;          // a frame's last byte arrived in the previous cycle
  reg        fcrc_ok_reg;        // and its CRC matched
  reg        fping_reg, fread_reg, fwrite_reg;   // and it is this command
  reg        ex_ping_reg, ex_read_reg, ex_write_reg;  // execute it now (one cycle later)
  wire       is_ping  = rtype_reg == PROTO_T_PING[7:0]  && rlen_reg == 3'd0;
  wire       is_read  = rtype_reg == PROTO_T_READ[7:0]  && rlen_reg == 3'd1;
  wire       is_write = rtype_reg == PROTO_T_WRITE[7:0] && rlen_reg == 3'd5;
  wire       cmd_ok    = fcrc_ok_reg && (fping_reg || fread_reg || fwrite_reg);
  wire       cmd_free  = !resp_pend_reg && rd_wait_reg == 4'd0;
  wire       resp_done;
  reg        resp_pend_reg;      // a response waits for / is read by the frame builder
  // a frame refused: bad CRC / type / length, stopped half-way, a command while the
  // previous answer is still pending, or a UART byte without stop bit
  reg        rto_top_reg;        // == (rto_reg == 14'h3FFF), kept as a register (timing)
  wire       rx_timeout = !rv_reg && rs_reg != R_HUNT && rto_top_reg;
  wire       rx_refuse  = rx_timeout || rx_err_reg ||
                          (rv_reg && rs_reg == R_LEN && rx_lenbad_reg) ||
                          (fdone_reg && (!cmd_ok || !cmd_free));
  reg        refuse_q_reg;       // rx_refuse, registered: RX_ERRORS counts a cycle later (timing)

  always @(posedge clk) begin
    fdone_reg <= rv_reg && rs_reg == R_CRCL && !rst;
    fcrc_ok_reg <= {rcrch_reg, rxd_reg} == rcrc_reg;
    fping_reg <= is_ping;
    fread_reg <= is_read;
    fwrite_reg <= is_write;
    // The decision, registered; nothing else can take the response slot or start a read
    // in between (only an accepted command does).
    ex_ping_reg  <= !rst && fdone_reg && fcrc_ok_reg && fping_reg && cmd_free;
    ex_read_reg  <= !rst && fdone_reg && fcrc_ok_reg && fread_reg && cmd_free;
    ex_write_reg <= !rst && fdone_reg && fcrc_ok_reg && fwrite_reg && cmd_free;
  end

  // ---- responses ----
  reg [7:0]  resp_type_reg;
  reg [2:0]  resp_len_reg;
  reg [39:0] resp_pl_reg;        // payload byte 0 in [39:32]
  reg [3:0]  rd_wait_reg;        // core read data is valid after three more edges
  reg [31:0] link_val_reg;       // link register of o_addr_reg (registered)
  reg        link_adr_reg;       // o_addr_reg is a link register

  always @(posedge clk) begin
    // (the three ex_* flags are exclusive: one frame type each)
    o_wr_en_reg <= !rst && ex_write_reg;
    clr_reg <= !rst && ex_write_reg && wclr_reg;
    wclr_reg <= rpl_reg[39:32] == REG_LINK_RESET && rpl_reg[0];
    wbaud_reg <= rpl_reg[39:32] == REG_LINK_BAUD;
    wwdog_reg <= rpl_reg[39:32] == REG_WDOG;
    rd_wait_reg <= {rd_wait_reg[2:0], 1'b0};
    refuse_q_reg <= !rst && rx_refuse;
    if (rst || clr_reg) rxerr_reg <= 16'd0;
    else if (refuse_q_reg) rxerr_reg <= rxerr_reg + 16'd1;
    rto_top_reg <= !rst && !rv_reg && rs_reg != R_HUNT && rto_reg == 14'h3FFE;
    if (rst) begin
      rs_reg <= R_HUNT;
      rto_reg <= 14'd0;
      resp_pend_reg <= 1'b0;
      rd_wait_reg <= 4'd0;
    end else begin
      if (rv_reg) rto_reg <= 14'd0;
      else if (rs_reg != R_HUNT) rto_reg <= rto_reg + 14'd1;
      if (rx_timeout) rs_reg <= R_HUNT;   // a frame that stopped half-way
      if (rv_reg) begin
        case (rs_reg)
          R_HUNT: if (rx_sync_reg) begin rs_reg <= R_TYPE; rcrc_reg <= PROTO_CRC_INIT[15:0]; end
          R_TYPE: begin rtype_reg <= rxd_reg; rcrc_reg <= crc_byte(rcrc_reg, rxd_reg); rs_reg <= R_LEN; end
          R_LEN: begin
            rcrc_reg <= crc_byte(rcrc_reg, rxd_reg);
            rlen_reg <= rxd_reg[2:0];
            rcnt_reg <= 3'd0;
            if (rx_lenbad_reg) rs_reg <= R_HUNT;
            else rs_reg <= rx_zero_reg ? R_CRCH : R_PAY;
          end
          R_PAY: begin
            rpl_reg <= {rpl_reg[31:0], rxd_reg};
            rcrc_reg <= crc_byte(rcrc_reg, rxd_reg);
            rcnt_reg <= rcnt_reg + 3'd1;
            if (rlast_reg) rs_reg <= R_CRCH;
          end
          R_CRCH: begin rcrch_reg <= rxd_reg; rs_reg <= R_CRCL; end
          default: rs_reg <= R_HUNT;   // R_CRCL: the frame is complete
        endcase
      end
      // execute the frame completed two cycles ago (the next byte is >= 40 cycles away)
      begin
        if (ex_ping_reg) begin
          resp_pend_reg <= 1'b1;
          resp_type_reg <= PROTO_T_PONG[7:0];
          resp_len_reg <= 3'd0;
        end else if (ex_read_reg) begin
          o_addr_reg <= rpl_reg[7:0];
          rd_wait_reg[0] <= 1'b1;
        end else if (ex_write_reg) begin
          o_addr_reg <= rpl_reg[39:32];
          o_wr_data_reg <= rpl_reg[31:0];
          resp_pend_reg <= 1'b1;
          resp_type_reg <= PROTO_T_WRITE_R[7:0];
          resp_len_reg <= 3'd1;
        end
      end
      if (rd_wait_reg[3]) begin
        resp_pend_reg <= 1'b1;
        resp_type_reg <= PROTO_T_READ_R[7:0];
        resp_len_reg <= 3'd5;
      end
      // free only once the builder has read the response registers: a command accepted
      // between its start decision and the frame's end would overwrite the frame being built
      if (resp_done) resp_pend_reg <= 1'b0;
    end
    // the response payload outside the reset branch: its enable is one LUT of two registers
    // (timing: a 40-bit enable net across the chip); a load during a reset is never sent,
    // every response loads it again (a PONG has none)
    if (ex_write_reg) resp_pl_reg <= {rpl_reg[39:32], 32'd0};
    if (rd_wait_reg[3]) resp_pl_reg <= {o_addr_reg, link_adr_reg ? link_val_reg : i_rd_data};
  end

  always @(posedge clk) begin
    link_adr_reg <= (o_addr_reg >= REG_CLK_HZ && o_addr_reg <= REG_LINK_BAUD) || o_addr_reg == REG_WDOG;
    case (o_addr_reg[2:0])
      REG_CLK_HZ[2:0]:      link_val_reg <= CLK_HZ;
      REG_REC_SEQ[2:0]:     link_val_reg <= {16'd0, seq_reg};
      REG_REC_DROPPED[2:0]: link_val_reg <= {16'd0, dropped_reg};
      REG_RX_ERRORS[2:0]:   link_val_reg <= {16'd0, rxerr_reg};
      REG_LINK_BAUD[2:0]:   link_val_reg <= {30'd0, baud_reg};
      REG_WDOG[2:0]:        link_val_reg <= {16'd0, wdog_reg};   // (0x11 is the core's)
      default:              link_val_reg <= 32'd0;
    endcase
  end

  // ---- frame builder: one frame at a time into the FIFO, one byte per cycle ----
  // Stage A selects byte w_idx_reg of the frame; stage B runs the CRC and writes.
  reg        rec_pend_reg;       // a record is ready for the builder
  reg        w_busy_reg, w_rec_reg;
  reg [5:0]  w_idx_reg;          // byte of the frame (sync = 0)
  reg [7:0]  w_len_reg;          // payload bytes
  reg [5:0]  w_left_reg;         // bytes before the CRC still to select (sync..payload)
  reg        w_cnt_reg;          // selecting count bytes (record bytes 18..)
  reg        w_data_reg;         // == (w_left_reg != 0), kept as a register (timing)
  reg        w_crc2_reg;         // the CRC high byte is selected: next is the last byte
  reg [2:0]  w_e_reg;            // counts: exposure in i_cnt_data from the next edge on
  reg [1:0]  w_b_reg;            // counts: byte within the exposure
  reg        room_rec_reg, room_resp_reg;
  reg [9:0]  fill_reg;
  reg [15:0] w_seq_reg;          // sequence number of the record being framed
  // The builder decides what to frame next one cycle before it starts (timing: the start
  // then enables the builder registers from two flags): a pending record first, else a
  // pending response if the FIFO has room for it. A record without room is dropped at
  // its start cycle.
  reg        dec_rec_reg, dec_resp_reg;
  wire       dec_free = !w_busy_reg && !dec_rec_reg && !dec_resp_reg;
  always @(posedge clk) begin
    dec_rec_reg  <= !rst && dec_free && rec_pend_reg;
    dec_resp_reg <= !rst && dec_free && !rec_pend_reg && resp_pend_reg && room_resp_reg;
  end

  // CYCLE payload length and bytes before its CRC for the current K, registered (timing;
  // K only changes by a register write, long before a record). A table on the 4 bits of K:
  // one LUT per output bit instead of adders.
  reg  [7:0] rec_len_reg;
  reg  [5:0] rec_left_reg;
  reg  [3:0] k_sat;
  always @(*) begin
    case (i_k)
      4'd0, 4'd1: k_sat = 4'd1;
      4'd2: k_sat = 4'd2;  4'd3: k_sat = 4'd3;  4'd4: k_sat = 4'd4;
      4'd5: k_sat = 4'd5;  4'd6: k_sat = 4'd6;  4'd7: k_sat = 4'd7;
      default: k_sat = 4'd8;
    endcase
  end
  always @(posedge clk) begin
    case (k_sat)
      4'd1: begin rec_len_reg <= PROTO_CYCLE_HDR[7:0] + 8'd3;  rec_left_reg <= PROTO_CYCLE_HDR[5:0] + 6'd6;  end
      4'd2: begin rec_len_reg <= PROTO_CYCLE_HDR[7:0] + 8'd6;  rec_left_reg <= PROTO_CYCLE_HDR[5:0] + 6'd9;  end
      4'd3: begin rec_len_reg <= PROTO_CYCLE_HDR[7:0] + 8'd9;  rec_left_reg <= PROTO_CYCLE_HDR[5:0] + 6'd12; end
      4'd4: begin rec_len_reg <= PROTO_CYCLE_HDR[7:0] + 8'd12; rec_left_reg <= PROTO_CYCLE_HDR[5:0] + 6'd15; end
      4'd5: begin rec_len_reg <= PROTO_CYCLE_HDR[7:0] + 8'd15; rec_left_reg <= PROTO_CYCLE_HDR[5:0] + 6'd18; end
      4'd6: begin rec_len_reg <= PROTO_CYCLE_HDR[7:0] + 8'd18; rec_left_reg <= PROTO_CYCLE_HDR[5:0] + 6'd21; end
      4'd7: begin rec_len_reg <= PROTO_CYCLE_HDR[7:0] + 8'd21; rec_left_reg <= PROTO_CYCLE_HDR[5:0] + 6'd24; end
      default: begin rec_len_reg <= PROTO_CYCLE_HDR[7:0] + 8'd24; rec_left_reg <= PROTO_CYCLE_HDR[5:0] + 6'd27; end
    endcase
  end

  // Header bytes 0..17 (sync, type, len and the first 15 payload bytes) through a two-stage
  // registered mux (timing): stage 1 picks within groups of four by the low bits of the
  // index the builder will have two cycles later (hn_reg), stage 2 picks the group. The
  // index runs 1, 2, ... from the cycle the builder decides (a cycle before the frame
  // starts); byte 0 (SYNC) comes from index 0 while idle.
  reg  [4:0] hn_reg;             // index of the byte selected two cycles from now, else 0
  reg  [2:0] hg_reg;             // hn_reg[4:2] of the previous cycle (stage 2 select)
  reg  [7:0] hp_reg [0:4];       // stage 1: the byte of hn_reg in each group of four
  reg  [7:0] hdr_byte;
  reg        sat_any_reg;        // i_rec_sat, registered (the fields hold still)
  wire [7:0] flags = {i_state, i_flags_lo, sat_any_reg, i_est_ok};
  wire       h_rec = w_busy_reg ? w_rec_reg : dec_rec_reg;   // the frame is a record
  wire       dec_next = dec_free && (rec_pend_reg || (resp_pend_reg && room_resp_reg));
  wire       w_start  = dec_resp_reg || (dec_rec_reg && room_rec_reg);
  wire       w_ending = w_busy_reg && !w_data_reg && w_crc2_reg;
  always @(posedge clk) begin
    sat_any_reg <= i_rec_sat;
    if (rst) hn_reg <= 5'd0;
    else if (w_start) hn_reg <= 5'd2;
    else if (w_busy_reg && !w_ending) hn_reg <= hn_reg + 5'd1;
    else hn_reg <= dec_next ? 5'd1 : 5'd0;
    hg_reg <= hn_reg[4:2];
    case (hn_reg[1:0])
      2'd0:    hp_reg[0] <= SYNC;
      2'd1:    hp_reg[0] <= h_rec ? PROTO_T_CYCLE[7:0] : resp_type_reg;
      2'd2:    hp_reg[0] <= w_len_reg;
      default: hp_reg[0] <= h_rec ? w_seq_reg[15:8] : resp_pl_reg[39:32];
    endcase
    case (hn_reg[1:0])
      2'd0:    hp_reg[1] <= h_rec ? w_seq_reg[7:0]  : resp_pl_reg[31:24];
      2'd1:    hp_reg[1] <= h_rec ? i_rec_ts[31:24] : resp_pl_reg[23:16];
      2'd2:    hp_reg[1] <= h_rec ? i_rec_ts[23:16] : resp_pl_reg[15:8];
      default: hp_reg[1] <= h_rec ? i_rec_ts[15:8]  : resp_pl_reg[7:0];
    endcase
    case (hn_reg[1:0])
      2'd0:    hp_reg[2] <= i_rec_ts[7:0];
      2'd1:    hp_reg[2] <= i_rec_cx[15:8];
      2'd2:    hp_reg[2] <= i_rec_cx[7:0];
      default: hp_reg[2] <= i_rec_cy[15:8];
    endcase
    case (hn_reg[1:0])
      2'd0:    hp_reg[3] <= i_rec_cy[7:0];
      2'd1:    hp_reg[3] <= i_est_x[15:8];
      2'd2:    hp_reg[3] <= i_est_x[7:0];
      default: hp_reg[3] <= i_est_y[15:8];
    endcase
    hp_reg[4] <= (hn_reg[1:0] == 2'd0) ? i_est_y[7:0] : flags;   // 16, 17
    case (hg_reg)
      3'd0:    hdr_byte <= hp_reg[0];
      3'd1:    hdr_byte <= hp_reg[1];
      3'd2:    hdr_byte <= hp_reg[2];
      3'd3:    hdr_byte <= hp_reg[3];
      default: hdr_byte <= hp_reg[4];   // (indices >= 20 alias; those bytes are not headers)
    endcase
  end
  // phase of the byte selected now, from registers only (timing)
  wire       in_data = w_data_reg;
  wire       in_cnt  = in_data && w_cnt_reg;
  // Counts of one exposure ({ch1, ch0}) from the photon counter's bank (a RAM read port)
  // addressed by a register: w_e_reg moves to the next exposure while byte 1 of the
  // current one is selected, so i_cnt_data changes exactly when the next exposure's byte 0
  // is due.
  assign o_cnt_addr = w_e_reg;
  // packed as ch0 << 12 | ch1, big-endian
  wire [23:0] exp_w   = {i_cnt_data[11:0], i_cnt_data[23:12]};
  wire [7:0]  cnt_byte = (w_b_reg == 2'd0) ? exp_w[23:16] : (w_b_reg == 2'd1) ? exp_w[15:8] : exp_w[7:0];

  assign     resp_done = w_busy_reg && !w_rec_reg && !in_data && w_crc2_reg;

  reg        a_valid_reg;
  reg [1:0]  a_kind_reg;         // 0 sync, 1 data, 2 CRC high, 3 CRC low
  reg [7:0]  a_byte_reg;
  reg [15:0] wcrc_reg;
  reg        wr_reg;
  reg [7:0]  wbyte_reg;

  always @(posedge clk) begin
    a_valid_reg <= 1'b0;
    if (rst) begin
      rec_pend_reg <= 1'b0;
      w_busy_reg <= 1'b0;
      seq_reg <= 16'd0;
      dropped_reg <= 16'd0;
    end else begin
      if (i_rec_valid) rec_pend_reg <= 1'b1;
      if (w_busy_reg) begin
        a_valid_reg <= 1'b1;
        a_byte_reg <= in_cnt ? cnt_byte : hdr_byte;
        a_kind_reg <= in_data ? ((w_idx_reg == 6'd0) ? 2'd0 : 2'd1) : w_crc2_reg ? 2'd3 : 2'd2;
        w_idx_reg <= w_idx_reg + 6'd1;
        if (in_data) begin
          w_left_reg <= w_left_reg - 6'd1;
          w_data_reg <= w_left_reg != 6'd1;
          if (w_rec_reg && w_idx_reg == 6'd17) w_cnt_reg <= 1'b1;
        end else begin
          w_crc2_reg <= 1'b1;
        end
        if (in_cnt) begin
          w_b_reg <= (w_b_reg == 2'd2) ? 2'd0 : w_b_reg + 2'd1;
          if (w_b_reg == 2'd1) w_e_reg <= w_e_reg + 3'd1;
        end
        if (!in_data && w_crc2_reg) w_busy_reg <= 1'b0;
      end else if (dec_rec_reg) begin
        rec_pend_reg <= i_rec_valid;
        // the number is taken here, framed or dropped: a LINK_RESET (clr_reg, below) can
        // neither tear the seq bytes of a frame in progress nor be undone by its end
        seq_reg <= seq_reg + 16'd1;
        if (room_rec_reg) begin
          w_busy_reg <= 1'b1;
          w_rec_reg <= 1'b1;
          w_idx_reg <= 6'd0;
          w_e_reg <= 3'd0;
          w_b_reg <= 2'd0;
          w_len_reg <= rec_len_reg;
          w_left_reg <= rec_left_reg;
          w_cnt_reg <= 1'b0;
          w_crc2_reg <= 1'b0;
          w_data_reg <= 1'b1;
          w_seq_reg <= seq_reg;
        end else begin
          dropped_reg <= dropped_reg + 16'd1;
        end
      end else if (dec_resp_reg) begin
        w_busy_reg <= 1'b1;
        w_rec_reg <= 1'b0;
        w_idx_reg <= 6'd0;
        w_len_reg <= {5'd0, resp_len_reg};
        w_left_reg <= {3'd0, resp_len_reg} + 6'd3;
        w_cnt_reg <= 1'b0;
        w_crc2_reg <= 1'b0;
        w_data_reg <= 1'b1;
      end
      if (clr_reg) begin
        seq_reg <= 16'd0;
        dropped_reg <= 16'd0;
      end
    end
    // stage B
    wr_reg <= a_valid_reg && !rst;
    case (a_kind_reg)
      2'd0:    begin wbyte_reg <= a_byte_reg; wcrc_reg <= PROTO_CRC_INIT[15:0]; end
      2'd1:    begin wbyte_reg <= a_byte_reg; if (a_valid_reg) wcrc_reg <= crc_byte(wcrc_reg, a_byte_reg); end
      2'd2:    wbyte_reg <= wcrc_reg[15:8];
      default: wbyte_reg <= wcrc_reg[7:0];
    endcase
  end

  // ---- FIFO (first-word-fall-through towards the UART) ----
  reg [8:0] wp_reg, rp_reg;
  reg [7:0] mem [0:511];         // one EBR
  reg [7:0] rd_byte_reg;
  reg       out_valid_reg;       // rd_byte_reg holds a byte for the UART
  // Pop from registers only (timing): fill_nz_reg is fill_reg != 0 one cycle late, which
  // is safe because pops are never back to back (the UART needs >= 40 cycles per byte
  // anyway): after a cycle without pop the fill count cannot have dropped.
  reg       fill_nz_reg, pop_q_reg;
  wire      pop = fill_nz_reg && !pop_q_reg && (!out_valid_reg || m_ready);
  assign m_valid = out_valid_reg;
  assign m_data = rd_byte_reg;
  // Room for a whole frame, registered (timing); 4 bytes of margin cover the lag and the
  // bytes of the previous frame still in stages A/B.
  always @(posedge clk) begin
    room_rec_reg  <= fill_reg <= 10'd512 - 10'd44 - 10'd4;
    room_resp_reg <= fill_reg <= 10'd512 - 10'd10 - 10'd4;
  end
  always @(posedge clk) begin
    if (wr_reg) mem[wp_reg] <= wbyte_reg;
    if (pop) rd_byte_reg <= mem[rp_reg];
    fill_nz_reg <= !rst && fill_reg != 10'd0;
    pop_q_reg <= pop;
    if (rst) begin
      wp_reg <= 9'd0;
      rp_reg <= 9'd0;
      fill_reg <= 10'd0;
      out_valid_reg <= 1'b0;
    end else begin
      if (wr_reg) wp_reg <= wp_reg + 9'd1;
      if (pop) rp_reg <= rp_reg + 9'd1;
      fill_reg <= fill_reg + {9'd0, wr_reg} - {9'd0, pop};
      if (pop) out_valid_reg <= 1'b1;
      else if (m_ready) out_valid_reg <= 1'b0;
    end
  end
  // ---- link rate ----
  // A LINK_BAUD write is answered at the old rate; the new rate applies once the transmit
  // path is empty (no response pending, builder and FIFO empty, the UART idle), so the
  // host switches after it has the answer. A rate other than 3 Mbaud falls back to 3 Mbaud
  // after 2^LINK_QUIET_W cycles without an accepted command (a host that left at 12 Mbaud
  // does not lock the next one out).
  reg [1:0]  baud_reg, baud_req_reg;
  reg        baud_pend_reg;
  reg        tx_idle_reg;        // the transmit path was empty at the previous edge
  reg [QUIET_W-1:0] quiet_reg;
  reg        quiet_top_reg;      // == (quiet_reg == all ones), registered
  always @(posedge clk) begin
    tx_idle_reg <= !resp_pend_reg && !w_busy_reg && !a_valid_reg && !wr_reg && fill_reg == 10'd0 && !out_valid_reg && m_ready;
    quiet_top_reg <= &quiet_reg;
    if (rst) begin
      baud_reg <= 2'd0;
      baud_pend_reg <= 1'b0;
      quiet_reg <= {QUIET_W{1'b0}};
      o_div_reg <= LINK_DIV_3M[4:0];
    end else begin
      quiet_reg <= (ex_ping_reg || ex_read_reg || ex_write_reg) ? {QUIET_W{1'b0}} : quiet_reg + 1'b1;
      if (ex_write_reg && wbaud_reg) begin
        baud_req_reg <= rpl_reg[1:0] == 2'd3 ? 2'd0 : rpl_reg[1:0];   // 3 is stored as 0
        baud_pend_reg <= 1'b1;
      end else if (baud_pend_reg && tx_idle_reg && !resp_pend_reg) begin
        baud_reg <= baud_req_reg;
        baud_pend_reg <= 1'b0;
      end else if (quiet_top_reg && !baud_pend_reg) begin
        baud_reg <= 2'd0;
      end
      o_div_reg <= baud_reg == 2'd1 ? 5'd8 : baud_reg == 2'd2 ? 5'd4 : LINK_DIV_3M[4:0];
    end
  end

  // ---- host watchdog (WDOG) ----
  // Every accepted command restarts it (one edge after it executes: registered, timing; a
  // WDOG write takes effect at that edge too). WDOG = N != 0: N x 2^WDOG_PRE_W + 3 cycles
  // after the last accepted command executed it has expired; expired while the core is running,
  // it pulses o_wdog_reg once (the core aborts the run, the laser goes off, the beam is
  // centred). Only an accepted command (the host is back) re-arms it.
`ifdef FORMAL_COVER
  localparam integer WPW = 2;    // cover traces only (make formal): a 4-cycle unit
`else
  localparam integer WPW = WDOG_PRE_W;
`endif
  reg [15:0] wdog_reg;           // WDOG (0 = off)
  reg [WPW-1:0] wpre_reg;        // cycles within the unit
  reg        wtick_reg;          // == &wpre_reg, registered (timing: wcnt_reg's enable)
  reg [15:0] wcnt_reg;           // whole units since the last accepted command (wraps)
  reg        weq_reg;            // == (wcnt_reg == wdog_reg != 0), registered (timing)
  reg        wexp_reg;           // expired since the last accepted command
  reg        wfired_reg;         // o_wdog_reg pulsed since the last accepted command
  reg        wfeed_reg = 1'b0;       // a command executed in the previous cycle
  reg        wwr_reg = 1'b0;     // and it was a WDOG write (the payload still holds)
  always @(posedge clk) begin
    wfeed_reg <= ex_ping_reg || ex_read_reg || ex_write_reg;
    wwr_reg <= !rst && ex_write_reg && wwdog_reg;
    if (rst) wdog_reg <= 16'd0;
    else if (wwr_reg) wdog_reg <= rpl_reg[15:0];
    if (rst || wfeed_reg) begin
      wpre_reg <= {WPW{1'b0}};
      wtick_reg <= 1'b0;
      wcnt_reg <= 16'd0;
      weq_reg <= 1'b0;
      wexp_reg <= 1'b0;
      wfired_reg <= 1'b0;
      o_wdog_reg <= 1'b0;
    end else begin
      wpre_reg <= wpre_reg + 1'b1;
      wtick_reg <= wpre_reg == {{(WPW-1){1'b1}}, 1'b0};
      if (wtick_reg) wcnt_reg <= wcnt_reg + 16'd1;
      weq_reg <= wcnt_reg == wdog_reg && wdog_reg != 16'd0;
      wexp_reg <= wexp_reg || weq_reg;
      o_wdog_reg <= (weq_reg || wexp_reg) && i_running && !wfired_reg;
      if ((weq_reg || wexp_reg) && i_running) wfired_reg <= 1'b1;
    end
  end

`ifdef FORMAL
  // ==== Formal properties (make formal; docs/reliability.md) =============================
  // The record FIFO neither reorders, duplicates nor loses bytes, never over- or
  // underflows; every record is framed or counted (REC_SEQ = records since LINK_RESET,
  // REC_DROPPED = those not framed); the deframer is back in its hunt state after at most
  // 9 bytes past a sync or 16385 cycles without a byte, whatever arrives. Environment
  // (FORMAL_HOST_LINK: this block is the top): received bytes >= 4 cycles apart (the UART
  // delivers one per 160), records >= 64 cycles apart (a multiplex cycle is >= 165);
  // record fields, register data, K and the UART's ready are free.
  reg f_past_valid = 1'b0;
  always @(posedge clk) f_past_valid <= 1'b1;
  reg [1:0] f_rx_gap_q = 2'd3;     // cycles since the last received byte, saturating at 3
  reg [5:0] f_rec_gap_q = 6'd63;   // cycles since the last record, saturating at 63
  always @(posedge clk) begin
    f_rx_gap_q <= s_valid ? 2'd0 : (f_rx_gap_q == 2'd3 ? 2'd3 : f_rx_gap_q + 2'd1);
    f_rec_gap_q <= i_rec_valid ? 6'd0 : (f_rec_gap_q == 6'd63 ? 6'd63 : f_rec_gap_q + 6'd1);
  end
`ifdef FORMAL_HOST_LINK
  always @(*) begin
    if (!f_past_valid) assume(rst);
    if (s_valid) assume(f_rx_gap_q == 2'd3);
    if (i_rec_valid) assume(f_rec_gap_q == 6'd63);
  end
`ifdef FORMAL_COVER_FILL
  // (the drop cover only: records of K = 8 as fast as allowed into a UART that never takes
  // a byte, nothing received; the FIFO fills after ~470 cycles)
  always @(*) if (f_past_valid) assume(!m_ready && !s_valid && i_k == 4'd8 && i_rec_valid == (f_rec_gap_q == 6'd63));
`endif
`endif

  // -- FIFO: one byte, chosen by the solver when it is written, followed to the output --
  (* anyseq *) reg f_pick;
  reg        f_armed = 1'b0, f_out = 1'b0;   // tracking a byte / it was popped
  reg [7:0]  f_data;
  reg [9:0]  f_pos;                           // bytes ahead of it in the FIFO
  reg [8:0]  f_addr;
  always @(posedge clk) begin
    if (rst) begin
      f_armed <= 1'b0;
      f_out <= 1'b0;
    end else if (!f_armed) begin
      if (wr_reg && f_pick) begin
        f_armed <= 1'b1;
        f_data <= wbyte_reg;
        f_addr <= wp_reg;
        f_pos <= fill_reg - {9'd0, pop};
      end
    end else if (!f_out && pop) begin
      if (f_pos == 10'd0) f_out <= 1'b1;
      else f_pos <= f_pos - 10'd1;
    end
  end
  reg f_rv_q = 1'b0;       // rv_reg in the previous cycle
  always @(posedge clk) f_rv_q <= rv_reg;
  reg f_popped_q = 1'b0;   // the tracked byte was popped in the previous cycle
  always @(posedge clk) f_popped_q <= !rst && f_armed && !f_out && pop && f_pos == 10'd0;
  reg [9:0] f_fill_q;
  reg       f_wr_q, f_clr_q = 1'b1;
  always @(posedge clk) begin f_fill_q <= fill_reg; f_wr_q <= wr_reg; f_clr_q <= rst; end

  always @(*) if (f_past_valid) begin
    P_link_fifo_no_overflow: assert(fill_reg <= 10'd512 && !(wr_reg && !pop && fill_reg == 10'd512));
    P_link_fifo_no_underflow: assert(!(pop && fill_reg == 10'd0));
    if (f_popped_q) P_link_fifo_byte_in_order: assert(out_valid_reg && rd_byte_reg == f_data);
  end

  // -- records: each one framed or counted, numbered since the last LINK_RESET --
  reg [15:0] f_recs, f_frames;   // records in / record frames started, since LINK_RESET
  wire       f_rec_start = dec_rec_reg && !w_busy_reg && room_rec_reg;
  always @(posedge clk) begin
    if (rst) begin
      f_recs <= 16'd0;
      f_frames <= 16'd0;
    end else if (clr_reg) begin
      f_recs <= ((dec_rec_reg && !w_busy_reg) ? i_rec_valid : (rec_pend_reg || i_rec_valid)) ? 16'd1 : 16'd0;
      f_frames <= 16'd0;
    end else begin
      f_recs <= f_recs + {15'd0, i_rec_valid};
      f_frames <= f_frames + {15'd0, f_rec_start};
    end
  end
  always @(*) if (f_past_valid) begin
    P_link_rec_not_overwritten: assert(!(i_rec_valid && rec_pend_reg && !(dec_rec_reg && !w_busy_reg)));
    P_link_rec_counted: assert(f_recs == seq_reg + {15'd0, rec_pend_reg});
    P_link_rec_framed_or_dropped: assert(f_frames == seq_reg - dropped_reg);
  end

  // -- deframer: back to hunt after a bounded number of bytes or of silent cycles --
  reg [3:0]  f_nbytes;    // bytes taken since the sync that left hunt
  reg [14:0] f_quiet;     // cycles without a byte while not hunting (saturating)
  always @(posedge clk) begin
    if (rst || rs_reg == R_HUNT) f_nbytes <= 4'd0;
    else if (rv_reg && f_nbytes != 4'd15) f_nbytes <= f_nbytes + 4'd1;
    if (rst || rv_reg || rs_reg == R_HUNT) f_quiet <= 15'd0;
    else if (f_quiet != 15'h7FFF) f_quiet <= f_quiet + 15'd1;
  end
  always @(*) if (f_past_valid) begin
    P_link_rx_state_legal: assert(rs_reg <= R_CRCL);
    P_link_rx_hunt_within_9_bytes: assert(rs_reg == R_HUNT || f_nbytes <= 4'd8);   // the 9th ends the frame
    P_link_rx_hunt_within_16385_quiet_cycles: assert(rs_reg == R_HUNT || f_quiet <= 15'd16384);
  end

  // -- host watchdog: never when off, only after WDOG units without a command and during a
  // run, and exactly then --
  reg [31:0] f_sil = 32'd0;     // cycles since the last accepted command or reset (saturating)
  reg        f_run_q = 1'b0;    // i_running in the previous cycle
  always @(posedge clk) begin
    f_run_q <= i_running;
    if (rst || wfeed_reg) f_sil <= 32'd0;
    else if (f_sil != 32'hFFFFFFFF) f_sil <= f_sil + 32'd1;
  end
  wire [31:0] f_wt   = {16'd0, wdog_reg} << WPW;        // the timeout in cycles
  wire [31:0] f_wcnt = {16'd0, wcnt_reg} << WPW | {{(32-WPW){1'b0}}, wpre_reg};
  wire        f_wrap = f_sil >= (32'd1 << (16 + WPW));   // the unit count has wrapped
  always @(*) if (f_past_valid) begin
    P_link_wdog_off_no_trip: assert(wdog_reg != 16'd0 || !o_wdog_reg);
    P_link_wdog_trip_after_silence: assert(!o_wdog_reg || (f_run_q && f_sil >= f_wt + 32'd2));
    if (f_run_q && wdog_reg != 16'd0 && f_sil == f_wt + 32'd2) P_link_wdog_trip_in_time: assert(o_wdog_reg);
  end

  // Invariants that make the proof inductive (each is itself proven).
  always @(*) if (f_past_valid) begin
    I_link_wdog_count: assert((f_wrap || f_wcnt == f_sil) && wtick_reg == &wpre_reg);
    I_link_wdog_flags: assert((wdog_reg == 16'd0 ? (!weq_reg && !wexp_reg && !wfired_reg && !o_wdog_reg) :
                               (wexp_reg == (f_sil >= f_wt + 32'd2) &&
                                (f_wrap || weq_reg == (f_sil >= f_wt + 32'd1 && f_sil <= f_wt + (32'd1 << WPW))))) &&
                              (!wfired_reg || wexp_reg) && (!o_wdog_reg || wfired_reg));
    I_link_fifo_pointers: assert(wp_reg - rp_reg == fill_reg[8:0] && fill_nz_reg == (!f_clr_q && f_fill_q != 10'd0) &&
                                 (f_clr_q || fill_reg == f_fill_q + {9'd0, f_wr_q} - {9'd0, pop_q_reg}));
    if (f_armed && !f_out)
      I_link_fifo_tracked: assert(f_pos < fill_reg && f_addr == rp_reg + f_pos[8:0] && mem[f_addr] == f_data);
    I_link_rx_bytes: assert((rs_reg == R_TYPE && f_nbytes == 4'd0) || (rs_reg == R_LEN && f_nbytes == 4'd1) ||
                            (rs_reg == R_PAY && rlen_reg != 3'd0 && rlen_reg <= 3'd5 && rcnt_reg < rlen_reg &&
                             f_nbytes == 4'd2 + {1'b0, rcnt_reg}) ||
                            (rs_reg == R_CRCH && rlen_reg <= 3'd5 && f_nbytes == 4'd2 + {1'b0, rlen_reg}) ||
                            (rs_reg == R_CRCL && rlen_reg <= 3'd5 && f_nbytes == 4'd3 + {1'b0, rlen_reg}) ||
                            rs_reg == R_HUNT);
    I_link_rx_last: assert(f_rv_q || rlast_reg == (rcnt_reg + 3'd1 == rlen_reg));
    if (rv_reg) I_link_rx_spaced: assert(!f_rv_q);
    if (w_busy_reg) I_link_builder: assert(w_data_reg == (w_left_reg != 6'd0) && (!w_data_reg || !w_crc2_reg) &&
                                           {1'b0, w_idx_reg} + {1'b0, w_left_reg} <= (w_rec_reg ? 7'd42 : 7'd8) + {6'd0, w_crc2_reg});
    if (w_busy_reg && w_rec_reg) I_link_record_frame: assert(!rec_pend_reg && !dec_rec_reg && !dec_resp_reg &&
                                           f_rec_gap_q >= {1'b0, w_idx_reg} + 6'd1 && f_rec_gap_q <= {1'b0, w_idx_reg} + 6'd13);
    if (w_busy_reg && !w_rec_reg) I_link_response_frame: assert(!dec_rec_reg && !dec_resp_reg &&
                                           (!rec_pend_reg || f_rec_gap_q <= {1'b0, w_idx_reg} + 6'd1));
    if (rec_pend_reg) I_link_record_pending: assert(f_rec_gap_q <= 6'd12);
    if (dec_rec_reg) I_link_record_decided: assert(rec_pend_reg && !w_busy_reg && !dec_resp_reg && f_rec_gap_q <= 6'd12);
    if (dec_resp_reg) I_link_response_decided: assert(!w_busy_reg && (!rec_pend_reg || f_rec_gap_q == 6'd0));
    if (f_clr_q) I_link_after_reset: assert(!w_busy_reg && !rec_pend_reg && !dec_rec_reg && !dec_resp_reg && !resp_pend_reg &&
                                            fill_reg == 10'd0 && wp_reg == rp_reg && !a_valid_reg && !wr_reg && !out_valid_reg &&
                                            seq_reg == 16'd0 && dropped_reg == 16'd0 && rs_reg == R_HUNT && rd_wait_reg == 4'd0 &&
                                            !f_armed && !f_popped_q && f_recs == 16'd0 && f_frames == 16'd0 && !rv_reg);
    I_link_room: assert(room_rec_reg == (f_fill_q <= 10'd464) && room_resp_reg == (f_fill_q <= 10'd498) &&
                        rec_left_reg <= 6'd42);
    if (resp_pend_reg || dec_resp_reg || (w_busy_reg && !w_rec_reg)) I_link_resp_len: assert(resp_len_reg <= 3'd5);
    I_link_fifo_room_for_frame: assert(fill_reg + {9'd0, a_valid_reg} + {9'd0, wr_reg} +
                                       (w_busy_reg ? {4'd0, w_left_reg} + (w_crc2_reg ? 10'd1 : 10'd2) : 10'd0) +
                                       (dec_resp_reg ? {7'd0, resp_len_reg} + 10'd5 : 10'd0) +
                                       (dec_rec_reg && room_rec_reg ? {4'd0, rec_left_reg} + 10'd2 : 10'd0) <= 10'd512);
    I_link_rx_timer: assert(rs_reg == R_HUNT || (rto_reg == f_quiet[13:0] && f_quiet <= 15'h3FFF &&
                            rto_top_reg == (f_quiet == 15'h3FFF)));
  end

  // Covers: the properties are not vacuous.
  always @(*) if (f_past_valid) begin
    C_link_ping_answered: cover(ex_ping_reg);
    C_link_record_framed: cover(f_rec_start && f_frames == 16'd1);
    C_link_tracked_byte_out: cover(f_popped_q);
    C_link_frame_left_halfway: cover(rs_reg == R_PAY && f_quiet == 15'd24);
    C_link_bad_crc_refused: cover(fdone_reg && !fcrc_ok_reg);
    C_link_wdog_trip: cover(o_wdog_reg);
    C_link_record_dropped: cover(dec_rec_reg && !w_busy_reg && !room_rec_reg && dropped_reg == 16'd0);
  end
`endif
endmodule
