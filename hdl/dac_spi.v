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
  // then the select. Below min -> min, else above max -> max (min > max yields min).
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
endmodule
