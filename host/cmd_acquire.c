/* `minflux acquire`: configure the firmware, stream every record into DIR/raw.mfx and the
 * decoded tables, stop cleanly at the end or on Ctrl-C, and summarize (summary.json). */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <jansson.h>
#include "acq_config.h"
#include "acq_bayes.h"
#include "acq_hex.h"
#include "link.h"
#include "mfx_files.h"
#include "analyze_raw.h"
#include "image.h"
#include "image_out.h"

static volatile sig_atomic_t g_interrupted = 0;
static void on_sigint(int sig) { (void)sig; g_interrupted = 1; }

static void acq_usage(FILE *f)
{
  fprintf(f,
    "usage: minflux acquire --mode track|image|bayes|hex --duration T --out DIR [--board B] [--config F.ini] [key=value ...]\n"
    "Runs the firmware for T seconds (rounded to whole multiplex cycles) and writes\n"
    "  DIR/raw.mfx      header (JSON line) + every byte from the link, append-only\n"
    "  DIR/cycles.csv   seq,t_s,n0,n1,n2,n3,cx_nm,cy_nm,ex_nm,ey_nm,valid,state (k > 4: then n4..n(k-1))\n"
    "  DIR/tracks.csv   t_s,x_nm,y_nm,n,state  (valid localizations, absolute)\n"
    "  DIR/summary.json records, gaps, crc_errors, fifo_overflows, duration_s, rates\n"
    "  DIR/truth.csv    t_s,x_nm,y_nm,on  (board sim only)\n"
    "  --mode image: DIR/localizations.csv (final localizations: t_s,x_nm,y_nm,N,L_nm,stage,cfr,aborted,...)\n"
    "                DIR/stage_localizations.csv (every stage), summary.json \"imaging\" (docs/imaging.md)\n"
    "  --mode bayes: Bayesian localizations one after the other (the firmware's Bayesian block; T is firmware\n"
    "                time from the first exposure) instead of cycles.csv/tracks.csv:\n"
    "                DIR/bayes_exposures.csv loc,k,t_s,beam_x_nm,beam_y_nm,amp,eta,n,map_x_nm,map_y_nm,std_nm,lev,status,seq\n"
    "                DIR/localizations.csv   loc,t_s,x_nm,y_nm,std_nm,photons,exposures,reason,... (+ truth, error with sim)\n"
    "                DIR/bayes_convergence.png, DIR/bayes_localizations.png (std against photons; the results)\n"
    "                DIR/dtable.csv (the D(sigma) table used), summary.json model_mismatches: every record replayed\n"
    "                through the bit-exact C model hls-c/bayes.c (README \"Bayesian acquisition\"); with\n"
    "                bayes_host=on the host runs that model, the firmware one exposure per start (no block needed)\n"
    "  --mode hex:   iterative hexagon localizations (stages of hex_stage*_L_nm / _photons, each ended by the firmware's photon budget, the host re-centring):\n"
    "                DIR/hex_stages.csv, DIR/localizations.csv besides cycles.csv (README \"Hexagon acquisition\")\n"
    "--board ftdi[:SERIAL]|sim[:SCENARIO.ini]  (default sim)\n"
    "Keys, lowest precedence first: the defaults below, the [acquire] section of the board's\n"
    "SCENARIO.ini, --config F.ini, key=value arguments (README \"Acquisition keys\"):\n");
  acq_help_keys(f);
  fprintf(f,
    "agg=M sums M cycles into one record (for cycle rates above the link's capacity).\n"
    "controller=on: the firmware's tracking controller (search, pre-localization, tracking;\n"
    "  docs/controller.md) drives the run; the state of each record is the state column.\n"
    "--mode image: the controller in imaging mode (search with 405 nm activation, pre-localization, then\n"
    "  `stages` iterative localization stages, the last repeated; docs/imaging.md); its defaults differ:\n"
    "  gain=1 loss_ratio=0.15 dark_records=400 delay_us=13.6 window_us=16.1458 (125 us cycle, 13.6 us gate).\n"
    "--mode bayes: keys bayes_*; one exposure = delay_us + bayes_gate_us + window_us + the block's update;\n"
    "  its default link rate is baud=12000000 (a record per exposure); bayes_eta_per_code is required.\n"
    "Ctrl-C stops the firmware after the current cycle and leaves complete files.\n"
    "Exit: 0 complete (FIFO overflows are counted, not errors), 1 error, 2 bad usage, 3 the link failed\n"
    "  mid-run, 4 records lost on the link, 5 the firmware was reset during the run; the files hold\n"
    "  everything received and summary.json what was lost.\n");
}

static double mono_s(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec * 1e-9;
}

typedef struct {
  mfx_tables tab;
  FILE *raw;
  int raw_failed;
  char raw_err[160];
} acq_state;

static void on_raw(void *ctx, const uint8_t *p, size_t n)
{
  acq_state *s = ctx;
  if (!s->raw || s->raw_failed) return;
  if (fwrite(p, 1, n, s->raw) != n) {
    s->raw_failed = 1;
    snprintf(s->raw_err, sizeof s->raw_err, "%s", strerror(errno));
  }
}

static void on_cycle(void *ctx, const mfx_cycle *c) { mfx_tables_add(&((acq_state *)ctx)->tab, c); }

static void add_cfg(void *ctx, const char *k, const char *v) { json_object_set_new(ctx, k, json_string(v)); }

