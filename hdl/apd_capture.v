`default_nettype none
// APD pulse capture: a Gray counter clocked by the APD pulse itself counts every rising
// edge; it is synchronized (2 FFs) into the clk domain and differenced per clk cycle.

module apd_capture #(
  parameter GRAY_W = 4  // counter bits: up to 2**GRAY_W - 1 pulses per clk cycle
) (
  input  wire              clk,
  input  wire              rst,    // sync reset: o_cnt_reg held at 0, history resynchronized
  input  wire              i_apd,  // APD TTL pulse, asynchronous to clk
  output reg  [GRAY_W-1:0] o_cnt_reg // pulses whose rising edge fell 3..2 clk edges earlier
);
  initial begin
    if (GRAY_W < 2 || GRAY_W > 8) begin
      $display("apd_capture: GRAY_W must be 2..8"); $finish;
    end
  end

  function [GRAY_W-1:0] gray2bin(input [GRAY_W-1:0] g);
    integer i;
    begin
      gray2bin[GRAY_W-1] = g[GRAY_W-1];
      for (i = GRAY_W - 2; i >= 0; i = i - 1)
        gray2bin[i] = gray2bin[i+1] ^ g[i];
    end
  endfunction

  // APD domain: only one bit changes per pulse, so a sample taken while it changes is
  // either the old or the new count, never a wrong one.
  // A binary counter beside the Gray register keeps each Gray bit one LUT from the flops.
  reg [GRAY_W-1:0] bin_reg  = {GRAY_W{1'b0}};
  reg [GRAY_W-1:0] gray_reg = {GRAY_W{1'b0}};
  wire [GRAY_W-1:0] bin_inc = bin_reg + 1'b1;
  always @(posedge i_apd) begin
    bin_reg  <= bin_inc;
    gray_reg <= bin_inc ^ (bin_inc >> 1);
  end

  // clk domain: two-FF synchronizer, then the difference to the previous sample.
  reg [GRAY_W-1:0] sync1_reg = {GRAY_W{1'b0}};
  reg [GRAY_W-1:0] sync2_reg = {GRAY_W{1'b0}};
  reg [GRAY_W-1:0] prev_reg  = {GRAY_W{1'b0}};
  wire [GRAY_W-1:0] bin2 = gray2bin(sync2_reg);
  always @(posedge clk) begin
    sync1_reg <= gray_reg;
    sync2_reg <= sync1_reg;
    prev_reg  <= bin2;
    if (rst) o_cnt_reg <= {GRAY_W{1'b0}};
    else     o_cnt_reg <= bin2 - prev_reg;
  end
endmodule
