`default_nettype none
// Per-exposure photon counters: accumulates the captured APD counts of each channel while
// the (capture-latency aligned) detection gate is open and banks them per exposure in a
// RAM (EBR). A record may span several multiplex cycles (aggregation, i_keep): a gate then
// starts from its exposure's banked value, so each bank entry holds the sum over the
// record's cycles. Counts saturate at 2^COUNT_W - 1; o_sat_any_reg flags a record in which
// any count saturated.
//
// The bank has two read ports (two EBR copies written together): one gives the start value
// of the next gate, the other serves the host link's record framer (o_rd_data_reg, one
// cycle after i_rd_addr). The estimator gets the channel sums of exposures 0..3 as
// registers (o_nsum_reg), zero for exposures the record did not visit.

module photon_counter #(
  parameter K_MAX   = 8,   // exposures per cycle (bank depth)
  parameter N_CH    = 2,   // APD channels
  parameter COUNT_W = 12,  // bits per count, saturating at 2**COUNT_W - 1
  parameter CNT_W   = 4,   // bits of the per-cycle count from apd_capture
  parameter LAT     = 3,   // cycles from the gate register to the count it must accept
  parameter RUN_W   = 24   // bits of the run's photon count
) (
  input  wire                          clk,
  input  wire                          rst,
  input  wire [N_CH*CNT_W-1:0]         i_cnt,    // per-cycle counts from apd_capture
  input  wire                          i_gate,   // detection gate as driven on the pin
  input  wire [2:0]                    i_exp,    // exposure index of the gate
  input  wire                          i_keep,   // this cycle adds to the bank (not the first
                                                 // cycle of a record; stable from the cycle
                                                 // start to its first gate)
  input  wire                          i_rec,    // 1-cycle pulse: the bank is a complete record
  output reg                           o_rec_valid_reg, // bank holds a complete record
  output reg  [4*(COUNT_W+1)-1:0]      o_nsum_reg,      // ch0 + ch1 of exposure e at e*(COUNT_W+1)
  output reg                           o_sat_any_reg,   // a count of the record saturated
  input  wire [2:0]                    i_rd_addr,       // framer read port: exposure ...
  output reg  [N_CH*COUNT_W-1:0]       o_rd_data_reg,   // ... its counts, ch c at c*COUNT_W
  input  wire                          i_run_clr,       // a run starts
  output wire [RUN_W-1:0]              o_run_ph_reg,    // photons the gates accepted since (saturating)
  output wire [RUN_W-1:0]              o_run_raw_reg,   // the same count modulo 2^RUN_W ...
  output wire                          o_run_ovf_reg    // ... and whether it overflowed
);
  initial begin
    if (K_MAX != 8 || N_CH != 2 || LAT < 2 || COUNT_W < 12 || COUNT_W > 16 || CNT_W > 11 || RUN_W < 13 || RUN_W > 31) begin
      $display("photon_counter: K_MAX must be 8, N_CH 2, LAT >= 2, COUNT_W 12..16, CNT_W <= 11, RUN_W 13..31"); $finish;
    end
  end

  localparam [COUNT_W-1:0] CMAX = {COUNT_W{1'b1}};
  localparam W = N_CH * COUNT_W;

  // Gate, exposure and record strobe delayed so that a pulse arriving while the gate pin
  // is high is accumulated, and one arriving while it is low is not.
  reg [LAT:0]     gate_sr = {(LAT+1){1'b0}};
  reg [3*LAT+2:0] exp_sr  = {(3*LAT+3){1'b0}};
  reg [LAT-1:0]   rec_sr  = {LAT{1'b0}};
  wire       gd      = gate_sr[LAT-1];  // aligned with i_cnt
  wire       gd_prev = gate_sr[LAT];
  wire [2:0] exp_prev = exp_sr[3*LAT+2:3*LAT];
  wire [2:0] exp_d    = exp_sr[3*LAT-1:3*LAT-3];
  wire       first_open = gd && !gd_prev && exp_d == 3'd0 && !keep_reg;   // a record starts

  reg [W-1:0] acc_reg;
  // Start value of a gate that opens: its exposure's bank entry when the cycle adds to the
  // bank, else 0. Read every cycle (the exposure index is stable for >= 160 cycles before
  // its gate opens; the entry was last written at its previous close).
  (* ram_style = "block" *) reg [W-1:0] bank_a [0:K_MAX-1];   // base read port
  (* ram_style = "block" *) reg [W-1:0] bank_b [0:K_MAX-1];   // framer read port
  reg [W-1:0] base_q_reg, base_reg;
  reg         keep_reg;
  integer bi;
  initial for (bi = 0; bi < K_MAX; bi = bi + 1) begin bank_a[bi] = {W{1'b0}}; bank_b[bi] = {W{1'b0}}; end

  // Saturating next value of each accumulator.
  wire [W-1:0]    acc_next;
  wire [N_CH-1:0] ovf;
  genvar g;
  generate
    for (g = 0; g < N_CH; g = g + 1) begin : g_acc
      wire [COUNT_W:0] sum = {1'b0, gd_prev ? acc_reg[g*COUNT_W +: COUNT_W] : base_reg[g*COUNT_W +: COUNT_W]}
                             + {{(COUNT_W+1-CNT_W){1'b0}}, i_cnt[g*CNT_W +: CNT_W]};
      assign acc_next[g*COUNT_W +: COUNT_W] = sum[COUNT_W] ? CMAX : sum[COUNT_W-1:0];
      assign ovf[g] = sum[COUNT_W];
    end
  endgenerate
  wire [COUNT_W:0] acc_sum = {1'b0, acc_reg[COUNT_W-1:0]} + {1'b0, acc_reg[2*COUNT_W-1:COUNT_W]};
  // the run's photons: every count the gates accept (not saturated per exposure)
  // Timing: the sum of the two channels is registered first; the count is two halves, the
  // carry out of the low 12 bits reaching the high part one cycle later (run_cp_reg), and a
  // sticky carry out of the high part for the saturation. o_run_raw_reg ({hi, lo}) lacks a
  // pending carry for that cycle; o_run_ph_reg (the RUN_PHOTONS read) includes it.
  localparam HW = RUN_W - 12;
  reg  [CNT_W:0]   run_c_reg = {(CNT_W+1){1'b0}};
  reg  [11:0]      run_lo_reg = 12'd0;
  reg  [HW-1:0]    run_hi_reg = {HW{1'b0}};
  reg              run_cp_reg = 1'b0;
  reg              run_ovf_reg = 1'b0;
  reg              run_add_reg = 1'b0;   // run_c_reg holds counts the gate accepted
  wire [12:0]      run_lo_next = {1'b0, run_lo_reg} + {{(12-CNT_W){1'b0}}, run_c_reg};
  wire [HW:0]      run_hi_next = {1'b0, run_hi_reg} + {{HW{1'b0}}, run_cp_reg};
  assign o_run_ph_reg = (run_ovf_reg || run_hi_next[HW]) ? {RUN_W{1'b1}} : {run_hi_next[HW-1:0], run_lo_reg};
  assign o_run_raw_reg = {run_hi_reg, run_lo_reg};
  assign o_run_ovf_reg = run_ovf_reg;

  integer e;
  always @(posedge clk) begin
    if (rst) begin
      gate_sr <= {(LAT+1){1'b0}};
      rec_sr  <= {LAT{1'b0}};
      o_rec_valid_reg <= 1'b0;
    end else begin
      gate_sr <= {gate_sr[LAT-1:0], i_gate};
      rec_sr  <= {rec_sr[LAT-2:0], i_rec};
      o_rec_valid_reg <= rec_sr[LAT-1];
    end
    exp_sr <= {exp_sr[3*LAT-1:0], i_exp};
    keep_reg <= i_keep;
    base_q_reg <= bank_a[exp_d];
    base_reg <= keep_reg ? base_q_reg : {W{1'b0}};
    if (gd) acc_reg <= acc_next;
    // a gate closed: bank its counts, and the channel sum for the estimator
    if (gd_prev && !gd) begin
      bank_a[exp_prev] <= acc_reg;
      bank_b[exp_prev] <= acc_reg;
    end
    for (e = 0; e < 4; e = e + 1) begin
      if (first_open)
        o_nsum_reg[e*(COUNT_W+1) +: COUNT_W+1] <= {(COUNT_W+1){1'b0}};
      else if (gd_prev && !gd && exp_prev == e[2:0])
        o_nsum_reg[e*(COUNT_W+1) +: COUNT_W+1] <= acc_sum;
    end
    o_sat_any_reg <= (first_open ? 1'b0 : o_sat_any_reg) | (gd && |ovf);
    o_rd_data_reg <= bank_b[i_rd_addr];
    run_c_reg <= {1'b0, i_cnt[CNT_W-1:0]} + {1'b0, i_cnt[2*CNT_W-1:CNT_W]};
    run_add_reg <= gd && !rst && !i_run_clr;
    if (rst || i_run_clr) begin
      run_lo_reg <= 12'd0;
      run_hi_reg <= {HW{1'b0}};
      run_cp_reg <= 1'b0;
      run_ovf_reg <= 1'b0;
    end else begin
      if (run_add_reg) run_lo_reg <= run_lo_next[11:0];
      run_cp_reg <= run_add_reg && run_lo_next[12];
      run_hi_reg <= run_hi_next[HW-1:0];
      if (run_hi_next[HW]) run_ovf_reg <= 1'b1;
    end
  end
endmodule
