`default_nettype none
// Per-exposure photon counters: accumulates the captured APD counts of each channel while
// the (capture-latency aligned) detection gate is open and banks them per exposure.

module photon_counter #(
  parameter K_MAX   = 8,   // exposures per cycle (bank depth)
  parameter N_CH    = 2,   // APD channels
  parameter COUNT_W = 12,  // bits per count, saturating at 2**COUNT_W - 1
  parameter CNT_W   = 4,   // bits of the per-cycle count from apd_capture
  parameter LAT     = 3    // cycles from the gate register to the count it must accept
) (
  input  wire                          clk,
  input  wire                          rst,
  input  wire [N_CH*CNT_W-1:0]         i_cnt,    // per-cycle counts from apd_capture
  input  wire                          i_gate,   // detection gate as driven on the pin
  input  wire [2:0]                    i_exp,    // exposure index of the gate
  input  wire                          i_rec,    // 1-cycle pulse after the last gate of a cycle
  output reg                           o_rec_valid_reg, // bank holds a complete cycle
  output reg  [K_MAX*N_CH*COUNT_W-1:0] o_counts_reg,    // entry (k,ch) at (k*N_CH+ch)*COUNT_W
  output reg  [K_MAX*N_CH-1:0]         o_sat_reg        // count (k,ch) saturated
);
  initial begin
    if (K_MAX != 8 || LAT < 2 || COUNT_W < 12 || COUNT_W > 16) begin
      $display("photon_counter: K_MAX must be 8, LAT >= 2, COUNT_W 12..16"); $finish;
    end
  end

  localparam [COUNT_W-1:0] CMAX = {COUNT_W{1'b1}};

  // Gate, exposure and record strobe delayed so that a pulse arriving while the gate pin
  // is high is accumulated, and one arriving while it is low is not.
  reg [LAT:0]     gate_sr = {(LAT+1){1'b0}};
  reg [3*LAT+2:0] exp_sr  = {(3*LAT+3){1'b0}};
  reg [LAT-1:0]   rec_sr  = {LAT{1'b0}};
  wire       gd      = gate_sr[LAT-1];  // aligned with i_cnt
  wire       gd_prev = gate_sr[LAT];
  wire [2:0] exp_prev = exp_sr[3*LAT+2:3*LAT];
  wire [2:0] exp_d    = exp_sr[3*LAT-1:3*LAT-3];

  reg [N_CH*COUNT_W-1:0] acc_reg;
  reg [N_CH-1:0]         acc_sat_reg;

  // Saturating next value of each accumulator; a gate that just opened starts from 0.
  wire [N_CH*COUNT_W-1:0] acc_next;
  wire [N_CH-1:0]         sat_next;
  genvar g;
  generate
    for (g = 0; g < N_CH; g = g + 1) begin : g_acc
      wire [COUNT_W:0] sum = (gd_prev ? {1'b0, acc_reg[g*COUNT_W +: COUNT_W]} : {(COUNT_W+1){1'b0}})
                             + {{(COUNT_W+1-CNT_W){1'b0}}, i_cnt[g*CNT_W +: CNT_W]};
      assign acc_next[g*COUNT_W +: COUNT_W] = sum[COUNT_W] ? CMAX : sum[COUNT_W-1:0];
      assign sat_next[g] = (gd_prev & acc_sat_reg[g]) | sum[COUNT_W];
    end
  endgenerate

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
    if (gd) begin
      acc_reg     <= acc_next;
      acc_sat_reg <= sat_next;
    end

    for (e = 0; e < K_MAX; e = e + 1) begin
      if (gd && !gd_prev && exp_d == 3'd0) begin
        // first exposure of a cycle opens: forget the previous cycle
        o_counts_reg[e*N_CH*COUNT_W +: N_CH*COUNT_W] <= {(N_CH*COUNT_W){1'b0}};
        o_sat_reg[e*N_CH +: N_CH] <= {N_CH{1'b0}};
      end else if (gd_prev && !gd && exp_prev == e[2:0]) begin
        o_counts_reg[e*N_CH*COUNT_W +: N_CH*COUNT_W] <= acc_reg;
        o_sat_reg[e*N_CH +: N_CH] <= acc_sat_reg;
      end
    end
  end
endmodule
