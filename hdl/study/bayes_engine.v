`default_nettype none
// AREA STUDY ONLY -- not a working block, not in any image, no microcode program exists.
//
// bayes_engine: the datapath of a small microcoded engine that could run the Bayesian
// estimator's specification (hls-c/bayes.c) sequentially instead of hdl/bayes.v's wide
// parallel logic. It exists to measure, with yosys synth_ice40 -dsp and nextpnr-ice40
// --pack-only (`make bayes-engine-area`), what such an engine costs in logic cells; the
// figures and what they mean for the UP5K are in docs/bayes.md "Fitting the UP5K".
//
// Everything the microcode and the host could reach is here, so that synthesis keeps it:
//   - microcode: 512 x 56 bits in EBR, loaded by the host (nothing is folded as a constant)
//   - register file: 256 x W in EBR, two copies for two read ports, host-writable
//     (the BAYES_* parameters, constants and the estimator's state would live here)
//   - ALU, W bits: add/sub with carry in, and/or/xor/andn, shifts by a register
//     (logical, arithmetic, left), saturation to signed 16 bits, signed min/max,
//     leading-one position of 16 bits; flags Z N C V
//   - one 16 x 16 signed multiply with a 32-bit accumulator (maps onto one SB_MAC16)
//   - four 10-bit index registers (increment, load; operand a indexed by one), an 11-bit
//     loop counter
//   - two 1K x 16 SPRAMs (hdl/bayes_spram.v), ping-pong: read at index 0, write at index 1
//   - a 2048 x 16 table in EBR (D(sigma), doughnut intensity, exp2/log2), host-loaded
//   - inputs: the exposure's count and a start strobe; outputs: eight 16-bit registers
//     (beam x/y, laser code, MAP x/y, std, status)
// Pipeline: fetch (EBR) -> register read (EBR) -> execute 1 (operations) -> execute 2
// (select) -> write back -> register write; no forwarding, branches resolve in execute 1
// (two delay slots) on flags three instructions old: a scheduler would fill the gaps. Not
// verified against anything.

module bayes_engine #(
    parameter integer W = 48               // datapath and register width
) (
    input  wire         clk,
    input  wire         rst,
    // host write port: 16-bit words into a staging register, committed by address
    input  wire         i_hwe,
    input  wire [15:0]  i_haddr,           // [15:14] 0 stage, 1 regfile, 2 microcode, 3 table
    input  wire [15:0]  i_hdata,
    input  wire         i_run,             // 0: halted (host may load), 1: running
    // exposure interface
    input  wire         i_start,
    input  wire [7:0]   i_count,
    output wire [127:0] o_out,
    output reg          o_busy,
    output wire [3:0]   o_flags          // Z N C V, for the host's status read
);
  localparam integer UW = 56;             // microcode word

  // a 32-bit value at the datapath width: its low W bits, extended with sign (or zero) above 32
  function [W-1:0] ext(input [31:0] v, input sgn);
    integer j;
    for (j = 0; j < W; j = j + 1) ext[j] = j < 32 ? v[j] : sgn & v[31];
  endfunction

  // ---- host staging register
  reg [UW-1:0] stage;
  always @(posedge clk)
    if (i_hwe && i_haddr[15:14] == 2'd0) stage <= {stage[UW-17:0], i_hdata};
  wire host_rf  = i_hwe && i_haddr[15:14] == 2'd1;
  wire host_uc  = i_hwe && i_haddr[15:14] == 2'd2;
  wire host_tab = i_hwe && i_haddr[15:14] == 2'd3;

  // ---- microcode fetch
  reg  [8:0]    pc;
  (* no_rw_check *) reg [UW-1:0] uc [0:511];   // the host loads it halted: no read-during-write logic
  reg  [UW-1:0] ir;
  always @(posedge clk) begin
    if (host_uc) uc[i_haddr[8:0]] <= stage[UW-1:0];
    ir <= uc[pc];
  end

  // instruction fields
  wire [5:0] f_op   = ir[55:50];
  wire [7:0] f_ra   = ir[49:42];
  wire [7:0] f_rb   = ir[41:34];
  wire [7:0] f_rd   = ir[33:26];
  wire [2:0] f_wsel = ir[25:23];   // 0 none, 1 ALU, 2 acc low, 3 acc high, 4 table, 5 SPRAM, 6 input, 7 index
  wire [1:0] f_mac  = ir[22:21];   // 0 nop, 1 load a*b, 2 (3) acc += a*b
  wire [1:0] f_ixs  = ir[20:19];
  wire [1:0] f_ixo  = ir[18:17];   // 0 nop, 1 inc, 2 load from ALU, 3 clear
  wire [2:0] f_mem  = ir[16:14];   // 0 nop, 1 SPRAM write, 2 table address, 3 bank swap, 4 output, 5 loop load
  wire [2:0] f_cond = ir[13:11];   // 0 next, 1 jump, 2 Z, 3 !Z, 4 N, 5 C, 6 loop != 0 (dec), 7 wait start
  wire [8:0] f_tgt  = ir[9:1];
  /* verilator lint_off UNUSEDSIGNAL */
  wire       f_spare = ir[10];     // spare
  wire [2:0] h_spare = i_haddr[13:11];  // regions use the low bits only
  /* verilator lint_on UNUSEDSIGNAL */
  wire       f_ind  = ir[0];       // operand a at register f_ra | index 0's low 5 bits (per-column
                                   // values at 32-aligned bases)

  reg [9:0]  ix [0:3];             // index registers (written in the execute stage below)

  // ---- register file: two EBR copies, one write port shared with the host
  (* no_rw_check *) reg [W-1:0] rfa [0:255];   // the schedule never reads a register it writes that cycle
  (* no_rw_check *) reg [W-1:0] rfb [0:255];
  reg  [W-1:0] qa, qb;
  reg          wb_en;
  reg  [7:0]   wb_addr;
  reg  [W-1:0] wb_data;
  wire         rf_we    = host_rf | wb_en;
  wire [7:0]   rf_waddr = host_rf ? i_haddr[7:0] : wb_addr;
  wire [W-1:0] rf_wdata = host_rf ? stage[W-1:0] : wb_data;
  always @(posedge clk) begin
    if (rf_we) begin
      rfa[rf_waddr] <= rf_wdata;
      rfb[rf_waddr] <= rf_wdata;
    end
    qa <= rfa[f_ind ? {f_ra[7:5], f_ra[4:0] | ix[0][4:0]} : f_ra];
    qb <= rfb[f_rb];
  end

  // control fields travel with the operands, decoded here (the read stage) into the
  // execute stage's selects
  reg [7:0] x_rd;
  reg [2:0] x_wsel, x_mem, x_cond;
  reg [1:0] x_mac, x_ixs, x_ixo, x_log;
  reg       x_subt, x_cfc, x_shl, x_sha;
  reg       s_add, s_log, s_sh, s_sat, s_min, s_max, s_lead, s_b, s_a, x_flags;
  reg [8:0] x_tgt;
  always @(posedge clk) begin
    x_rd <= f_rd; x_wsel <= f_wsel; x_mem <= f_mem; x_cond <= f_cond;
    x_mac <= f_mac; x_ixs <= f_ixs; x_ixo <= f_ixo; x_tgt <= f_tgt;
    x_subt <= f_op == 6'd3 || f_op == 6'd4 || f_op == 6'd13 || f_op == 6'd14;
    x_cfc  <= f_op == 6'd2 || f_op == 6'd3;          // adc, sbc: carry in from the flag
    x_log  <= f_op[1:0] - 2'd1;                      // 5 and, 6 or, 7 xor, 8 andn
    x_shl  <= f_op == 6'd9;
    x_sha  <= f_op == 6'd11;
    s_add  <= f_op >= 6'd1 && f_op <= 6'd4;
    s_log  <= f_op >= 6'd5 && f_op <= 6'd8;
    s_sh   <= f_op >= 6'd9 && f_op <= 6'd11;
    s_sat  <= f_op == 6'd12;
    s_min  <= f_op == 6'd13;
    s_max  <= f_op == 6'd14;
    s_lead <= f_op == 6'd15;
    s_b    <= f_op == 6'd16;
    s_a    <= f_op == 6'd0 || f_op > 6'd16;
    x_flags <= f_op != 6'd0;
  end

  // ---- ALU (execute stage; its result is registered before anything uses it)
  reg          fc, fz, fn, fv;
  // operand b is always a register: constants (shift amounts, masks, small integers) are
  // registers the host loads, so no immediate multiplexer sits in front of the adder
  wire [W-1:0] b = qb;
  localparam integer SW = $clog2(W);
  wire [SW-1:0] sh = b[SW-1:0];
  // one adder: a + b + cin, or a - b as a + ~b + 1 (with borrow as ~carry for sbc); min and
  // max take the subtraction's sign
  wire         cin  = x_cfc ? fc : x_subt;
  wire [W-1:0] bx   = b ^ {W{x_subt}};
  wire [W:0]   sum  = {1'b0, qa} + {1'b0, bx} + {{W{1'b0}}, cin};
  // leading-one position of the low 16 bits (wider values: the microcode tests the upper word
  // first), as a tree: each level keeps the upper half if it has a one
  reg  [3:0]   lead;
  reg  [15:0]  lv;
  integer      k;
  always @* begin
    lv = qa[15:0];
    for (k = 3; k >= 0; k = k - 1) begin
      lead[k] = |(lv >> (1 << k));
      if (lead[k]) lv = lv >> (1 << k);
      lv = lv & ((16'd1 << (1 << k)) - 16'd1);
    end
  end
  // saturation to signed 16 bits: the overflow tests here, the constant chosen in execute 2
  // (at W = 16 a value always fits)
  wire [W-1:0] qs = $signed(qa) >>> 15;          // all 0 or all 1 when qa fits 16 bits
  wire sat_hi = W > 16 && ~qa[W-1] && (|qs);
  wire sat_lo = W > 16 &&  qa[W-1] && ~(&qs);
  wire [W-1:0] logic_q = x_log == 2'd0 ? qa & b : x_log == 2'd1 ? qa | b
                       : x_log == 2'd2 ? qa ^ b : qa & ~b;
  // one shifter for all three shifts: left shifts reverse the operand and the result
  function [W-1:0] rev(input [W-1:0] v);
    integer j;
    for (j = 0; j < W; j = j + 1) rev[j] = v[W - 1 - j];
  endfunction
  wire [W-1:0] shin = x_shl ? rev(qa) : qa;
  /* verilator lint_off UNUSEDSIGNAL */  // the sign bit above the result
  wire [W:0]   shr  = $signed({x_sha & qa[W-1], shin}) >>> sh;
  /* verilator lint_on UNUSEDSIGNAL */
  // (the result's reversal for left shifts is in execute 2)
  // second execute stage: the operations' results registered, then selected
  reg [W-1:0] e_sum, e_misc, e_sh, e_a, e_b;
  reg         e_c, t_add, t_misc, t_sh, t_shl, t_a, t_b, t_min, t_max, t_shi, t_slo, t_sok;
  always @(posedge clk) begin
    e_sum  <= sum[W-1:0]; e_c <= sum[W]; e_sh <= shr[W-1:0]; e_a <= qa; e_b <= b;
    e_misc <= s_log ? logic_q : ext({28'd0, lead}, 1'b0);
    t_add <= s_add; t_misc <= s_log | s_lead; t_sh <= s_sh & ~x_shl; t_shl <= x_shl;
    t_a <= s_a; t_b <= s_b; t_min <= s_min; t_max <= s_max;
    t_shi <= s_sat & sat_hi; t_slo <= s_sat & sat_lo; t_sok <= s_sat & ~sat_hi & ~sat_lo;
  end
  // min and max take a or b by the subtraction's sign (e_sum's top bit and the operands')
  wire         e_lt  = (e_a[W-1] ^ e_b[W-1]) ? e_a[W-1] : e_sum[W-1];
  wire         pick_a = t_a | t_sok | (t_min & e_lt) | (t_max & ~e_lt);
  wire         pick_b = t_b | (t_min & ~e_lt) | (t_max & e_lt);
  wire [W-1:0] alu = ({W{t_add}} & e_sum) | ({W{t_misc}} & e_misc) | ({W{t_sh}} & e_sh)
                   | ({W{t_shl}} & rev(e_sh))
                   | ({W{pick_a}} & e_a) | ({W{pick_b}} & e_b)
                   | ({W{t_shi}} & {{(W - 15){1'b0}}, {15{1'b1}}}) | ({W{t_slo}} & {{(W - 15){1'b1}}, {15{1'b0}}});
  wire         alu_c = t_add ? e_c : fc;

  // ---- multiplier with accumulator (one SB_MAC16, its adder and output register): 1 loads
  // a*b, 2 adds it (a subtraction negates an operand in the ALU first)
  reg signed [31:0] acc;
  always @(posedge clk)
    if (x_mac != 2'd0) acc <= $signed(qa[15:0]) * $signed(b[15:0]) + (x_mac[1] ? acc : 32'sd0);

  // execute -> write-back stage registers
  reg [W-1:0] r_alu;
  reg         r_c, r_flags, r_vadd, r_vsub;
  reg [7:0]   w_rd;
  reg [2:0]   w_wsel, w_mem;
  reg [1:0]   w_ixs, w_ixo;
  reg         y_flags, y_vadd, y_vsub, y_va;
  reg [7:0]   y_rd;
  reg [2:0]   y_wsel, y_mem;
  reg [1:0]   y_ixs, y_ixo;
  always @(posedge clk) begin
    y_flags <= x_flags; y_va <= qa[W-1];
    y_vadd <= s_add & ~x_subt & (qa[W-1] == b[W-1]);
    y_vsub <= s_add &  x_subt & (qa[W-1] != b[W-1]);
    y_rd <= x_rd; y_wsel <= x_wsel; y_mem <= x_mem; y_ixs <= x_ixs; y_ixo <= x_ixo;
    r_alu <= alu; r_c <= alu_c; r_flags <= y_flags; r_vadd <= y_vadd; r_vsub <= y_vsub;
    w_rd <= y_rd; w_wsel <= y_wsel; w_mem <= y_mem; w_ixs <= y_ixs; w_ixo <= y_ixo;
  end

  // ---- write-back stage: index registers, loop counter, table address, SPRAM banks,
  // outputs, flags, all from the registered ALU result
  reg [10:0] lc;
  reg [10:0] ta;
  reg        bank;
  integer q;
  always @(posedge clk) begin
    for (q = 0; q < 4; q = q + 1)            // each register its own incrementer
      if (w_ixs == q[1:0])
        case (w_ixo)
          2'd1: ix[q] <= ix[q] + 10'd1;
          2'd2: ix[q] <= r_alu[9:0];
          2'd3: ix[q] <= 10'd0;
          default: ;
        endcase
    if (w_mem == 3'd2) ta <= r_alu[10:0];
    if (w_mem == 3'd3) bank <= ~bank;
    if (w_mem == 3'd5) lc <= r_alu[10:0];
    else if (x_cond == 3'd6 && lc != 11'd0) lc <= lc - 11'd1;
  end

  (* no_rw_check *) reg [15:0] tab [0:2047];
  reg  [15:0] tq;
  always @(posedge clk) begin
    if (host_tab) tab[i_haddr[10:0]] <= i_hdata;
    tq <= tab[ta];
  end

  wire [15:0] sq0, sq1;
  wire        sp_we = w_mem == 3'd1;
  bayes_spram u_sp0 (.clk(clk), .i_addr(bank ? ix[1] : ix[0]), .i_we(sp_we & bank),
                     .i_wdata(r_alu[15:0]), .o_rdata(sq0));
  bayes_spram u_sp1 (.clk(clk), .i_addr(bank ? ix[0] : ix[1]), .i_we(sp_we & ~bank),
                     .i_wdata(r_alu[15:0]), .o_rdata(sq1));
  wire [15:0] spq = bank ? sq1 : sq0;

  reg [15:0] outr [0:7];
  genvar g;
  generate
    for (g = 0; g < 8; g = g + 1) begin : g_out
      assign o_out[16 * g +: 16] = outr[g];
    end
  endgenerate
  always @(posedge clk)
    if (w_mem == 3'd4) outr[w_rd[2:0]] <= r_alu[15:0];

  reg [7:0] cnt_q;
  always @(posedge clk) cnt_q <= i_count;
  always @(posedge clk) begin
    wb_en   <= w_wsel != 3'd0 && i_run;
    wb_addr <= w_rd;
    case (w_wsel)
      3'd2:    wb_data <= ext(acc, 1'b1);                 // the low W bits at W < 32
      3'd3:    wb_data <= ext({{16{acc[31]}}, acc[31:16]}, 1'b1);
      3'd4:    wb_data <= ext({16'd0, tq}, 1'b0);
      3'd5:    wb_data <= ext({{16{spq[15]}}, spq}, 1'b1);
      3'd6:    wb_data <= ext({24'd0, cnt_q}, 1'b0);
      3'd7:    wb_data <= ext({22'd0, ix[w_ixs]}, 1'b0);
      default: wb_data <= r_alu;
    endcase
  end

  // ---- flags and sequencing (branches resolve in the execute stage on the flags of the
  // instructions before: two delay slots plus the flag latency, for the scheduler to fill)
  reg r_va;
  always @(posedge clk) r_va <= y_va;
  assign o_flags = {fz, fn, fc, fv};
  reg taken;
  always @* begin
    case (x_cond)
      3'd1: taken = 1'b1;
      3'd2: taken = fz;
      3'd3: taken = ~fz;
      3'd4: taken = fn;
      3'd5: taken = fc;
      3'd6: taken = lc != 11'd0;
      3'd7: taken = ~i_start;              // wait: stay until the exposure ends
      default: taken = 1'b0;
    endcase
  end
  always @(posedge clk)
    if (rst || !i_run) begin
      pc <= 9'd0; fc <= 1'b0; fz <= 1'b0; fn <= 1'b0; fv <= 1'b0; o_busy <= 1'b0;
    end else begin
      pc <= taken ? x_tgt : pc + 9'd1;
      o_busy <= x_cond != 3'd7;
      if (r_flags) begin
        fz <= r_alu == {W{1'b0}};
        fn <= r_alu[W-1];
        fc <= r_c;
        fv <= (r_vadd | r_vsub) & (r_alu[W-1] != r_va);
      end
    end
endmodule
