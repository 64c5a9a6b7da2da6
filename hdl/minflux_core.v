`default_nettype none
// minflux core: register file, timestamp, APD capture, photon counters, multiplex
// sequencer and DAC driver. Vendor-free; the board top adds PLL, pins and the host link.

module minflux_core (
  input  wire         clk,
  input  wire         rst,
  // register bus (32-bit words)
  input  wire         i_wr_en,
  input  wire [7:0]   i_wr_addr,
  input  wire [31:0]  i_wr_data,
  input  wire [7:0]   i_rd_addr,
  output reg  [31:0]  o_rd_data_reg,   // data of i_rd_addr, three cycles later
  // instrument pins
  input  wire [1:0]   i_apd,           // APD TTL pulses (asynchronous)
  input  wire         i_estop,         // emergency stop, active high (asynchronous)
  output wire         o_dac_sclk,
  output wire         o_dac_mosi,
  output wire         o_dac_sync_n,
  output wire         o_laser_en,      // EOM gate: laser on only inside the detection gate
  output wire         o_gate,          // detection gate (sync/trigger output)
  // count records: one per multiplex cycle
  output wire         o_rec_valid,
  output wire [31:0]  o_rec_ts,        // cycle start timestamp (clk cycles)
  output wire [15:0]  o_rec_cx,        // centre of that cycle, signed DAC LSB
  output wire [15:0]  o_rec_cy,
  output wire [191:0] o_rec_counts,    // (k, ch) at bits (2k+ch)*12 +: 12
  output wire [15:0]  o_rec_sat,
  // observation ports for co-simulation (left unconnected on the board)
  output wire [7:0]   o_dbg_apd_cnt,   // apd_capture outputs, ch1 in [7:4]
  output wire         o_dbg_dac_req,
  output wire [33:0]  o_dbg_dac_xy,    // sequencer x in [16:0], y in [33:17]
  output wire [2:0]   o_dbg_exp,
  output wire         o_dbg_busy,
  output wire [31:0]  o_dbg_xy_code,   // clamped DAC x in [15:0], y in [31:16]
  output wire [1:0]   o_dbg_clamp,
  output wire         o_dbg_moved,     // dac_spi selected the clamped codes of a move
  output wire         o_running
);
`include "minflux_regs.vh"

  initial begin
    if (REG_OFFSET0[2:0] != 3'd0 || K_MAX != 8) begin
      $display("minflux_core: the offset table must start 8-aligned and hold 8 entries"); $finish;
    end
  end

  // ---- register file ----
  reg [31:0] ncycles_reg;
  reg [3:0]  k_reg;
  reg [15:0] delay_reg, gate_reg, win_reg;
  reg [15:0] cx_reg, cy_reg, amp_reg;
  reg [15:0] xmin_reg, xmax_reg, ymin_reg, ymax_reg;
  reg [32*K_MAX-1:0] offsets_reg;
  reg [2:0]  sticky_reg;             // clamp x, clamp y, count saturated
  reg [31:0] ts_reg;

  // Emergency stop: synchronized; while active the sequencer is held idle (laser off).
  reg [1:0] estop_sync_reg = 2'b00;
  always @(posedge clk) estop_sync_reg <= {estop_sync_reg[0], i_estop};
  wire estop = estop_sync_reg[1];

  // Bus writes are registered once before they are decoded (timing): a write presented in
  // cycle t acts at the edge ending cycle t+1.
  reg        we_reg = 1'b0;
  reg [7:0]  wa_reg;
  reg [31:0] wd_reg;
  reg        win_wr_reg = 1'b0;   // == we_reg && wa_reg is a SAFE_* register, decoded early
  reg [2:0]  ctrl_reg = 3'd0;     // == CTRL bits start/stop/abort of a CTRL write, decoded early
  reg [K_MAX-1:0] off_we_reg = {K_MAX{1'b0}};  // == write to OFFSET0 + k, decoded early
  integer j;
  always @(posedge clk) begin
    we_reg <= i_wr_en && !rst;
    for (j = 0; j < K_MAX; j = j + 1)
      off_we_reg[j] <= i_wr_en && !rst && i_wr_addr == REG_OFFSET0 + j[7:0];
    ctrl_reg <= (i_wr_en && !rst && i_wr_addr == REG_CTRL) ? i_wr_data[2:0] : 3'd0;
    win_wr_reg <= i_wr_en && !rst && i_wr_addr >= REG_SAFE_XMIN && i_wr_addr <= REG_SAFE_YMAX;
    wa_reg <= i_wr_addr;
    wd_reg <= i_wr_data;
  end

  wire start = ctrl_reg[0];
  wire stop  = ctrl_reg[1];
  wire abort = ctrl_reg[2] || estop;

  wire        dac_busy, dac_moved, clamp_x, clamp_y;
  wire [15:0] x_code, y_code;
  wire        seq_req, seq_gate, seq_rec;
  wire [16:0] seq_x, seq_y;
  wire [2:0]  seq_exp;
  wire [31:0] seq_done;

  integer i;
  always @(posedge clk) begin
    ts_reg <= rst ? 32'd0 : ts_reg + 32'd1;
    if (rst) begin
      ncycles_reg <= 32'd0;
      k_reg       <= 4'd4;
      delay_reg   <= 16'd355;   // 7.4 us: seed 003 section 6.4.3 tracking timing
      gate_reg    <= 16'd1114;  // 23.2 us
      win_reg     <= 16'd95;    // 2 us window incl. the START cycle
      cx_reg      <= 16'd0;
      cy_reg      <= 16'd0;
      amp_reg     <= 16'd0;
      xmin_reg    <= 16'h8000;
      xmax_reg    <= 16'h7FFF;
      ymin_reg    <= 16'h8000;
      ymax_reg    <= 16'h7FFF;
      offsets_reg <= {(32*K_MAX){1'b0}};
      sticky_reg  <= 3'd0;
    end else begin
      // an event in the same cycle as a clear stays set
      sticky_reg <= (sticky_reg & ~((we_reg && wa_reg == REG_STATUS) ? wd_reg[3:1] : 3'd0))
                    | {rec_valid && (rec_sat != 16'd0), dac_moved && clamp_y, dac_moved && clamp_x};
      if (we_reg) begin
        case (wa_reg)
          REG_NCYCLES:   ncycles_reg <= wd_reg;
          REG_K:         k_reg <= wd_reg[3:0];
          REG_DELAY:     delay_reg <= wd_reg[15:0];
          REG_GATE:      gate_reg <= wd_reg[15:0];
          REG_WIN:       win_reg <= wd_reg[15:0];
          REG_CENTRE_X:  cx_reg <= wd_reg[15:0];
          REG_CENTRE_Y:  cy_reg <= wd_reg[15:0];
          REG_LASER_AMP: amp_reg <= wd_reg[15:0];
          REG_SAFE_XMIN: xmin_reg <= wd_reg[15:0];
          REG_SAFE_XMAX: xmax_reg <= wd_reg[15:0];
          REG_SAFE_YMIN: ymin_reg <= wd_reg[15:0];
          REG_SAFE_YMAX: ymax_reg <= wd_reg[15:0];
          default: ;
        endcase
        for (i = 0; i < K_MAX; i = i + 1)
          if (off_we_reg[i])
            offsets_reg[32*i +: 32] <= wd_reg;
      end
    end
  end

  // Register reads in three registered steps (timing): the address, then an 8:1 mux
  // inside each address group (0x00, 0x08, 0x10, 0x20), then the group select.
  function [31:0] rd_word(input [7:0] a);
    begin
      case (a)
        REG_ID:          rd_word = DESIGN_ID;
        REG_VERSION:     rd_word = DESIGN_VERSION;
        REG_STATUS:      rd_word = {27'd0, estop, sticky_reg, o_running};
        REG_NCYCLES:     rd_word = ncycles_reg;
        REG_K:           rd_word = {28'd0, k_reg};
        REG_DELAY:       rd_word = {16'd0, delay_reg};
        REG_GATE:        rd_word = {16'd0, gate_reg};
        REG_WIN:         rd_word = {16'd0, win_reg};
        REG_CENTRE_X:    rd_word = {16'd0, cx_reg};
        REG_CENTRE_Y:    rd_word = {16'd0, cy_reg};
        REG_LASER_AMP:   rd_word = {16'd0, amp_reg};
        REG_SAFE_XMIN:   rd_word = {16'd0, xmin_reg};
        REG_SAFE_XMAX:   rd_word = {16'd0, xmax_reg};
        REG_SAFE_YMIN:   rd_word = {16'd0, ymin_reg};
        REG_SAFE_YMAX:   rd_word = {16'd0, ymax_reg};
        REG_CYCLES_DONE: rd_word = seq_done;
        REG_TIMESTAMP:   rd_word = ts_reg;
        default:
          if (a[7:3] == REG_OFFSET0[7:3])   // OFFSET0 is 8-aligned, K_MAX = 8
            rd_word = offsets_reg[32*a[2:0] +: 32];
          else
            rd_word = 32'd0;
      endcase
    end
  endfunction

  reg [7:0]  ra_reg;
  reg [31:0] rd_g0_reg, rd_g1_reg, rd_g2_reg, rd_g4_reg;
  reg [4:0]  rd_grp_reg;
  always @(posedge clk) begin
    ra_reg <= i_rd_addr;
    rd_g0_reg <= rd_word({5'd0, ra_reg[2:0]});
    rd_g1_reg <= rd_word({5'd1, ra_reg[2:0]});
    rd_g2_reg <= rd_word({5'd2, ra_reg[2:0]});
    rd_g4_reg <= rd_word({5'd4, ra_reg[2:0]});
    rd_grp_reg <= ra_reg[7:3];
    case (rd_grp_reg)
      5'd0:    o_rd_data_reg <= rd_g0_reg;
      5'd1:    o_rd_data_reg <= rd_g1_reg;
      5'd2:    o_rd_data_reg <= rd_g2_reg;
      5'd4:    o_rd_data_reg <= rd_g4_reg;
      default: o_rd_data_reg <= 32'd0;
    endcase
  end

  // ---- datapath ----
  wire [APD_GRAY_W-1:0] cnt0, cnt1;
  apd_capture #(.GRAY_W(APD_GRAY_W)) u_apd0 (.clk(clk), .rst(rst), .i_apd(i_apd[0]), .o_cnt_reg(cnt0));
  apd_capture #(.GRAY_W(APD_GRAY_W)) u_apd1 (.clk(clk), .rst(rst), .i_apd(i_apd[1]), .o_cnt_reg(cnt1));

  mux_sequencer #(.K_MAX(K_MAX), .TS_W(TS_W)) u_seq (
    .clk(clk), .rst(rst),
    .i_start(start), .i_stop(stop), .i_abort(abort),
    .i_ncycles(ncycles_reg), .i_k(k_reg), .i_delay(delay_reg), .i_gate(gate_reg),
    .i_win(win_reg), .i_cx(cx_reg), .i_cy(cy_reg), .i_offsets(offsets_reg),
    .i_dac_busy(dac_busy), .i_now(ts_reg),
    .o_dac_req_reg(seq_req), .o_x_reg(seq_x), .o_y_reg(seq_y),
    .o_gate_reg(seq_gate), .o_exp_reg(seq_exp), .o_rec_reg(seq_rec),
    .o_rec_ts_reg(o_rec_ts), .o_rec_cx_reg(o_rec_cx), .o_rec_cy_reg(o_rec_cy),
    .o_cycles_done_reg(seq_done), .o_running(o_running));

  wire        rec_valid;
  wire [15:0] rec_sat;
  photon_counter #(.K_MAX(K_MAX), .N_CH(N_CH), .COUNT_W(COUNT_W), .CNT_W(APD_GRAY_W),
                   .LAT(APD_LAT)) u_cnt (
    .clk(clk), .rst(rst), .i_cnt({cnt1, cnt0}), .i_gate(seq_gate), .i_exp(seq_exp),
    .i_rec(seq_rec), .o_rec_valid_reg(rec_valid), .o_counts_reg(o_rec_counts),
    .o_sat_reg(rec_sat));

  dac_spi #(.SYNC_GAP(DAC_SYNC_GAP)) u_dac (
    .clk(clk), .rst(rst), .i_req(seq_req), .i_x(seq_x), .i_y(seq_y), .i_amp(amp_reg),
    .i_xmin(xmin_reg), .i_xmax(xmax_reg), .i_ymin(ymin_reg), .i_ymax(ymax_reg),
    .i_win_wr(win_wr_reg),
    .o_busy_reg(dac_busy), .o_moved_reg(dac_moved), .o_clamp_x_reg(clamp_x),
    .o_clamp_y_reg(clamp_y), .o_x_code_reg(x_code), .o_y_code_reg(y_code),
    .o_sclk_reg(o_dac_sclk), .o_mosi_reg(o_dac_mosi), .o_sync_n_reg(o_dac_sync_n));

  assign o_laser_en  = seq_gate;
  assign o_gate      = seq_gate;
  assign o_rec_valid = rec_valid;
  assign o_rec_sat   = rec_sat;
  assign o_dbg_apd_cnt = {cnt1, cnt0};
  assign o_dbg_dac_req = seq_req;
  assign o_dbg_dac_xy  = {seq_y, seq_x};
  assign o_dbg_exp     = seq_exp;
  assign o_dbg_busy    = dac_busy;
  assign o_dbg_xy_code = {y_code, x_code};
  assign o_dbg_clamp   = {clamp_y, clamp_x};
  assign o_dbg_moved   = dac_moved;
endmodule