/* Register writes of a whole configuration. */
static int configure(mfx_link *l, const acq_regs *r)
{
  const core_config_t *c = &r->core;
  const uint32_t regs[][2] = {
    { MINFLUX_REG_SAFE_XMIN, (uint16_t)c->xmin }, { MINFLUX_REG_SAFE_XMAX, (uint16_t)c->xmax },
    { MINFLUX_REG_SAFE_YMIN, (uint16_t)c->ymin }, { MINFLUX_REG_SAFE_YMAX, (uint16_t)c->ymax },
    { MINFLUX_REG_K, c->k }, { MINFLUX_REG_DELAY, c->delay_cycles }, { MINFLUX_REG_GATE, c->gate_cycles },
    { MINFLUX_REG_WIN, c->win_cycles }, { MINFLUX_REG_CENTRE_X, (uint16_t)c->centre_x },
    { MINFLUX_REG_CENTRE_Y, (uint16_t)c->centre_y }, { MINFLUX_REG_LASER_AMP, c->laser_amp },
    { MINFLUX_REG_NCYCLES, c->ncycles }, { MINFLUX_REG_AGG, c->agg }, { MINFLUX_REG_PHOTON_STOP, c->photon_stop },
    { MINFLUX_REG_EST_K, r->est.k }, { MINFLUX_REG_EST_THRESH, r->est.thresh },
    { MINFLUX_REG_EST_L, r->est.L }, { MINFLUX_REG_EST_F, r->est.F },
    { MINFLUX_REG_EST_BETA0, (uint16_t)r->est.beta[0] }, { MINFLUX_REG_EST_BETA1, (uint16_t)r->est.beta[1] },
    { MINFLUX_REG_EST_BETA2, (uint16_t)r->est.beta[2] },
  };
  for (size_t i = 0; i < sizeof regs / sizeof regs[0]; i++)
    if (mfx_reg_write(l, (uint8_t)regs[i][0], regs[i][1])) return -1;
  for (int k = 0; k < MINFLUX_K_MAX; k++) {
    const uint32_t v = (uint32_t)(uint16_t)c->off_y[k] << 16 | (uint16_t)c->off_x[k];
    if (mfx_reg_write(l, (uint8_t)MINFLUX_OFFSET_ADDR(k), v)) return -1;
  }
  /* read back what the firmware holds: a register that did not take is a link or
   * bitstream problem the user must hear about before a run */
  uint32_t v;
  if (mfx_reg_read(l, MINFLUX_REG_GATE, &v)) return -1;
  if (v != c->gate_cycles) {
    snprintf(l->err, sizeof l->err, "GATE reads back %u after writing %u: firmware does not hold its configuration", v, c->gate_cycles);
    return -1;
  }
  if (c->photon_stop) {   /* a firmware before 0.2.0 has no PHOTON_STOP (reads 0) */
    if (mfx_reg_read(l, MINFLUX_REG_PHOTON_STOP, &v)) return -1;
    if (v != c->photon_stop) {
      snprintf(l->err, sizeof l->err, "PHOTON_STOP reads back %u after writing %u: %s (load the current bitstream, "
               "or photon_budget = 0)", v, c->photon_stop,
               v ? "the firmware does not hold its configuration" : "this firmware has no photon budget (0.2.0 has)");
      return -1;
    }
  }
  return 0;
}

/* The tracking controller: its registers, offset entries 4..7 and EST_G, then CTL_MODE = 1,
 * which must read back (0: no controller in this firmware: 1 with the message in err);
 * controller = off writes CTL_MODE = 0 (a firmware without the register ignores it).
 * -1: the link failed (l->err). */
static int configure_ctl(mfx_link *l, const acq_config *cfg, const acq_regs *ar, char *err, size_t errlen)
{
  if (!cfg->controller) return mfx_reg_write(l, MINFLUX_REG_CTL_MODE, 0) ? -1 : 0;
  ctl_write_t w[CTL_NWRITES], iw[IMG_NWRITES];
  uint32_t v;
  ctl_reg_writes(&ar->ctl, w);
  for (int i = 0; i < CTL_NWRITES; i++)
    if (mfx_reg_write(l, w[i].addr, w[i].value)) return -1;
  const int img = acq_is_image(cfg);
  /* imaging (docs/imaging.md): its registers, then CTL_MODE = 1 | 2 | last stage << 2 */
  if (img) {
    img_reg_writes(&ar->img, iw);
    for (int i = 0; i < IMG_NWRITES; i++)
      if (mfx_reg_write(l, iw[i].addr, iw[i].value)) return -1;
  }
  const uint32_t mode = img ? ar->img.mode : 1u;
  if (mfx_reg_write(l, MINFLUX_REG_CTL_MODE, mode) || mfx_reg_read(l, MINFLUX_REG_CTL_MODE, &v)) return -1;
  if (!(v & 1)) {
    snprintf(err, errlen, "this firmware has no tracking controller (CTL_MODE reads %u)%s", v,
             img ? ": it cannot run --mode image" : "; run with controller=off");
    return 1;
  }
  if (img && (v & 0xFu) != mode) {
    snprintf(err, errlen, "this firmware has no imaging mode (CTL_MODE reads %u after writing %u: bit1 and the last "
             "stage [3:2] did not take); run --mode track", v, mode);
    return 1;
  }
  return 0;
}

