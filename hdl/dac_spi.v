`default_nettype none
// Quad 16-bit SPI DAC driver (DAC8564-class 24-bit frames, SCLK = clk/2 = 24 MHz): per
// move, x and y clamped to the safe window, then frames x store, y store, amp + update all.

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
  output reg         o_busy_reg,    // frames in flight (incl. the SYNC gap after the last)
  output reg         o_moved_reg,   // 1-cycle pulse: a request was accepted
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

  // Clamp to [min, max] in 17-bit signed arithmetic: below min -> min, else above max -> max.
  function [16:0] clamp17(input [16:0] v, input [15:0] lo, input [15:0] hi);
    begin
      if ($signed(v) < $signed({lo[15], lo}))      clamp17 = {lo[15], lo};
      else if ($signed(v) > $signed({hi[15], hi})) clamp17 = {hi[15], hi};
      else                                         clamp17 = v;
    end
  endfunction

  wire [16:0] xc = clamp17(i_x, i_xmin, i_xmax);
  wire [16:0] yc = clamp17(i_y, i_ymin, i_ymax);

  // DAC8564 frame: A1 A0 | LD1 LD0 | x | DAC_SEL1 DAC_SEL0 | PD0 | D15..D0 (offset binary)
  function [23:0] frame(input [1:0] ld, input [1:0] sel, input [15:0] data);
    frame = {2'b00, ld, 1'b0, sel, 1'b0, data};
  endfunction

  reg [5:0]  ph_reg;    // cycle within the frame: 0..47 SYNC low, 48..PH_LAST gap
  reg [1:0]  fr_reg;    // frame 0 x, 1 y, 2 amp
  reg [22:0] sr_reg;    // bits still to send after the one on MOSI, MSB next
  reg [15:0] y_code_reg;
  reg [15:0] amp_reg;
  wire [5:0] ph_next = ph_reg + 6'd1;
  wire [23:0] f_x   = frame(2'b00, 2'b00, {~xc[15], xc[14:0]});          // store A
  wire [23:0] f_y   = frame(2'b00, 2'b01, {~y_code_reg[15], y_code_reg[14:0]}); // store B
  wire [23:0] f_amp = frame(2'b10, 2'b10, amp_reg);                      // C + update all

  always @(posedge clk) begin
    o_moved_reg <= 1'b0;
    if (rst) begin
      o_busy_reg <= 1'b0;
      o_sync_n_reg <= 1'b1;
      o_sclk_reg <= 1'b0;
      o_mosi_reg <= 1'b0;
      o_clamp_x_reg <= 1'b0;
      o_clamp_y_reg <= 1'b0;
    end else if (!o_busy_reg) begin
      if (i_req) begin
        o_busy_reg <= 1'b1;
        o_moved_reg <= 1'b1;
        o_clamp_x_reg <= (xc != i_x);
        o_clamp_y_reg <= (yc != i_y);
        o_x_code_reg <= xc[15:0];
        o_y_code_reg <= yc[15:0];
        y_code_reg <= yc[15:0];
        amp_reg <= i_amp;
        ph_reg <= 6'd0;
        fr_reg <= 2'd0;
        sr_reg <= f_x[22:0];
        o_sync_n_reg <= 1'b0;
        o_sclk_reg <= 1'b1;
        o_mosi_reg <= f_x[23];
      end
    end else if (ph_reg == PH_LAST) begin
      if (fr_reg == 2'd2) begin
        o_busy_reg <= 1'b0;
      end else begin
        fr_reg <= fr_reg + 2'd1;
        ph_reg <= 6'd0;
        o_sync_n_reg <= 1'b0;
        o_sclk_reg <= 1'b1;
        if (fr_reg == 2'd0) begin
          sr_reg <= f_y[22:0];
          o_mosi_reg <= f_y[23];
        end else begin
          sr_reg <= f_amp[22:0];
          o_mosi_reg <= f_amp[23];
        end
      end
    end else begin
      ph_reg <= ph_next;
      if (ph_next < 6'd48) begin
        o_sclk_reg <= ~ph_next[0];          // rising with new data, falling: DAC samples
        if (!ph_next[0]) begin
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
endmodule
