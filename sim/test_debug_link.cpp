// Verilator test of hdl/debug_link.v (the temporary link until the framed protocol):
// a register write and read over the command bytes, and records serialized byte-exact
// through the FIFO, with drops counted when the UART side stalls.
#include <cstdio>
#include <cstdint>
#include <vector>
#include "Vdebug_link.h"
#include "verilated.h"

static Vdebug_link *t;
static uint64_t cyc;
static std::vector<uint8_t> out;
static bool ready = true;

static void tick() {
  t->m_ready = ready;
  t->clk = 1; t->eval();
  t->clk = 0;
  // the UART side takes a byte when valid and ready were both high before the edge
  t->eval();
  cyc++;
}

static void step() {
  const bool take = t->m_valid && ready;
  const uint8_t b = t->m_data;
  tick();
  if (take) out.push_back(b);
}

static void send(uint8_t b) { t->s_valid = 1; t->s_data = b; step(); t->s_valid = 0; step(); }

int main(int argc, char **argv) {
  Verilated::commandArgs(argc, argv);
  t = new Vdebug_link;
  int fails = 0;
  t->rst = 1; for (int i = 0; i < 4; i++) step(); t->rst = 0;
  // write: 'W' 0x09 0x12345678
  const uint8_t w[6] = {0x57, 0x09, 0x12, 0x34, 0x56, 0x78};
  bool saw_write = false;
  for (uint8_t b : w) {
    t->s_valid = 1; t->s_data = b; step(); t->s_valid = 0;
    if (t->o_wr_en_reg && t->o_addr_reg == 0x09 && t->o_wr_data_reg == 0x12345678u) saw_write = true;
    step();
    if (t->o_wr_en_reg && t->o_addr_reg == 0x09 && t->o_wr_data_reg == 0x12345678u) saw_write = true;
  }
  if (!saw_write) { printf("FAIL debug_link: write strobe 0x09 <- 0x12345678 not seen\n"); fails++; }
  // read: 'R' 0x00; the bus answers 0xCAFEF00D
  t->i_rd_data = 0xCAFEF00Du;
  send(0x52); send(0x00);
  for (int i = 0; i < 50; i++) step();
  const uint8_t rep[5] = {0x72, 0xCA, 0xFE, 0xF0, 0x0D};
  if (out.size() != 5 || !std::equal(out.begin(), out.end(), rep)) {
    printf("FAIL debug_link: read reply of %zu bytes:", out.size());
    for (uint8_t b : out) printf(" %02x", b);
    printf("\n"); fails++;
  }
  out.clear();
  // a record: known field values, then the 41 bytes must come out in order
  t->i_rec_ts = 0x01020304u; t->i_rec_cx = 0x0506; t->i_rec_cy = 0x0708;
  t->i_est_x = 0x090A; t->i_est_y = 0x0B0C; t->i_est_ok = 1; t->i_rec_sat = 0xA1A2;
  for (int w6 = 0; w6 < 6; w6++) t->i_rec_counts[w6] = 0x10111213u + 0x04040404u * w6;
  t->i_rec_valid = 1; step(); t->i_rec_valid = 0;
  for (int i = 0; i < 100; i++) step();
  std::vector<uint8_t> want = {0xA5, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 1};
  for (int b = 23; b >= 0; b--) want.push_back((uint8_t)(t->i_rec_counts[b / 4] >> (8 * (b % 4))));
  want.push_back(0xA1); want.push_back(0xA2); want.push_back(0x00);
  if (out != want) {
    printf("FAIL debug_link: record bytes differ (%zu of %zu):", out.size(), want.size());
    for (size_t i = 0; i < out.size() && i < want.size(); i++)
      if (out[i] != want[i]) { printf(" first at byte %zu: %02x, want %02x", i, out[i], want[i]); break; }
    printf("\n"); fails++;
  }
  out.clear();
  // UART stalled: 20 records fit 12 times in 512 bytes; the rest are dropped and counted
  ready = false;
  for (int r = 0; r < 20; r++) { t->i_rec_valid = 1; step(); t->i_rec_valid = 0; for (int i = 0; i < 60; i++) step(); }
  ready = true;
  for (int i = 0; i < 2000; i++) step();
  t->i_rec_valid = 1; step(); t->i_rec_valid = 0;
  for (int i = 0; i < 100; i++) step();
  const size_t nrec = out.size() / 41;
  const unsigned dropped = out.empty() ? 0 : out.back();
  // 12 full records fit (12 * 41 = 492 <= 512) plus the one stuck in the output register
  if (out.size() % 41 != 0 || nrec + dropped != 21) {
    printf("FAIL debug_link: after a stall %zu bytes, %zu records, last reports %u dropped (want records + dropped = 21)\n",
           out.size(), nrec, dropped); fails++;
  }
  printf("debug_link: write, read reply, record bytes, stall with %zu records delivered and %u counted as dropped: %s\n",
         nrec, dropped, fails ? "FAIL" : "ok");
  delete t;
  return fails ? 1 : 0;
}
