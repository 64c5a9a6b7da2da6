/* Virtual board physics: see physics.h and docs/physics.md. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <gsl/gsl_interp.h>
#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>
#include "physics.h"

#define HIST_CAP 65536u   /* history entries (one per step or event) for the S82 averages */

struct hist { double t, cx, cy, con, cn; };

/* One dye of a multi-site [sample] (scenario n_sites > 0). */
struct site {
  int st;                         /* enum phys_site_state */
  double next;                    /* time of its next switch (INFINITY: none) */
  double budget;                  /* signal photons left before it bleaches */
  double lam;                     /* its detected signal rate now (Hz) */
};

struct phys_model {
  phys_scenario s;
  gsl_rng *rng;
  double t;                       /* time of the state below */
  phys_inputs in;
  /* emitter */
  double ox, oy;                  /* origin of the current molecule */
  double x, y;                    /* position at t */
  double next_traj;               /* stepper: time of the next step */
  double *ct, *cx, *cy;           /* csv script */
  long cn;
  gsl_interp *ix, *iy;
  gsl_interp_accel *ax, *ay;
  int mol, state;                 /* molecule index, enum phys_mol */
  double budget;                  /* signal photons left before the bleach */
  double next_switch;             /* blink / activation */
  /* beam */
  double bx, by;                  /* beam position after the settling lag */
  /* rates (detected, Hz) valid from t */
  double lam_sig, lam_bg, lam_dark, lam_tot;
  double next_arrival, next_step, next_event;
  double free_at[2];              /* APD ready again */
  double dead_s;
  /* S82 history */
  struct hist *h;
  size_t hn, hhead;               /* entries, index of the oldest */
  double cum_x, cum_y, cum_on, cum_n;
  phys_stats st;
  /* multi-site sample (ns > 0): the emitter state above is derived from the sites: state
   * PHYS_ON while >= 1 is ON (PHYS_WAIT otherwise, PHYS_DONE when all bleached), x, y the
   * mean of the ON sites (the centroid of all sites while none is on) */
  int ns, n_on, n_bleached;
  double cx0, cy0;                /* centroid of the sites at t = 0 */
  struct site site[PHYS_SITES_MAX];
  phys_event_fn ev;
  void *evctx;
  int first_reported;
};

static double expo(phys_model *m, double mean) { return gsl_ran_exponential(m->rng, mean); }

double phys_doughnut(double dx, double dy, double fwhm, double size_nm)
{
  const double a = 4.0 * M_LN2 / (fwhm * fwhm), r2 = dx * dx + dy * dy;
  const double s2 = 0.25 * size_nm * size_nm / 5.0;
  const double b = 1.0 / (1.0 + 2.0 * a * s2);
  /* S17 (A0 = 1) is e a r^2 exp(-a r^2); convolved with N(0, s2 I): */
  return M_E * a * b * b * (2.0 * s2 + b * r2) * exp(-a * b * r2);
}

double phys_gauss(double dx, double dy, double fwhm, double size_nm)
{
  const double a = 4.0 * M_LN2 / (fwhm * fwhm), r2 = dx * dx + dy * dy;
  const double s2 = 0.25 * size_nm * size_nm / 5.0;
  const double b = 1.0 / (1.0 + 2.0 * a * s2);
  return b * exp(-a * b * r2);   /* S19 (A0 = 1) convolved with N(0, s2 I) */
}

static void hist_push(phys_model *m)
{
  size_t i;
  if (m->hn < HIST_CAP) i = (m->hhead + m->hn++) % HIST_CAP;
  else { i = m->hhead; m->hhead = (m->hhead + 1) % HIST_CAP; }
  m->h[i] = (struct hist){ m->t, m->cum_x, m->cum_y, m->cum_on, m->cum_n };
}

static double reflect(double v, double lo, double hi)
{
  for (int i = 0; i < 64 && (v < lo || v > hi); i++) v = v < lo ? 2 * lo - v : 2 * hi - v;
  return v < lo ? lo : v > hi ? hi : v;
}

