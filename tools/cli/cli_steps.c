/* The pipeline's step table on the command line: getopt entries and help,
 * shared by prep and augment. */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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

int dp_cli_take_step(const dp_cli_command *cmd, int c, int base, int ntab, dp_pipeline *p, int *rc) {
  if (c < base || c >= base + ntab) return 0;
  if (dp_pipeline_add(p, dp_step_table()[c - base].name, optarg) != DP_OK)
    *rc = dp_cli_usage_error(cmd, "%s", dp_last_error());
  return 1;
}

int dp_cli_take_pipeline_file(const dp_cli_command *cmd, dp_pipeline *p, const char *path) {
  dp_status s = dp_pipeline_load(p, path);
  if (s == DP_OK) return 0;
  return s == DP_EIO ? dp_cli_fail_status(s, path) : dp_cli_usage_error(cmd, "%s", dp_last_error());
}

dp_status dp_cli_write_volume(const dp_volume *v, const char *path, int sidecar, int threads, int durable) {
  return dp_cli_write_volume_scaled(v, path, sidecar, threads, durable, 0, 0);
}

dp_status dp_cli_write_volume_scaled(const dp_volume *v, const char *path, int sidecar, int threads, int durable,
                                     double scl_slope, double scl_inter) {
  dp_nifti_write_opts wo = DP_NIFTI_WRITE_OPTS_INIT;
  wo.threads = threads;
  wo.durable = durable;
  wo.scl_slope = scl_slope;
  wo.scl_inter = scl_inter;
  dp_status s = dp_nifti_write(v, path, &wo);
  if (s == DP_OK && sidecar) s = dp_cli_write_sidecar(v, path, durable);
  return s;
}

dp_status dp_cli_write_sidecar(const dp_volume *v, const char *path, int durable) {
  char side[4096];
  dp_status s = dp_sidecar_path(path, side, sizeof side);
  dp_sidecar_write_opts so = DP_SIDECAR_WRITE_OPTS_INIT;
  so.durable = durable;
  if (s == DP_OK) s = dp_sidecar_write_with(v, side, &so);
  if (s != DP_OK) unlink(path); /* never one without the other */
  return s;
}

void dp_cli_remove_volume(const char *path) {
  char side[4096];
  unlink(path);
  if (dp_sidecar_path(path, side, sizeof side) == DP_OK) unlink(side);
}
