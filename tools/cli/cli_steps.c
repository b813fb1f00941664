/* The pipeline's step table on the command line: getopt entries and help,
 * shared by prep and augment. */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

void dp_cli_print_steps(FILE *f) {
  for (const dp_step_desc *d = dp_step_table(); d->name; d++) {
    char head[64];
    snprintf(head, sizeof head, "--%s%s%s%s", d->name, d->arg == 2 ? "[=" : d->arg ? " " : "",
             d->metavar ? d->metavar : "", d->arg == 2 ? "]" : "");
    const char *h = d->help;
    fprintf(f, "  %-22s", head);
    if (strlen(head) > 21) fprintf(f, "\n  %-22s", "");
    while (*h) {
      const char *nl = strchr(h, '\n');
      size_t n = nl ? (size_t)(nl - h) : strlen(h);
      fprintf(f, "%.*s\n", (int)n, h);
      h += n;
      if (*h == '\n') {
        h++;
        fprintf(f, "  %-22s", "");
      }
    }
  }
}

struct option *dp_cli_step_options(int base, int extra, int *ntab) {
  const dp_step_desc *tab = dp_step_table();
  int n = 0;
  while (tab[n].name) n++;
  struct option *lo = calloc((size_t)n + (size_t)extra + 1, sizeof *lo);
  if (!lo) return NULL;
  for (int i = 0; i < n; i++)
    lo[i] = (struct option){tab[i].name,
                            tab[i].arg == 0 ? no_argument : tab[i].arg == 1 ? required_argument : optional_argument,
                            NULL, base + i};
  *ntab = n;
  return lo;
}