/* Deterministic trajectories at time t. */
static void traj_at(const phys_model *m, double t, double *x, double *y)
{
  const phys_scenario *s = &m->s;
  if (s->model == PHYS_LISSAJOUS) {
    *x = m->ox + 0.5 * s->pp_x_nm * sin(2 * M_PI * s->f_x_hz * t + s->phase_x_deg * M_PI / 180);
    *y = m->oy + 0.5 * s->pp_y_nm * sin(2 * M_PI * s->f_y_hz * t + s->phase_y_deg * M_PI / 180);
  } else {   /* csv */
    const double t0 = m->ct[0], t1 = m->ct[m->cn - 1];
    if (s->loop && t > t1) t = t0 + fmod(t - t0, t1 - t0);
    if (t <= t0) { *x = m->cx[0]; *y = m->cy[0]; return; }
    if (t >= t1) { *x = m->cx[m->cn - 1]; *y = m->cy[m->cn - 1]; return; }
    *x = gsl_interp_eval(m->ix, m->ct, m->cx, t, m->ax);
    *y = gsl_interp_eval(m->iy, m->ct, m->cy, t, m->ay);
  }
}

/* ---- multi-site sample ---- */

static void site_pos(const phys_model *m, int i, double t, double *x, double *y)
{
  *x = m->s.x_nm + m->s.site_x_nm[i] + m->s.drift_x_nm_s * t;
  *y = m->s.y_nm + m->s.site_y_nm[i] + m->s.drift_y_nm_s * t;
}

/* The emitter position the truth reports at t: mean of the ON sites, else the centroid. */
static void sites_xy(const phys_model *m, double t, double *x, double *y)
{
  double sx = 0, sy = 0;
  if (m->n_on) {
    for (int i = 0; i < m->ns; i++)
      if (m->site[i].st == PHYS_SITE_ON) { double a, b; site_pos(m, i, t, &a, &b); sx += a; sy += b; }
    *x = sx / m->n_on;
    *y = sy / m->n_on;
  } else {
    *x = m->cx0 + m->s.drift_x_nm_s * t;
    *y = m->cy0 + m->s.drift_y_nm_s * t;
  }
}

static void sites_derive(phys_model *m)
{
  m->state = m->n_on ? PHYS_ON : m->n_bleached == m->ns ? PHYS_DONE : PHYS_WAIT;
  sites_xy(m, m->t, &m->x, &m->y);
}

static void sites_next(phys_model *m)
{
  double e = INFINITY;
  for (int i = 0; i < m->ns; i++) if (m->site[i].next < e) e = m->site[i].next;
  m->next_switch = e;
}

static double dark_rate(const phys_model *m)
{
  return m->s.spontaneous_hz + (m->in.act405 ? m->s.activation_hz : 0);
}

static void site_schedule(phys_model *m, int i)
{
  struct site *d = &m->site[i];
  if (d->st == PHYS_SITE_ON) d->next = m->t + expo(m, m->s.t_on_ms * 1e-3);
  else if (d->st == PHYS_SITE_DARK) { const double k = dark_rate(m); d->next = k > 0 ? m->t + expo(m, 1.0 / k) : INFINITY; }
  else d->next = INFINITY;
}

