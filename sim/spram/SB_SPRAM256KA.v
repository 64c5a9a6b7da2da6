`default_nettype none
// Behavioural model of the iCE40UP SPRAM (16K x 16, registered read, nibble write mask) for the
// co-simulation, after the cell in the Yosys ice40 library; synthesis uses the real primitive.
// DATAOUT during a write is undefined on the chip: the model drives 16'hDEAD so that a
// design reading it fails co-simulation. Power-down pins are ignored (tied off by hdl/bayes.v).
/* verilator lint_off UNUSEDSIGNAL */
module SB_SPRAM256KA (
  input  wire [13:0] ADDRESS,
  input  wire [15:0] DATAIN,
  input  wire [3:0]  MASKWREN,
  input  wire        WREN,
  input  wire        CHIPSELECT,
  input  wire        CLOCK,
  input  wire        STANDBY,
  input  wire        SLEEP,
  input  wire        POWEROFF,
  output reg  [15:0] DATAOUT
);
/* verilator lint_on UNUSEDSIGNAL */
  reg [15:0] mem [0:16383];
  always @(posedge CLOCK)
    if (CHIPSELECT) begin
      if (!WREN) DATAOUT <= mem[ADDRESS];
      else begin
        if (MASKWREN[0]) mem[ADDRESS][3:0]   <= DATAIN[3:0];
        if (MASKWREN[1]) mem[ADDRESS][7:4]   <= DATAIN[7:4];
        if (MASKWREN[2]) mem[ADDRESS][11:8]  <= DATAIN[11:8];
        if (MASKWREN[3]) mem[ADDRESS][15:12] <= DATAIN[15:12];
        DATAOUT <= 16'hDEAD;
      end
    end
endmodule
