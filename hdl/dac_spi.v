`default_nettype none
// Quad 16-bit SPI DAC driver (DAC8564-class 24-bit frames, SCLK = clk/2 = 24 MHz): per
// move, x and y clamped to the safe window (2 cycles), then frames x store, y store,
// amp + update all.

module dac_spi #(
  parameter SYNC_GAP = 5  // cycles SYNC stays high after each frame (>= 80 ns at 48 MHz)
) (
  input  wire        clk,
  input  wire        rst,
  input  wire        i_req,     // move request (ignored while busy; the sequencer never does that)
  input  wire [16:0] i_x,       // signed 17-bit wanted x (centre + offset), DAC LSB
  input  wire [16:0] i_y,
  input  wire [15:0] i_amp,     // laser amplitude code for channel C (straight binary)
  input  wire [15:0] i_xmin,    // safe window, signed DAC LSB
  input  wire [15:0] i_xmax,
  input  wire [15:0] i_ymin,
  input  wire [15:0] i_ymax,
  input  wire        i_win_wr,  // a window register is written now: redo the comparisons
  output reg         o_busy_reg,    // move in progress: clamp, frames, SYNC gap after the last
  output reg         o_moved_reg,   // 1-cycle pulse: clamped codes of a new move are out
  output reg         o_clamp_x_reg, // the last accepted x was outside the window and clamped
  output reg         o_clamp_y_reg,
  output reg  [15:0] o_x_code_reg,  // last accepted clamped x, signed
  output reg  [15:0] o_y_code_reg,
  output reg         o_sclk_reg,    // SPI pins, all registered
  output reg         o_mosi_reg,
  output reg         o_sync_n_reg
);
  initial begin
    if (SYNC_GAP < 2 || SYNC_GAP > 15) begin
      $display("dac_spi: SYNC_GAP must be 2..15"); $finish;
    end
  end

  localparam [5:0] PH_LAST = 6'd47 + SYNC_GAP[5:0]; // last cycle of a frame incl. gap

  // Clamp to [min, max] over two cycles after a request (timing): first the comparisons,
  // then the select. Below min -> min, else above max -> max (an empty window, min > max: min below min, max otherwise).
  reg [16:0] x_raw_reg, y_raw_reg;
  reg        x_lt_reg, x_gt_reg, y_lt_reg, y_gt_reg;
  wire [15:0] xc = x_lt_reg ? i_xmin : (x_gt_reg ? i_xmax : x_raw_reg[15:0]);
  wire [15:0] yc = y_lt_reg ? i_ymin : (y_gt_reg ? i_ymax : y_raw_reg[15:0]);

  // DAC8564 frame: A1 A0 | LD1 LD0 | x | DAC_SEL1 DAC_SEL0 | PD0 | D15..D0 (offset binary)
  function [23:0] frame(input [1:0] ld, input [1:0] sel, input [15:0] data);
    frame = {2'b00, ld, 1'b0, sel, 1'b0, data};
  endfunction

  // One-hot phases of a move (timing): compare, select, frames.
  reg        cmp_reg, sel_reg, run_reg;
  reg [5:0]  ph_reg;      // cycle within the frame: 0..47 SYNC low, 48..PH_LAST gap
  reg        ph_last_reg; // ph_reg == PH_LAST
  reg        ph_lt47_reg; // ph_reg < 47: the next cycle still has SYNC low
  reg [1:0]  fr_reg;      // frame 0 x, 1 y, 2 amp
  reg [22:0] sr_reg;      // bits still to send after the one on MOSI, MSB next
  reg [15:0] y_code_reg;
  reg [15:0] amp_reg;
  wire [5:0] ph_next = ph_reg + 6'd1;
  wire [23:0] f_x   = frame(2'b00, 2'b00, {~xc[15], xc[14:0]});                 // store A
  wire [23:0] f_y   = frame(2'b00, 2'b01, {~y_code_reg[15], y_code_reg[14:0]}); // store B
  wire [23:0] f_amp = frame(2'b10, 2'b10, amp_reg);                             // C + update all

  always @(posedge clk) begin
    o_moved_reg <= 1'b0;
    if (rst) begin
      o_busy_reg <= 1'b0;
      cmp_reg <= 1'b0;
      sel_reg <= 1'b0;
      run_reg <= 1'b0;
      o_sync_n_reg <= 1'b1;
      o_sclk_reg <= 1'b0;
      o_mosi_reg <= 1'b0;
      o_clamp_x_reg <= 1'b0;
      o_clamp_y_reg <= 1'b0;
    end else begin
      if (!o_busy_reg && i_req) begin
        o_busy_reg <= 1'b1;
        cmp_reg <= 1'b1;
        x_raw_reg <= i_x;
        y_raw_reg <= i_y;
        amp_reg <= i_amp;
      end
      // compare; a window write during the select cycle sends it back here, so the
      // select always uses flags from the window it selects from
      if (cmp_reg || (sel_reg && i_win_wr)) begin
        // signed compares as unsigned ones with the sign bits flipped (one carry chain each)
        x_lt_reg <= {~x_raw_reg[16], x_raw_reg[15:0]} < {~i_xmin[15], i_xmin};
        x_gt_reg <= {~x_raw_reg[16], x_raw_reg[15:0]} > {~i_xmax[15], i_xmax};
        y_lt_reg <= {~y_raw_reg[16], y_raw_reg[15:0]} < {~i_ymin[15], i_ymin};
        y_gt_reg <= {~y_raw_reg[16], y_raw_reg[15:0]} > {~i_ymax[15], i_ymax};
        cmp_reg <= i_win_wr;
        sel_reg <= !i_win_wr;
      end
      if (sel_reg && !i_win_wr) begin
        sel_reg <= 1'b0;
        run_reg <= 1'b1;
        o_moved_reg <= 1'b1;
        o_clamp_x_reg <= x_lt_reg | x_gt_reg;
        o_clamp_y_reg <= y_lt_reg | y_gt_reg;
        o_x_code_reg <= xc;
        o_y_code_reg <= yc;
        y_code_reg <= yc;
        ph_reg <= 6'd0;
        ph_last_reg <= 1'b0;
        ph_lt47_reg <= 1'b1;
        fr_reg <= 2'd0;
        sr_reg <= f_x[22:0];
        o_sync_n_reg <= 1'b0;
        o_sclk_reg <= 1'b1;
        o_mosi_reg <= f_x[23];
      end
      if (run_reg) begin
        if (ph_last_reg) begin
          if (fr_reg == 2'd2) begin
            o_busy_reg <= 1'b0;
            run_reg <= 1'b0;
          end else begin
            fr_reg <= fr_reg + 2'd1;
            ph_reg <= 6'd0;
            ph_last_reg <= 1'b0;
            ph_lt47_reg <= 1'b1;
            o_sync_n_reg <= 1'b0;
            o_sclk_reg <= 1'b1;
            sr_reg <= fr_reg[0] ? f_amp[22:0] : f_y[22:0];
            o_mosi_reg <= fr_reg[0] ? f_amp[23] : f_y[23];
          end
        end else begin
          ph_reg <= ph_next;
          ph_last_reg <= (ph_next == PH_LAST);
          ph_lt47_reg <= (ph_next < 6'd47);
          if (ph_lt47_reg) begin               // ph_next < 48
            o_sclk_reg <= ph_reg[0];            // rising with new data, falling: DAC samples
            if (ph_reg[0]) begin
              sr_reg <= {sr_reg[21:0], 1'b0};
              o_mosi_reg <= sr_reg[22];
            end
          end else begin
            o_sync_n_reg <= 1'b1;
            o_sclk_reg <= 1'b0;
            o_mosi_reg <= 1'b0;
          end
        end
      end
    end
  end

`ifdef FORMAL
  // ==== Formal properties (make formal; docs/reliability.md) =============================
  // Safety: the x and y codes the DAC puts out at every update lie inside the safe window
  // that was in force when the move was clamped (an empty window, min > max, gives min or
  // max: x below min -> min, else max); every update
  // comes after an x and a y store of the same move. The DAC is modelled from the pins
  // (24 bits on SCLK falling edges while SYNC is low; SYNC high early aborts the frame).
  // With FORMAL_DAC_SPI this block is the top and the window and strobe inputs are
  // constrained as minflux_core drives them; inside the core the same are asserted.
  reg f_past_valid = 1'b0;
  always @(posedge clk) f_past_valid <= 1'b1;
  wire [63:0] f_win = {i_xmin, i_xmax, i_ymin, i_ymax};
  reg  [63:0] f_win_q;                      // the window, the strobe and reset a cycle ago
  reg         f_win_wr_q, f_rst1_q;
  always @(posedge clk) begin f_win_q <= f_win; f_win_wr_q <= i_win_wr; f_rst1_q <= rst; end
  // the window changes only in the cycle after i_win_wr (the register write) or a reset
  wire        f_win_ok = !f_past_valid || f_win_wr_q || f_rst1_q || f_win == f_win_q;
