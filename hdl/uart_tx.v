`default_nettype none
// UART transmitter, 8N1, i_div clocks per bit (16 = 3 Mbaud, 8 = 6 Mbaud, 4 = 12 Mbaud
// at 48 MHz). Byte stream in with valid/ready; the line idles high.

module uart_tx (
  input  wire       clk,
  input  wire       rst,
  input  wire [4:0] i_div,      // clocks per bit, 2..31
  input  wire       s_valid,
  input  wire [7:0] s_data,
  output wire       s_ready,
  output reg        o_tx_reg
);
  reg [8:0] sh_reg;   // stop, data[7:0]: the bits after the one on the line, LSB next
  reg [3:0] nbit_reg; // bits left including the one on the line
  reg [4:0] tick_reg;

  reg ready_reg = 1'b0;   // nbit_reg == 0, as a register (timing)
  assign s_ready = ready_reg;

  always @(posedge clk) begin
    if (rst) begin
      o_tx_reg <= 1'b1;
      nbit_reg <= 4'd0;
      tick_reg <= 5'd0;
      ready_reg <= 1'b1;
    end else if (ready_reg) begin
      if (s_valid) begin
        ready_reg <= 1'b0;
        sh_reg <= {1'b1, s_data};
        o_tx_reg <= 1'b0;
        nbit_reg <= 4'd10;
        tick_reg <= i_div - 5'd1;
      end
    end else if (tick_reg == 5'd0) begin
      sh_reg <= {1'b1, sh_reg[8:1]};
      o_tx_reg <= (nbit_reg == 4'd1) ? 1'b1 : sh_reg[0];  // after the stop bit: idle
      nbit_reg <= nbit_reg - 4'd1;
      tick_reg <= i_div - 5'd1;
      if (nbit_reg == 4'd1) ready_reg <= 1'b1;
    end else begin
      tick_reg <= tick_reg - 5'd1;
    end
  end
endmodule
