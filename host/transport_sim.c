/* The `sim` transport: spawns the virtual board (sim/vboard.cpp, built as
 * build/vl/vboard/vboard) and exchanges the protocol bytes with it over a socketpair. */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "regmap.h"
#include "transport.h"
#include "physics.h"

typedef struct {
  mfx_transport t;
  int fd;
  pid_t pid;
  /* fault injection (tests/test_fault.sh): MINFLUX_SIM_STALL=T:D makes the first read
   * T s after the open sleep D s first (the host stops reading) */
  double stall_at_s, stall_s, t0_s;
} sim_transport;

static double sim_now_s(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static int sim_write(mfx_transport *t, const uint8_t *p, size_t n)
{
  sim_transport *s = (sim_transport *)t;
  while (n) {
    ssize_t w = send(s->fd, p, n, MSG_NOSIGNAL);
    if (w < 0) {
      if (errno == EINTR) continue;
      snprintf(t->err, sizeof t->err, "virtual board write failed: %s (board process gone?)", strerror(errno));
      return -1;
    }
    p += w;
    n -= (size_t)w;
  }
  return 0;
}

static long sim_read(mfx_transport *t, uint8_t *p, size_t n, int timeout_ms)
{
  sim_transport *s = (sim_transport *)t;
  if (s->stall_s > 0 && sim_now_s() - s->t0_s >= s->stall_at_s) {
    struct timespec d = { (time_t)s->stall_s, (long)((s->stall_s - (double)(time_t)s->stall_s) * 1e9) };
    s->stall_s = 0;
    while (nanosleep(&d, &d) && errno == EINTR) {}
  }
  struct pollfd pfd = { s->fd, POLLIN, 0 };
  int r;
  do r = poll(&pfd, 1, timeout_ms); while (r < 0 && errno == EINTR);
  if (r < 0) { snprintf(t->err, sizeof t->err, "virtual board: poll failed: %s", strerror(errno)); return -1; }
  if (r == 0) return 0;
  ssize_t got;
  do got = recv(s->fd, p, n, 0); while (got < 0 && errno == EINTR);
  if (got < 0) { snprintf(t->err, sizeof t->err, "virtual board read failed: %s", strerror(errno)); return -1; }
  if (got == 0) { snprintf(t->err, sizeof t->err, "virtual board closed the link (process ended)"); return -1; }
  return (long)got;
}

static void sim_close(mfx_transport *t)
{
  sim_transport *s = (sim_transport *)t;
  shutdown(s->fd, SHUT_WR);   /* the board sees EOF, finishes its files and exits */
  close(s->fd);
  for (int i = 0; i < 200; i++) {   /* up to 2 s */
    int st;
    pid_t w = waitpid(s->pid, &st, WNOHANG);
    if (w == s->pid || (w < 0 && errno != EINTR)) { free(s); return; }
    struct timespec ts = { 0, 10 * 1000 * 1000 };
    nanosleep(&ts, NULL);
  }
  kill(s->pid, SIGTERM);
  waitpid(s->pid, NULL, 0);
  free(s);
}

/* The virtual board executable: $MINFLUX_VBOARD, else vl/vboard/vboard next to minflux. */
static int vboard_path(char *out, size_t n)
{
  const char *env = getenv("MINFLUX_VBOARD");
  if (env && *env) { snprintf(out, n, "%s", env); return 0; }
  char self[PATH_MAX];
  ssize_t len = readlink("/proc/self/exe", self, sizeof self - 1);
  if (len < 0) return -1;
  self[len] = 0;
  snprintf(out, n, "%s/vl/vboard/vboard", dirname(self));
  return 0;
}

static int sim_set_baud(mfx_transport *t, unsigned baud);

mfx_transport *mfx_sim_open(const char *scenario, const mfx_board_opts *opts, char *err, size_t errlen)
{
  char path[PATH_MAX + 32];
  if (vboard_path(path, sizeof path) || access(path, X_OK)) {
    snprintf(err, errlen, "virtual board not found at %s: build it with `make` (or set MINFLUX_VBOARD)", path);
    return NULL;
  }
  if (scenario && *scenario) {   /* refuse a bad scenario here, in one line, not in the child */
    phys_scenario ph;
    phys_defaults(&ph);
    if (phys_load(scenario, &ph, err, errlen)) return NULL;
  }
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv)) {
    snprintf(err, errlen, "socketpair: %s", strerror(errno));
    return NULL;
  }
  const char *argv[24];
  int a = 0;
  argv[a++] = path;
  if (scenario && *scenario) { argv[a++] = "--scenario"; argv[a++] = scenario; }
  if (opts && opts->truth_csv) { argv[a++] = "--truth"; argv[a++] = opts->truth_csv; }
  /* MINFLUX_VBOARD_ARGS: extra virtual board options, blank-separated (fault injection,
   * tests/test_fault.sh) */
  char extra[512] = "";
  const char *ea = getenv("MINFLUX_VBOARD_ARGS");
  if (ea) snprintf(extra, sizeof extra, "%s", ea);
  for (char *sp, *w = strtok_r(extra, " \t", &sp); w && a < 23; w = strtok_r(NULL, " \t", &sp)) argv[a++] = w;
  argv[a] = NULL;
  pid_t pid = fork();
  if (pid < 0) {
    snprintf(err, errlen, "fork: %s", strerror(errno));
    close(sv[0]); close(sv[1]);
    return NULL;
  }
  if (pid == 0) {
    dup2(sv[1], 0);
    dup2(sv[1], 1);
    execv(path, (char *const *)argv);
    fprintf(stderr, "minflux: cannot start the virtual board %s: %s\n", path, strerror(errno));
    _exit(127);
  }
  close(sv[1]);
  sim_transport *s = calloc(1, sizeof *s);
  if (!s) { snprintf(err, errlen, "out of memory"); close(sv[0]); return NULL; }
  s->fd = sv[0];
  s->pid = pid;
  s->t0_s = sim_now_s();
  const char *st = getenv("MINFLUX_SIM_STALL");
  if (st && sscanf(st, "%lf:%lf", &s->stall_at_s, &s->stall_s) != 2) s->stall_s = 0;
  s->t.write = sim_write;
  s->t.read = sim_read;
  s->t.close = sim_close;
  s->t.set_baud = sim_set_baud;
  s->t.baud = (unsigned)(MINFLUX_CLK_HZ / MINFLUX_LINK_DIV_3M);
  snprintf(s->t.kind, sizeof s->t.kind, "sim");
  return &s->t;
}

/* The virtual board's FT2232H model follows the firmware's divider (sim/vboard.cpp): only
 * the rate the host reports changes. */
static int sim_set_baud(mfx_transport *t, unsigned baud)
{
  t->baud = baud;
  return 0;
}

mfx_transport *mfx_board_open(const char *spec, const mfx_board_opts *opts, char *err, size_t errlen)
{
  if (!spec || !strcmp(spec, "sim")) return mfx_sim_open(NULL, opts, err, errlen);
  if (!strncmp(spec, "sim:", 4)) return mfx_sim_open(spec + 4, opts, err, errlen);
  if (!strcmp(spec, "ftdi")) return mfx_ftdi_open(NULL, 3000000, err, errlen);
  if (!strncmp(spec, "ftdi:", 5)) return mfx_ftdi_open(spec + 5, 3000000, err, errlen);
  snprintf(err, errlen, "unknown board '%s' (allowed: ftdi, ftdi:SERIAL, sim, sim:SCENARIO.ini)", spec);
  return NULL;
}