/* State (emitter, integrals, beam lag) from m->t to t1; no event happens in between. */
static void advance_state(phys_model *m, double t1)
{
  const double dt = t1 - m->t;
  if (!(dt > 0)) return;
  const phys_scenario *s = &m->s;
  const double x0 = m->x, y0 = m->y;
  if (m->ns) {   /* sites: the ON set is constant, positions are linear in t (trapezoid exact) */
    sites_xy(m, t1, &m->x, &m->y);
    if (m->n_on) {   /* x, y integrated only while >= 1 site is on (phys_mean divides by that time) */
      m->cum_x += 0.5 * (x0 + m->x) * dt;
      m->cum_y += 0.5 * (y0 + m->y) * dt;
      m->cum_on += dt;
      m->st.on_time_s += dt;
      if (m->n_on >= 2) m->st.on2_time_s += dt;
    }
    m->cum_n += m->n_on * dt;
    m->st.n_on_time_s += m->n_on * dt;
  } else {
  switch (s->model) {
  case PHYS_BROWNIAN: {
    const double sd = sqrt(2.0 * s->D_um2_s * 1e6 * dt);   /* nm per axis */
    m->x += gsl_ran_gaussian_ziggurat(m->rng, sd);
    m->y += gsl_ran_gaussian_ziggurat(m->rng, sd);
    if (s->box_w_nm > 0) m->x = reflect(m->x, s->x_nm - 0.5 * s->box_w_nm, s->x_nm + 0.5 * s->box_w_nm);
    if (s->box_h_nm > 0) m->y = reflect(m->y, s->y_nm - 0.5 * s->box_h_nm, s->y_nm + 0.5 * s->box_h_nm);
    break;
  }
  case PHYS_LISSAJOUS: case PHYS_CSV:
    traj_at(m, t1, &m->x, &m->y);
    break;
  default:   /* static; the stepper moves at its own events */
    break;
  }
  m->cum_x += 0.5 * (x0 + m->x) * dt;
  m->cum_y += 0.5 * (y0 + m->y) * dt;
  if (m->state == PHYS_ON) { m->cum_on += dt; m->cum_n += dt; m->st.on_time_s += dt; }
  }
  if (s->settle_us > 0) {
    const double k = exp(-dt / (s->settle_us * 1e-6));
    m->bx = m->in.beam_x_nm + (m->bx - m->in.beam_x_nm) * k;
    m->by = m->in.beam_y_nm + (m->by - m->in.beam_y_nm) * k;
  } else {
    m->bx = m->in.beam_x_nm;
    m->by = m->in.beam_y_nm;
  }
  m->t = t1;
  hist_push(m);
}

static void update_next_event(phys_model *m)
{
  double e = m->next_arrival;
  if (m->next_step < e) e = m->next_step;
  if (m->next_switch < e) e = m->next_switch;
  if (m->next_traj < e) e = m->next_traj;
  m->next_event = e;
}

/* Rates at the present state; the next arrival is redrawn when the total changed. */
static void update_rates(phys_model *m)
{
  const phys_scenario *s = &m->s;
  double sig = 0, bg = 0;
  if (m->in.laser_on) {
    const double amp = m->in.amp_code / s->amp_ref_code;
    const int gauss = s->shape == PHYS_SHAPE_PIN ? m->in.gauss : s->shape == PHYS_SHAPE_GAUSSIAN;
    if (m->ns) {
      for (int i = 0; i < m->ns; i++) {
        struct site *d = &m->site[i];
        d->lam = 0;
        if (d->st != PHYS_SITE_ON) continue;
        double x, y;
        site_pos(m, i, m->t, &x, &y);
        const double dx = x - m->bx, dy = y - m->by;
        const double I = gauss ? s->gauss_peak_ratio * phys_gauss(dx, dy, s->gauss_fwhm_nm, s->size_nm)
                               : phys_doughnut(dx, dy, s->fwhm_nm, s->size_nm);
        d->lam = s->brightness_hz * amp * I * s->efficiency;
        sig += d->lam;
      }
    } else if (m->state == PHYS_ON) {
      const double dx = m->x - m->bx, dy = m->y - m->by;
      const double I = gauss ? s->gauss_peak_ratio * phys_gauss(dx, dy, s->gauss_fwhm_nm, s->size_nm)
                             : phys_doughnut(dx, dy, s->fwhm_nm, s->size_nm);
      sig = s->brightness_hz * amp * I * s->efficiency;
    }
    bg = (s->background_hz + s->background_power_hz * amp) * s->efficiency;
  }
  if (m->ns && !m->in.laser_on) for (int i = 0; i < m->ns; i++) m->site[i].lam = 0;
  m->lam_sig = sig;
  m->lam_bg = bg;
  m->lam_dark = s->dark_hz;
  const double tot = sig + bg + s->dark_hz;
  if (tot != m->lam_tot) {
    m->lam_tot = tot;
    m->next_arrival = tot > 0 ? m->t + expo(m, 1.0 / tot) : INFINITY;
  }
}

static double step_len(const phys_model *m)
{
  const double st = m->s.step_us * 1e-6, tau = m->s.settle_us * 1e-6;
  if (tau > 0 && (fabs(m->bx - m->in.beam_x_nm) > 0.01 || fabs(m->by - m->in.beam_y_nm) > 0.01))
    return st < tau / 4 ? st : tau / 4;
  return st;
}

