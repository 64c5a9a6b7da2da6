/* `minflux acquire --mode bayes`: see acq_bayes.h. */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "acq_bayes.h"
#include "bayes.h"
#include "bayes_regs.h"
#include "bayes_float.h"
#include "plot.h"
#include "protocol.h"
#include "track_error.h"

/* the D table `minflux bayes dtable` writes by default: sigma 1/16 .. 512 nm, 8 per octave */
#define DT_SIGMA_MIN (1.0 / 16.0)
#define DT_PER_OCT   8
#define DT_N         (8 * 13 + 1)

static double mono_s(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static int close_rel(double a, double b) { return fabs(a - b) <= 1e-6 * fmax(fabs(a), fabs(b)); }

int acq_bayes_dtable(const acq_config *c, acq_regs *r, const char *dir, char *err, size_t errlen)
{
  bf_dtable_t dt;
  char e[600], path[4200];
  if (c->bayes_dtable[0]) {
    if (bf_dtable_read(&dt, c->bayes_dtable, e, sizeof e)) {
      snprintf(err, errlen, "bayes_dtable = '%s': %s", c->bayes_dtable, e);
      return -1;
    }
    if (!close_rel(dt.mu, c->bayes_mu) || !close_rel(dt.b, c->bayes_b) || !close_rel(dt.s, c->bayes_s_nm)) {
      snprintf(err, errlen, "bayes_dtable = '%s' is the table of mu = %g, b = %g, s = %g nm, not of bayes_mu = %g, bayes_b = %g, "
               "bayes_s_nm = %g (make one with `minflux bayes dtable --mu %g --b %g --s %g --out FILE`, or leave bayes_dtable empty)",
               c->bayes_dtable, dt.mu, dt.b, dt.s, c->bayes_mu, c->bayes_b, c->bayes_s_nm, c->bayes_mu, c->bayes_b, c->bayes_s_nm);
      bf_dtable_free(&dt);
      return -1;
    }
  } else {
    fprintf(stderr, "minflux acquire: computing D(sigma) for bayes_mu = %g, bayes_b = %g, bayes_s_nm = %g (%d entries, "
            "~10 s; bayes_dtable=FILE reuses a table) ...\n", c->bayes_mu, c->bayes_b, c->bayes_s_nm, DT_N);
    const double t0 = mono_s();
    if (bf_dtable_make(&dt, c->bayes_mu, c->bayes_b, c->bayes_s_nm, DT_SIGMA_MIN, DT_PER_OCT, DT_N, 2, e, sizeof e)) {
      snprintf(err, errlen, "computing the D(sigma) table: %s", e);
      return -1;
    }
    fprintf(stderr, "minflux acquire: D(sigma) done in %.1f s: D0 = %.2f nm, D(%g nm) = %.1f nm\n", mono_s() - t0, dt.D0,
            c->bayes_sigma0_nm, bf_dtable_eval(&dt, c->bayes_sigma0_nm));
  }
  snprintf(path, sizeof path, "%s/dtable.csv", dir);
  int rc = bf_dtable_write(&dt, path, e, sizeof e);
  if (rc) snprintf(err, errlen, "writing the D table: %s", e);
  const uint16_t amp_max = r->bayes.amp_max;
  if (!rc && bayes_regs_from_phys(&r->bayes_phys, &dt, &r->bayes, e, sizeof e)) {
    snprintf(err, errlen, "Bayesian registers from the D table: %s (bayes_s_nm, bayes_mu, bayes_b, eod_nm_per_lsb)", e);
    rc = -1;
  }
  r->bayes.amp_max = amp_max;   /* bayes_amp_max as acq_to_regs applied it */
  acq_bayes_window(r);
  bf_dtable_free(&dt);
  return rc;
}

/* (address, value) of every Bayesian register but BAYES_MODE; n = 11 + the D table. */
#define BY_NW (11 + MINFLUX_BY_D_N)
static void reg_list(const bayes_regs_t *g, uint32_t a[BY_NW], uint32_t v[BY_NW], const char *name[BY_NW])
{
  const struct { uint32_t a, v; const char *n; } w[11] = {
    { MINFLUX_REG_BAYES_ORIGIN, (uint32_t)(uint16_t)g->y0 << 16 | (uint16_t)g->x0, "BAYES_ORIGIN" },
    { MINFLUX_REG_BAYES_H0, g->h0, "BAYES_H0" },
    { MINFLUX_REG_BAYES_PRIOR_A, g->prior_a, "BAYES_PRIOR_A" },
    { MINFLUX_REG_BAYES_INV_S, g->inv_s, "BAYES_INV_S" },
    { MINFLUX_REG_BAYES_B, g->b32, "BAYES_B" },
    { MINFLUX_REG_BAYES_MU, g->mu, "BAYES_MU" },
    { MINFLUX_REG_BAYES_KM, g->km, "BAYES_KM" },
    { MINFLUX_REG_BAYES_AMP_MAX, g->amp_max, "BAYES_AMP_MAX" },
    { MINFLUX_REG_BAYES_NMAX, g->nmax, "BAYES_NMAX" },
    { MINFLUX_REG_BAYES_LSIG_STOP, (uint16_t)g->lsig_stop, "BAYES_LSIG_STOP" },
    { MINFLUX_REG_BAYES_SEED, g->seed, "BAYES_SEED" },
  };
  for (int i = 0; i < 11; i++) {
    a[i] = w[i].a;
    v[i] = w[i].v;
    name[i] = w[i].n;
  }
  for (int t = 0; t < MINFLUX_BY_D_N; t++) {
    a[11 + t] = MINFLUX_REG_BAYES_DTAB;
    v[11 + t] = (uint32_t)t << 16 | g->dtab[t];
    name[11 + t] = "BAYES_DTAB";
  }
}

int acq_bayes_write_regs(mfx_link *l, const bayes_regs_t *g)
{
  uint32_t a[BY_NW], w[BY_NW];
  const char *nm[BY_NW];
  reg_list(g, a, w, nm);
  for (int i = 0; i < BY_NW; i++)
    if (mfx_reg_write(l, (uint8_t)a[i], w[i])) return -1;
  return 0;
}

int acq_bayes_configure(mfx_link *l, const acq_config *c, const acq_regs *r, char *err, size_t errlen)
{
  /* bayes_host = on: the host places every exposure, the block (if any) stays off */
  if (!acq_is_bayes(c) || c->bayes_host) return mfx_reg_write(l, MINFLUX_REG_BAYES_MODE, 0) ? -1 : 0;
  uint32_t v;
  if (mfx_reg_write(l, MINFLUX_REG_BAYES_MODE, 1) || mfx_reg_read(l, MINFLUX_REG_BAYES_MODE, &v)) return -1;
  if (!(v & 1)) {
    snprintf(err, errlen, "this firmware has no Bayesian block (BAYES_MODE reads %u after writing 1): the board image leaves "
             "it out (it does not fit the UP5K, README Status); run --mode bayes with bayes_host=on (the host runs the model), "
             "or with --board sim", v);
    return 1;
  }
  return acq_bayes_write_regs(l, &r->bayes);
}

json_t *acq_bayes_header(const acq_regs *r)
{
  uint32_t a[BY_NW], w[BY_NW];
  const char *nm[BY_NW];
  reg_list(&r->bayes, a, w, nm);
  json_t *j = json_object(), *dt = json_array();
  for (int i = 0; i < 11; i++) json_object_set_new(j, nm[i], json_integer(w[i]));
  for (int t = 0; t < MINFLUX_BY_D_N; t++) json_array_append_new(dt, json_integer(r->bayes.dtab[t]));
  json_object_set_new(j, "BAYES_DTAB", dt);
  json_object_set_new(j, "BAYES_MODE", json_integer(r->core.ncycles == 1 ? 0 : 1));   /* bayes_host: the block off */
  json_object_set_new(j, "eta_per_code", json_real(bayes_eta_per_code_of(&r->bayes)));
  return j;
}

int acq_bayes_open(acq_bayes *b, const acq_config *c, const acq_regs *r, double clk, const char *dir, char *err, size_t errlen)
{
  memset(b, 0, sizeof *b);
  b->cfg = c;
  b->regs = r;
  b->clk = clk;
  b->model = malloc(sizeof(bayes_state_t));
  char path[4200];
  snprintf(path, sizeof path, "%s/bayes_exposures.csv", dir);
  if (!b->model || !(b->exp_csv = fopen(path, "w"))) {
    snprintf(err, errlen, "cannot create %s: %s", path, b->model ? strerror(errno) : "out of memory");
    free(b->model);
    b->model = NULL;
    return -1;
  }
  fprintf(b->exp_csv, "loc,k,t_s,beam_x_nm,beam_y_nm,amp,eta,n,map_x_nm,map_y_nm,std_nm,lev,status,seq\n");
  return 0;
}

static int32_t sext24(uint32_t w) { return (int32_t)(w << 8) >> 8; }

void acq_bayes_decode(const mfx_cycle *c, acq_bayes_rec *r)
{
  memset(r, 0, sizeof *r);
  r->bx = c->cx;
  r->by = c->cy;
  r->amp = (uint16_t)c->ex;
  r->lsig = c->ey;
  r->flags = c->flags;
  r->status = (uint8_t)(c->flags >> MFX_FLAG_STATE_SHIFT);
  r->n = (uint16_t)(c->counts[0][0] + c->counts[0][1]);
  r->map_x = sext24((uint32_t)c->counts[1][0] << 12 | c->counts[1][1]);
  r->map_y = sext24((uint32_t)c->counts[2][0] << 12 | c->counts[2][1]);
  const uint32_t w3 = (uint32_t)c->counts[3][0] << 12 | c->counts[3][1];
  r->lev = (uint8_t)(w3 >> 20);
  r->exp16 = (uint16_t)w3;
}

void acq_bayes_encode(const bayes_out_t *before, const bayes_out_t *after, unsigned ch0, unsigned ch1, mfx_cycle *c)
{
  c->cx = before->beam_x;
  c->cy = before->beam_y;
  c->ex = (int16_t)before->amp;
  c->ey = after->lsig;
  c->flags = (uint8_t)((c->flags & MFX_FLAG_SATURATED) | MFX_FLAG_EST_VALID | MFX_FLAG_BAYES | (after->status & 0xE) << MFX_FLAG_STATE_SHIFT);
  c->k = 4;
  const uint32_t w[4] = { 0, (uint32_t)after->map_x & 0xFFFFFF, (uint32_t)after->map_y & 0xFFFFFF,
                          (uint32_t)after->lev << 20 | (after->exposures & 0xFFFF) };
  c->counts[0][0] = (uint16_t)ch0;
  c->counts[0][1] = (uint16_t)ch1;
  for (int k = 1; k < 4; k++) {
    c->counts[k][0] = (uint16_t)(w[k] >> 12);
    c->counts[k][1] = (uint16_t)(w[k] & 0xFFF);
  }
}

void acq_bayes_on_cycle(void *ctx, const mfx_cycle *c)
{
  acq_bayes *b = ctx;
  /* stream bookkeeping, as mfx_tables_add does it */
  if (!b->started) {
    b->seq_unw = c->seq;
    b->started = 1;
  } else {
    const uint16_t missing = (uint16_t)(c->seq - b->prev_seq - 1u);
    b->gaps += missing;
    b->seq_unw += (uint64_t)missing + 1;
    if (c->ts < b->prev_ts) b->ts_hi += 1ull << 32;
  }
  b->prev_seq = c->seq;
  b->prev_ts = c->ts;
  const uint64_t ts = b->ts_hi + c->ts;
  if (b->records == 0) b->first_ts = ts;
  b->last_ts = ts;
  b->records++;
  if (!(c->flags & MFX_FLAG_BAYES) || c->k != 4) {   /* not a Bayesian exposure: the pattern ran */
    b->foreign++;
    return;
  }
  acq_bayes_rec r;
  acq_bayes_decode(c, &r);
  r.seq = b->seq_unw;
  r.ts = ts;
  b->photons += r.n;
  const int in_loc = b->active;
  if (!in_loc) b->late++;   /* after its localization was closed: written, not replayed */
  if (in_loc && b->nrec) {
    const acq_bayes_rec *p = &b->rec[b->nrec - 1];
    r.k = p->k + (uint16_t)((uint16_t)(r.exp16 - 1u) - (uint16_t)p->k);
  } else {
    r.k = (uint16_t)(r.exp16 - 1u);
  }
  if (in_loc) {
    if (b->nrec == b->caprec) {
      size_t nc = b->caprec ? 2 * b->caprec : 4096;
      acq_bayes_rec *nr = realloc(b->rec, nc * sizeof *nr);
      if (!nr) { b->write_failed = 1; return; }
      b->rec = nr;
      b->caprec = nc;
    }
    b->rec[b->nrec++] = r;
    if (r.status & 2) b->cur_done = 1;
  }
  const bayes_phys_t *ph = &b->regs->bayes_phys;
  const bayes_regs_t *rg = &b->regs->bayes;
  bayes_out_t o;
  memset(&o, 0, sizeof o);
  o.map_x = r.map_x;
  o.map_y = r.map_y;
  o.lsig = r.lsig;
  o.lev = r.lev;
  double mx, my;
  bayes_map_nm(ph, rg, &o, &mx, &my);
  const double g = ph->nm_per_lsb;
  if (fprintf(b->exp_csv, "%zu,%" PRIu32 ",%.9f,%.1f,%.1f,%u,%.6g,%u,%.4f,%.4f,%.6g,%u,%u,%" PRIu64 "\n",
              in_loc || !b->nloc ? b->nloc : b->nloc - 1, r.k, (double)ts / b->clk, r.bx * g, r.by * g, r.amp, r.amp * bayes_eta_per_code_of(rg), r.n, mx, my,
              bayes_std_nm(ph, rg, &o), r.lev, r.status, r.seq) < 0)
    b->write_failed = 1;
}

void acq_bayes_tab(const acq_bayes *b, mfx_tables *t)
{
  memset(t, 0, sizeof *t);
  t->records = b->records;
  t->gaps = b->gaps;
  t->photons = b->photons;
  t->prev_seq = b->prev_seq;
  t->first_ts_full = b->first_ts;
  t->last_ts_full = b->last_ts;
  t->started = b->started;
}

/* ---- the bit-exact replay ---- */

/* Feeds the records' counts to the model from bayes_start; record j must be exposure j.
 * Returns the number of records that differ (the first difference described in b). */
uint64_t acq_bayes_replay(const bayes_regs_t *rg, const acq_bayes_rec *rec, size_t n, void *model,
                          bayes_out_t *last, char *first, size_t firstlen)
{
  bayes_state_t *s = model;
  bayes_out_t o;
  bayes_start(s, rg, &o);
  uint64_t bad = 0;
  if (first && firstlen) first[0] = '\0';
  for (size_t j = 0; j < n; j++) {
    const acq_bayes_rec *r = &rec[j];
    char what[160] = "";
    if (o.done)
      snprintf(what, sizeof what, "the model had stopped before this exposure");
    else if (r->bx != o.beam_x || r->by != o.beam_y || r->amp != o.amp)
      snprintf(what, sizeof what, "beam (%d, %d) code %u, model (%d, %d) code %u", r->bx, r->by, r->amp, o.beam_x, o.beam_y, o.amp);
    if (!o.done) {
      bayes_count(s, rg, r->n, &o);
      const unsigned st = (r->status & 0xEu);
      if (!what[0] && (r->map_x != sext24((uint32_t)o.map_x) || r->map_y != sext24((uint32_t)o.map_y)))
        snprintf(what, sizeof what, "MAP (%d, %d), model (%d, %d) sub-LSB", r->map_x, r->map_y, sext24((uint32_t)o.map_x),
                 sext24((uint32_t)o.map_y));
      else if (!what[0] && (r->lsig != o.lsig || r->lev != o.lev))
        snprintf(what, sizeof what, "lsig %d lev %u, model %d lev %u", r->lsig, r->lev, o.lsig, o.lev);
      else if (!what[0] && (st != (o.status & 0xEu) || r->exp16 != (uint16_t)o.exposures))
        snprintf(what, sizeof what, "status 0x%X exposures %u, model 0x%X %u", st, r->exp16, o.status & 0xEu,
                 (unsigned)(uint16_t)o.exposures);
    }
    if (what[0]) {
      if (!bad && first && firstlen) snprintf(first, firstlen, "record %zu: %s", j, what);
      bad++;
    }
  }
  if (last) *last = o;
  return bad;
}

/* Feeds the records' counts to the model from bayes_start; record j must be exposure j.
 * Returns the number of records that differ (the first difference described in b). */
static uint64_t replay(acq_bayes *b, uint32_t seed, int loc)
{
  bayes_regs_t rg = b->regs->bayes;
  rg.seed = seed;
  char first[200];
  const uint64_t bad = acq_bayes_replay(&rg, b->rec, b->nrec, b->model, NULL, first, sizeof first);
  if (bad && !b->first_mismatch[0]) {
    size_t j = 0;
    sscanf(first, "record %zu", &j);
    const char *what = strchr(first, ':');
    snprintf(b->first_mismatch, sizeof b->first_mismatch, "localization %d exposure %" PRIu32 " (seq %" PRIu64 ")%s",
             loc, b->rec[j].k, b->rec[j].seq, what ? what : "");
  }
  b->replayed += b->nrec;
  return bad;
}

void acq_bayes_begin(acq_bayes *b)
{
  b->active = 1;
  b->nrec = 0;
  b->cur_done = 0;
}

int acq_bayes_end(acq_bayes *b, uint32_t seed, uint32_t st, uint32_t mx, uint32_t my, uint32_t sd)
{
  b->active = 0;
  if (b->nloc == b->caploc) {
    size_t nc = b->caploc ? 2 * b->caploc : 64;
    acq_bayes_loc *nl = realloc(b->loc, nc * sizeof *nl);
    if (!nl) return -1;
    b->loc = nl;
    b->caploc = nc;
  }
  acq_bayes_loc *L = &b->loc[b->nloc];
  memset(L, 0, sizeof *L);
  L->index = (int)b->nloc;
  L->seed = seed;
  L->records = b->nrec;
  L->status = st & 0xF;
  L->reason = (st & 8) ? "std_target" : (st & 4) ? "photon_budget" : b->end_lost ? "end_lost" : "stopped";
  b->end_lost = 0;
  bayes_out_t o;
  memset(&o, 0, sizeof o);
  o.map_x = sext24(mx);
  o.map_y = sext24(my);
  o.lsig = (int16_t)(sd & 0xFFFF);
  o.lev = (uint8_t)((sd >> 16) & 0xF);
  bayes_map_nm(&b->regs->bayes_phys, &b->regs->bayes, &o, &L->x_nm, &L->y_nm);
  L->std_nm = bayes_std_nm(&b->regs->bayes_phys, &b->regs->bayes, &o);
  L->lev = o.lev;
  L->tx_nm = L->ty_nm = L->err_nm = NAN;
  for (size_t j = 0; j < b->nrec; j++) L->photons += b->rec[j].n;
  if (b->nrec) {
    const acq_bayes_rec *last = &b->rec[b->nrec - 1];
    L->exposures = (uint64_t)last->k + 1;
    L->t0_s = (double)b->rec[0].ts / b->clk;
    L->t1_s = (double)last->ts / b->clk;
    /* the registers hold the last exposure's result: the record of it must agree */
    if ((last->status & 2) && (last->map_x != o.map_x || last->map_y != o.map_y || last->lsig != o.lsig || last->lev != o.lev))
      b->reg_mismatches++;
  }
  /* replayable: from exposure 0 without a sequence gap (a lost tail does not matter; a
   * wrong exposure count in a record is the replay's to report) */
  int contiguous = b->nrec > 0 && b->rec[0].k == 0;
  for (size_t j = 1; j < b->nrec && contiguous; j++)
    if (b->rec[j].seq != b->rec[j - 1].seq + 1) contiguous = 0;
  if (!b->nrec) {
    L->replay = "none";
  } else if (!contiguous) {
    L->replay = "skipped";
    b->replay_skipped++;
  } else {
    L->mismatches = replay(b, seed, L->index);
    L->replay = L->mismatches ? "mismatch" : "ok";
    b->mismatches += L->mismatches;
  }
  printf("localization %d: (%.2f, %.2f) nm, std %.2f nm, %" PRIu64 " photons in %" PRIu64 " exposures, %s%s\n", L->index,
         L->x_nm, L->y_nm, L->std_nm, L->photons, L->exposures, L->reason,
         !strcmp(L->replay, "ok") ? "" : !strcmp(L->replay, "mismatch") ? "; DIFFERS from the C model" : "; not replayed (records lost)");
  fflush(stdout);
  b->nloc++;
  b->nrec = 0;
  b->cur_done = 0;
  return 0;
}

/* Ends the running localization: its result from the block's registers, the replay. */
static int close_loc(acq_bayes *b, mfx_link *l, uint32_t seed)
{
  uint32_t st = 0, mx = 0, my = 0, sd = 0;
  if (mfx_reg_read(l, MINFLUX_REG_BAYES_STATUS, &st) || mfx_reg_read(l, MINFLUX_REG_BAYES_MAP_X, &mx) ||
      mfx_reg_read(l, MINFLUX_REG_BAYES_MAP_Y, &my) || mfx_reg_read(l, MINFLUX_REG_BAYES_STD, &sd))
    return -1;
  if (acq_bayes_end(b, seed, st, mx, my, sd)) {
    snprintf(l->err, sizeof l->err, "out of memory");
    return -1;
  }
  return 0;
}

static double fw_elapsed(const acq_bayes *b) { return b->records ? (double)(b->last_ts - b->first_ts) / b->clk : 0.0; }

int acq_bayes_loop(acq_bayes *b, mfx_link *l, const acq_bayes_io *io)
{
  double last_status = io->t0, last_flush = io->t0, last_byte = mono_s();
  int stop_sent = 0, estop = 0;
  for (int i = 0;; i++) {
    if (*io->interrupted || (i > 0 && fw_elapsed(b) >= io->duration_s)) return 0;
    uint32_t mode = 1;
    if (i > 0 && mfx_reg_read(l, MINFLUX_REG_BAYES_MODE, &mode)) { fprintf(stderr, "\nminflux acquire: %s\n", l->err); return 3; }
    if (!(mode & 1)) return 0;   /* the firmware was reset (BAYES_MODE reads 0): the caller reports it */
    const uint32_t seed = acq_bayes_loc_seed(b->cfg, (unsigned)i);
    acq_bayes_begin(b);
    if (mfx_reg_write(l, MINFLUX_REG_BAYES_SEED, seed) || mfx_reg_write(l, MINFLUX_REG_CTRL, 1)) {
      fprintf(stderr, "\nminflux acquire: starting localization %d: %s\n", i, l->err);
      return 3;
    }
    double last_poll = mono_s();
    for (;;) {
      const long n = mfx_link_poll(l, b->cur_done ? 1 : 20);
      const double tn = mono_s();
      if (n < 0) { fprintf(stderr, "\nminflux acquire: link lost: %s\n", l->err); return 3; }
      if (n > 0) last_byte = tn;
      if (!stop_sent && (*io->interrupted || (b->records && fw_elapsed(b) >= io->duration_s))) {
        stop_sent = 1;   /* ends after the current exposure, whose record still comes */
        if (mfx_reg_write(l, MINFLUX_REG_CTRL, 2)) { fprintf(stderr, "\nminflux acquire: stop: %s\n", l->err); return 3; }
      }
      if (b->cur_done || tn - last_poll > 0.05) {   /* has the localization ended? */
        uint32_t s;
        last_poll = tn;
        if (mfx_reg_read(l, MINFLUX_REG_STATUS, &s)) { fprintf(stderr, "\nminflux acquire: %s\n", l->err); return 3; }
        if ((s & 0x10) && !estop) fprintf(stderr, "\nminflux acquire: EMERGENCY STOP input active: the firmware aborted the run\n");
        if (s & 0x10) estop = 1;
        if ((s & 0x40) && !*io->wdog_tripped) {
          *io->wdog_tripped = 1;
          fprintf(stderr, "\nminflux acquire: the firmware's host watchdog tripped (no command for %.0f ms): run aborted, laser off, "
                  "beam centred\n", io->watchdog_ms);
        }
        if (!(s & 1)) {   /* idle: what is still on the way (nothing after a done record) */
          double q = mono_s();
          while (!b->cur_done && mono_s() - q < 0.1) {
            const long m = mfx_link_poll(l, 20);
            if (m < 0) break;
            if (m > 0) q = mono_s();
          }
          break;
        }
      }
      if (tn - last_flush > 0.5) {
        fflush(io->raw);
        fflush(b->exp_csv);
        last_flush = tn;
      }
      if (tn - last_byte > 5.0) { fprintf(stderr, "\nminflux acquire: no bytes from the board for 5 s\n"); return 3; }
      if (io->tty && tn - last_status > 0.25) {
        fprintf(stderr, "\r  %6.2f s firmware / %6.1f s wall  %7" PRIu64 " records  localization %d  lost %" PRIu64 "   ",
                fw_elapsed(b), tn - io->t0, b->records, i, b->gaps);
        last_status = tn;
      }
    }
    const size_t got = b->nrec;
    if (close_loc(b, l, seed)) { fprintf(stderr, "\nminflux acquire: %s\n", l->err); return 3; }
    if (*io->wdog_tripped) return 0;
    if (estop) {
      fprintf(stderr, "minflux acquire: no further localization while the emergency stop is active\n");
      return 1;
    }
    if (!got && !stop_sent) {
      fprintf(stderr, "minflux acquire: localization %d ended without a Bayesian exposure record (%" PRIu64 " other records): "
              "the firmware does not run Bayesian localizations\n", i, b->foreign);
      return 1;
    }
    if (stop_sent) return 0;
  }
}

/* ---- bayes_host = on: the model on the host, one firmware exposure per start ---- */

int acq_bayes_host_init(acq_bayes_host *h, acq_bayes *b)
{
  memset(h, 0, sizeof *h);
  h->b = b;
  h->m = malloc(sizeof(bayes_state_t));
  return h->m ? 0 : -1;
}

void acq_bayes_host_free(acq_bayes_host *h)
{
  free(h->m);
  h->m = NULL;
}

/* Localization b->nloc starts: its seed, the prior and the first placement. */
static void bh_begin(acq_bayes_host *h)
{
  h->rg = h->b->regs->bayes;
  h->rg.seed = acq_bayes_loc_seed(h->b->cfg, (unsigned)h->b->nloc);
  bayes_start(h->m, &h->rg, &h->o);
  acq_bayes_begin(h->b);
  h->running = 1;
  h->waiting = 0;
}

/* It ends with the model's state as the block's registers would hold it. -1: out of memory. */
static int bh_end(acq_bayes_host *h)
{
  const bayes_out_t *o = &h->o;
  h->running = 0;
  return acq_bayes_end(h->b, h->rg.seed, o->status & 0xEu, (uint32_t)o->map_x & 0xFFFFFFu, (uint32_t)o->map_y & 0xFFFFFFu,
                       (uint32_t)o->lev << 16 | (uint16_t)o->lsig);
}

void acq_bayes_host_on_cycle(void *ctx, const mfx_cycle *c)
{
  acq_bayes_host *h = ctx;
  if (!h->running || h->o.done || c->k != 1 || (c->flags & MFX_FLAG_BAYES)) {   /* not an exposure the model placed */
    acq_bayes_on_cycle(h->b, c);
    return;
  }
  if (c->cx != h->o.beam_x || c->cy != h->o.beam_y) h->moved++;   /* the DAC clamped it (a window narrowed since) */
  const bayes_out_t before = h->o;
  bayes_count(h->m, &h->rg, (unsigned)c->counts[0][0] + c->counts[0][1], &h->o);
  mfx_cycle s = *c;
  acq_bayes_encode(&before, &h->o, c->counts[0][0], c->counts[0][1], &s);
  acq_bayes_on_cycle(h->b, &s);
  h->waiting = 0;
}

/* Polls until the started exposure's record is in (0), the firmware is idle without it (2:
 * lost on the link), an emergency stop (1) or the link failed (3, printed). */
static int bh_wait(acq_bayes_host *h, mfx_link *l, const acq_bayes_io *io, int *wdog)
{
  double t_start = mono_s(), last_poll = t_start;
  while (h->waiting) {
    const long n = mfx_link_poll(l, 2);
    if (n < 0) { fprintf(stderr, "\nminflux acquire: link lost: %s\n", l->err); return 3; }
    const double tn = mono_s();
    if (!h->waiting) break;
    if (tn - last_poll < 0.05) continue;
    last_poll = tn;
    uint32_t s;
    if (mfx_reg_read(l, MINFLUX_REG_STATUS, &s)) { fprintf(stderr, "\nminflux acquire: %s\n", l->err); return 3; }
    if (s & 0x10) { fprintf(stderr, "\nminflux acquire: EMERGENCY STOP input active: the firmware aborted the run\n"); return 1; }
    if ((s & 0x40) && !*io->wdog_tripped) {
      *io->wdog_tripped = 1;
      *wdog = 1;
      fprintf(stderr, "\nminflux acquire: the firmware's host watchdog tripped (no command for %.0f ms): run aborted, laser off, "
              "beam centred\n", io->watchdog_ms);
    }
    if (!(s & 1) && h->waiting) {   /* idle: the record may still be on the way */
      const double q = mono_s();
      while (h->waiting && mono_s() - q < 0.1)
        if (mfx_link_poll(l, 10) < 0) { fprintf(stderr, "\nminflux acquire: link lost: %s\n", l->err); return 3; }
      if (h->waiting) return 2;
    }
    if (tn - t_start > 5.0) { fprintf(stderr, "\nminflux acquire: no record of the exposure for 5 s\n"); return 3; }
  }
  return 0;
}

int acq_bayes_host_loop(acq_bayes_host *h, mfx_link *l, const acq_bayes_io *io)
{
  acq_bayes *b = h->b;
  double last_status = io->t0, last_flush = io->t0;
  for (;;) {
    if (*io->interrupted || (b->nloc > 0 && fw_elapsed(b) >= io->duration_s) || *io->wdog_tripped) return 0;
    bh_begin(h);
    const int i = (int)b->nloc;
    int rc = 0, wdog = 0;
    while (!h->o.done && !*io->interrupted && !(b->records && fw_elapsed(b) >= io->duration_s)) {
      /* the exposure: beam and laser code of the model, one cycle (NCYCLES = 1) */
      static const uint8_t ra[3] = { MINFLUX_REG_CENTRE_X, MINFLUX_REG_CENTRE_Y, MINFLUX_REG_LASER_AMP };
      const uint32_t rv[3] = { (uint16_t)h->o.beam_x, (uint16_t)h->o.beam_y, h->o.amp };
      h->waiting = 1;
      /* the three settings in one round trip, then the start (not repeatable: on its own) */
      if (mfx_reg_write_n(l, 3, ra, rv) || mfx_reg_write(l, MINFLUX_REG_CTRL, 1)) {
        fprintf(stderr, "\nminflux acquire: localization %d: %s\n", i, l->err);
        rc = 3;
        break;
      }
      rc = bh_wait(h, l, io, &wdog);
      if (rc || wdog) break;
      const double tn = mono_s();
      if (tn - last_flush > 0.5) {
        fflush(io->raw);
        fflush(b->exp_csv);
        last_flush = tn;
      }
      if (io->tty && tn - last_status > 0.25) {
        fprintf(stderr, "\r  %6.2f s firmware / %6.1f s wall  %7" PRIu64 " records  localization %d  lost %" PRIu64 "   ",
                fw_elapsed(b), tn - io->t0, b->records, i, b->gaps);
        last_status = tn;
      }
    }
    if (rc == 2) {
      fprintf(stderr, "\nminflux acquire: localization %d: the record of exposure %u was lost on the link; the localization "
              "ends there (stopped)\n", i, h->o.exposures + 1);
      rc = 0;
    }
    if (bh_end(h)) { fprintf(stderr, "\nminflux acquire: out of memory\n"); return 1; }
    if (rc) return rc;
  }
}

/* ---- results ---- */

static int cmp_d(const void *a, const void *b)
{
  const double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static double median(double *v, size_t n)
{
  if (!n) return NAN;
  qsort(v, n, sizeof *v, cmp_d);
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

static json_t *jnum(double v) { return isfinite(v) ? json_real(v) : json_null(); }

/* DIR/bayes_convergence.png: log10 of the std against the photons of each localization (the
 * first PLOT_LOCS, from bayes_exposures.csv); DIR/bayes_localizations.png: the results, with
 * the truth when known. Returns 0 or -1 with err. */
enum { PLOT_LOCS = 40 };
/* Ended by the block's own rule (std target or photon budget), its result final. */
static int loc_finished(const acq_bayes_loc *L)
{
  return !strcmp(L->reason, "std_target") || !strcmp(L->reason, "photon_budget");
}

static int write_plots(const acq_bayes *b, const char *dir, int have_truth, char *err, size_t errlen)
{
  char path[4200];
  snprintf(path, sizeof path, "%s/bayes_exposures.csv", dir);
  FILE *f = fopen(path, "r");
  if (!f) {
    snprintf(err, errlen, "cannot read %s for the plots: %s", path, strerror(errno));
    return -1;
  }
  size_t n = 0, cap = 0;
  double *px = NULL, *py = NULL, ph = 0, pmax = 1, smax = 1e-9, smin = 1e9;
  long cur = -1;
  char line[512];
  int bad = !fgets(line, sizeof line, f);   /* the header */
  while (!bad && fgets(line, sizeof line, f)) {
    long loc;
    unsigned cnt;
    double sd;
    /* loc,k,t_s,beam_x_nm,beam_y_nm,amp,eta,n,map_x_nm,map_y_nm,std_nm,... */
    if (sscanf(line, "%ld,%*u,%*f,%*f,%*f,%*u,%*f,%u,%*f,%*f,%lf", &loc, &cnt, &sd) != 3) continue;
    if (loc >= PLOT_LOCS) break;
    if (n + 2 > cap) {
      cap = cap ? 2 * cap : 4096;
      double *nx = realloc(px, cap * sizeof *nx), *ny = nx ? realloc(py, cap * sizeof *ny) : NULL;
      if (nx) px = nx;
      if (!ny) { bad = 1; break; }
      py = ny;
    }
    if (loc != cur) {   /* a NaN breaks the line between localizations */
      if (cur >= 0) { px[n] = NAN; py[n] = NAN; n++; }
      cur = loc;
      ph = 0;
    } else if (!cnt) {
      continue;         /* the std changes little without a photon: one point per photon */
    }
    ph += cnt;
    px[n] = ph;
    py[n] = log10(sd);
    n++;
    pmax = fmax(pmax, ph);
    smax = fmax(smax, py[n - 1]);
    smin = fmin(smin, py[n - 1]);
  }
  fclose(f);
  int rc = 0;
  char title[200];
  if (!bad && n) {
    snprintf(title, sizeof title, "posterior std against photons (%zu localization%s%s)", b->nloc < PLOT_LOCS ? b->nloc : (size_t)PLOT_LOCS,
             b->nloc == 1 ? "" : "s", b->nloc > PLOT_LOCS ? ", the first" : "");
    plot *p = plot_new(800, 560, title, "photons", "log10(std / nm)", 0, pmax * 1.02, fmin(smin, 0.0) - 0.1, smax + 0.1, 0);
    if (!p) bad = 1;
    else {
      plot_lines(p, px, py, n, plot_color(0), 1.0);
      const double ty[2] = { 0.0, 0.0 }, tx[2] = { 0.0, pmax * 1.02 };
      plot_lines(p, tx, ty, 2, plot_color(3), 1.0);
      plot_legend(p, "a localization", plot_color(0), 1);
      plot_legend(p, "1 nm", plot_color(3), 1);
      snprintf(path, sizeof path, "%s/bayes_convergence.png", dir);
      if (plot_write_png(p, path, err, errlen)) rc = -1;
      plot_free(p);
    }
  }
  free(px);
  free(py);
  if (bad) {
    snprintf(err, errlen, "out of memory or an unreadable %s/bayes_exposures.csv for the plots", dir);
    return -1;
  }
  /* the results: finished localizations, stopped ones, the truth */
  double *x = calloc(2 * b->nloc + 2, sizeof *x), *y = calloc(2 * b->nloc + 2, sizeof *y);
  if (!x || !y) {
    free(x);
    free(y);
    snprintf(err, errlen, "out of memory for the plots");
    return -1;
  }
  double x0 = INFINITY, x1 = -INFINITY, y0 = INFINITY, y1 = -INFINITY;
  size_t nf = 0, ns = 0, nt = 0;
  for (size_t i = 0; i < b->nloc; i++) {
    const acq_bayes_loc *L = &b->loc[i];
    if (!L->records || !isfinite(L->x_nm)) continue;
    x0 = fmin(x0, L->x_nm); x1 = fmax(x1, L->x_nm);
    y0 = fmin(y0, L->y_nm); y1 = fmax(y1, L->y_nm);
  }
  for (size_t i = 0; i < b->nloc; i++) {   /* finished first, stopped after them */
    const acq_bayes_loc *L = &b->loc[i];
    if (L->records && isfinite(L->x_nm) && loc_finished(L)) { x[nf] = L->x_nm; y[nf] = L->y_nm; nf++; }
  }
  for (size_t i = 0; i < b->nloc; i++) {
    const acq_bayes_loc *L = &b->loc[i];
    if (L->records && isfinite(L->x_nm) && !loc_finished(L)) { x[nf + ns] = L->x_nm; y[nf + ns] = L->y_nm; ns++; }
  }
  double tx = 0, ty = 0;
  for (size_t i = 0; have_truth && i < b->nloc; i++)
    if (isfinite(b->loc[i].tx_nm)) { tx += b->loc[i].tx_nm; ty += b->loc[i].ty_nm; nt++; }
  if (nt) {
    tx /= (double)nt;
    ty /= (double)nt;
    x0 = fmin(x0, tx); x1 = fmax(x1, tx);
    y0 = fmin(y0, ty); y1 = fmax(y1, ty);
  }
  if (nf + ns) {
    const double cx = 0.5 * (x0 + x1), cy = 0.5 * (y0 + y1), hw = fmax(fmax(x1 - x0, y1 - y0) * 0.6, 3.0);
    snprintf(title, sizeof title, "Bayesian localizations (%zu finished, %zu not)", nf, ns);
    plot *p = plot_new(720, 720, title, "x (nm)", "y (nm)", cx - hw, cx + hw, cy - hw, cy + hw, 1);
    if (!p) rc = -1;
    else {
      if (nf) plot_points(p, x, y, nf, plot_color(0), 3.0);
      if (ns) plot_points(p, x + nf, y + nf, ns, plot_color(1), 3.0);
      if (nt) plot_points(p, &tx, &ty, 1, plot_color(3), 5.0);
      if (nf) plot_legend(p, "finished", plot_color(0), 0);
      if (ns) plot_legend(p, "stopped or end lost", plot_color(1), 0);
      if (nt) plot_legend(p, "truth (mean)", plot_color(3), 0);
      snprintf(path, sizeof path, "%s/bayes_localizations.png", dir);
      if (plot_write_png(p, path, err, errlen)) rc = -1;
      plot_free(p);
    }
  }
  free(x);
  free(y);
  return rc;
}

int acq_bayes_finish(acq_bayes *b, const char *dir, const char *truth_csv, json_t *sum, char *err, size_t errlen)
{
  int rc = 0;
  if (b->exp_csv && (ferror(b->exp_csv) | fclose(b->exp_csv))) b->write_failed = 1;
  b->exp_csv = NULL;
  if (b->write_failed) { snprintf(err, errlen, "writing %s/bayes_exposures.csv failed", dir); rc = -1; }
  /* truth: the mean of the truth rows within a localization's exposures (the nearest row
   * when none lies inside) */
  te_table tt;
  int tc[3];
  const int have_truth = te_truth_open(truth_csv, &tt, tc);
  for (size_t i = 0; have_truth && i < b->nloc; i++) {
    acq_bayes_loc *L = &b->loc[i];
    if (L->records) te_truth_error(&tt, tc, L->t0_s, L->t1_s, L->x_nm, L->y_nm, &L->tx_nm, &L->ty_nm, &L->err_nm);
  }
  if (have_truth) te_free(&tt);

  char path[4200];
  snprintf(path, sizeof path, "%s/localizations.csv", dir);
  FILE *f = fopen(path, "w");
  if (!f) {
    snprintf(err, errlen, "cannot create %s: %s", path, strerror(errno));
    return -1;
  }
  fprintf(f, "loc,t_s,x_nm,y_nm,std_nm,photons,exposures,reason,seed,lev,records,replay,mismatches%s\n",
          have_truth ? ",truth_x_nm,truth_y_nm,error_nm" : "");
  size_t fin = 0, by_std = 0, by_budget = 0, stopped = 0, end_lost = 0;
  double *ph = calloc(b->nloc + 1, sizeof *ph), *ex = calloc(b->nloc + 1, sizeof *ex), *er = calloc(b->nloc + 1, sizeof *er),
         *sd = calloc(b->nloc + 1, sizeof *sd);
  size_t ner = 0;
  for (size_t i = 0; i < b->nloc; i++) {
    const acq_bayes_loc *L = &b->loc[i];
    fprintf(f, "%d,%.9f,%.4f,%.4f,%.5g,%" PRIu64 ",%" PRIu64 ",%s,%" PRIu32 ",%d,%zu,%s,%" PRIu64, L->index, L->t1_s, L->x_nm,
            L->y_nm, L->std_nm, L->photons, L->exposures, L->reason, L->seed, L->lev, L->records, L->replay, L->mismatches);
    if (have_truth) fprintf(f, ",%.3f,%.3f,%.4f", L->tx_nm, L->ty_nm, L->err_nm);
    fputc('\n', f);
    if (!strcmp(L->reason, "stopped")) { stopped++; continue; }
    if (!strcmp(L->reason, "end_lost")) { end_lost++; continue; }
    if (!strcmp(L->reason, "std_target")) by_std++; else by_budget++;
    ph[fin] = (double)L->photons;
    ex[fin] = (double)L->exposures;
    sd[fin] = L->std_nm;
    if (isfinite(L->err_nm)) er[ner++] = L->err_nm;
    fin++;
  }
  if (ferror(f) | fclose(f)) { snprintf(err, errlen, "writing %s failed", path); rc = -1; }
  const double med_ph = median(ph, fin), med_ex = median(ex, fin), med_sd = median(sd, fin), med_er = median(er, ner);
  free(ph);
  free(ex);
  free(sd);
  free(er);

  json_object_set_new(sum, "localizations", json_integer((json_int_t)b->nloc));
  json_object_set_new(sum, "localizations_finished", json_integer((json_int_t)fin));
  json_object_set_new(sum, "median_photons", jnum(med_ph));
  json_object_set_new(sum, "median_error_nm", have_truth ? jnum(med_er) : json_null());
  json_object_set_new(sum, "model_mismatches", json_integer((json_int_t)b->mismatches));
  json_t *j = json_object(), *rs = json_object();
  json_object_set_new(rs, "std_target", json_integer((json_int_t)by_std));
  json_object_set_new(rs, "photon_budget", json_integer((json_int_t)by_budget));
  json_object_set_new(rs, "stopped", json_integer((json_int_t)stopped));
  json_object_set_new(rs, "end_lost", json_integer((json_int_t)end_lost));
  json_object_set_new(j, "by_reason", rs);
  json_object_set_new(j, "median_exposures", jnum(med_ex));
  json_object_set_new(j, "median_std_nm", jnum(med_sd));
  json_object_set_new(j, "records_replayed", json_integer((json_int_t)b->replayed));
  json_object_set_new(j, "replay_skipped", json_integer((json_int_t)b->replay_skipped));
  json_object_set_new(j, "first_mismatch", b->first_mismatch[0] ? json_string(b->first_mismatch) : json_null());
  json_object_set_new(j, "register_mismatches", json_integer((json_int_t)b->reg_mismatches));
  json_object_set_new(j, "foreign_records", json_integer((json_int_t)b->foreign));
  json_object_set_new(j, "late_records", json_integer((json_int_t)b->late));
  json_object_set_new(j, "eta_per_code", json_real(bayes_eta_per_code_of(&b->regs->bayes)));
  if (b->nloc) {
    const acq_bayes_loc *L = &b->loc[b->nloc - 1];
    json_t *jl = json_object();
    json_object_set_new(jl, "loc", json_integer(L->index));
    json_object_set_new(jl, "x_nm", jnum(L->x_nm));
    json_object_set_new(jl, "y_nm", jnum(L->y_nm));
    json_object_set_new(jl, "std_nm", jnum(L->std_nm));
    json_object_set_new(jl, "photons", json_integer((json_int_t)L->photons));
    json_object_set_new(jl, "exposures", json_integer((json_int_t)L->exposures));
    json_object_set_new(jl, "reason", json_string(L->reason));
    json_object_set_new(jl, "error_nm", have_truth ? jnum(L->err_nm) : json_null());
    json_object_set_new(j, "last_localization", jl);
  }
  json_object_set_new(sum, "bayes", j);
  if (!rc && write_plots(b, dir, have_truth, err, errlen)) rc = -1;
  plot_shutdown();

  printf("%zu Bayesian localizations (%zu std target, %zu photon budget, %zu stopped)", b->nloc, by_std, by_budget, stopped);
  if (fin) printf(": median %.0f photons, %.0f exposures, std %.2f nm", med_ph, med_ex, med_sd);
  if (fin && have_truth) printf(", median error vs truth %.2f nm", med_er);
  if (!fin) printf(": none finished (a longer --duration, or a larger bayes_std_stop_nm / smaller bayes_photons)");
  printf("\nbit-exact replay through hls-c/bayes.c: %" PRIu64 " records, %" PRIu64 " mismatches, %" PRIu64
         " localizations skipped (records lost)\n", b->replayed, b->mismatches, b->replay_skipped);
  if (b->mismatches || b->reg_mismatches)
    fprintf(stderr, "minflux acquire: WARNING: %" PRIu64 " records differ from the C model%s%s (and %" PRIu64 " final register "
            "readings from their record): a firmware bug; the files hold everything\n", b->mismatches,
            b->first_mismatch[0] ? "; first: " : "", b->first_mismatch, b->reg_mismatches);
  return rc;
}

void acq_bayes_free(acq_bayes *b)
{
  if (b->exp_csv) fclose(b->exp_csv);
  free(b->rec);
  free(b->loc);
  free(b->model);
  memset(b, 0, sizeof *b);
}

/* ---- decode of a raw file ---- */

typedef struct {
  acq_bayes        *b;
  const acq_config *c;
  int               failed;
} dec_ctx;

/* Ends the running localization with its last record as the block's final registers. */
static void dec_end(dec_ctx *x)
{
  acq_bayes *b = x->b;
  if (!b->active) return;
  if (!b->nrec) {
    b->active = 0;
    return;
  }
  const acq_bayes_rec *r = &b->rec[b->nrec - 1];
  const uint32_t sd = (uint32_t)r->lev << 16 | (uint16_t)r->lsig;
  if (acq_bayes_end(b, acq_bayes_loc_seed(x->c, (unsigned)b->nloc), r->status, (uint32_t)r->map_x & 0xFFFFFFu,
                    (uint32_t)r->map_y & 0xFFFFFFu, sd))
    x->failed = 1;
}

static void dec_frame(void *ctx, const mfx_frame *f)
{
  dec_ctx *x = ctx;
  mfx_cycle c;
  if (f->type != MINFLUX_PROTO_T_CYCLE || mfx_cycle_parse(f, &c)) return;
  if ((c.flags & MFX_FLAG_BAYES) && c.k == 4) {
    acq_bayes_rec r;
    acq_bayes_decode(&c, &r);
    if (r.exp16 == 1 && x->b->active) {   /* the first exposure of the next localization */
      /* records lost just before it were the end of the running one (done record included):
       * its result is unknown, the last record received is what the file has */
      if (x->b->started && (uint16_t)(c.seq - x->b->prev_seq - 1u)) x->b->end_lost = 1;
      dec_end(x);
    }
    if (!x->b->active) acq_bayes_begin(x->b);
  }
  acq_bayes_on_cycle(x->b, &c);
  if (x->b->active && x->b->cur_done) dec_end(x);
}

/* bayes_host = on: the file holds the firmware's plain K = 1 records; the model runs again on
 * their counts as acquire ran it. A localization ends after its done record; records lost on
 * the link ended the running one (the first lost) and one empty localization each (the rest),
 * as acquire ends a localization whose record does not come. */
typedef struct {
  acq_bayes_host *h;
  int             failed;
  uint64_t        uncounted;   /* lost records beyond DECH_EMPTY_MAX in one gap */
} dech_ctx;

/* Empty localizations taken from one gap at most: acquire needs a working link and 0.1 s per
 * one of them (the firmware idle, the record not come), so more means the link was down and
 * acquire gave up (exit 3) -- or a damaged file. */
enum { DECH_EMPTY_MAX = 64 };

static void dech_frame(void *ctx, const mfx_frame *f)
{
  dech_ctx *x = ctx;
  acq_bayes_host *h = x->h;
  acq_bayes *b = h->b;
  mfx_cycle c;
  if (f->type != MINFLUX_PROTO_T_CYCLE || mfx_cycle_parse(f, &c) || x->failed) return;
  if (c.k == 1 && !(c.flags & MFX_FLAG_BAYES)) {
    unsigned lost = b->started ? (uint16_t)(c.seq - b->prev_seq - 1u) : 0;
    if (h->running && (h->o.done || lost)) {
      if (!h->o.done) lost--;
      if (bh_end(h)) x->failed = 1;
    }
    if (lost > DECH_EMPTY_MAX) {
      x->uncounted += lost - DECH_EMPTY_MAX;
      lost = DECH_EMPTY_MAX;
    }
    for (; lost && !x->failed; lost--) {
      bh_begin(h);
      if (bh_end(h)) x->failed = 1;
    }
    if (!h->running) bh_begin(h);
  }
  acq_bayes_host_on_cycle(h, &c);
}

json_t *acq_header_config(const char *hdr_json, acq_config *c, acq_regs *r, double *clk_hz, char *err, size_t errlen)
{
  char e[1200];
  json_error_t je;
  json_t *root = json_loads(hdr_json, 0, &je);
  if (!root) {
    snprintf(err, errlen, "raw header is not JSON: %s (column %d)", je.text, je.column);
    return NULL;
  }
  acq_defaults(c);
  json_t *cfg = json_object_get(root, "config"), *clk = json_object_get(json_object_get(root, "firmware"), "clk_hz");
  const char *key;
  json_t *v;
  if (!json_is_object(cfg) || !json_is_integer(clk) || json_integer_value(clk) <= 0) {
    snprintf(err, errlen, "raw header without config or firmware.clk_hz");
    goto bad;
  }
  json_object_foreach(cfg, key, v) {
    if (!json_is_string(v) || acq_set(c, key, json_string_value(v), e, sizeof e)) {
      snprintf(err, errlen, "raw header config: %s", json_is_string(v) ? e : "a value that is not text");
      goto bad;
    }
  }
  if (acq_to_regs(c, 1.0, r, e, sizeof e)) {
    snprintf(err, errlen, "raw header config: %s", e);
    goto bad;
  }
  *clk_hz = (double)json_integer_value(clk);
  return root;
bad:
  json_decref(root);
  return NULL;
}

int acq_bayes_decode_raw(FILE *f, const char *hdr_json, const char *dir, const char *truth_csv, char *err, size_t errlen)
{
  static acq_config c;
  static acq_regs r;
  double clk;
  json_t *root = acq_header_config(hdr_json, &c, &r, &clk, err, errlen);
  if (!root) return -1;
  int rc = -1;
  json_t *by = json_object_get(json_object_get(root, "registers"), "bayes");
  if (!json_is_object(by)) {
    snprintf(err, errlen, "raw header of a Bayesian acquisition without registers.bayes");
    goto out;
  }
  /* the registers the firmware ran with, as the header recorded them */
  static const char *const names[11] = { "BAYES_ORIGIN", "BAYES_H0", "BAYES_PRIOR_A", "BAYES_INV_S", "BAYES_B", "BAYES_MU",
                                         "BAYES_KM", "BAYES_AMP_MAX", "BAYES_NMAX", "BAYES_LSIG_STOP", "BAYES_SEED" };
  uint32_t w[11];
  for (int i = 0; i < 11; i++) {
    json_t *j = json_object_get(by, names[i]);
    if (!json_is_integer(j) || json_integer_value(j) < 0 || json_integer_value(j) > 0xFFFFFFFF) {
      snprintf(err, errlen, "raw header registers.bayes.%s: missing or not a 32-bit register value", names[i]);
      goto out;
    }
    w[i] = (uint32_t)json_integer_value(j);
  }
  bayes_regs_t *g = &r.bayes;
  g->x0 = (int16_t)(w[0] & 0xFFFF);
  g->y0 = (int16_t)(w[0] >> 16);
  g->h0 = (uint16_t)w[1];
  g->prior_a = (uint16_t)w[2];
  g->inv_s = (uint16_t)w[3];
  g->b32 = w[4];
  g->mu = (uint16_t)w[5];
  g->km = (uint16_t)w[6];
  g->amp_max = (uint16_t)w[7];
  g->nmax = w[8];
  g->lsig_stop = (int16_t)w[9];
  g->seed = w[10];
  json_t *dt = json_object_get(by, "BAYES_DTAB");
  if (!json_is_array(dt) || json_array_size(dt) != MINFLUX_BY_D_N) {
    snprintf(err, errlen, "raw header registers.bayes.BAYES_DTAB: not an array of %d D entries", MINFLUX_BY_D_N);
    goto out;
  }
  for (int t = 0; t < MINFLUX_BY_D_N; t++) {
    json_t *j = json_array_get(dt, (size_t)t);
    if (!json_is_integer(j) || json_integer_value(j) < 0 || json_integer_value(j) > 65535) {
      snprintf(err, errlen, "raw header registers.bayes.BAYES_DTAB[%d]: not a 16-bit D entry", t);
      goto out;
    }
    g->dtab[t] = (uint16_t)json_integer_value(j);
  }
  acq_bayes_window(&r);
  acq_bayes b;
  if (acq_bayes_open(&b, &c, &r, clk, dir, err, errlen)) goto out;
  dec_ctx x = { &b, &c, 0 };
  acq_bayes_host bh;
  dech_ctx xh = { &bh, 0, 0 };
  if (c.bayes_host && acq_bayes_host_init(&bh, &b)) {
    snprintf(err, errlen, "out of memory");
    acq_bayes_free(&b);
    goto out;
  }
  mfx_decoder d;
  mfx_dec_init(&d);
  uint8_t buf[65536];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, f)) > 0) mfx_dec_feed(&d, buf, n, c.bayes_host ? dech_frame : dec_frame, c.bayes_host ? (void *)&xh : (void *)&x);
  if (c.bayes_host) {
    if (bh.running && bh_end(&bh)) xh.failed = 1;
    x.failed |= xh.failed;
    if (bh.moved)
      fprintf(stderr, "minflux decode: warning: %" PRIu64 " exposures ran at another centre than the model placed\n", bh.moved);
    if (xh.uncounted)
      fprintf(stderr, "minflux decode: warning: %" PRIu64 " lost records beyond %d in one gap are not taken as localizations "
              "without records (a link outage or a damaged file)\n", xh.uncounted, DECH_EMPTY_MAX);
    acq_bayes_host_free(&bh);
  } else {
    dec_end(&x);
  }
  const int rd_err = ferror(f);
  json_t *sum = json_object();
  if (acq_bayes_finish(&b, dir, truth_csv, sum, err, errlen)) {
    rc = -1;
  } else if (rd_err || x.failed) {
    snprintf(err, errlen, rd_err ? "reading the raw file failed (the tables hold what was read)" : "out of memory");
    rc = -1;
  } else {
    rc = 0;
  }
  printf("%" PRIu64 " records, %" PRIu64 " gaps, %" PRIu64 " CRC errors, %" PRIu64 " bytes skipped -> %s/{bayes_exposures.csv,"
         "localizations.csv,bayes_convergence.png,bayes_localizations.png}\n", b.records, b.gaps, d.crc_errors, d.skipped_bytes, dir);
  if (d.n) fprintf(stderr, "minflux decode: the file ends inside a frame (%zu bytes; acquisition cut short?)\n", d.n);
  json_decref(sum);
  acq_bayes_free(&b);
out:
  json_decref(root);
  return rc;
}
