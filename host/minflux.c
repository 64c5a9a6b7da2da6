/* minflux: host command-line program of the open MINFLUX controller.
 * Dispatches to the subcommands listed in host/commands.def. */
#include <stdio.h>
#include <string.h>
#include "regmap.h"

#define CMD(name, fn, summary) int fn(int argc, char **argv);
#include "commands.def"
#undef CMD

struct command { const char *name; int (*fn)(int, char **); const char *summary; };
static const struct command commands[] = {
#define CMD(name, fn, summary) { #name, fn, summary },
#include "commands.def"
#undef CMD
};

static void usage(FILE *f)
{
  fprintf(f, "usage: minflux COMMAND [options]   (minflux COMMAND --help for details)\n\ncommands:\n");
  for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
    fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].summary);
}

int cmd_version(int argc, char **argv)
{
  if (argc > 1 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
    printf("usage: minflux version\nPrints the host version and the firmware design id/version it was built for.\n");
    return 0;
  }
  if (argc > 1) {
    fprintf(stderr, "minflux version: unexpected argument '%s'\n", argv[1]);
    return 2;
  }
  printf("minflux host 0.1.0; firmware design id 0x%08X version %u.%u.%u\n",
         (unsigned)MINFLUX_DESIGN_ID, (MINFLUX_DESIGN_VERSION >> 16) & 0xFF,
         (MINFLUX_DESIGN_VERSION >> 8) & 0xFF, MINFLUX_DESIGN_VERSION & 0xFF);
  return 0;
}

int main(int argc, char **argv)
{
  if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
    usage(argc < 2 ? stderr : stdout);
    return argc < 2 ? 2 : 0;
  }
  for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
    if (!strcmp(argv[1], commands[i].name))
      return commands[i].fn(argc - 1, argv + 1);
  fprintf(stderr, "minflux: unknown command '%s' (try: minflux --help)\n", argv[1]);
  return 2;
}
