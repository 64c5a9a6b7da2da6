/* iCE40UP5K bitstream files (.bin from icepack or Lattice's tools): read and validated before
 * anything touches the board. Format facts from Project IceStorm's bitstream documentation:
 * optional comment header FF 00 ... 00 FF, sync word 7E AA 99 7E, then commands whose high
 * nibble is the opcode and low nibble the payload length, CRAM/BRAM data blocks of
 * width x height bits, a CRC-16 (CCITT, init 0xFFFF) check and the wakeup command. */
#ifndef MINFLUX_FLASH_IMAGE_H
#define MINFLUX_FLASH_IMAGE_H
#include <stddef.h>
#include <stdint.h>

/* Accepted file sizes. icepack writes 104090 bytes for every UP5K design; comments or a
 * different tool's padding add a little, so 100 KiB .. 108 KiB is accepted. Smaller iCE40s
 * (LP/HX1K: 32220 bytes) and larger ones (HX8K: 135100 bytes) fall outside. */
#define ICE40_UP5K_MIN_BYTES   102400u
#define ICE40_UP5K_MAX_BYTES   110592u
#define ICE40_UP5K_CRAM_BITS   692u     /* CRAM bank width of the UP5K */
#define ICE40_UP5K_CRAM_BANKS  4u
#define ICE40_SYNC_SEARCH      4096u    /* the sync word must start within this many bytes */

typedef struct {
  size_t   size;          /* file bytes */
  size_t   sync_at;       /* offset of 7E AA 99 7E */
  size_t   wakeup_end;    /* offset just after the wakeup command */
  unsigned cram_blocks, bram_blocks;
  uint16_t crc;           /* the CRC the image carries (and that matched) */
} ice40_image_info;

/* 0 when p[0..n) is a complete, CRC-clean iCE40UP5K configuration image; else -1 with one
 * line in err saying what is wrong and where. */
int ice40_image_check(const uint8_t *p, size_t n, ice40_image_info *info, char *err, size_t errlen);

/* Reads and checks a file; the buffer (malloc'd) is returned only for a valid image. */
int ice40_image_load(const char *path, uint8_t **buf, size_t *n, ice40_image_info *info,
                     char *err, size_t errlen);

#endif
