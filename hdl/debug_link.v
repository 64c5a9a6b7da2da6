`default_nettype none
// Minimal debug link until the framed protocol (issue #4) lands: 'W' addr d3 d2 d1 d0
// writes a register, 'R' addr answers 'r' d3..d0; each record goes out as 41 bytes.

module debug_link (
  input  wire         clk,
  input  wire         rst,
  // bytes from uart_rx
  input  wire         s_valid,
  input  wire [7:0]   s_data,
  // register bus master
  output reg          o_wr_en_reg,
  output reg  [7:0]   o_addr_reg,       // write and read address
  output reg  [31:0]  o_wr_data_reg,
  input  wire [31:0]  i_rd_data,        // data of o_addr_reg, three cycles later
  // records: sent when the estimate of the counts is ready
  input  wire         i_rec_valid,
  input  wire [15:0]  i_est_x,
  input  wire [15:0]  i_est_y,
  input  wire         i_est_ok,
  input  wire [31:0]  i_rec_ts,
  input  wire [15:0]  i_rec_cx,
  input  wire [15:0]  i_rec_cy,
  input  wire [191:0] i_rec_counts,
  input  wire [15:0]  i_rec_sat,
  // bytes to uart_tx
  output wire         m_valid,
  output wire [7:0]   m_data,
  input  wire         m_ready
);
  localparam NB = 41;  // A5, ts(4), cx(2), cy(2), ex(2), ey(2), ok(1), counts(24), sat(2), dropped(1)

  // ---- command parser ----
  reg [2:0] cnt_reg;      // bytes of the command received so far
  reg       is_wr_reg;
  reg [2:0] rd_pend_reg;  // read data arrives three cycles after the address
  reg       reply_reg;    // a read reply waits for the transmitter
  reg [31:0] reply_data_reg;

  always @(posedge clk) begin
    o_wr_en_reg <= 1'b0;
    rd_pend_reg <= {rd_pend_reg[1:0], 1'b0};
    if (rst) begin
      cnt_reg <= 3'd0;
    end else if (s_valid) begin
      case (cnt_reg)
        3'd0: if (s_data == 8'h57 || s_data == 8'h52) begin
                is_wr_reg <= (s_data == 8'h57);
                cnt_reg <= 3'd1;
              end
        3'd1: begin
                o_addr_reg <= s_data;
                if (is_wr_reg) cnt_reg <= 3'd2;
                else begin cnt_reg <= 3'd0; rd_pend_reg[0] <= 1'b1; end
              end
        3'd5: begin
                o_wr_data_reg <= {o_wr_data_reg[23:0], s_data};
                o_wr_en_reg <= 1'b1;
                cnt_reg <= 3'd0;
              end
        default: begin
                o_wr_data_reg <= {o_wr_data_reg[23:0], s_data};
                cnt_reg <= cnt_reg + 3'd1;
              end
      endcase
    end
  end

  // ---- transmitter: a read reply or a record, whole messages, records dropped and counted
  // when one is still in flight ----
  reg [8*NB-1:0] sh_reg;
  reg [5:0]      left_reg;     // bytes left to send
  reg            busy_reg;     // left_reg != 0, as a register (timing)
  reg [7:0]      dropped_reg;
  assign m_valid = busy_reg;
  assign m_data  = sh_reg[8*NB-1 -: 8];

  always @(posedge clk) begin
    if (rd_pend_reg[2]) begin
      reply_reg <= 1'b1;
      reply_data_reg <= i_rd_data;
    end
    if (rst) begin
      left_reg <= 6'd0;
      busy_reg <= 1'b0;
      dropped_reg <= 8'd0;
      reply_reg <= 1'b0;
    end else if (busy_reg) begin
      if (m_ready) begin
        sh_reg <= {sh_reg[8*NB-9:0], 8'h00};
        left_reg <= left_reg - 6'd1;
        busy_reg <= (left_reg != 6'd1);
      end
      if (i_rec_valid && dropped_reg != 8'hFF) dropped_reg <= dropped_reg + 8'd1;
    end else if (reply_reg) begin
      sh_reg <= {8'h72, reply_data_reg, {(8*NB-40){1'b0}}};
      left_reg <= 6'd5;
      busy_reg <= 1'b1;
      reply_reg <= 1'b0;
      if (i_rec_valid && dropped_reg != 8'hFF) dropped_reg <= dropped_reg + 8'd1;
    end else if (i_rec_valid) begin
      sh_reg <= {8'hA5, i_rec_ts, i_rec_cx, i_rec_cy, i_est_x, i_est_y, 7'd0, i_est_ok,
                 i_rec_counts, i_rec_sat, dropped_reg};
      left_reg <= NB[5:0];
      busy_reg <= 1'b1;
      dropped_reg <= 8'd0;
    end
  end
endmodule
