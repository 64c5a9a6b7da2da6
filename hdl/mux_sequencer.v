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
  input  wire [31:0]        i_ncycles, // cycles per run, 0 = until stopped (sampled at run start)
  input  wire [3:0]         i_k,       // exposures per cycle (0 acts as 1, > K_MAX as K_MAX)
  input  wire [15:0]        i_delay,   // gate delay (cycles from the move; 0 acts as 1)
  input  wire [15:0]        i_gate,    // gate length (cycles; 0 acts as 1)
  input  wire [15:0]        i_win,     // localization window (cycles; 0 acts as 1)
  input  wire               i_delay_le1, // i_delay <= 1, i_gate <= 1, i_win <= 1 (registered
  input  wire               i_gate_le1,  // with the values in the core: timing)
  input  wire               i_win_le1,
  input  wire [15:0]        i_cx,      // centre x, signed, applied at the next cycle start
  input  wire [15:0]        i_cy,      // centre y
  input  wire [31:0]        i_off0,    // offset table entry 0: x in [15:0], y in [31:16]
  input  wire               i_hold,    // stay in the window (the controller decides the next centre)
  output wire [2:0]         o_off_addr,   // table entry read for the next exposure ...
  input  wire [31:0]        i_off_next,   // ... and its value one edge later (sync RAM read)
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

  // One-hot state (timing): bit I_x set in state x. START is the one cycle that loads
  // the new cycle's centre, timestamp and first beam position.
  localparam I_IDLE = 0, I_MOVE = 1, I_GATE = 2, I_WIN = 3, I_START = 4;
  localparam [4:0] S_IDLE = 5'b00001, S_MOVE = 5'b00010, S_GATE = 5'b00100, S_WIN = 5'b01000,
                   S_START = 5'b10000;

  reg [4:0]  state_reg;
  reg [15:0] tmr_reg;         // cycles left in the phase; the phase ends when <= 1
  reg        tmr_last_reg;    // tmr_reg has been <= 1 since the last load (timing: sticky, so
                              // the counter may run on below 0 without a zero test)
  reg        start_pend_reg;  // start accepted, waiting for the DAC to be idle
  reg        stop_pend_reg;
  reg [15:0] cx_reg, cy_reg;  // centre of the current cycle
  reg [TS_W-1:0] ts_reg;      // timestamp of the current cycle start
  reg [31:0] run_n_reg;       // cycles of this run (0: until stopped), sampled at run start
  reg        final_reg;       // the cycle in its window is the last of the run

  // index of the last exposure: K - 1, with 0 acting as 1 and > K_MAX as K_MAX (a table on
  // the 4 bits of K, one LUT per bit)
  reg  [2:0] k_lidx;
  always @(*) begin
    case (i_k)
      4'd0, 4'd1: k_lidx = 3'd0;
      4'd2: k_lidx = 3'd1;  4'd3: k_lidx = 3'd2;  4'd4: k_lidx = 3'd3;
      4'd5: k_lidx = 3'd4;  4'd6: k_lidx = 3'd5;  4'd7: k_lidx = 3'd6;
      default: k_lidx = 3'd7;
    endcase
  end
  // a >= b on 3 bits as plain logic (no carry chain)
  function ge3(input [2:0] a, input [2:0] b);
    ge3 = (a[2] & ~b[2]) | ((a[2] ~^ b[2]) & ((a[1] & ~b[1]) | ((a[1] ~^ b[1]) & (a[0] | ~b[0]))));
  endfunction
  // "this exposure is the last", registered every cycle (timing); the exposure index never
  // changes in the cycle before a gate closes, a K write acts one cycle later. ">=": a K
  // lowered below the current exposure ends the cycle after this exposure.
  reg        k_last;
  always @(posedge clk) k_last <= ge3(o_exp_reg, k_lidx);
  wire       tmr_last = tmr_last_reg;
  // DAC idle as a register (timing): a move may end one cycle after the DAC went idle.
  reg        dac_idle_q;
  always @(posedge clk) dac_idle_q <= !i_dac_busy && !o_dac_req_reg;
  wire       move_done = tmr_last && dac_idle_q && !o_dac_req_reg;
  // Run bookkeeping precomputed every cycle (timing); the counters change at most once
  // per multiplex cycle, long before these are used again.
  // "the cycle ending next is the run's last" (done + 1 == N, N != 0) in three registered
  // steps; it settles three edges after the done counter changes (at a cycle's last gate or
  // at run start) and is next used at a last gate, >= 160 cycles later.
  reg [31:0] done_p1_q;
  reg [3:0]  eq_q, nz_q;
  reg        last_cyc_q;
  integer    c;
  always @(posedge clk) begin
    done_p1_q <= o_cycles_done_reg + 32'd1;
    for (c = 0; c < 4; c = c + 1) begin
      eq_q[c] <= done_p1_q[8*c +: 8] == run_n_reg[8*c +: 8];
      nz_q[c] <= run_n_reg[8*c +: 8] != 8'd0;
    end
    last_cyc_q <= (&eq_q) && (|nz_q);
  end
  wire [2:0] k_next   = o_exp_reg + 3'd1;
  // Offset of the next exposure, read every cycle from the table (a RAM read port in the
  // core): it is the entry as it was one cycle before the move starts; k does not change
  // during a gate.
  assign      o_off_addr = k_next;
  // The RAM output is registered once more here (timing: the EBR's clock-to-out is long);
  // the exposure index changes at a gate close and the next move is >= 2 cycles later.
  reg  [31:0] off_next;
  always @(posedge clk) off_next <= i_off_next;
  wire [31:0] off_0    = i_off0;
  wire        run_done = stop_pend_reg || final_reg;

  function [16:0] add_s16(input [15:0] a, input [15:0] b);
    add_s16 = {a[15], a} + {b[15], b};
  endfunction

  assign o_running = !state_reg[I_IDLE];

  // Cycle start: from idle on a pending start once the DAC was idle in the previous cycle
  // (dac_idle_q: busy only rises on a request, so it is idle now too), or after the window
  // of the previous cycle once the controller releases its hold.
  wire cyc_start = (state_reg[I_IDLE] && start_pend_reg && dac_idle_q) ||
                   (state_reg[I_WIN] && tmr_last && !run_done && !i_hold);

  // Control state. Reset and abort clear it synchronously (priority abort > stop > start).
  wire ctl_clr = rst || i_abort;
  always @(posedge clk) begin
    if (ctl_clr) begin
      state_reg <= S_IDLE;
      start_pend_reg <= 1'b0;
      stop_pend_reg <= 1'b0;
      o_dac_req_reg <= 1'b0;
      o_gate_reg <= 1'b0;
      o_rec_reg <= 1'b0;
    end else begin
      o_dac_req_reg <= 1'b0;
      o_rec_reg <= 1'b0;
      if (state_reg[I_IDLE]) begin
          if (start_pend_reg && dac_idle_q) begin
            start_pend_reg <= 1'b0;
            stop_pend_reg <= 1'b0;
          end
      end
      if (state_reg[I_MOVE]) begin
          if (move_done) begin
            state_reg <= S_GATE;
            o_gate_reg <= 1'b1;
          end
      end
      if (state_reg[I_GATE]) begin
          if (tmr_last) begin
            o_gate_reg <= 1'b0;
            if (k_last) begin
              state_reg <= S_WIN;
              o_rec_reg <= 1'b1;
            end else begin
              state_reg <= S_MOVE;
              o_dac_req_reg <= 1'b1;
            end
          end
      end
      if (state_reg[I_WIN]) begin
          if (tmr_last && run_done) begin
            state_reg <= S_IDLE;
            stop_pend_reg <= 1'b0;
          end
      end
      if (state_reg[I_START]) begin
        state_reg <= S_MOVE;
        o_dac_req_reg <= 1'b1;
      end
      if (cyc_start) state_reg <= S_START;
      if (i_stop) begin
        start_pend_reg <= 1'b0;
        if (!state_reg[I_IDLE] || start_pend_reg) stop_pend_reg <= 1'b1;
      end else if (i_start && state_reg[I_IDLE]) begin
        start_pend_reg <= 1'b1;
      end
    end
  end

  // Timer, exposure index, beam position and run bookkeeping (abort leaves them alone).
  always @(posedge clk) begin
    if (rst) begin
      tmr_reg <= 16'd0;
      tmr_last_reg <= 1'b1;
      o_exp_reg <= 3'd0;
      o_cycles_done_reg <= 32'd0;
    end else begin
      tmr_reg <= tmr_reg - 16'd1;
      tmr_last_reg <= tmr_last_reg || ((tmr_reg[15:2] == 14'd0) && !(tmr_reg[1] && tmr_reg[0]));   // tmr - 1 <= 1
      if (state_reg[I_IDLE] && start_pend_reg && dac_idle_q) begin
        o_cycles_done_reg <= 32'd0;
        run_n_reg <= i_ncycles;
      end
      if (state_reg[I_MOVE] && move_done) begin
        tmr_reg <= i_gate;
        tmr_last_reg <= i_gate_le1;
      end
      if (state_reg[I_GATE]) begin
          if (tmr_last) begin
            if (k_last) begin
              tmr_reg <= i_win;
              tmr_last_reg <= i_win_le1;
              o_rec_ts_reg <= ts_reg;
              o_rec_cx_reg <= cx_reg;
              o_rec_cy_reg <= cy_reg;
              o_cycles_done_reg <= done_p1_q;
              final_reg <= last_cyc_q;
            end else begin
              tmr_reg <= i_delay;
              tmr_last_reg <= i_delay_le1;
              o_exp_reg <= k_next;
              o_x_reg <= add_s16(cx_reg, off_next[15:0]);
              o_y_reg <= add_s16(cy_reg, off_next[31:16]);
            end
          end
      end
    end
    // START loads act even during reset (harmless: the control state is held in reset
    // and the DAC ignores requests), which keeps rst off this wide enable.
    if (state_reg[I_START]) begin
      tmr_reg <= i_delay;
      tmr_last_reg <= i_delay_le1;
      o_exp_reg <= 3'd0;
      final_reg <= 1'b0;
      cx_reg <= i_cx;
      cy_reg <= i_cy;
      ts_reg <= i_now;
      o_x_reg <= add_s16(i_cx, off_0[15:0]);
      o_y_reg <= add_s16(i_cy, off_0[31:16]);
    end
  end

`ifdef FORMAL
  // ==== Formal properties (make formal; docs/reliability.md) =============================
  // Safety: the laser (o_gate_reg drives the laser enable) is off while idle, after a reset
  // or an abort (emergency stop), whenever a beam move is requested or the DAC is busy
  // with its frames, and for at least the gate delay (DELAY, 0 acting as 1) after every
  // move request. With FORMAL_MUX_SEQUENCER this block is the top and its inputs are
  // constrained as minflux_core drives them (the DAC is busy only after a request; the
  // "<= 1" flags match their values); inside the core the same are asserted.
  reg f_past_valid = 1'b0;
  always @(posedge clk) f_past_valid <= 1'b1;
  reg        f_busy_q = 1'b0, f_req_q = 1'b0, f_clr_q = 1'b1, f_rst_q = 1'b1;
  reg [15:0] f_delay_q;
  always @(posedge clk) begin
    f_busy_q <= i_dac_busy;
    f_req_q <= o_dac_req_reg;
    f_clr_q <= ctl_clr;
    f_rst_q <= rst;
    f_delay_q <= i_delay;
  end
  wire f_env_busy = !f_past_valid || !i_dac_busy || f_busy_q || f_req_q;   // busy rises after a request
  wire f_env_le1  = i_delay_le1 == (i_delay <= 16'd1) && i_gate_le1 == (i_gate <= 16'd1) &&
                    i_win_le1 == (i_win <= 16'd1);
`ifdef FORMAL_MUX_SEQUENCER
  always @(*) begin
    if (!f_past_valid) assume(rst);
    assume(f_env_busy);
    assume(f_env_le1);
    if (f_past_valid && f_rst_q) assume(!i_dac_busy);   // the DAC is reset with us
  end
`else
  always @(*) begin
    A_seq_dac_busy_after_req: assert(f_env_busy);
    if (f_past_valid && !f_rst_q) A_seq_le1_flags: assert(f_env_le1);
    if (f_past_valid && f_rst_q) A_seq_dac_idle_after_reset: assert(!i_dac_busy);
  end
`endif

  // cycles since the last move request (0 in its cycle), saturating; the delay it loaded
  reg [16:0] f_since_q = 17'd0;
  reg [15:0] f_mdelay_q;
  always @(posedge clk) begin
    if (o_dac_req_reg) begin f_since_q <= 17'd1; f_mdelay_q <= f_delay_q; end
    else if (f_since_q != 17'h1FFFF) f_since_q <= f_since_q + 17'd1;
  end
  wire [16:0] f_since  = o_dac_req_reg ? 17'd0 : f_since_q;
  wire [15:0] f_mdelay = o_dac_req_reg ? f_delay_q : f_mdelay_q;
  wire [16:0] f_min    = (f_mdelay == 16'd0) ? 17'd1 : {1'b0, f_mdelay};
  reg         f_gate_q = 1'b0;
  reg [1:0]   f_up_q = 2'd0;    // cycles since the first reset, saturating at 2 (covers)
  always @(posedge clk) begin
    f_gate_q <= o_gate_reg;
    if (rst) f_up_q <= 2'd1; else if (f_up_q == 2'd1) f_up_q <= 2'd2;
  end

  always @(*) if (f_past_valid) begin
    P_seq_laser_off_idle: assert(!(state_reg[I_IDLE] && o_gate_reg));
    P_seq_laser_off_after_reset_abort: assert(!(f_clr_q && o_gate_reg));
    P_seq_laser_off_during_move: assert(!(o_gate_reg && (o_dac_req_reg || i_dac_busy || f_busy_q)));
    P_seq_laser_off_for_delay: assert(!(o_gate_reg && !f_gate_q) || f_since >= f_min);
    P_seq_no_move_idle: assert(!(state_reg[I_IDLE] && o_dac_req_reg));
  end

  // Invariants that make the proof inductive (each is itself proven).
  always @(*) if (f_past_valid && !f_clr_q) begin
    I_seq_state_onehot: assert(state_reg == S_IDLE || state_reg == S_MOVE || state_reg == S_GATE ||
                               state_reg == S_WIN || state_reg == S_START);
    I_seq_gate_is_state: assert(o_gate_reg == state_reg[I_GATE]);
    I_seq_req_in_move: assert(!o_dac_req_reg || state_reg[I_MOVE]);
    I_seq_dac_idle_q: assert(dac_idle_q == (!f_busy_q && !f_req_q));
    if (o_gate_reg) I_seq_gate_dac_idle: assert(!f_busy_q && !f_req_q);
    if (state_reg[I_MOVE] && !tmr_last_reg)
      I_seq_move_timer: assert(f_mdelay >= 16'd2 && {1'b0, f_since} + 18'd1 < {2'b0, f_mdelay} &&
                               {1'b0, tmr_reg} + f_since == {1'b0, f_mdelay});
    if (state_reg[I_MOVE] && tmr_last_reg)
      I_seq_move_timer_done: assert(f_mdelay <= 16'd1 || {1'b0, f_since} + 18'd1 >= {2'b0, f_mdelay});
  end

  // Covers: the properties are not vacuous.
  always @(*) if (f_up_q == 2'd2) begin
    C_seq_gate_opens_at_delay: cover(o_gate_reg && !f_gate_q && f_mdelay == 16'd3 && f_since == 17'd3);
    C_seq_gate_waits_for_dac: cover(o_gate_reg && !f_gate_q && f_mdelay == 16'd2 && f_since == 17'd6);
    C_seq_second_move: cover(o_gate_reg && !f_gate_q && o_exp_reg == 3'd1);
    C_seq_abort_in_gate: cover(f_gate_q && f_clr_q && !rst);
  end
`endif
endmodule
