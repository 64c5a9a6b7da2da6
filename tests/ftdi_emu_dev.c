/* The devices on the emulated FT2232H channel A: a W25Q128-like SPI NOR flash and the iCE40UP5K
 * configuration port. Behaviour from the Winbond W25Q128JV datasheet (instruction set, status
 * register, AC characteristics) and Lattice FPGA-TN-02001 (iCE40 programming and configuration);
 * the bitstream parser is this file's own, written apart from host/flash_image.c. */
#include "ftdi_emu_dev.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------- W25Q128 ---------------- */

/* Datasheet-typical durations (W25Q128JV AC electrical characteristics). */
#define F_T_PP_NS    400e3       /* page program */
#define F_T_SE_NS    45e6        /* 4 KiB sector erase */
#define F_T_BE32_NS  120e6
#define F_T_BE64_NS  150e6
#define F_T_CE_NS    40e9        /* chip erase */
#define F_T_W_NS     10e6        /* write status register */
#define F_T_RES1_NS  3e3         /* release from power-down until instructions are accepted */

static struct {
  uint8_t *mem;
  uint32_t jedec;
  uint8_t  sr1;                  /* non-volatile bits (BP, TB, SEC, SRP); BUSY/WEL computed */
  int      wel, pd, absent, stuck_busy;
  long     stuck_bit;
  double   ready_ns, busy_until_ns;
  int      op_pending;           /* an erase/program is running: WEL clears when it ends */
  /* the /CS-low transaction */
  int      cs, ignored;
  unsigned nbits, nbytes;
  uint8_t  in, op, out;
  int      driving;
  uint32_t addr;
  uint8_t  page[256];
  uint8_t  touched[256];
  unsigned data_bytes;
} F;

static void flash_settle(void)
{
  if (F.op_pending && emu_now_ns >= F.busy_until_ns) F.op_pending = 0, F.wel = 0;
}

static int flash_busy(void)
{
  flash_settle();
  return emu_now_ns < F.busy_until_ns;
}

static uint8_t flash_status(void)
{
  const int busy = flash_busy();
  return (uint8_t)((F.sr1 & 0xFC) | (F.wel ? 0x02 : 0) | (busy ? 0x01 : 0));
}

void dev_flash_reset(const emu_knobs *k, const uint8_t *init, size_t n)
{
  uint8_t *mem = F.mem ? F.mem : malloc(EMU_FLASH_BYTES);
  if (!mem) abort();
  memset(&F, 0, sizeof F);
  F.mem = mem;
  memset(F.mem, 0xFF, EMU_FLASH_BYTES);
  if (init) memcpy(F.mem, init, n < EMU_FLASH_BYTES ? n : EMU_FLASH_BYTES);
  F.jedec = k->jedec_id;
  F.sr1 = k->sr1 & 0xFC;
  F.absent = k->flash_absent;
  F.stuck_busy = k->stuck_busy;
  F.stuck_bit = k->stuck_bit_addr;
  F.cs = 1;
}

const uint8_t *dev_flash_mem(void) { return F.mem; }
int dev_flash_pd(void) { return F.pd; }
int dev_flash_selected(void) { return !F.absent && F.cs == 0; }

static int has_address(uint8_t op)
{
  return op == 0x03 || op == 0x0B || op == 0x02 || op == 0xD8 || op == 0x20 || op == 0x52;
}

static void start_busy(double ns)
{
  F.busy_until_ns = F.stuck_busy ? INFINITY : emu_now_ns + ns;
  F.op_pending = 1;
}

static void flash_erase(uint32_t addr, uint32_t size, double ns)
{
  const uint32_t base = addr & ~(size - 1) & (EMU_FLASH_BYTES - 1);
  memset(F.mem + base, 0xFF, size);
  emu_st.erases++;
  start_busy(ns);
}

/* Executes the instruction when /CS rises, as the datasheet says: only on a byte boundary,
 * erases only after exactly the address, writes only with WEL set. */
