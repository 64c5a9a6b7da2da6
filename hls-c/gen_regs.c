/* Prints the Verilog header of regmap.h (localparams) on stdout.
 * Usage: gen_regs > build/gen/minflux_regs.vh */
#include <stdio.h>
#include "regmap.h"

#define PRINT_CONST(name, value, desc) \
  printf("localparam integer %-16s = %ld; // %s\n", #name, (long)(value), desc);
#define PRINT_REG(name, addr, width, desc) \
  printf("localparam [7:0] REG_%-12s = 8'h%02X; // %2d bits: %s\n", #name, (unsigned)(addr), width, desc);

int main(void)
{
  printf("// Generated from hls-c/regmap.h by hls-c/gen_regs.c: do not edit.\n");
  /* Shared by every RTL file: an includer uses only some of the constants. */
  printf("/* verilator lint_off UNUSEDPARAM */\n");
  MINFLUX_CONSTS(PRINT_CONST)
  MINFLUX_EST_CONSTS(PRINT_CONST)
  MINFLUX_LINK_CONSTS(PRINT_CONST)
  MINFLUX_BAYES_CONSTS(PRINT_CONST)
  MINFLUX_CTL_CONSTS(PRINT_CONST)
  MINFLUX_REGS(PRINT_REG)
  MINFLUX_EST_REGS(PRINT_REG)
  MINFLUX_LINK_REGS(PRINT_REG)
  MINFLUX_BAYES_REGS(PRINT_REG)
  MINFLUX_CTL_REGS(PRINT_REG)
  printf("/* verilator lint_on UNUSEDPARAM */\n");
  return 0;
}
