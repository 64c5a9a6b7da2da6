`default_nettype none
// Multiplex sequencer: steps the beam through K offsets around the pattern centre. Per
// exposure: beam move (DAC frames) with the laser blanked for the gate delay, then the
// detection gate with the laser on; after the last exposure the localization window.

module mux_sequencer #(
  parameter K_MAX = 8,  // offset table entries
  parameter TS_W  = 32  // timestamp bits
) (
  input  wire               clk,
  input  wire               rst,
  // control strobes (priority abort > stop > start)
  input  wire               i_start,   // start a run when idle
  input  wire               i_stop,    // finish the current cycle, then idle
  input  wire               i_abort,   // idle now: gate and laser off at once, no record
  // configuration, sampled when used (see README "Sequencer timing")
  input  wire [31:0]        i_ncycles, // cycles per run, 0 = until stopped
  input  wire [3:0]         i_k,       // exposures per cycle (0 acts as 1, > K_MAX as K_MAX)
  input  wire [15:0]        i_delay,   // gate delay (cycles from the move; 0 acts as 1)
  input  wire [15:0]        i_gate,    // gate length (cycles; 0 acts as 1)
  input  wire [15:0]        i_win,     // localization window (cycles; 0 acts as 1)
  input  wire [15:0]        i_cx,      // centre x, signed, applied at the next cycle start
  input  wire [15:0]        i_cy,      // centre y
  input  wire [32*K_MAX-1:0] i_offsets, // entry k: x in [32k +: 16], y in [32k+16 +: 16]
  input  wire               i_dac_busy,
  input  wire [TS_W-1:0]    i_now,     // free-running cycle counter
  // beam
  output reg                o_dac_req_reg,  // 1-cycle request to move to (o_x_reg, o_y_reg)
  output reg  [16:0]        o_x_reg,        // centre + offset, signed 17 bit (clamped by dac_spi)
  output reg  [16:0]        o_y_reg,
  // gate / laser
  output reg                o_gate_reg,     // detection gate open and laser on
  output reg  [2:0]         o_exp_reg,      // current exposure index
  output reg                o_rec_reg,      // 1-cycle pulse: the last gate of a cycle just closed
  // record info of the cycle whose last gate closed last
  output reg  [TS_W-1:0]    o_rec_ts_reg,   // cycle start (first move request) timestamp
  output reg  [15:0]        o_rec_cx_reg,
  output reg  [15:0]        o_rec_cy_reg,
  output reg  [31:0]        o_cycles_done_reg,
  output wire               o_running
);
  initial begin
    if (K_MAX != 8) begin
      $display("mux_sequencer: K_MAX must be 8 (3-bit exposure index)"); $finish;
    end
  end

  localparam [1:0] S_IDLE = 2'd0, S_MOVE = 2'd1, S_GATE = 2'd2, S_WIN = 2'd3;

  reg [1:0]  state_reg;
  reg [15:0] tmr_reg;         // cycles left in the phase; the phase ends when <= 1
  reg        start_pend_reg;  // start accepted, waiting for the DAC to be idle
  reg        stop_pend_reg;
  reg [15:0] cx_reg, cy_reg;  // centre of the current cycle
  reg [TS_W-1:0] ts_reg;      // timestamp of the current cycle start

  wire [3:0] k_eff    = (i_k == 4'd0) ? 4'd1 : ((i_k > K_MAX) ? K_MAX[3:0] : i_k);
  wire       k_last   = ({1'b0, o_exp_reg} == k_eff - 4'd1);
  wire       tmr_last = (tmr_reg <= 16'd1);
  wire       dac_done = !i_dac_busy && !o_dac_req_reg;
  wire [2:0] k_next   = o_exp_reg + 3'd1;
  wire [31:0] off_next = i_offsets[32*k_next +: 32];
  wire [31:0] off_0    = i_offsets[31:0];
  wire        run_done = stop_pend_reg || (i_ncycles != 32'd0 && o_cycles_done_reg >= i_ncycles);

  function [16:0] add_s16(input [15:0] a, input [15:0] b);
    add_s16 = {a[15], a} + {b[15], b};
  endfunction

  assign o_running = (state_reg != S_IDLE);

  always @(posedge clk) begin
    if (rst) begin
      state_reg <= S_IDLE;
      tmr_reg <= 16'd0;
      start_pend_reg <= 1'b0;
      stop_pend_reg <= 1'b0;
      o_dac_req_reg <= 1'b0;
      o_gate_reg <= 1'b0;
      o_exp_reg <= 3'd0;
      o_rec_reg <= 1'b0;
      o_cycles_done_reg <= 32'd0;
    end else begin
      o_dac_req_reg <= 1'b0;
      o_rec_reg <= 1'b0;
      if (tmr_reg != 16'd0) tmr_reg <= tmr_reg - 16'd1;

      case (state_reg)
        S_IDLE:
          if (start_pend_reg && dac_done) begin
            start_pend_reg <= 1'b0;
            stop_pend_reg <= 1'b0;
            o_cycles_done_reg <= 32'd0;
          end
        S_MOVE:
          if (tmr_last && dac_done) begin
            state_reg <= S_GATE;
            tmr_reg <= i_gate;
            o_gate_reg <= 1'b1;
          end
        S_GATE:
          if (tmr_last) begin
            o_gate_reg <= 1'b0;
            if (k_last) begin
              state_reg <= S_WIN;
              tmr_reg <= i_win;
              o_rec_reg <= 1'b1;
              o_rec_ts_reg <= ts_reg;
              o_rec_cx_reg <= cx_reg;
              o_rec_cy_reg <= cy_reg;
              o_cycles_done_reg <= o_cycles_done_reg + 32'd1;
            end else begin
              state_reg <= S_MOVE;
              tmr_reg <= i_delay;
              o_exp_reg <= k_next;
              o_dac_req_reg <= 1'b1;
              o_x_reg <= add_s16(cx_reg, off_next[15:0]);
              o_y_reg <= add_s16(cy_reg, off_next[31:16]);
            end
          end
        default: // S_WIN
          if (tmr_last && run_done) begin
            state_reg <= S_IDLE;
            stop_pend_reg <= 1'b0;
          end
      endcase

      // Cycle start: from idle on a start, or after the window of the previous cycle.
      if ((state_reg == S_IDLE && start_pend_reg && dac_done) ||
          (state_reg == S_WIN && tmr_last && !run_done)) begin
        state_reg <= S_MOVE;
        tmr_reg <= i_delay;
        o_exp_reg <= 3'd0;
        cx_reg <= i_cx;
        cy_reg <= i_cy;
        ts_reg <= i_now;
        o_dac_req_reg <= 1'b1;
        o_x_reg <= add_s16(i_cx, off_0[15:0]);
        o_y_reg <= add_s16(i_cy, off_0[31:16]);
      end

      if (i_abort) begin
        state_reg <= S_IDLE;
        start_pend_reg <= 1'b0;
        stop_pend_reg <= 1'b0;
        o_dac_req_reg <= 1'b0;
        o_gate_reg <= 1'b0;
        o_rec_reg <= 1'b0;
      end else if (i_stop) begin
        start_pend_reg <= 1'b0;
        if (state_reg != S_IDLE || start_pend_reg) stop_pend_reg <= 1'b1;
      end else if (i_start && state_reg == S_IDLE) begin
        start_pend_reg <= 1'b1;
      end
    end
  end
endmodule
