/* Byte transports to a board: the FT2232H UART (host/transport_ftdi.c) and the virtual
 * board (host/transport_sim.c). Both carry exactly the protocol bytes. */
#ifndef MINFLUX_TRANSPORT_H
#define MINFLUX_TRANSPORT_H
#include <stddef.h>
#include <stdint.h>

typedef struct mfx_transport mfx_transport;
struct mfx_transport {
  /* Writes all n bytes; 0 on success, -1 on error (message in err). */
  int  (*write)(mfx_transport *t, const uint8_t *p, size_t n);
  /* Reads what is available, waiting at most timeout_ms for the first byte:
   * > 0 bytes read, 0 nothing arrived, -1 error or the board went away (message in err). */
  long (*read)(mfx_transport *t, uint8_t *p, size_t n, int timeout_ms);
  /* Releases the device / ends the virtual board; frees t. */
  void (*close)(mfx_transport *t);
  /* Sets the host side of the line to `baud` (the firmware's LINK_BAUD must match);
   * 0 on success, -1 with a message in err. */
  int  (*set_baud)(mfx_transport *t, unsigned baud);
  unsigned baud;          /* line rate in baud */
  char     kind[8];       /* "ftdi" or "sim" */
  char     err[256];
};

/* Options the virtual board takes from the host (ignored by ftdi). */
typedef struct {
  const char *truth_csv;  /* where the virtual board writes the emitter truth, or NULL */
} mfx_board_opts;

/* Opens `spec` = "ftdi[:SERIAL]" | "sim[:SCENARIO.ini]". On failure returns NULL and
 * writes one line (no trailing newline) into err. */
mfx_transport *mfx_board_open(const char *spec, const mfx_board_opts *opts, char *err, size_t errlen);

/* The transports behind it. */
mfx_transport *mfx_ftdi_open(const char *serial, unsigned baud, char *err, size_t errlen);
mfx_transport *mfx_sim_open(const char *scenario, const mfx_board_opts *opts, char *err, size_t errlen);

#endif