int cmd_acquire(int argc, char **argv)
{
  const char *board = "sim", *out = NULL, *cfg_path = NULL, *mode = NULL;
  double duration = -1;
  static const struct option lo[] = {
    { "board", required_argument, 0, 'b' }, { "mode", required_argument, 0, 'm' },
    { "duration", required_argument, 0, 'd' }, { "out", required_argument, 0, 'o' },
    { "config", required_argument, 0, 'c' }, { "help", no_argument, 0, 'h' }, { 0, 0, 0, 0 } };
  int c;
  optind = 1;
  opterr = 0;
  while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
    switch (c) {
    case 'b': board = optarg; break;
    case 'm': mode = optarg; break;
    case 'o': out = optarg; break;
    case 'c': cfg_path = optarg; break;
    case 'd': {
      char *end;
      duration = strtod(optarg, &end);
      if (end == optarg || *end || !(duration > 0) || !isfinite(duration)) {
        fprintf(stderr, "minflux acquire: --duration '%s' is not a positive number of seconds\n", optarg);
        return 2;
      }
      break;
    }
    case 'h': acq_usage(stdout); return 0;
    default:
      fprintf(stderr, "minflux acquire: unknown or incomplete option '%s' (try --help)\n", argv[optind - 1]);
      return 2;
    }
  }
  if (!out || duration < 0) {
    fprintf(stderr, "minflux acquire: --out DIR and --duration T are required (try --help)\n");
    return 2;
  }
  acq_config cfg;
  acq_defaults(&cfg);
  char err[1200];
  /* a scenario's [acquire] section: the acquisition its sample is meant for */
  if (!strncmp(board, "sim:", 4) && board[4] && acq_load_scenario(&cfg, board + 4, err, sizeof err)) {
    fprintf(stderr, "minflux acquire: %s\n", err);
    return 2;
  }
  if (cfg_path && acq_load_ini(&cfg, cfg_path, err, sizeof err)) { fprintf(stderr, "minflux acquire: %s\n", err); return 2; }
  if (mode && acq_set(&cfg, "mode", mode, err, sizeof err)) { fprintf(stderr, "minflux acquire: %s\n", err); return 2; }
  for (int i = optind; i < argc; i++) {
    char *eq = strchr(argv[i], '=');
    if (!eq) { fprintf(stderr, "minflux acquire: '%s' is not key=value (try --help)\n", argv[i]); return 2; }
    *eq = 0;
    int bad = acq_set(&cfg, argv[i], eq + 1, err, sizeof err);
    *eq = '=';
    if (bad) { fprintf(stderr, "minflux acquire: %s\n", err); return 2; }
  }
  acq_regs regs;
  if (acq_to_regs(&cfg, duration, &regs, err, sizeof err)) { fprintf(stderr, "minflux acquire: %s\n", err); return 2; }
  if (mkdir(out, 0777) && errno != EEXIST) {
    fprintf(stderr, "minflux acquire: cannot create %s: %s\n", out, strerror(errno));
    return 1;
  }
  char raw_path[4200], truth_path[4200];
  snprintf(raw_path, sizeof raw_path, "%s/raw.mfx", out);
  snprintf(truth_path, sizeof truth_path, "%s/truth.csv", out);
  if (access(raw_path, F_OK) == 0) {
    fprintf(stderr, "minflux acquire: %s exists; choose a new --out directory (nothing recorded is overwritten)\n", raw_path);
    return 1;
  }
  const int bayes = acq_is_bayes(&cfg), hex = acq_is_hex(&cfg);
  if (bayes && acq_bayes_dtable(&cfg, &regs, out, err, sizeof err)) { fprintf(stderr, "minflux acquire: %s\n", err); return 2; }
  const int is_sim = !strncmp(board, "sim", 3);
  mfx_board_opts bo = { is_sim ? truth_path : NULL };
  mfx_transport *t = mfx_board_open(board, &bo, err, sizeof err);
  if (!t) { fprintf(stderr, "minflux acquire: %s\n", err); return 1; }
  mfx_link l;
  mfx_link_init(&l, t);
  acq_state st;
  memset(&st, 0, sizeof st);
  int rc = 0;
  uint32_t id = 0, ver = 0, clk = 0, drop0 = 0, rxe0 = 0;
  /* stop whatever runs, then identify and configure */
  if (mfx_ping(&l) || mfx_reg_write(&l, MINFLUX_REG_CTRL, 4) || mfx_reg_read(&l, MINFLUX_REG_ID, &id) ||
      mfx_reg_read(&l, MINFLUX_REG_VERSION, &ver) || mfx_reg_read(&l, MINFLUX_REG_CLK_HZ, &clk)) {
    fprintf(stderr, "minflux acquire: %s\n", l.err);
    t->close(t);
    return 1;
  }
  if (id != MINFLUX_DESIGN_ID || clk != MINFLUX_CLK_HZ) {
    fprintf(stderr, "minflux acquire: firmware id 0x%08X clock %u Hz is not minflux 0x%08X at %d Hz: load the minflux bitstream\n",
            id, clk, (unsigned)MINFLUX_DESIGN_ID, MINFLUX_CLK_HZ);
    t->close(t);
    return 1;
  }
  int ctl_rc = 0;
  if (configure(&l, &regs) || (ctl_rc = configure_ctl(&l, &cfg, &regs, err, sizeof err)) < 0 ||
      (!ctl_rc && (ctl_rc = acq_bayes_configure(&l, &cfg, &regs, err, sizeof err)) < 0) ||
      (!ctl_rc && (mfx_reg_write(&l, MINFLUX_REG_LINK_RESET, 1) || mfx_reg_read(&l, MINFLUX_REG_REC_DROPPED, &drop0) ||
                   mfx_reg_read(&l, MINFLUX_REG_RX_ERRORS, &rxe0)))) {
    fprintf(stderr, "minflux acquire: configuring the firmware: %s\n", l.err);
    t->close(t);
    return 1;
  }
  if (ctl_rc) { fprintf(stderr, "minflux acquire: %s\n", err); t->close(t); return 1; }
  if (mfx_link_set_rate(&l, (unsigned)cfg.baud)) {
    fprintf(stderr, "minflux acquire: %s\n", l.err);
    t->close(t);
    return 1;
  }
  const unsigned link_baud = t->baud;

  /* raw header: everything needed to decode and to reproduce the run */
  json_t *hdr = json_object(), *fw = json_object(), *jc = json_object(), *jr = json_object();
  char tbuf[64];
  time_t now = time(NULL);
  strftime(tbuf, sizeof tbuf, "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
  json_object_set_new(hdr, "format", json_integer(1));
  json_object_set_new(hdr, "start_time", json_string(tbuf));
  json_object_set_new(hdr, "board", json_string(board));
  json_object_set_new(fw, "id", json_integer(id));
  json_object_set_new(fw, "version", json_integer(ver));
  json_object_set_new(fw, "clk_hz", json_integer(clk));
  json_object_set_new(hdr, "firmware", fw);
  acq_each(&cfg, add_cfg, jc);
  json_object_set_new(hdr, "config", jc);
  json_object_set_new(jr, "k", json_integer(regs.core.k));
  json_object_set_new(jr, "delay", json_integer(regs.core.delay_cycles));
  json_object_set_new(jr, "gate", json_integer(regs.core.gate_cycles));
  json_object_set_new(jr, "win", json_integer(regs.core.win_cycles));
  json_object_set_new(jr, "ncycles", json_integer(regs.core.ncycles));
  json_object_set_new(jr, "agg", json_integer(regs.core.agg));
  if (cfg.controller) {   /* every controller register word as written */
    json_t *jw = json_object();
    ctl_write_t w[CTL_NWRITES];
    ctl_reg_writes(&regs.ctl, w);
    for (int i = 0; i < CTL_NWRITES; i++) json_object_set_new(jw, w[i].name, json_integer(w[i].value));
    if (acq_is_image(&cfg)) {   /* the imaging words and the stage-0 pattern */
      ctl_write_t iw[IMG_NWRITES];
      img_reg_writes(&regs.img, iw);
      for (int i = 0; i < IMG_NWRITES; i++) json_object_set_new(jw, iw[i].name, json_integer(iw[i].value));
      json_t *jo = json_array();
      for (unsigned k = 0; k < regs.core.k; k++)
        json_array_append_new(jo, json_integer((uint32_t)(uint16_t)regs.core.off_y[k] << 16 | (uint16_t)regs.core.off_x[k]));
      json_object_set_new(jr, "offsets", jo);
      json_object_set_new(jr, "est_L", json_integer(regs.est.L));
    }
    json_object_set_new(jw, "CTL_MODE", json_integer(acq_is_image(&cfg) ? regs.img.mode : 1));
    json_object_set_new(jr, "ctl", jw);
  }
  if (bayes) json_object_set_new(jr, "bayes", acq_bayes_header(&regs));
  json_object_set_new(hdr, "registers", jr);
  json_object_set_new(hdr, "duration_s_requested", json_real(duration));
  json_object_set_new(hdr, "cycle_hz", json_real(regs.cycle_hz_actual));
  char *hs = json_dumps(hdr, JSON_COMPACT | JSON_PRESERVE_ORDER);
  json_decref(hdr);
  st.raw = mfx_raw_create(raw_path, hs, err, sizeof err);
  free(hs);
  mfx_decode_params dp = { clk, cfg.eod_nm_per_lsb, regs.core.agg, core_config_period_cycles(&regs.core), regs.core.k };
  acq_bayes bs;
  memset(&bs, 0, sizeof bs);
  acq_bayes_host bh;
  memset(&bh, 0, sizeof bh);
  acq_hex hx;
  acq_hex_init(&hx, &cfg, &regs, clk, &st.tab);
  if (!st.raw || (bayes ? acq_bayes_open(&bs, &cfg, &regs, clk, out, err, sizeof err)
                        : mfx_tables_open(&st.tab, out, &dp, err, sizeof err)) ||
      (bayes && cfg.bayes_host && acq_bayes_host_init(&bh, &bs) && snprintf(err, sizeof err, "out of memory"))) {
    fprintf(stderr, "minflux acquire: %s\n", err);
    if (st.raw) fclose(st.raw);
    t->close(t);
    return 1;
  }

  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_sigint;
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);
  const int tty = isatty(2);
  mfx_dec_init(&l.dec);
  l.on_raw = on_raw;
  l.raw_ctx = &st;
  l.on_cycle = bayes ? (cfg.bayes_host ? acq_bayes_host_on_cycle : acq_bayes_on_cycle) : hex ? acq_hex_on_cycle : on_cycle;
  l.cycle_ctx = bayes ? (cfg.bayes_host ? (void *)&bh : (void *)&bs) : hex ? (void *)&hx : (void *)&st;
  const uint64_t want = regs.core.ncycles, agg = regs.core.agg, want_rec = want / agg;
  if (bayes)
    fprintf(stderr, "minflux acquire: Bayesian localizations for %.3f s of firmware time (bayes_seed %d%s) on %s -> %s\n",
            duration, cfg.bayes_seed, cfg.bayes_host ? "; the host runs the model, one exposure per start" : "", board, out);
  else if (hex)
    fprintf(stderr, "minflux acquire: hexagon localizations (L = %g/%g/%g nm, %d/%d/%d photons) for %.3f s of firmware time on %s -> %s\n",
            cfg.hex_L_nm[0], cfg.hex_L_nm[1], cfg.hex_L_nm[2], cfg.hex_photons[0], cfg.hex_photons[1], cfg.hex_photons[2],
            duration, board, out);
  else if (regs.core.photon_stop)
    fprintf(stderr, "minflux acquire: %" PRIu64 " cycles at %.3f Hz (%.3f s), or until %u photons, on %s -> %s\n", want,
            regs.cycle_hz_actual, want / regs.cycle_hz_actual, regs.core.photon_stop, board, out);
  else
    fprintf(stderr, "minflux acquire: %" PRIu64 " cycles at %.3f Hz (%.3f s) on %s -> %s\n", want,
            regs.cycle_hz_actual, want / regs.cycle_hz_actual, board, out);
  const double t0 = mono_s();
  double last_status = t0, last_flush = t0, last_poll = t0, last_byte = t0;
  int stop_sent = 0, running = 1;
  /* host watchdog: WDOG in units of 2^LINK_WDOG_PRE_W cycles (at least 1 when on); the
   * STATUS poll below (every 0.2 s) keeps it fed; bit 6 of STATUS is cleared first */
  const uint32_t wdog = cfg.watchdog_ms > 0
      ? (uint32_t)fmin(65535.0, fmax(1.0, ceil(cfg.watchdog_ms * 1e-3 * clk / (double)(1u << MINFLUX_LINK_WDOG_PRE_W))))
      : 0;
  int wdog_tripped = 0;
  if (mfx_reg_write(&l, MINFLUX_REG_STATUS, 0x40) || mfx_reg_write(&l, MINFLUX_REG_WDOG, wdog)) {
    fprintf(stderr, "minflux acquire: watchdog: %s\n", l.err); rc = 1; running = 0;
  }
  else if (!bayes && !hex && mfx_reg_write(&l, MINFLUX_REG_CTRL, 1)) { fprintf(stderr, "minflux acquire: start: %s\n", l.err); rc = 1; running = 0; }
  if (bayes && running) {   /* one localization after the other (host/acq_bayes.c) */
    const acq_bayes_io io = { &g_interrupted, duration, tty, t0, cfg.watchdog_ms, &wdog_tripped, st.raw };
    rc = cfg.bayes_host ? acq_bayes_host_loop(&bh, &l, &io) : acq_bayes_loop(&bs, &l, &io);
    running = 0;
  }
  if (hex && running) {   /* the stages one after the other (host/acq_hex.c) */
    const acq_bayes_io io = { &g_interrupted, duration, tty, t0, cfg.watchdog_ms, &wdog_tripped, st.raw };
    rc = acq_hex_loop(&hx, &l, &io);
    running = 0;
  }
  while (running) {
    long n = mfx_link_poll(&l, 20);
    const double tn = mono_s();
    if (n < 0) { fprintf(stderr, "\nminflux acquire: link lost: %s\n", l.err); rc = 3; break; }
    if (n > 0) last_byte = tn;
    if (g_interrupted && !stop_sent) {
      stop_sent = 1;
      if (mfx_reg_write(&l, MINFLUX_REG_CTRL, 2)) { fprintf(stderr, "\nminflux acquire: stop: %s\n", l.err); rc = 3; break; }
    }
    if (st.tab.records + st.tab.gaps >= want_rec && tn - last_byte > 0.05) break;
    if (tn - last_poll > 0.2) {        /* has the firmware finished (or been stopped)? */
      uint32_t s;
      last_poll = tn;
      if (mfx_reg_read(&l, MINFLUX_REG_STATUS, &s)) { fprintf(stderr, "\nminflux acquire: %s\n", l.err); rc = 3; break; }
      if (s & 0x10) fprintf(stderr, "\nminflux acquire: EMERGENCY STOP input active: the firmware aborted the run\n");
      if ((s & 0x40) && !wdog_tripped) {
        wdog_tripped = 1;
        fprintf(stderr, "\nminflux acquire: the firmware's host watchdog tripped (no command for %.0f ms): run aborted, laser off, beam centred\n",
                cfg.watchdog_ms);
      }
      if (!(s & 1)) {                   /* idle: drain what is still on the way */
        double q = mono_s();
        while (mono_s() - q < 0.1) { long m = mfx_link_poll(&l, 20); if (m < 0) break; if (m > 0) q = mono_s(); }
        break;
      }
    }
    if (tn - last_flush > 0.5) { fflush(st.raw); fflush(st.tab.cycles); fflush(st.tab.tracks); last_flush = tn; }
    if (tn - last_byte > 5.0) { fprintf(stderr, "\nminflux acquire: no bytes from the board for 5 s\n"); rc = 3; break; }
    if (tty && tn - last_status > 0.25) {
      const double el = tn - t0, fw_s = (double)(st.tab.records * agg) / regs.cycle_hz_actual;
      fprintf(stderr, "\r  %6.2f s firmware / %6.1f s wall  %7" PRIu64 " records  %8.1f kHz counts  lost %" PRIu64 "   ",
              fw_s, el, st.tab.records, fw_s > 0 ? st.tab.photons / fw_s / 1e3 : 0.0, st.tab.gaps);
      last_status = tn;
    }
  }
  if (tty) fprintf(stderr, "\n");
  l.on_raw = NULL;   /* the closing register reads are not part of the record stream */
  if (rc != 3) {   /* the watchdog off again; did it trip after the last poll? */
    uint32_t s6 = 0;
    if (mfx_reg_read(&l, MINFLUX_REG_STATUS, &s6) || mfx_reg_write(&l, MINFLUX_REG_WDOG, 0)) {
      fprintf(stderr, "minflux acquire: watchdog: %s\n", l.err); rc = 3;
    } else if ((s6 & 0x40) && !wdog_tripped) {
      wdog_tripped = 1;
      fprintf(stderr, "minflux acquire: the firmware's host watchdog tripped (no command for %.0f ms): run aborted, laser off, beam centred\n",
              cfg.watchdog_ms);
    }
  }
  uint32_t done = 0, drop1 = drop0, rxe1 = rxe0, seq_end = 0, run_ph = 0;
  if (rc == 0 && (mfx_reg_read(&l, MINFLUX_REG_CYCLES_DONE, &done) || mfx_reg_read(&l, MINFLUX_REG_REC_DROPPED, &drop1) ||
                  mfx_reg_read(&l, MINFLUX_REG_RX_ERRORS, &rxe1) || mfx_reg_read(&l, MINFLUX_REG_REC_SEQ, &seq_end) ||
                  (regs.core.photon_stop && mfx_reg_read(&l, MINFLUX_REG_RUN_PHOTONS, &run_ph)))) {
    fprintf(stderr, "minflux acquire: reading the final counters: %s\n", l.err);
    rc = 3;
  }
  /* a firmware reset during the run (power glitch, reconfiguration) clears the registers:
   * NCYCLES no longer holds what was written, and the counters above are meaningless */
  uint32_t ncy = 0, bym = 1;
  const int fw_reset = rc == 0 && (bayes && !cfg.bayes_host ? !mfx_reg_read(&l, MINFLUX_REG_BAYES_MODE, &bym) && !(bym & 1)   /* reset: 0 */
                                         : !mfx_reg_read(&l, MINFLUX_REG_NCYCLES, &ncy) && ncy != regs.core.ncycles);
  if (fw_reset) rc = 5;
  /* back to the multiplex pattern for whatever runs next */
  if (bayes && rc != 3 && mfx_reg_write(&l, MINFLUX_REG_BAYES_MODE, 0))
    fprintf(stderr, "minflux acquire: warning: BAYES_MODE = 0 at the end: %s\n", l.err);
  /* back to the default rate, so the next session finds the firmware where it expects it
   * (it would fall back by itself 1.4 s later) */
  if (rc != 3 && link_baud != 3000000u && mfx_link_set_rate(&l, 3000000u))
    fprintf(stderr, "minflux acquire: warning: returning the link to 3 Mbaud: %s\n", l.err);
  const double wall = mono_s() - t0;
  t->close(t);   /* the virtual board writes truth.csv completely before it exits */
  if (fclose(st.raw) || st.raw_failed) { fprintf(stderr, "minflux acquire: writing %s failed: %s\n", raw_path, st.raw_err); rc = 1; }
  mfx_tables tab = st.tab;
  if (bayes) acq_bayes_tab(&bs, &tab);
  /* records lost after the last one received leave no gap in the sequence: the firmware's
   * next sequence number tells how many there were */
  if (rc == 0) tab.gaps += tab.records ? (uint16_t)(seq_end - tab.prev_seq - 1u) : (uint16_t)seq_end;
  /* records lost between the firmware's FIFO and this file (corrupted or dropped bytes):
   * gaps the firmware did not count as FIFO overflows; exit 4 when there are any */
  const int64_t lost_link = rc == 0 ? (int64_t)tab.gaps - (uint16_t)(drop1 - drop0) : -1;
  if (lost_link > 0) rc = 4;
  /* the firmware stopped the run (host silence): exit 6, before a loss on the link (both
   * are in summary.json) */
  if (wdog_tripped && (rc == 0 || rc == 4)) rc = 6;
  if (mfx_tables_close(&st.tab, err, sizeof err)) { fprintf(stderr, "minflux acquire: %s\n", err); rc = 1; }

  /* from the first record's first cycle to the end of the last record's last cycle */
  const double dur = tab.records ? (tab.last_ts_full - tab.first_ts_full) / (double)clk + (bayes ? 0 : (double)agg / regs.cycle_hz_actual) : 0;
  json_t *sum = json_object();
  if (bayes || hex) json_object_set_new(sum, "mode", json_string(cfg.mode));
  json_object_set_new(sum, "records", json_integer((json_int_t)tab.records));
  if (!bayes) {   /* hex: CYCLES_DONE is the last stage's */
    json_object_set_new(sum, "cycles_run", fw_reset || rc == 3 ? json_null() : json_integer(hex ? (json_int_t)(tab.records + tab.gaps) : done));
    json_object_set_new(sum, "cycles_requested", json_integer((json_int_t)want));
    json_object_set_new(sum, "cycles_per_record", json_integer((json_int_t)agg));
  }
  json_object_set_new(sum, "link_baud", json_integer((json_int_t)link_baud));
  json_object_set_new(sum, "gaps", json_integer((json_int_t)tab.gaps));
  json_object_set_new(sum, "crc_errors", json_integer((json_int_t)l.dec.crc_errors));
  json_object_set_new(sum, "skipped_bytes", json_integer((json_int_t)l.dec.skipped_bytes));
  json_object_set_new(sum, "fifo_overflows", json_integer((uint16_t)(drop1 - drop0)));
  json_object_set_new(sum, "firmware_rx_errors", json_integer((uint16_t)(rxe1 - rxe0)));
  json_object_set_new(sum, "command_retries", json_integer((json_int_t)l.retries));
  json_object_set_new(sum, "duration_s", json_real(dur));
  json_object_set_new(sum, "wall_s", json_real(wall));
  if (!bayes) json_object_set_new(sum, "cycle_hz", json_real(regs.cycle_hz_actual));
  json_object_set_new(sum, "records_per_s", json_real(dur > 0 ? tab.records / dur : 0));
  json_object_set_new(sum, "count_rate_hz", json_real(dur > 0 ? tab.photons / dur : 0));
  if (!bayes) json_object_set_new(sum, "photons_per_cycle", json_real(tab.records ? (double)tab.photons / (tab.records * agg) : 0));
  json_object_set_new(sum, "photons_per_record", json_real(tab.records ? (double)tab.photons / tab.records : 0));
  if (!bayes && !hex) {
    json_object_set_new(sum, "photon_budget", json_integer((json_int_t)regs.core.photon_stop));
    if (regs.core.photon_stop) {   /* the firmware's count (RUN_PHOTONS) and whether the budget ended the run */
      const int by_budget = rc == 0 && !fw_reset && run_ph >= regs.core.photon_stop && done < want;
      json_object_set_new(sum, "run_photons", rc == 0 && !fw_reset ? json_integer((json_int_t)run_ph) : json_null());
      json_object_set_new(sum, "ended_by_photon_budget", json_boolean(by_budget));
      if (by_budget)
        printf("photon budget: the firmware ended the run after %u of %" PRIu64 " cycles with %u photons (budget %u)\n",
               done, want, run_ph, regs.core.photon_stop);
    }
  }
  if (!bayes && !hex) json_object_set_new(sum, "valid_localizations", json_integer((json_int_t)tab.valid));
  json_t *bys = json_object();   /* record flags bits 7:4 (docs/controller.md, docs/imaging.md) */
  static const char *const st_names[16] = { "open", "search", "preloc", "track", "stage0", "stage1", "stage2", "stage3",
                                            NULL, NULL, NULL, NULL, "stage0_end", "stage1_end", "stage2_end", "stage3_end" };
  for (unsigned i = 0; i < 16; i++)
    if (st_names[i] && (i < 4 || (acq_is_image(&cfg) && i != 7 && i != 15) || tab.by_state[i]))
      json_object_set_new(bys, st_names[i], json_integer((json_int_t)tab.by_state[i]));
  if (!bayes) {
    json_object_set_new(sum, "records_by_state", bys);
    if (!hex) {   /* hex: the live mLMS of K = 7 records is not an estimate of anything */
      json_object_set_new(sum, "mean_x_nm", tab.valid ? json_real(tab.sum_x / tab.valid) : json_null());
      json_object_set_new(sum, "mean_y_nm", tab.valid ? json_real(tab.sum_y / tab.valid) : json_null());
    }
  } else {
    json_decref(bys);
  }
  json_object_set_new(sum, "interrupted", json_boolean(g_interrupted));
  json_object_set_new(sum, "link_error", json_boolean(rc == 3));
  json_object_set_new(sum, "lost_on_link", lost_link >= 0 ? json_integer(lost_link) : json_null());
  json_object_set_new(sum, "truncated_bytes", json_integer((json_int_t)l.dec.n));   /* a frame cut off at the end */
  json_object_set_new(sum, "firmware_reset", json_boolean(fw_reset));
  json_object_set_new(sum, "watchdog_ms", json_real(cfg.watchdog_ms));
  json_object_set_new(sum, "watchdog_tripped", json_boolean(wdog_tripped));
  /* imaging: the stage localizations from the raw file (the same reader as `minflux analyze`) */
  img_result ir;
  img_params ip;
  int have_img = 0;
  memset(&ir, 0, sizeof ir);
  if (acq_is_image(&cfg) && tab.records) {
    an_raw ar;
    int ipr = 0;
    if (an_raw_read(raw_path, &ar, err, sizeof err) || (ipr = img_params_from_header(ar.header_json, &ip, err, sizeof err)) != 1 ||
        img_extract(&ar, &ip, 1, 0, &ir, err, sizeof err) || img_write_locs(out, &ip, &ir, err, sizeof err)) {
      if (ipr == 0) snprintf(err, sizeof err, "the raw header has no imaging registers");
      fprintf(stderr, "minflux acquire: imaging localizations: %s\n", err);
      rc = rc ? rc : 1;
    } else {
      have_img = 1;
      json_object_set_new(sum, "imaging", img_summary_json(&ip, &ir, &regs.img));
    }
    an_raw_free(&ar);
  }
  /* Bayes: localizations.csv, the replay's verdict, truth (the board wrote truth.csv when it closed) */
  if (bayes && acq_bayes_finish(&bs, out, is_sim ? truth_path : NULL, sum, err, sizeof err)) {
    fprintf(stderr, "minflux acquire: %s\n", err);
    rc = rc ? rc : 1;
  }
  if (bayes && cfg.bayes_host) {   /* the model ran here: where the DAC did not put the beam it placed */
    json_object_set_new(sum, "bayes_host_clamped", json_integer((json_int_t)bh.moved));
    if (bh.moved)
      fprintf(stderr, "minflux acquire: warning: %" PRIu64 " exposures ran at another centre than the model placed (the safe "
              "window was narrowed during the run); the model assumed its own placement\n", bh.moved);
  }
  if (hex && acq_hex_finish(&hx, out, is_sim ? truth_path : NULL, sum, err, sizeof err)) {
    fprintf(stderr, "minflux acquire: %s\n", err);
    rc = rc ? rc : 1;
  }
  json_object_set_new(sum, "exit_code", json_integer(rc));
  char sum_path[4200];
  snprintf(sum_path, sizeof sum_path, "%s/summary.json", out);
  if (json_dump_file(sum, sum_path, JSON_INDENT(2) | JSON_PRESERVE_ORDER)) {
    fprintf(stderr, "minflux acquire: cannot write %s\n", sum_path);
    rc = rc ? rc : 1;
  }
  json_decref(sum);
  if (agg > 1) printf("%" PRIu64 " cycles per record (agg); ", agg);
  if (bayes || hex)
    printf("%" PRIu64 " %s records, %" PRIu64 " gaps, %" PRIu64 " CRC errors, %u FIFO overflows; %.3f s firmware time in %.1f s "
           "wall%s\n", tab.records, bayes ? "exposure" : "multiplex cycle", tab.gaps, (uint64_t)l.dec.crc_errors, (uint16_t)(drop1 - drop0), dur, wall,
           g_interrupted ? " (stopped by Ctrl-C)" : "");
  else
    printf("%" PRIu64 " records of %u cycles run (%" PRIu64 " requested), %" PRIu64 " gaps, %" PRIu64 " CRC errors, "
         "%u FIFO overflows; %.3f s firmware time in %.1f s wall%s\n", tab.records, done, want, tab.gaps,
         (uint64_t)l.dec.crc_errors, (uint16_t)(drop1 - drop0), dur, wall, g_interrupted ? " (stopped by Ctrl-C)" : "");
  if (tab.valid && !hex)   /* hex: the live mLMS of K = 7 records means nothing; localizations.csv holds the results */
    printf("mean position of %" PRIu64 " valid localizations: (%.2f, %.2f) nm; %.1f photons per cycle\n",
           tab.valid, tab.sum_x / tab.valid, tab.sum_y / tab.valid, (double)tab.photons / (tab.records * agg));
  if (cfg.controller && !acq_is_image(&cfg))
    printf("records by controller state: %" PRIu64 " search, %" PRIu64 " pre-localization, %" PRIu64 " tracking\n",
           tab.by_state[MINFLUX_CTL_ST_SEARCH], tab.by_state[MINFLUX_CTL_ST_PRELOC], tab.by_state[MINFLUX_CTL_ST_TRACK]);
  if (have_img) img_print_summary(stdout, &ip, &ir);
  img_result_free(&ir);
  if (bayes)
    printf("files: %s/{raw.mfx,bayes_exposures.csv,localizations.csv,bayes_convergence.png,bayes_localizations.png,dtable.csv,summary.json%s}\n", out, is_sim ? ",truth.csv" : "");
  else
    printf("files: %s/{raw.mfx,cycles.csv,tracks.csv,%ssummary.json%s}\n", out,
           have_img ? "localizations.csv,stage_localizations.csv," : hex ? "localizations.csv,hex_stages.csv," : "", is_sim ? ",truth.csv" : "");
  if (rc == 3)
    fprintf(stderr, "minflux acquire: the link failed after %" PRIu64 " records: the files hold everything received until then "
            "(exit 3; records after that are unknown)\n", tab.records);
  if (rc == 4)
    fprintf(stderr, "minflux acquire: %" PRId64 " records lost on the link (%" PRIu64 " CRC errors, %" PRIu64 " bytes skipped); "
            "every loss is a gap in %s (exit 4)\n", lost_link, (uint64_t)l.dec.crc_errors, (uint64_t)l.dec.skipped_bytes,
            bayes ? "bayes_exposures.csv (seq)" : "cycles.csv");
  if (rc == 5 && bayes && !cfg.bayes_host)
    fprintf(stderr, "minflux acquire: the firmware was reset during the run (BAYES_MODE reads %u, 1 written): %" PRIu64
            " records kept, the run ended there (exit 5)\n", bym, tab.records);
  else if (rc == 5)
    fprintf(stderr, "minflux acquire: the firmware was reset during the run (NCYCLES reads %u, %u written): %" PRIu64
            " records kept, the run ended there (exit 5)\n", ncy, regs.core.ncycles, tab.records);
  if (!bayes && !hex && rc == 0 && (tab.records + tab.gaps) * agg != done && !g_interrupted)
    fprintf(stderr, "minflux acquire: warning: (%" PRIu64 " records + %" PRIu64 " gaps) x %" PRIu64 " cycles != %u cycles run\n",
            tab.records, tab.gaps, agg, done);
  acq_bayes_free(&bs);
  acq_hex_free(&hx);
  acq_bayes_host_free(&bh);
  return rc;
}