static void flash_execute(void)
{
  const uint8_t op = F.op;
  const int whole = F.nbits % 8 == 0;
  const int is_write = op == 0x02 || op == 0xD8 || op == 0x20 || op == 0x52 || op == 0xC7 ||
                       op == 0x60 || op == 0x01;
  if (is_write && !whole) {
    emu_violation("flash: /CS rose after %u bits of instruction 0x%02X (not on a byte boundary): "
                  "not executed", F.nbits, op);
    return;
  }
  switch (op) {
  case 0x06: if (F.nbits == 8) F.wel = 1; return;
  case 0x04: if (F.nbits == 8) F.wel = 0; return;
  case 0xB9: if (F.nbits == 8) F.pd = 1; return;
  case 0xAB:
    if (F.pd) F.pd = 0, F.ready_ns = emu_now_ns + F_T_RES1_NS;
    return;
  default: break;
  }
  if (!is_write || !F.wel) return;
  const int protected_ = (F.sr1 & 0x1C) != 0;   /* coarse: any BP bit protects the whole array */
  if (op == 0x01) {
    if (F.nbits != 16 && F.nbits != 24) return;
    emu_st.status_writes++;
    start_busy(F_T_W_NS);
    return;
  }
  if (protected_) {
    F.wel = 0;
    return;
  }
  switch (op) {
  case 0x02: {
    if (F.nbytes < 5) return;
    const uint32_t base = F.addr & ~0xFFu & (EMU_FLASH_BYTES - 1);
    for (unsigned j = 0; j < 256; j++) {
      if (!F.touched[j]) continue;
      F.mem[base + j] &= F.page[j];                 /* programming only clears bits */
      if ((long)(base + j) == F.stuck_bit) F.mem[base + j] |= 0x01;
    }
    emu_st.programs++;
    start_busy(F_T_PP_NS);
    return;
  }
  case 0xD8: if (F.nbits == 32) flash_erase(F.addr, 65536, F_T_BE64_NS); return;
  case 0x52: if (F.nbits == 32) flash_erase(F.addr, 32768, F_T_BE32_NS); return;
  case 0x20: if (F.nbits == 32) flash_erase(F.addr, 4096, F_T_SE_NS); return;
  case 0xC7: case 0x60:
    if (F.nbits == 8) flash_erase(0, EMU_FLASH_BYTES, F_T_CE_NS);
    return;
  default: return;
  }
}

void dev_flash_cs(int level)
{
  if (F.absent || level == F.cs) return;
  F.cs = level;
  if (level == 0) {
    F.nbits = F.nbytes = F.data_bytes = 0;
    F.ignored = 0;
    F.driving = 0;
    F.addr = 0;
    memset(F.touched, 0, sizeof F.touched);
    return;
  }
  if (F.nbits > 0 && !F.ignored) flash_execute();
  F.driving = 0;
}

static void flash_opcode(uint8_t op)
{
  F.op = op;
  emu_st.cmds[op]++;
  if (F.pd && op != 0xAB) { F.ignored = 1; return; }
  if (emu_now_ns < F.ready_ns) {
    emu_violation("flash: instruction 0x%02X %.1f us after the release from power-down (tRES1 is 3 us): "
                  "ignored", op, (emu_now_ns - (F.ready_ns - F_T_RES1_NS)) * 1e-3);
    F.ignored = 1;
    return;
  }
  if (flash_busy() && op != 0x05 && op != 0x35 && op != 0x15) {
    emu_violation("flash: instruction 0x%02X while BUSY: ignored", op);
    F.ignored = 1;
  }
}