static void schedule_switch(phys_model *m)
{
  const phys_scenario *s = &m->s;
  switch (m->state) {
  case PHYS_ON:
    m->next_switch = s->t_off_ms > 0 ? m->t + expo(m, s->t_on_ms * 1e-3) : INFINITY;
    break;
  case PHYS_OFF:
    m->next_switch = m->t + expo(m, s->t_off_ms * 1e-3);
    break;
  case PHYS_WAIT: {
    const double k = s->spontaneous_hz + (m->in.act405 ? s->activation_hz : 0);
    m->next_switch = k > 0 ? m->t + expo(m, 1.0 / k) : INFINITY;
    break;
  }
  default:
    m->next_switch = INFINITY;
  }
}

static void emit_event(phys_model *m, const char *what)
{
  if (m->ev) m->ev(m->evctx, m->t, what, m->mol, m->x, m->y);
}

static void activate(phys_model *m)
{
  const phys_scenario *s = &m->s;
  if (m->mol == 0) {
    m->ox = s->x_nm;
    m->oy = s->y_nm;
  } else {
    m->ox = s->x_nm + (gsl_rng_uniform(m->rng) - 0.5) * s->spawn_w_nm;
    m->oy = s->y_nm + (gsl_rng_uniform(m->rng) - 0.5) * s->spawn_h_nm;
    if (s->box_w_nm > 0) m->ox = reflect(m->ox, s->x_nm - 0.5 * s->box_w_nm, s->x_nm + 0.5 * s->box_w_nm);
    if (s->box_h_nm > 0) m->oy = reflect(m->oy, s->y_nm - 0.5 * s->box_h_nm, s->y_nm + 0.5 * s->box_h_nm);
  }
  if (s->model == PHYS_LISSAJOUS || s->model == PHYS_CSV) traj_at(m, m->t, &m->x, &m->y);
  else { m->x = m->ox; m->y = m->oy; }
  if (s->model == PHYS_STEPS)
    m->next_traj = m->t + gsl_ran_gamma(m->rng, s->dwell_shape, s->dwell_ms * 1e-3 / s->dwell_shape);
  m->state = PHYS_ON;
  m->budget = s->bleach_photons > 0 ? expo(m, s->bleach_photons) : INFINITY;
  m->st.activations++;
  schedule_switch(m);
  emit_event(m, "activate");
}

static void bleach(phys_model *m)
{
  m->st.bleaches++;
  emit_event(m, "bleach");
  m->state = ++m->mol < m->s.molecules ? PHYS_WAIT : PHYS_DONE;
  m->next_traj = INFINITY;
  schedule_switch(m);
}

static void step_motor(phys_model *m)
{
  const phys_scenario *s = &m->s;
  const double dir = gsl_rng_uniform(m->rng) < s->back_fraction ? -1.0 : 1.0;
  const double a = s->angle_deg * M_PI / 180;
  /* the position jumps at this instant: the integral up to now used the old one */
  m->x += dir * s->step_nm * cos(a);
  m->y += dir * s->step_nm * sin(a);
  m->next_traj = m->t + gsl_ran_gamma(m->rng, s->dwell_shape, s->dwell_ms * 1e-3 / s->dwell_shape);
}

static void site_event(phys_model *m, int i, const char *what)
{
  if (m->ev) { double x, y; site_pos(m, i, m->t, &x, &y); m->ev(m->evctx, m->t, what, i, x, y); }
}

static void site_bleach(phys_model *m, int i)
{
  m->site[i].st = PHYS_SITE_BLEACHED;
  m->site[i].next = INFINITY;
  m->n_on--;
  m->n_bleached++;
  m->st.bleaches++;
  site_event(m, i, "bleach");
}

