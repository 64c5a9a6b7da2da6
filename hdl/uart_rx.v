`default_nettype none
// UART receiver, 8N1, i_div clocks per bit: 2-FF synchronizer, start bit checked at its
// middle, data sampled mid-bit; a missing stop bit drops the byte and counts it.

module uart_rx (
  input  wire       clk,
  input  wire       rst,
  input  wire [4:0] i_div,       // clocks per bit, 4..31
  input  wire       i_rx,        // line, idles high
  output reg        m_valid_reg, // 1-cycle pulse with m_data_reg
  output reg  [7:0] m_data_reg,
  output reg        o_frame_err_reg // 1-cycle pulse: stop bit was low
);
  reg [1:0] sync_reg = 2'b11;
  reg [3:0] nbit_reg;   // 0 idle, 1 start, 2..9 data, 10 stop
  reg [4:0] tick_reg;
  reg [7:0] sh_reg;
  wire rx = sync_reg[1];

  always @(posedge clk) begin
    sync_reg <= {sync_reg[0], i_rx};
    m_valid_reg <= 1'b0;
    o_frame_err_reg <= 1'b0;
    if (rst) begin
      nbit_reg <= 4'd0;
    end else if (nbit_reg == 4'd0) begin
      if (!rx) begin
        nbit_reg <= 4'd1;
        tick_reg <= {1'b0, i_div[4:1]} - 5'd1;   // to the middle of the start bit
      end
    end else if (tick_reg != 5'd0) begin
      tick_reg <= tick_reg - 5'd1;
    end else begin
      tick_reg <= i_div - 5'd1;
      if (nbit_reg == 4'd1) begin
        nbit_reg <= rx ? 4'd0 : 4'd2;              // glitch: back to idle
      end else if (nbit_reg == 4'd10) begin
        nbit_reg <= 4'd0;
        if (rx) begin
          m_valid_reg <= 1'b1;
          m_data_reg <= sh_reg;
        end else begin
          o_frame_err_reg <= 1'b1;
        end
      end else begin
        sh_reg <= {rx, sh_reg[7:1]};
        nbit_reg <= nbit_reg + 4'd1;
      end
    end
  end
endmodule
