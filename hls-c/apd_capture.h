/* apd_capture: C model of hdl/apd_capture.v (one channel). */
#ifndef MINFLUX_APD_CAPTURE_H
#define MINFLUX_APD_CAPTURE_H
#include <stdint.h>
#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
  uint8_t cum;   /* APD-domain counter, binary value of the Gray code */
  uint8_t s1;    /* synchronizer stages (binary value of the Gray code they hold) */
  uint8_t s2;
  uint8_t prev;  /* previous synchronized sample */
  uint8_t cnt;   /* o_cnt_reg */
} apd_capture_t;

void apd_capture_init(apd_capture_t *s);
/* One clk edge. `edges` = APD rising edges since the previous clk edge. */
void apd_capture_step(apd_capture_t *s, int rst, unsigned edges);

#ifdef __cplusplus
}
#endif
#endif