/* Switches of the sites due at m->t (DARK -> ON, ON -> DARK or BLEACHED). */
static void sites_switch(phys_model *m)
{
  const phys_scenario *s = &m->s;
  for (int i = 0; i < m->ns; i++) {
    struct site *d = &m->site[i];
    if (d->next != m->t) continue;
    if (d->st == PHYS_SITE_DARK) {
      /* which of the two parallel channels fired: spontaneous with probability k_s / k */
      const double k = dark_rate(m);
      if (gsl_rng_uniform(m->rng) * k < s->spontaneous_hz) m->st.act_spont++;
      else m->st.act_405++;
      m->st.activations++;
      d->st = PHYS_SITE_ON;
      m->n_on++;
      site_schedule(m, i);
      site_event(m, i, "activate");
    } else if (d->st == PHYS_SITE_ON) {
      if (gsl_rng_uniform(m->rng) < s->bleach_prob) {
        site_bleach(m, i);
      } else {
        d->st = PHYS_SITE_DARK;
        m->n_on--;
        m->st.offs++;
        site_schedule(m, i);
        site_event(m, i, "dark");
      }
    }
  }
  sites_derive(m);
  sites_next(m);
}

static void sites_init(phys_model *m)
{
  const phys_scenario *s = &m->s;
  m->ns = s->n_sites;
  for (int i = 0; i < m->ns; i++) { m->cx0 += s->x_nm + s->site_x_nm[i]; m->cy0 += s->y_nm + s->site_y_nm[i]; }
  m->cx0 /= m->ns;
  m->cy0 /= m->ns;
  for (int i = 0; i < m->ns; i++) {
    struct site *d = &m->site[i];
    d->st = i == 0 && s->first_active ? PHYS_SITE_ON : PHYS_SITE_DARK;
    d->budget = s->bleach_photons > 0 ? expo(m, s->bleach_photons) : INFINITY;
    if (d->st == PHYS_SITE_ON) { m->n_on++; m->st.activations++; }
    site_schedule(m, i);
  }
  sites_derive(m);
  sites_next(m);
}

phys_model *phys_new(const phys_scenario *s, uint64_t seed, char *err, size_t errlen)
{
  phys_model *m = calloc(1, sizeof *m);
  if (!m) { snprintf(err, errlen, "out of memory"); return NULL; }
  m->s = *s;
  m->h = malloc(HIST_CAP * sizeof *m->h);
  m->rng = gsl_rng_alloc(gsl_rng_mt19937);
  if (!m->h || !m->rng) { snprintf(err, errlen, "out of memory"); phys_free(m); return NULL; }
  gsl_rng_set(m->rng, (unsigned long)seed);
  if (s->model == PHYS_CSV) {
    m->cn = phys_read_csv(s->csv, &m->ct, &m->cx, &m->cy, err, errlen);
    if (m->cn < 0) { m->cn = 0; phys_free(m); return NULL; }
    m->ix = gsl_interp_alloc(gsl_interp_linear, (size_t)m->cn);
    m->iy = gsl_interp_alloc(gsl_interp_linear, (size_t)m->cn);
    m->ax = gsl_interp_accel_alloc();
    m->ay = gsl_interp_accel_alloc();
    gsl_interp_init(m->ix, m->ct, m->cx, (size_t)m->cn);
    gsl_interp_init(m->iy, m->ct, m->cy, (size_t)m->cn);
  }
  m->dead_s = (s->dead_time_ns > s->pulse_ns ? s->dead_time_ns : s->pulse_ns) * 1e-9;
  m->free_at[0] = m->free_at[1] = -INFINITY;
  m->next_traj = INFINITY;
  m->ox = m->x = s->x_nm;
  m->oy = m->y = s->y_nm;
  if (s->model == PHYS_LISSAJOUS || s->model == PHYS_CSV) traj_at(m, 0, &m->x, &m->y);
  m->state = PHYS_WAIT;
  if (s->n_sites > 0) sites_init(m);
  else if (s->first_active) activate(m);
  else schedule_switch(m);
  m->lam_tot = -1;   /* forces the first draw */
  update_rates(m);
  m->next_step = s->step_us * 1e-6;
  update_next_event(m);
  hist_push(m);
  return m;
}

void phys_free(phys_model *m)
{
  if (!m) return;
  if (m->ix) gsl_interp_free(m->ix);
  if (m->iy) gsl_interp_free(m->iy);
  if (m->ax) gsl_interp_accel_free(m->ax);
  if (m->ay) gsl_interp_accel_free(m->ay);
  free(m->ct); free(m->cx); free(m->cy);
  if (m->rng) gsl_rng_free(m->rng);
  free(m->h);
  free(m);
}