static void flash_byte(uint8_t b)
{
  const unsigned k = F.nbytes++;
  if (k == 0) { flash_opcode(b); return; }
  if (F.ignored) return;
  if (has_address(F.op) && k <= 3) {
    F.addr = F.addr << 8 | b;
    return;
  }
  if ((F.op == 0x03 && k >= 4) || (F.op == 0x0B && k >= 5)) emu_st.host_read_bytes++;  /* clocked out */
  if (F.op == 0x02) {                          /* data wraps inside the 256-byte page */
    const unsigned j = ((F.addr & 0xFF) + F.data_bytes++) & 0xFF;
    F.page[j] = b;
    F.touched[j] = 1;
  }
}

/* What the flash shifts out in the byte after `nbytes` completed input bytes. */
static int flash_next_out(uint8_t *out)
{
  if (F.ignored) return 0;
  const unsigned k = F.nbytes;
  switch (F.op) {
  case 0x9F:
    *out = k >= 1 && k <= 3 ? (uint8_t)(F.jedec >> (8 * (3 - k))) : 0x00;
    return 1;
  case 0x05: *out = flash_status(); return 1;       /* repeats while /CS stays low */
  case 0x35: *out = 0x02; return 1;                 /* QE set, as on -IQ parts */
  case 0xAB: if (k < 4) return 0; *out = 0x17; return 1;
  case 0x03: case 0x0B: {
    const unsigned first = F.op == 0x03 ? 4 : 5;
    if (k < first) return 0;
    *out = F.mem[(F.addr + (k - first)) & (EMU_FLASH_BYTES - 1)];
    return 1;
  }
  default: return 0;
  }
}

void dev_flash_rise(int mosi)
{
  if (F.absent || F.cs) return;
  F.in = (uint8_t)(F.in << 1 | (mosi & 1));
  if (++F.nbits % 8 == 0) flash_byte(F.in);
}

void dev_flash_fall(void)
{
  if (F.absent || F.cs || F.nbits == 0) return;
  if (F.nbits % 8 == 0) {
    F.driving = flash_next_out(&F.out);
  }
}

int dev_flash_miso(void)
{
  if (F.absent || F.cs || !F.driving) return -1;
  const unsigned bit = 7 - (F.nbits % 8);
  return (F.out >> bit) & 1;
}

/* ---------------------------------------------------------------- iCE40UP5K -------------- */

#define ICE_T_HOUSEKEEPING_NS 1200e3   /* CRESET_B high -> configuration port ready */
#define ICE_LEADING_CLOCKS    8u
#define ICE_WAKE_CLOCKS       49u      /* after the wakeup command, before CDONE (TN-02001) */
#define ICE_MASTER_HZ         12e6     /* assumed SPI master clock when booting from flash */
#define ICE_MASTER_T_RES_NS   10e3     /* assumed wait after its 0xAB wake-up */
#define ICE_MASTER_MAX_BYTES  (128u << 10)  /* gives up without a sync word by then */
#define ICE_UP5K_CRAM_BITS    692u

enum { ICE_RESET, ICE_SLAVE, ICE_MASTER, ICE_DONE };
enum { P_CMD, P_ARG, P_DATA, P_WOKE, P_FAIL };

typedef struct {
  int      st;
  uint8_t  cmd;
  unsigned arg_left;
  uint32_t arg, data_left;
  uint16_t crc;
  int      crc_live, crc_good, dirty;
  unsigned w, h, bank, cram;
} cfg_parser;

static uint16_t crc_table[256];

static struct {
  int        creset, mode, stuck;
  double     hk_end_ns, cdone_at_ns, master_until_ns;
  unsigned   lead, wake;
  uint32_t   sync;
  int        synced;
  unsigned   nbits;
  uint8_t    cur;
  cfg_parser p;
} C;

static void crc_init(void)
{
  for (unsigned i = 0; i < 256; i++) {
    uint16_t r = (uint16_t)(i << 8);
    for (int b = 0; b < 8; b++) r = (uint16_t)(r & 0x8000 ? (r << 1) ^ 0x1021 : r << 1);
    crc_table[i] = r;
  }
}

