`default_nettype none
// bayes_spram: one iCE40UP SPRAM (SB_SPRAM256KA) as a 1K x 16 single-port memory for
// hdl/bayes.v: registered read, full-word write, power-down pins tied off.

module bayes_spram (
    input  wire        clk,
    input  wire [9:0]  i_addr,
    input  wire        i_we,
    input  wire [15:0] i_wdata,
    output wire [15:0] o_rdata
);
`ifdef MINFLUX_VBOARD_SPRAM_1K
  // the virtual board (mk/link.mk): the same behaviour as sim/spram/SB_SPRAM256KA.v at these
  // 10-bit addresses with 1/16 of its memory (the whole 16K x 16 arrays cost the simulation
  // cache misses in every mode)
  reg [15:0] mem [0:1023];
  reg [15:0] q;
  always @(posedge clk)
    if (i_we) begin
      mem[i_addr] <= i_wdata;
      q <= 16'hDEAD;
    end else q <= mem[i_addr];
  assign o_rdata = q;
`else
  SB_SPRAM256KA u_spram (
      .ADDRESS({4'd0, i_addr}), .DATAIN(i_wdata), .MASKWREN(4'hF), .WREN(i_we),
      .CHIPSELECT(1'b1), .CLOCK(clk), .STANDBY(1'b0), .SLEEP(1'b0), .POWEROFF(1'b1),
      .DATAOUT(o_rdata));
`endif
endmodule