`ifdef FORMAL_DAC_SPI
  always @(*) if (!f_past_valid) assume(rst);
  always @(*) assume(f_win_ok);
`ifdef FORMAL_COVER
  // cover traces only (a move takes ~160 cycles): inputs chosen once after the reset, so
  // the solver searches one move instead of every input in every cycle
  reg [49:0] f_in_q;
  always @(posedge clk) f_in_q <= {i_x, i_y, i_amp};
  always @(*) if (f_past_valid && !f_rst1_q) assume({i_x, i_y, i_amp} == f_in_q && !i_win_wr && f_win == f_win_q);
`endif
`else
  always @(*) A_dac_win_stable: assert(f_win_ok);
`endif
  function f_in_win(input [15:0] v, input [15:0] lo, input [15:0] hi);
    f_in_win = ($signed(lo) > $signed(hi)) ? (v == lo || v == hi) : ($signed(v) >= $signed(lo) && $signed(v) <= $signed(hi));
  endfunction

  // window of the move in flight, sampled when its codes are selected
  reg [63:0] f_mwin;
  reg        f_sel_seen = 1'b0;   // a move's codes were selected since the start
  always @(posedge clk) if (!rst && sel_reg && !i_win_wr) begin f_mwin <= f_win; f_sel_seen <= 1'b1; end

  // the DAC as its datasheet describes it, driven by the pins
  reg        f_sclk_q = 1'b0, f_sync_q = 1'b1;
  reg [23:0] f_sh;
  reg [4:0]  f_n = 5'd0;
  reg        f_wx = 1'b0, f_wy = 1'b0;   // x / y stored by the move in flight
  reg [15:0] f_sx, f_sy;                 // DAC input registers A, B (offset binary)
  wire       f_frame_end = o_sync_n_reg && !f_sync_q && f_n == 5'd24;   // a whole frame
  wire [1:0] f_ld = f_sh[21:20], f_sel = f_sh[18:17];
  wire       f_update = f_frame_end && f_ld == 2'b10;                    // update all outputs
  always @(posedge clk) begin
    f_sclk_q <= o_sclk_reg;
    f_sync_q <= o_sync_n_reg;
    if (o_sync_n_reg) f_n <= 5'd0;
    else if (f_sclk_q && !o_sclk_reg) begin f_sh <= {f_sh[22:0], o_mosi_reg}; f_n <= f_n + 5'd1; end
    if (f_frame_end && f_sel == 2'd0) begin f_sx <= f_sh[15:0]; f_wx <= 1'b1; end
    if (f_frame_end && f_sel == 2'd1) begin f_sy <= f_sh[15:0]; f_wy <= 1'b1; end
    if (!rst && sel_reg && !i_win_wr) begin f_wx <= 1'b0; f_wy <= 1'b0; end
  end
  always @(*) if (f_past_valid && f_update) begin
    P_dac_update_after_xy_store: assert(f_wx && f_wy);
    P_dac_x_in_window: assert(f_in_win(f_sx ^ 16'h8000, f_mwin[63:48], f_mwin[47:32]));
    P_dac_y_in_window: assert(f_in_win(f_sy ^ 16'h8000, f_mwin[31:16], f_mwin[15:0]));
  end
  // the clamped codes reported (STATUS, co-simulation) are the window's too
  always @(*) if (f_past_valid && f_sel_seen) begin
    P_dac_code_x_in_window: assert(f_in_win(o_x_code_reg, f_mwin[63:48], f_mwin[47:32]));
    P_dac_code_y_in_window: assert(f_in_win(o_y_code_reg, f_mwin[31:16], f_mwin[15:0]));
  end

  // Invariants that make the proof inductive (each is itself proven).
  function [23:0] f_word(input [1:0] fr);
    f_word = (fr == 2'd0) ? frame(2'b00, 2'b00, {~o_x_code_reg[15], o_x_code_reg[14:0]}) :
             (fr == 2'd1) ? frame(2'b00, 2'b01, {~y_code_reg[15], y_code_reg[14:0]}) :
                            frame(2'b10, 2'b10, amp_reg);
  endfunction
  wire [23:0] f_w = f_word(fr_reg);
  wire [4:0]  f_bits = ph_reg[5:1];                 // bits the DAC has taken (ph <= 47)
  wire [23:0] f_mask = ~(24'hFFFFFF << f_bits);
  reg [1:0] f_rst_q = 2'b11;   // reset in the last two cycles (the pin model settles after it)
  always @(posedge clk) f_rst_q <= {f_rst_q[0], rst};
  always @(*) if (f_past_valid && f_rst_q == 2'b00) begin
    I_dac_phase_onehot: assert({1'b0, cmp_reg} + {1'b0, sel_reg} + {1'b0, run_reg} == (o_busy_reg ? 2'd1 : 2'd0));
    if (!run_reg) I_dac_idle_pins: assert(o_sync_n_reg && !o_sclk_reg && f_n == 5'd0 && f_sync_q && !f_sclk_q);
    if (sel_reg) I_dac_flags: assert(
      x_lt_reg == ($signed(x_raw_reg) < $signed({i_xmin[15], i_xmin})) &&
      x_gt_reg == ($signed(x_raw_reg) > $signed({i_xmax[15], i_xmax})) &&
      y_lt_reg == ($signed(y_raw_reg) < $signed({i_ymin[15], i_ymin})) &&
      y_gt_reg == ($signed(y_raw_reg) > $signed({i_ymax[15], i_ymax})));
    if (run_reg) begin
      I_dac_run_state: assert(f_sel_seen && y_code_reg == o_y_code_reg && fr_reg != 2'd3 && ph_reg <= PH_LAST &&
                              ph_last_reg == (ph_reg == PH_LAST) && ph_lt47_reg == (ph_reg < 6'd47));
      I_dac_stores: assert(f_wx == (fr_reg != 2'd0 || ph_reg > 6'd48) && f_wy == (fr_reg == 2'd2 || (fr_reg == 2'd1 && ph_reg > 6'd48)));
      if (fr_reg != 2'd0 || ph_reg > 6'd48) I_dac_stored_x: assert(f_sx == {~o_x_code_reg[15], o_x_code_reg[14:0]});
      if (fr_reg == 2'd2 || (fr_reg == 2'd1 && ph_reg > 6'd48)) I_dac_stored_y: assert(f_sy == {~y_code_reg[15], y_code_reg[14:0]});
      if (ph_reg <= 6'd47) begin
        I_dac_frame_bits: assert(!o_sync_n_reg && f_sync_q == (ph_reg == 6'd0) &&
                                 f_n == f_bits && (f_sh & f_mask) == (f_w >> (5'd24 - f_bits)) &&
                                 {o_mosi_reg, sr_reg} == (f_w << f_bits) &&
                                 f_sclk_q == ph_reg[0] && o_sclk_reg == !ph_reg[0]);
      end else if (ph_reg == 6'd48) begin
        I_dac_frame_done: assert(o_sync_n_reg && !f_sync_q && f_n == 5'd24 && f_sh == f_w && !o_sclk_reg && !f_sclk_q);
      end else begin
        I_dac_frame_gap: assert(o_sync_n_reg && f_sync_q && f_n == 5'd0 && !o_sclk_reg && !f_sclk_q);
      end
    end
  end

  // Covers: the properties are not vacuous.
  always @(*) if (f_past_valid) begin
    C_dac_update: cover(f_update);
    C_dac_update_x_clamped_low: cover(f_update && f_sx == {~f_mwin[63], f_mwin[62:48]} && f_mwin[63:48] != 16'h8000 && o_clamp_x_reg);
    C_dac_update_y_clamped_high: cover(f_update && f_sy == {~f_mwin[15], f_mwin[14:0]} && f_mwin[15:0] != 16'h7FFF && o_clamp_y_reg);
    C_dac_update_empty_window: cover(f_update && $signed(f_mwin[63:48]) > $signed(f_mwin[47:32]));
  end
`endif
endmodule