static void cfg_fail(cfg_parser *p, const char *why)
{
  p->st = P_FAIL;
  snprintf(emu_st.ice40_why, sizeof emu_st.ice40_why, "%s", why);
}

static void cfg_exec(cfg_parser *p)
{
  const unsigned op = p->cmd >> 4;
  p->st = P_CMD;
  switch (op) {
  case 0:
    if ((p->cmd & 15) == 0) return;                    /* no-op / padding */
    switch (p->arg) {
    case 1: case 3:
      if (p->arg == 1 && p->w != ICE_UP5K_CRAM_BITS) { cfg_fail(p, "CRAM bank width is not the UP5K's"); return; }
      if (p->arg == 1 && p->bank > 3) { cfg_fail(p, "CRAM bank number beyond 3"); return; }
      p->data_left = p->w * p->h / 8;
      if (p->data_left == 0) { cfg_fail(p, "empty data block"); return; }
      if (p->arg == 1) p->cram |= 1u << p->bank;
      p->dirty = 1;
      p->st = P_DATA;
      return;
    case 5: p->crc = 0xFFFF; p->crc_live = 1; return;
    case 6:
      if (p->cram == 0xF && p->crc_good && !p->dirty) p->st = P_WOKE;
      else cfg_fail(p, p->cram != 0xF ? "wakeup before every CRAM bank was written" : "wakeup without a good CRC");
      return;
    default: cfg_fail(p, "unsupported command 0"); return;
    }
  case 1: p->bank = p->arg; return;
  case 2:                               /* the payload went through the CRC: a match leaves 0 */
    if (!p->crc_live || p->crc != 0) { cfg_fail(p, "CRC error"); return; }
    p->crc_good = 1;
    p->dirty = 0;
    return;
  case 6: p->w = p->arg + 1; return;
  case 7: p->h = p->arg; return;
  case 4: case 5: case 8: case 9: return;
  default: cfg_fail(p, "unknown command"); return;
  }
}

static void cfg_feed(cfg_parser *p, uint8_t b)
{
  if (p->st == P_WOKE || p->st == P_FAIL) return;
  if (p->crc_live) p->crc = (uint16_t)(p->crc << 8) ^ crc_table[(p->crc >> 8) ^ b];
  switch (p->st) {
  case P_CMD:
    p->cmd = b;
    p->arg = 0;
    p->arg_left = b & 15;
    if (p->arg_left == 0) cfg_exec(p);
    else p->st = P_ARG;
    return;
  case P_ARG:
    p->arg = p->arg << 8 | b;
    if (--p->arg_left == 0) cfg_exec(p);
    return;
  case P_DATA:
    if (--p->data_left == 0) p->st = P_CMD;
    return;
  default: return;
  }
}

/* One configuration bit: the sync word is searched bit by bit, then bytes line up with it. */
static void cfg_bit(int bit)
{
  if (!C.synced) {
    C.sync = C.sync << 1 | (uint32_t)(bit & 1);
    if (C.sync == 0x7EAA997Eu) C.synced = 1, C.nbits = 0;
    return;
  }
  C.cur = (uint8_t)(C.cur << 1 | (bit & 1));
  if (++C.nbits == 8) {
    C.nbits = 0;
    cfg_feed(&C.p, C.cur);
  }
}

static void config_clear(void)
{
  memset(&C.p, 0, sizeof C.p);
  C.sync = 0;
  C.synced = 0;
  C.nbits = 0;
  C.lead = C.wake = 0;
  emu_st.ice40_why[0] = '\0';
}

void dev_ice40_reset(const emu_knobs *k)
{
  if (!crc_table[1]) crc_init();
  memset(&C, 0, sizeof C);
  C.stuck = k->cdone_stuck_low;
  C.creset = 0;
  C.mode = ICE_RESET;
}

/* The iCE40 as SPI master reading its image from the flash: run at once on the flash model
 * with its own clock; the outcome (CDONE time) is then visible as model time passes. */
