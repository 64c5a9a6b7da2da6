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
  // records: serialized when the estimate of the counts is ready; the fields hold still
  // for far longer than the 41 cycles the serializer needs
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
  reg [2:0]  cnt_reg;      // bytes of the command received so far
  reg        is_wr_reg;
  reg [2:0]  rd_pend_reg;  // read data arrives three cycles after the address
  reg        reply_reg;    // a read reply waits for the serializer
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

  // ---- serializer: a whole message into the FIFO, one byte per cycle; a record that
  // finds too little room is dropped and counted in the next record ----
  wire [8*NB-1:0] rec_bytes = {8'hA5, i_rec_ts, i_rec_cx, i_rec_cy, i_est_x, i_est_y, 7'd0, i_est_ok,
                               i_rec_counts, i_rec_sat, dropped_reg};
  reg [7:0]  dropped_reg;
  reg [5:0]  idx_reg;       // byte being written
  reg        ser_rec_reg;   // serializing a record
  reg        ser_rep_reg;   // serializing a read reply (5 bytes)
  reg [9:0]  fill_reg;      // bytes in the FIFO
  reg [8:0]  wp_reg, rp_reg;
  reg [7:0]  mem [0:511];   // one EBR
  reg        wr_reg;
  reg [7:0]  wbyte_reg;
  // room for a whole message, registered (timing); 4 bytes of margin cover its lag and
  // the bytes of the previous message still in the select pipeline
  reg        room;
  always @(posedge clk) room <= (fill_reg <= 10'd512 - NB - 10'd4);
  reg [31:0] i_rd_data_q;
  wire       pop;

  // Byte select in two registered stages (timing): 8:1 inside each group of 8 bytes, then
  // the group; the byte reaches the FIFO two cycles after its index.
  wire [8*48-1:0] msg = ser_rep_reg ? {8'h72, i_rd_data_q, {(8*43){1'b0}}}
                                    : {rec_bytes, {(8*(48-NB)){1'b0}}};
  wire [8*48-1:0] msg_rev;  // byte b of the message at bits 8b +: 8
  genvar rb;
  generate
    for (rb = 0; rb < 48; rb = rb + 1) begin : g_rev
      assign msg_rev[8*rb +: 8] = msg[8*(47-rb) +: 8];
    end
  endgenerate
  reg [7:0] grp_reg [0:5];
  reg [2:0] gsel_reg;
  reg       wv_reg;          // the byte entering stage 1 is valid
  integer g;
  always @(posedge clk) begin
    for (g = 0; g < 6; g = g + 1)
      grp_reg[g] <= msg_rev[64*g + 8*idx_reg[2:0] +: 8];
    gsel_reg <= idx_reg[5:3];
    wv_reg <= (ser_rec_reg || ser_rep_reg) && !rst;
    wr_reg <= wv_reg && !rst;
    wbyte_reg <= grp_reg[gsel_reg];
  end

  always @(posedge clk) begin
    if (rd_pend_reg[2]) begin
      reply_reg <= 1'b1;
      reply_data_reg <= i_rd_data;
    end
    if (rst) begin
      ser_rec_reg <= 1'b0;
      ser_rep_reg <= 1'b0;
      dropped_reg <= 8'd0;
      reply_reg <= 1'b0;
    end else if (ser_rec_reg || ser_rep_reg) begin
      idx_reg <= idx_reg + 6'd1;
      if (ser_rec_reg && idx_reg == NB - 1) begin ser_rec_reg <= 1'b0; dropped_reg <= 8'd0; end
      if (ser_rep_reg && idx_reg == 6'd4) ser_rep_reg <= 1'b0;
      if (i_rec_valid && dropped_reg != 8'hFF) dropped_reg <= dropped_reg + 8'd1;
    end else if (i_rec_valid) begin
      if (room) begin ser_rec_reg <= 1'b1; idx_reg <= 6'd0; end
      else if (dropped_reg != 8'hFF) dropped_reg <= dropped_reg + 8'd1;
    end else if (reply_reg && room) begin
      ser_rep_reg <= 1'b1;
      idx_reg <= 6'd0;
      i_rd_data_q <= reply_data_reg;
      reply_reg <= 1'b0;
    end
  end

  // ---- FIFO (first-word-fall-through towards the UART) ----
  reg [7:0] rd_byte_reg;
  reg       out_valid_reg;   // rd_byte_reg holds a byte for the UART
  assign pop = (fill_reg != 10'd0) && (!out_valid_reg || m_ready);
  assign m_valid = out_valid_reg;
  assign m_data = rd_byte_reg;
  always @(posedge clk) begin
    if (wr_reg) mem[wp_reg] <= wbyte_reg;
    if (pop) rd_byte_reg <= mem[rp_reg];
    if (rst) begin
      wp_reg <= 9'd0;
      rp_reg <= 9'd0;
      fill_reg <= 10'd0;
      out_valid_reg <= 1'b0;
    end else begin
      if (wr_reg) wp_reg <= wp_reg + 9'd1;
      if (pop) rp_reg <= rp_reg + 9'd1;
      fill_reg <= fill_reg + {9'd0, wr_reg} - {9'd0, pop};
      if (pop) out_valid_reg <= 1'b1;
      else if (m_ready) out_valid_reg <= 1'b0;
    end
  end
endmodule