void phys_on_event(phys_model *m, phys_event_fn fn, void *ctx)
{
  m->ev = fn;
  m->evctx = ctx;
  if (fn && !m->first_reported && m->st.activations) {
    if (m->ns) { double x, y; site_pos(m, 0, 0.0, &x, &y); fn(ctx, 0.0, "activate", 0, x, y); }
    else fn(ctx, 0.0, "activate", 0, m->x, m->y);
  }
  m->first_reported = 1;
}

static void arrival(phys_model *m, double te, phys_pulse *out, size_t *n)
{
  const double u = gsl_rng_uniform(m->rng) * m->lam_tot;
  const int is_sig = u < m->lam_sig;
  if (is_sig) m->st.signal++;
  else if (u < m->lam_sig + m->lam_bg) m->st.background++;
  else m->st.dark++;
  const int ch = gsl_rng_uniform(m->rng) < m->s.apd1_fraction ? 0 : 1;
  if (te < m->free_at[ch]) {
    m->st.lost_dead++;
  } else {
    out[(*n)++] = (phys_pulse){ te, ch };
    m->st.pulses[ch]++;
    m->free_at[ch] = te + m->dead_s;
  }
  m->next_arrival = te + expo(m, 1.0 / m->lam_tot);
  if (is_sig && m->ns) {
    /* u is uniform on [0, lam_sig) given a signal photon: it picks the emitting site */
    int i = 0;
    double c = 0;
    for (; i < m->ns - 1; i++) { c += m->site[i].lam; if (u < c && m->site[i].lam > 0) break; }
    while (m->site[i].lam <= 0 && i > 0) i--;   /* rounding at the top end */
    if (--m->site[i].budget <= 0) {
      advance_state(m, te);
      site_bleach(m, i);
      sites_derive(m);
      sites_next(m);
      update_rates(m);
    }
  } else if (is_sig && --m->budget <= 0) {
    advance_state(m, te);
    bleach(m);
    update_rates(m);
  }
}

size_t phys_advance(phys_model *m, double t_end, phys_pulse *out, size_t max)
{
  size_t n = 0;
  while (n < max && m->next_event < t_end) {
    const double te = m->next_event;
    if (te == m->next_arrival) {
      arrival(m, te, out, &n);
    } else {
      advance_state(m, te);
      if (te == m->next_traj) step_motor(m);
      if (te == m->next_switch && m->ns) {
        sites_switch(m);
      } else if (te == m->next_switch) {
        if (m->state == PHYS_WAIT) {
          activate(m);   /* schedules its first switch */
        } else {
          if (m->state == PHYS_ON) { m->state = PHYS_OFF; m->st.blinks_off++; }
          else m->state = PHYS_ON;
          schedule_switch(m);
        }
      }
      if (te == m->next_step) m->next_step = te + step_len(m);
      update_rates(m);
    }
    update_next_event(m);
  }
  return n;
}

/* Events before t that the caller did not collect are processed without output. */
static void catch_up(phys_model *m, double t)
{
  phys_pulse sink[64];
  while (phys_advance(m, t, sink, 64) == 64) {}
  advance_state(m, t);
}

void phys_sync(phys_model *m, double t_s)
{
  if (t_s <= m->t) return;
  catch_up(m, t_s);
  update_rates(m);
  update_next_event(m);
}

void phys_set_inputs(phys_model *m, double t_s, const phys_inputs *in)
{
  catch_up(m, t_s);
  const int act_changed = in->act405 != m->in.act405;
  const int beam_changed = in->beam_x_nm != m->in.beam_x_nm || in->beam_y_nm != m->in.beam_y_nm;
  m->in = *in;
  if (m->s.settle_us <= 0) { m->bx = in->beam_x_nm; m->by = in->beam_y_nm; }
  if (act_changed && m->ns) {   /* the DARK sites' rate changed: redraw (memoryless) */
    for (int i = 0; i < m->ns; i++) if (m->site[i].st == PHYS_SITE_DARK) site_schedule(m, i);
    sites_next(m);
  } else if (act_changed && m->state == PHYS_WAIT) schedule_switch(m);
  if (beam_changed) m->next_step = m->t + step_len(m);
  update_rates(m);
  update_next_event(m);
}

