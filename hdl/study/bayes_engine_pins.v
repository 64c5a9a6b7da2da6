`default_nettype none
// AREA STUDY ONLY (see bayes_engine.v): the engine on two pins, so that nextpnr-ice40 can place
// and route it alone for its clock rate: every input from a shift register fed by one pin,
// every output XOR-reduced into the other (the reduction and the shift register are in the
// figures; `make bayes-engine-area` reports them).

module bayes_engine_pins #(
    parameter integer W = 16
) (
    input  wire clk,
    input  wire sin,
    output reg  sout
);
  reg [40:0] sh;
  always @(posedge clk) sh <= {sh[39:0], sin};
  wire [127:0] o;
  wire         busy;
  wire [3:0]   fl;
  bayes_engine #(.W(W)) u_engine (
      .clk(clk), .rst(sh[40]), .i_hwe(sh[39]), .i_haddr(sh[38:23]), .i_hdata(sh[22:7]),
      .i_run(sh[6]), .i_start(sh[5]), .i_count({sh[4:0], sh[2:0]}),
      .o_out(o), .o_busy(busy), .o_flags(fl));
  always @(posedge clk) sout <= ^{o, busy, fl};
endmodule