static void master_clock(int mosi, int *miso)
{
  emu_now_ns += 0.5e9 / ICE_MASTER_HZ;
  const int d = dev_flash_miso();
  if (miso) *miso = d < 0 ? 1 : d;
  dev_flash_rise(mosi);
  emu_now_ns += 0.5e9 / ICE_MASTER_HZ;
  dev_flash_fall();
}

static void master_send(uint8_t b)
{
  for (int i = 7; i >= 0; i--) master_clock((b >> i) & 1, NULL);
}

static void master_boot(void)
{
  const double resume = emu_now_ns;
  const unsigned long host_reads = emu_st.host_read_bytes;
  emu_st.flash_boots++;
  emu_now_ns += ICE_T_HOUSEKEEPING_NS;
  dev_flash_cs(0);
  master_send(0xAB);                                    /* wake the flash */
  dev_flash_cs(1);
  emu_now_ns += ICE_MASTER_T_RES_NS;
  dev_flash_cs(0);
  master_send(0x03);
  master_send(0x00);
  master_send(0x00);
  master_send(0x00);
  unsigned long bits = 0;
  while (C.p.st != P_WOKE && C.p.st != P_FAIL && bits < 8ul * ICE_MASTER_MAX_BYTES) {
    int d;
    master_clock(1, &d);
    cfg_bit(d);
    bits++;
  }
  dev_flash_cs(1);
  if (C.p.st == P_WOKE) {
    for (unsigned i = 0; i < ICE_WAKE_CLOCKS; i++) emu_now_ns += 1e9 / ICE_MASTER_HZ;
    C.cdone_at_ns = C.stuck ? INFINITY : emu_now_ns;
    if (!C.stuck) emu_st.flash_boots_ok++;
  } else {
    C.cdone_at_ns = INFINITY;
    if (!emu_st.ice40_why[0])
      snprintf(emu_st.ice40_why, sizeof emu_st.ice40_why, "no sync word in the first %u bytes of the flash",
               ICE_MASTER_MAX_BYTES);
  }
  C.master_until_ns = emu_now_ns;
  emu_now_ns = resume;
  emu_st.host_read_bytes = host_reads;
}

void dev_ice40_creset(int level, int ss)
{
  if (level == C.creset) return;
  C.creset = level;
  config_clear();
  C.cdone_at_ns = INFINITY;
  C.master_until_ns = 0;
  if (!level) { C.mode = ICE_RESET; return; }
  if (ss == 0) {                                        /* SPI_SS_B low at CRESET_B rise */
    C.mode = ICE_SLAVE;
    C.hk_end_ns = emu_now_ns + ICE_T_HOUSEKEEPING_NS;
  } else {
    C.mode = ICE_MASTER;
    master_boot();
  }
}

int dev_ice40_listening(void) { return C.mode == ICE_SLAVE; }

void dev_ice40_rise(int ss, int mosi)
{
  if (C.mode != ICE_SLAVE) return;
  if (C.p.st == P_WOKE) {
    if (++C.wake >= ICE_WAKE_CLOCKS && !C.stuck) {
      C.mode = ICE_DONE;
      emu_st.sram_configs++;
    }
    return;
  }
  if (emu_now_ns < C.hk_end_ns) return;                 /* housekeeping: clocks ignored */
  if (ss) { C.lead++; return; }
  if (C.lead < ICE_LEADING_CLOCKS) return;              /* not ready: bits are lost */
  cfg_bit(mosi);
}

int dev_ice40_cdone(void)
{
  if (C.stuck) return 0;
  if (C.mode == ICE_DONE) return 1;
  if (C.mode == ICE_MASTER && emu_now_ns >= C.cdone_at_ns) {
    C.mode = ICE_DONE;
    return 1;
  }
  return 0;
}

int dev_ice40_drives_bus(void)
{
  return C.mode == ICE_MASTER && emu_now_ns < C.master_until_ns;
}