static int hist_at(const phys_model *m, double t, double *cx, double *cy, double *con, double *cn)
{
  const struct hist *o = &m->h[m->hhead];
  if (t < o->t) return -1;
  size_t lo = 0, hi = m->hn - 1;   /* entries by age: lo oldest; find last with time <= t */
  while (lo < hi) {
    const size_t mid = (lo + hi + 1) / 2;
    if (m->h[(m->hhead + mid) % HIST_CAP].t <= t) lo = mid;
    else hi = mid - 1;
  }
  const struct hist *a = &m->h[(m->hhead + lo) % HIST_CAP];
  if (lo + 1 >= m->hn || a->t == t) { *cx = a->cx; *cy = a->cy; *con = a->con; *cn = a->cn; return 0; }
  const struct hist *b = &m->h[(m->hhead + lo + 1) % HIST_CAP];
  const double f = (t - a->t) / (b->t - a->t);
  *cx = a->cx + f * (b->cx - a->cx);
  *cy = a->cy + f * (b->cy - a->cy);
  *con = a->con + f * (b->con - a->con);
  *cn = a->cn + f * (b->cn - a->cn);
  return 0;
}

int phys_mean(phys_model *m, double t0, double t1, double *x, double *y, double *on_frac)
{
  phys_sync(m, t1);
  t1 = m->t;
  if (!(t1 > t0)) { *x = m->x; *y = m->y; *on_frac = m->state == PHYS_ON; return t0 > t1 ? -1 : 0; }
  double ax, ay, aon, an;
  if (hist_at(m, t0, &ax, &ay, &aon, &an)) return -1;
  const double T = t1 - t0;
  *on_frac = (m->cum_on - aon) / T;
  if (m->ns) {   /* sites: the mean of the ON sites over the time >= 1 was on */
    const double Ton = m->cum_on - aon;
    if (Ton > 0) { *x = (m->cum_x - ax) / Ton; *y = (m->cum_y - ay) / Ton; }
    else { *x = m->x; *y = m->y; }
    return 0;
  }
  *x = (m->cum_x - ax) / T;
  *y = (m->cum_y - ay) / T;
  return 0;
}

int phys_mean_n_on(phys_model *m, double t0, double t1, double *n_on_mean)
{
  phys_sync(m, t1);
  t1 = m->t;
  if (!(t1 > t0)) { *n_on_mean = phys_n_on(m); return t0 > t1 ? -1 : 0; }
  double ax, ay, aon, an;
  if (hist_at(m, t0, &ax, &ay, &aon, &an)) return -1;
  *n_on_mean = (m->cum_n - an) / (t1 - t0);
  return 0;
}

int phys_n_sites(const phys_model *m) { return m->ns; }
int phys_n_on(const phys_model *m) { return m->ns ? m->n_on : m->state == PHYS_ON; }
void phys_site(const phys_model *m, int i, double *x_nm, double *y_nm, int *state)
{
  site_pos(m, i, m->t, x_nm, y_nm);
  if (state) *state = m->site[i].st;
}
void phys_site_rate(const phys_model *m, int i, double *signal_hz) { *signal_hz = m->site[i].lam; }

double phys_time(const phys_model *m) { return m->t; }
double phys_next_event(const phys_model *m) { return m->next_event; }
void phys_emitter(const phys_model *m, double *x, double *y, int *state) { *x = m->x; *y = m->y; if (state) *state = m->state; }
void phys_beam(const phys_model *m, double *x, double *y) { *x = m->bx; *y = m->by; }
void phys_rates(const phys_model *m, double *sig, double *bg, double *dark)
{
  *sig = m->lam_sig; *bg = m->lam_bg; *dark = m->lam_dark;
}
const phys_stats *phys_get_stats(const phys_model *m) { return &m->st; }
const phys_scenario *phys_scenario_of(const phys_model *m) { return &m->s; }
