`default_nettype none
// est_synth_wrap: standalone synthesis harnesses for hdl/mlms.v and hdl/gauss1d.v (make
// est-synth): every input comes from a serial shift register and the outputs are XOR-reduced
// to one pin, so a single estimator places on the 48-pin UP5K and nextpnr times it alone.

module est_wrap_mlms (
    input  wire clk,
    input  wire si,    // serial stimulus
    output wire so     // XOR of all outputs, registered
);
  localparam W = 160;  // shift-register bits (one LC each)
  reg  [W-1:0] sr_reg;
  reg          so_reg;
  wire         ov, ook, obusy;
  wire  [15:0] ox, oy;
  always @(posedge clk) sr_reg <= {sr_reg[W-2:0], si};
  mlms u_mlms (
      .clk(clk), .rst(&sr_reg[2:0]), .i_valid(sr_reg[3]),
      .i_n0(sr_reg[16:4]), .i_n1(sr_reg[29:17]), .i_n2(sr_reg[42:30]), .i_n3(sr_reg[55:43]),
      .i_k(sr_reg[57:56]), .i_thresh(sr_reg[72:58]), .i_L(sr_reg[88:73]), .i_F(sr_reg[104:89]),
      .i_beta0(sr_reg[120:105]), .i_beta1(sr_reg[136:121]), .i_beta2(sr_reg[152:137]),
      .o_valid(ov), .o_x(ox), .o_y(oy), .o_ok(ook), .o_busy(obusy));
  always @(posedge clk) so_reg <= ^{ov, ox, oy, ook, obusy, sr_reg[W-1:153]};
  assign so = so_reg;
endmodule

module est_wrap_gauss1d (
    input  wire clk,
    input  wire si,    // serial stimulus
    output wire so     // XOR of all outputs, registered
);
  localparam W = 100;  // shift-register bits (one LC each)
  reg  [W-1:0] sr_reg;
  reg          so_reg;
  wire         ov, ook, obusy;
  wire  [15:0] ox, oy;
  always @(posedge clk) sr_reg <= {sr_reg[W-2:0], si};
  gauss1d u_gauss1d (
      .clk(clk), .rst(&sr_reg[2:0]), .i_valid(sr_reg[3]),
      .i_n0(sr_reg[16:4]), .i_n1(sr_reg[29:17]), .i_n2(sr_reg[42:30]), .i_n3(sr_reg[55:43]),
      .i_thresh(sr_reg[70:56]), .i_G(sr_reg[86:71]),
      .o_valid(ov), .o_x(ox), .o_y(oy), .o_ok(ook), .o_busy(obusy));
  always @(posedge clk) so_reg <= ^{ov, ox, oy, ook, obusy, sr_reg[W-1:87]};
  assign so = so_reg;
endmodule
