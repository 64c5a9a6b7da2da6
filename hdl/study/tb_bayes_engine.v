`timescale 1ns / 1ps
`default_nettype none
// Smoke test of the area study's engine (not of any working block): the host loads three
// registers and a short program, the engine runs it, the outputs are compared with what the
// instructions mean. It shows the datapath the area figures measure does compute; nothing
// more. `make bayes-engine-smoke`.

module tb_bayes_engine;
  reg clk = 1'b0;
  always #5 clk = ~clk;
  reg         rst = 1'b1, hwe = 1'b0, run = 1'b0;
  reg  [15:0] haddr = 16'd0, hdata = 16'd0;
  wire [127:0] o;
  wire busy;
  wire [3:0] fl;
  bayes_engine #(.W(16)) dut (.clk(clk), .rst(rst), .i_hwe(hwe), .i_haddr(haddr), .i_hdata(hdata),
      .i_run(run), .i_start(1'b0), .i_count(8'd0), .o_out(o), .o_busy(busy), .o_flags(fl));

  task hw(input [15:0] a, input [15:0] d);
    begin
      @(negedge clk); hwe = 1'b1; haddr = a; hdata = d;
      @(negedge clk); hwe = 1'b0;
    end
  endtask
  task reg_w(input [7:0] r, input [15:0] v);
    begin hw(16'h0000, v); hw({8'h40, r}, 16'd0); end
  endtask
  // op ra rb rd wsel mac mem cond tgt
  task uc_w(input [8:0] pc, input [5:0] op, input [7:0] ra, input [7:0] rb, input [7:0] rd,
            input [2:0] wsel, input [1:0] mac, input [2:0] mem, input [2:0] cond, input [8:0] tgt);
    reg [55:0] w;
    begin
      w = {op, ra, rb, rd, wsel, mac, 2'd0, 2'd0, mem, cond, 1'b0, tgt, 1'b0};
      hw(16'h0000, {8'd0, w[55:48]}); hw(16'h0000, w[47:32]); hw(16'h0000, w[31:16]);
      hw(16'h0000, w[15:0]); hw({7'b1000000, pc}, 16'd0);
    end
  endtask

  integer pc, fails = 0;
  task check(input integer k, input [15:0] want);
    begin
      if (o[16 * k +: 16] !== want) begin
        $display("FAIL out[%0d] = %0d, want %0d", k, o[16 * k +: 16], want);
        fails = fails + 1;
      end
    end
  endtask
  initial begin
    repeat (3) @(negedge clk);
    rst = 1'b0;
    reg_w(8'd1, 16'd1000); reg_w(8'd2, 16'd234); reg_w(8'd3, 16'd3);
    for (pc = 0; pc < 32; pc = pc + 1) uc_w(pc[8:0], 6'd0, 8'd0, 8'd0, 8'd0, 3'd0, 2'd0, 3'd0, 3'd0, 9'd0);
    uc_w(9'd0,  6'd1,  8'd1,  8'd2, 8'd10, 3'd1, 2'd0, 3'd0, 3'd0, 9'd0);   // r10 = r1 + r2
    uc_w(9'd1,  6'd4,  8'd1,  8'd2, 8'd11, 3'd1, 2'd0, 3'd0, 3'd0, 9'd0);   // r11 = r1 - r2
    uc_w(9'd2,  6'd9,  8'd1,  8'd3, 8'd12, 3'd1, 2'd0, 3'd0, 3'd0, 9'd0);   // r12 = r1 << r3
    uc_w(9'd3,  6'd0,  8'd1,  8'd2, 8'd0,  3'd0, 2'd1, 3'd0, 3'd0, 9'd0);   // acc = r1 * r2
    uc_w(9'd4,  6'd0,  8'd1,  8'd2, 8'd0,  3'd0, 2'd2, 3'd0, 3'd0, 9'd0);   // acc += r1 * r2
    uc_w(9'd5,  6'd14, 8'd1,  8'd2, 8'd15, 3'd1, 2'd0, 3'd0, 3'd0, 9'd0);   // r15 = max
    uc_w(9'd6,  6'd13, 8'd1,  8'd2, 8'd16, 3'd1, 2'd0, 3'd0, 3'd0, 9'd0);   // r16 = min
    uc_w(9'd7,  6'd15, 8'd2,  8'd0, 8'd17, 3'd1, 2'd0, 3'd0, 3'd0, 9'd0);   // r17 = lead(r2)
    uc_w(9'd9,  6'd0,  8'd0,  8'd0, 8'd13, 3'd2, 2'd0, 3'd0, 3'd0, 9'd0);   // r13 = acc low
    uc_w(9'd10, 6'd0,  8'd0,  8'd0, 8'd14, 3'd3, 2'd0, 3'd0, 3'd0, 9'd0);   // r14 = acc high
    uc_w(9'd11, 6'd0,  8'd10, 8'd0, 8'd0,  3'd0, 2'd0, 3'd4, 3'd0, 9'd0);   // out0 = r10
    uc_w(9'd12, 6'd0,  8'd11, 8'd0, 8'd1,  3'd0, 2'd0, 3'd4, 3'd0, 9'd0);
    uc_w(9'd13, 6'd0,  8'd12, 8'd0, 8'd2,  3'd0, 2'd0, 3'd4, 3'd0, 9'd0);
    uc_w(9'd15, 6'd0,  8'd13, 8'd0, 8'd3,  3'd0, 2'd0, 3'd4, 3'd0, 9'd0);
    uc_w(9'd16, 6'd0,  8'd14, 8'd0, 8'd4,  3'd0, 2'd0, 3'd4, 3'd0, 9'd0);
    uc_w(9'd17, 6'd0,  8'd15, 8'd0, 8'd5,  3'd0, 2'd0, 3'd4, 3'd0, 9'd0);
    uc_w(9'd18, 6'd0,  8'd16, 8'd0, 8'd6,  3'd0, 2'd0, 3'd4, 3'd0, 9'd0);
    uc_w(9'd19, 6'd0,  8'd17, 8'd0, 8'd7,  3'd0, 2'd0, 3'd4, 3'd0, 9'd0);
    uc_w(9'd20, 6'd0,  8'd0,  8'd0, 8'd0,  3'd0, 2'd0, 3'd0, 3'd1, 9'd20);  // stay
    @(negedge clk); run = 1'b1;
    repeat (60) @(negedge clk);
    check(0, 16'd1234); check(1, 16'd766); check(2, 16'd8000);
    check(3, 16'((2 * 234000) & 16'hFFFF)); check(4, 16'((2 * 234000) >> 16));
    check(5, 16'd1000); check(6, 16'd234); check(7, 16'd7);
    $display("bayes-engine-smoke: %0d of 8 outputs wrong", fails);
    if (fails != 0) $fatal(1, "bayes-engine-smoke failed");
    $finish;
  end
endmodule
