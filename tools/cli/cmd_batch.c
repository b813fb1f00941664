#define _GNU_SOURCE /* prctl's PR_SET_PDEATHSIG */
/* dcmprep batch: one pipeline over many inputs.  Each item runs in its own
 * child process (a crash or a kill takes one item down, never the batch);
 * outputs are written atomically and carry a content hash of what made them,
 * so a rerun skips what is up to date and finishes the rest. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <libdeflate.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli/batch.h"
#include "core/internal.h"
#include "io/json.h"

static const char intro[] =
    "usage: dcmprep batch INPUT... -o OUTROOT [--pipeline FILE] [options]\n"
    "       dcmprep batch --manifest FILE -o OUTROOT [--pipeline FILE] [options]\n"
    "\n"
    "Runs one pipeline (the steps of prep, written in FILE one per line; see\n"
    "prep --save-pipeline) over many inputs, writing OUTROOT/NAME.nii.gz and\n"
    "its sidecar per item.  Without --pipeline the items are only converted.\n"
    "Items: each NIfTI INPUT is one (NAME: its file name); each DICOM folder or\n"
    "file INPUT gives one per volume series (NAME: INPUT's name/number_description).\n"
    "A manifest (CSV with a header row, or JSON Lines for a .jsonl name) lists\n"
    "one item per row: input (required), output (NAME, may hold folders),\n"
    "label (a label NIfTI moved in lockstep), label_output (default\n"
    "NAME_label), series (the DICOM series number when the input has several).\n"
    "Relative paths in a manifest are taken from the manifest's folder.\n"
    "\n"
    "Each output's sidecar records BatchHash, a hash of the input files'\n"
    "contents, the label, the pipeline and the dcmprep version: an item whose\n"
    "outputs carry the hash it would get is skipped, so a rerun (after a change,\n"
    "a failure or a kill) does only what is missing or out of date.  Outputs\n"
    "are written atomically; leftovers of a killed run are removed at the next.\n"
    "One failing item never stops the others; each item's status goes to the\n"
    "log (JSON Lines) and the exit status is 1 if any item failed.\n"
    "\n"
    "options:\n"
    "  -o, --output OUTROOT  output root folder (created if missing), required\n"
    "  --manifest FILE       the items, instead of INPUTs\n"
    "  --pipeline FILE       the steps and settings (see dcmprep help prep)\n"
    "  -j, --jobs N          items run at once (default 1)\n"
    "  --threads N           threads per item (default: cores / jobs)\n"
    "  --shard K/N           only items K, K+N, K+2N, ... (1-based) of the plan:\n"
    "                        N machines with K = 1..N together do everything once\n"
    "  --log FILE            status log (default OUTROOT/batch-log.jsonl, or\n"
    "                        OUTROOT/batch-log-K-of-N.jsonl with --shard)\n"
    "  --no-gz               write .nii instead of .nii.gz\n"
    "  --force               redo items even when their outputs are up to date\n"
    "  --dry-run             print the plan (item, input, output) and stop\n"
    DP_CLI_LIMITS_HELP
    "                        (per item: each runs in its own process)\n"
    "  --fsync               sync every output to disk before it counts as done\n"
    "  -q, --quiet           no progress bar or summary; failures still print\n"
    "  -h, --help            show this help\n"
    "\n"
    "A progress bar with the time left is drawn on a terminal.  Exit status:\n"
    "0 every item written or up to date, 1 some item failed, 2 usage error,\n"
    "130/143 interrupted (SIGINT/SIGTERM: running items are stopped and their\n"
    "partial files removed; rerun to finish).\n";

static void print_help(FILE *f) { fputs(intro, f); }

typedef struct {
  const char *outroot, *manifest, *pipeline_path, *log_path;
  int jobs, threads, gz, force, dry_run, quiet, fsync;
  int shard_k, shard_n;
  dp_pipeline *pipe;
} batch_opts;

enum { OPT_MANIFEST = 900, OPT_PIPELINE, OPT_THREADS, OPT_SHARD, OPT_LOG, OPT_NO_GZ, OPT_FORCE,
       OPT_DRY_RUN, OPT_MAX_VOXELS, OPT_MAX_MEMORY, OPT_FSYNC };

static int parse(int argc, char **argv, batch_opts *o) {
  static const struct option lo[] = {
      {"output", required_argument, NULL, 'o'},       {"manifest", required_argument, NULL, OPT_MANIFEST},
      {"pipeline", required_argument, NULL, OPT_PIPELINE}, {"jobs", required_argument, NULL, 'j'},
      {"threads", required_argument, NULL, OPT_THREADS}, {"shard", required_argument, NULL, OPT_SHARD},
      {"log", required_argument, NULL, OPT_LOG},       {"no-gz", no_argument, NULL, OPT_NO_GZ},
      {"force", no_argument, NULL, OPT_FORCE},         {"dry-run", no_argument, NULL, OPT_DRY_RUN},
      {"max-voxels", required_argument, NULL, OPT_MAX_VOXELS},
      {"max-memory", required_argument, NULL, OPT_MAX_MEMORY},
      {"fsync", no_argument, NULL, OPT_FSYNC},         {"quiet", no_argument, NULL, 'q'},
      {"help", no_argument, NULL, 'h'},                {NULL, 0, NULL, 0}};
  int c, rc = 0;
  long v;
  o->jobs = 1;
  o->gz = 1;
  while (rc == 0 && (c = getopt_long(argc, argv, "o:j:qh", lo, NULL)) != -1) {
    switch (c) {
      case 'o': o->outroot = optarg; break;
      case OPT_MANIFEST: o->manifest = optarg; break;
      case OPT_PIPELINE:
        o->pipeline_path = optarg;
        rc = dp_cli_take_pipeline_file(&dp_cli_batch, o->pipe, optarg);
        break;
      case 'j':
        if (dp_cli_parse_int(optarg, 1, 256, &v))
          rc = dp_cli_usage_error(&dp_cli_batch, "-j needs an integer 1..256, not '%s'", optarg);
        o->jobs = (int)v;
        break;
      case OPT_THREADS:
        if (dp_cli_parse_int(optarg, 1, 256, &v))
          rc = dp_cli_usage_error(&dp_cli_batch, "--threads needs an integer 1..256, not '%s'", optarg);
        o->threads = (int)v;
        break;
      case OPT_SHARD: {
        int k = 0, n = 0, used = 0;
        if (sscanf(optarg, "%d/%d%n", &k, &n, &used) != 2 || optarg[used] || n < 1 || k < 1 || k > n)
          rc = dp_cli_usage_error(&dp_cli_batch, "--shard needs K/N with 1 <= K <= N, not '%s'", optarg);
        o->shard_k = k;
        o->shard_n = n;
        break;
      }
      case OPT_LOG: o->log_path = optarg; break;
      case OPT_NO_GZ: o->gz = 0; break;
      case OPT_FORCE: o->force = 1; break;
      case OPT_DRY_RUN: o->dry_run = 1; break;
      case OPT_MAX_VOXELS: rc = dp_cli_take_limit(&dp_cli_batch, "max-voxels", optarg); break;
      case OPT_MAX_MEMORY: rc = dp_cli_take_limit(&dp_cli_batch, "max-memory", optarg); break;
      case OPT_FSYNC: o->fsync = 1; break;
      case 'q': o->quiet = 1; break;
      case 'h': print_help(stdout); rc = -1; break;
      default: rc = dp_cli_usage_error(&dp_cli_batch, "invalid option"); break;
    }
  }
  if (rc) return rc;
  if (!o->outroot) return dp_cli_usage_error(&dp_cli_batch, "-o OUTROOT is required");
  if (o->manifest && optind < argc)
    return dp_cli_usage_error(&dp_cli_batch, "give INPUTs or --manifest, not both");
  if (!o->manifest && optind == argc) return dp_cli_usage_error(&dp_cli_batch, "no INPUT and no --manifest");
  return 0;
}

/* ---- content hash -------------------------------------------------------- */

typedef struct {
  uint32_t crc, adler;
  uint64_t len;
} chash;

static void ch_init(chash *h) {
  h->crc = 0;
  h->adler = 1;
  h->len = 0;
}

static void ch_update(chash *h, const void *p, size_t n) {
  h->crc = libdeflate_crc32(h->crc, p, n);
  h->adler = libdeflate_adler32(h->adler, p, n);
  h->len += n;
}

static void ch_str(chash *h, const char *s) { ch_update(h, s ? s : "", strlen(s ? s : "") + 1); }

static dp_status ch_file(chash *h, const char *path, unsigned char *buf, size_t bufsize) {
  FILE *f = fopen(path, "rb");
  if (!f) return dp__error(DP_EIO, "%s: cannot open: %s", path, strerror(errno));
  size_t n;
  uint64_t total = 0;
  while ((n = fread(buf, 1, bufsize, f)) > 0) {
    ch_update(h, buf, n);
    total += n;
  }
  int err = ferror(f);
  fclose(f);
  if (err) return dp__error(DP_EIO, "%s: cannot read", path);
  ch_update(h, &total, sizeof total); /* file boundaries count */
  return DP_OK;
}

/* ---- one item, in its own process --------------------------------------- */

typedef struct {
  const batch_opts *o;
  const char *ext;
  int threads;
} run_ctx;

static int join(char *out, size_t size, const char *a, const char *b) {
  int n = snprintf(out, size, "%s/%s", a, b);
  return n < 0 || (size_t)n >= size;
}

/* The hash recorded in a sidecar, or "" when absent. */
static void sidecar_hash(const char *nifti, char *out, size_t size) {
  out[0] = '\0';
  char side[4400];
  if (dp_sidecar_path(nifti, side, sizeof side) != DP_OK) return;
  FILE *f = fopen(side, "rb");
  if (!f) return;
  char buf[1 << 16];
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  fclose(f);
  buf[n] = '\0';
  /* our own writer's layout: "BatchHash": "<hex>" */
  const char *p = strstr(buf, "\"BatchHash\"");
  if (!p) return;
  p += strlen("\"BatchHash\"");
  while (*p == ' ' || *p == ':') p++;
  if (*p++ != '"') return;
  size_t k = 0;
  while (p[k] && p[k] != '"' && k + 1 < size) k++;
  memcpy(out, p, k);
  out[k] = '\0';
}

static int exists_file(const char *p) {
  struct stat st;
  return stat(p, &st) == 0 && S_ISREG(st.st_mode);
}

/* Creates the folders of rel (relative to root) one by one, refusing any
 * that is not a real folder (a symbolic link could lead outside the root). */
static dp_status make_parents(const char *root, const char *rel) {
  char path[4400];
  if (join(path, sizeof path, root, rel)) return dp__error(DP_EINVAL, "%s/%s: path too long", root, rel);
  size_t base = strlen(root) + 1;
  for (char *s = path + base; (s = strchr(s, '/')) != NULL; s++) {
    *s = '\0';
    struct stat st;
    if (mkdir(path, 0777) != 0 && errno != EEXIST) {
      int e = errno;
      *s = '/';
      return dp__error(DP_EIO, "cannot create folder %.*s: %s", (int)(s - path), path, strerror(e));
    }
    if (lstat(path, &st) != 0 || !S_ISDIR(st.st_mode)) {
      dp_status r = dp__error(DP_EIO, "%s is not a folder (a link or a file): refusing to write through it", path);
      *s = '/';
      return r;
    }
    *s = '/';
  }
  return DP_OK;
}

static int cmp_str(const void *a, const void *b) {
  return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Picks the item's series in set: its number, or the one volume series. */
static dp_status pick_series(const dp_dicom_set *set, const batch_item *it, int *pick) {
  long want = 0;
  if (it->series) dp_cli_parse_int(it->series, -2147483647L, 2147483647L, &want);
  int n = 0;
  *pick = -1;
  for (int i = 0; i < dp_dicom_set_series_count(set); i++) {
    const dp_series_info *si = dp_dicom_set_series(set, i);
    if (it->series ? si->number == want : si->kind == DP_SERIES_VOLUME) {
      if (*pick < 0) *pick = i;
      n++;
    }
  }
  if (n == 1) return DP_OK;
  return dp__error(DP_EINVAL, "%s: %d %s; give the series number in the manifest's series column", it->input,
                   n, it->series ? "series with that number" : "volume series");
}

static dp_status hash_item(const run_ctx *c, const batch_item *it, const dp_dicom_set *set, int pick,
                           char *hex, size_t hexsize) {
  chash h;
  ch_init(&h);
  ch_str(&h, "dcmprep");
  ch_str(&h, dp_version());
  ch_str(&h, dp_pipeline_text(c->o->pipe));
  ch_str(&h, it->output);
  ch_str(&h, it->label_output);
  size_t bufsize = (size_t)1 << 20;
  unsigned char *buf = malloc(bufsize);
  if (!buf) return dp__error(DP_ENOMEM, "out of memory");
  dp_status s = DP_OK;
  if (set) {
    int nf = dp_dicom_series_file_count(set, pick);
    const char **files = malloc((size_t)(nf ? nf : 1) * sizeof *files);
    if (!files) s = dp__error(DP_ENOMEM, "out of memory");
    for (int k = 0; s == DP_OK && k < nf; k++) files[k] = dp_dicom_series_file(set, pick, k);
    if (s == DP_OK) qsort(files, (size_t)nf, sizeof *files, cmp_str); /* frames repeat a file */
    for (int k = 0; s == DP_OK && k < nf; k++)
      if (k == 0 || strcmp(files[k], files[k - 1]) != 0) s = ch_file(&h, files[k], buf, bufsize);
    free(files);
  } else {
    s = ch_file(&h, it->input, buf, bufsize);
  }
  if (s == DP_OK && it->label) {
    ch_str(&h, "label");
    s = ch_file(&h, it->label, buf, bufsize);
  }
  free(buf);
  snprintf(hex, hexsize, "%08x%08x%012llx", (unsigned)h.crc, (unsigned)h.adler,
           (unsigned long long)(h.len & 0xFFFFFFFFFFFFULL));
  return s;
}

/* Runs an item; returns 'W' written, 'S' skipped (up to date), 'F' failed
 * (message in msg). */
static char run_item(const run_ctx *c, const batch_item *it, char *msg, size_t msgsize) {
  const batch_opts *o = c->o;
  dp_status s = DP_OK;
  dp_dicom_set *own = NULL;
  const dp_dicom_set *set = it->set;
  int pick = it->set_index;
  char img_path[4400], lab_path[4400] = "", hex[64] = "";
  dp_volume *img = NULL, *lab = NULL;
  if (it->error) {
    snprintf(msg, msgsize, "%s", it->error);
    return 'F';
  }
  if (join(img_path, sizeof img_path, o->outroot, it->output) ||
      (it->label_output && join(lab_path, sizeof lab_path, o->outroot, it->label_output))) {
    snprintf(msg, msgsize, "%s: output path too long", it->output);
    return 'F';
  }
  if (!set && !dp_cli_is_nifti_name(it->input)) {
    dp_dicom_scan_opts so = DP_DICOM_SCAN_OPTS_INIT;
    so.threads = c->threads;
    const char *paths[1] = {it->input};
    s = dp_dicom_scan(paths, 1, &so, &own);
    if (s == DP_OK) s = pick_series(own, it, &pick);
    set = own;
  }
  if (s == DP_OK) s = hash_item(c, it, set, pick, hex, sizeof hex);
  if (s == DP_OK && !o->force && exists_file(img_path) && (!it->label_output || exists_file(lab_path))) {
    char had[64], had_lab[64] = "";
    sidecar_hash(img_path, had, sizeof had);
    if (it->label_output) sidecar_hash(lab_path, had_lab, sizeof had_lab);
    if (strcmp(had, hex) == 0 && (!it->label_output || strcmp(had_lab, hex) == 0)) {
      dp_dicom_set_free(own);
      return 'S';
    }
  }
  if (s == DP_OK) {
    if (set) {
      dp_dicom_load_opts lo = DP_DICOM_LOAD_OPTS_INIT;
      lo.threads = c->threads;
      dp_volume **vols = NULL;
      int nv = 0;
      s = dp_dicom_load(set, pick, &lo, &vols, &nv);
      if (s == DP_OK && nv != 1) {
        for (int i = 0; i < nv; i++) dp_volume_free(vols[i]);
        s = dp__error(DP_EINVAL, "%s: the series loads as %d volumes", it->input, nv);
      } else if (s == DP_OK) {
        img = vols[0];
      }
      free(vols);
    } else {
      dp_nifti_read_opts ro = DP_NIFTI_READ_OPTS_INIT;
      ro.apply_scaling = 1;
      ro.threads = c->threads;
      s = dp_nifti_read(it->input, &ro, &img, NULL);
    }
  }
  dp_dicom_set_free(own);
  if (s == DP_OK && it->label) s = dp_nifti_read(it->label, NULL, &lab, NULL);
  if (s == DP_OK) {
    int nsteps = 0;
    const dp_step *steps = dp_pipeline_steps(o->pipe, &nsteps);
    dp_pipeline_settings st = *dp_pipeline_settings_of(o->pipe);
    st.threads = c->threads;
    st.name_hash = dp_rng_hash_str(it->output); /* the item's name keys its draws */
    s = dp_pipeline_run(steps, nsteps, &st, &img, lab ? &lab : NULL);
  }
  if (s == DP_OK) s = dp_volume_meta_set_str(img, "BatchHash", hex);
  if (s == DP_OK) s = make_parents(o->outroot, it->output);
  if (s == DP_OK && it->label_output) s = make_parents(o->outroot, it->label_output);
  if (s == DP_OK) s = dp_cli_write_volume(img, img_path, 1, c->threads, o->fsync);
  if (s == DP_OK && lab) {
    const char *steps = dp_volume_meta_get(img, "PrepSteps", NULL);
    if (steps) s = dp_volume_meta_set_json(lab, "PrepSteps", steps);
    if (s == DP_OK) s = dp_volume_meta_set_str(lab, "BatchHash", hex);
    if (s == DP_OK) s = dp_cli_write_volume(lab, lab_path, 1, c->threads, o->fsync);
    if (s != DP_OK) dp_cli_remove_volume(img_path); /* never an image without its label */
  }
  dp_volume_free(img);
  dp_volume_free(lab);
  if (s != DP_OK) {
    const char *e = dp_last_error();
    snprintf(msg, msgsize, "%s", e && *e ? e : dp_status_str(s));
    return 'F';
  }
  return 'W';
}

/* ---- leftovers of killed runs ------------------------------------------- */

/* Removes ".NAME.XXXXXX.tmp" files (the atomic writer's temporaries) of one
 * output path: only a killed writer leaves them. */
static void remove_temps_of(const char *path) {
  char dir[4400];
  snprintf(dir, sizeof dir, "%s", path);
  char *slash = strrchr(dir, '/');
  const char *base = slash ? path + (slash - dir) + 1 : path;
  if (slash) *slash = '\0';
  else snprintf(dir, sizeof dir, ".");
  char want[1100];
  int wn = snprintf(want, sizeof want, ".%s.", base);
  if (wn < 0 || (size_t)wn >= sizeof want) return;
  DIR *d = opendir(dir);
  if (!d) return;
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    size_t n = strlen(e->d_name);
    if (n == (size_t)wn + 10 && strncmp(e->d_name, want, (size_t)wn) == 0 &&
        strcmp(e->d_name + n - 4, ".tmp") == 0) {
      char full[4400];
      if (!join(full, sizeof full, dir, e->d_name)) unlink(full);
    }
  }
  closedir(d);
}

static void remove_item_temps(const batch_opts *o, const batch_item *it) {
  const char *rels[2] = {it->output, it->label_output};
  for (int r = 0; r < 2; r++) {
    if (!rels[r]) continue;
    char p[4400], side[4400];
    if (join(p, sizeof p, o->outroot, rels[r])) continue;
    remove_temps_of(p);
    if (dp_sidecar_path(p, side, sizeof side) == DP_OK) remove_temps_of(side);
  }
}

/* ---- the run ------------------------------------------------------------- */

static volatile sig_atomic_t stop_signal;
static void on_signal(int sig) { stop_signal = sig; }

typedef struct {
  pid_t pid;
  int fd;
  int item;
  double start;
} slot;

static double now_s(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static void fmt_duration(char *out, size_t size, double s) {
  if (s < 0) s = 0;
  long t = (long)(s + 0.5);
  if (t >= 3600) snprintf(out, size, "%ldh%02ldm", t / 3600, (t / 60) % 60);
  else if (t >= 60) snprintf(out, size, "%ldm%02lds", t / 60, t % 60);
  else snprintf(out, size, "%lds", t);
}

typedef struct {
  int total, done, written, skipped, failed;
  double t0, busy_done; /* start, and items finished with work (not skipped) */
  int tty;
} progress;

static void draw(const progress *p, int running) {
  if (!p->tty) return;
  char eta[32] = "--";
  double el = now_s() - p->t0;
  if (p->written + p->failed > 0 && p->done < p->total) {
    double rate = (double)(p->written + p->failed) / el; /* items per second, all jobs */
    fmt_duration(eta, sizeof eta, (double)(p->total - p->done) / rate);
  } else if (p->done == p->total) {
    snprintf(eta, sizeof eta, "0s");
  }
  int width = 24, fill = p->total ? (int)((long)width * p->done / p->total) : width;
  char bar[32];
  for (int i = 0; i < width; i++) bar[i] = i < fill ? '#' : '.';
  bar[width] = '\0';
  char el_s[32];
  fmt_duration(el_s, sizeof el_s, el);
  fprintf(stderr, "\r\033[K[%s] %d/%d  written %d  up to date %d  failed %d  running %d  %s  ETA %s", bar,
          p->done, p->total, p->written, p->skipped, p->failed, running, el_s, eta);
  fflush(stderr);
}

static void log_line(FILE *log, const char *event, const batch_item *it, const char *status, double secs,
                     const char *error, const char *warn, const batch_opts *o) {
  if (!log) return;
  dp__json j;
  dp__json_init(&j, 0);
  dp__json_begin_object(&j, NULL);
  char ts[32];
  time_t t = time(NULL);
  struct tm tm;
  gmtime_r(&t, &tm);
  strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%SZ", &tm);
  dp__json_str(&j, "time", ts);
  dp__json_str(&j, "event", event);
  if (o->shard_n) {
    char sh[32];
    snprintf(sh, sizeof sh, "%d/%d", o->shard_k, o->shard_n);
    dp__json_str(&j, "shard", sh);
  }
  if (it) {
    dp__json_int(&j, "item", it->index + 1);
    dp__json_str(&j, "input", it->input);
    if (it->series) dp__json_str(&j, "series", it->series);
    if (it->label) dp__json_str(&j, "label", it->label);
    dp__json_str(&j, "output", it->output);
    if (it->label_output) dp__json_str(&j, "label_output", it->label_output);
    dp__json_str(&j, "status", status);
    dp__json_num(&j, "seconds", secs);
    if (error) dp__json_str(&j, "error", error);
    if (warn && *warn) {
      dp__json_begin_array(&j, "warnings");
      char *w = strdup(warn);
      for (char *line = w, *next; line && *line; line = next) {
        next = strchr(line, '\n');
        if (next) *next++ = '\0';
        dp__json_str(&j, NULL, line);
      }
      free(w);
      dp__json_end_array(&j);
    }
  }
  dp__json_end_object(&j);
  char *text = NULL;
  size_t n = 0;
  if (dp__json_finish(&j, &text, &n) == DP_OK) {
    fwrite(text, 1, n, log);
    fflush(log);
  }
  free(text);
}

static void log_summary(FILE *log, const progress *p, const char *state, double secs, const batch_opts *o) {
  if (!log) return;
  fprintf(log, "{\"event\":\"summary\",\"state\":\"%s\",", state);
  if (o->shard_n) fprintf(log, "\"shard\":\"%d/%d\",", o->shard_k, o->shard_n);
  fprintf(log, "\"items\":%d,\"done\":%d,\"written\":%d,\"up_to_date\":%d,\"failed\":%d,\"seconds\":%.3f}\n",
          p->total, p->done, p->written, p->skipped, p->failed, secs);
  fflush(log);
}

/* The item's warnings (gantry tilt resliced, uneven spacing, ...), kept for
 * the log: printed, they would break the progress bar. */
static char warnings[1536];
static void keep_warning(dp_log_level level, const char *msg, void *user) {
  (void)user;
  if (level < DP_LOG_WARN) return;
  size_t n = strlen(warnings);
  if (n + 2 < sizeof warnings) snprintf(warnings + n, sizeof warnings - n, "%s%s", n ? "\n" : "", msg);
}

/* In the child: runs the item, sends "W", "S" or "F<message>", then "\x1e"
 * and its warnings, up the pipe (one write, under PIPE_BUF). */
static void child(const run_ctx *c, const batch_item *it, int fd, pid_t parent) {
  prctl(PR_SET_PDEATHSIG, SIGKILL); /* the batch was killed: so is the item */
  if (getppid() != parent) _exit(3);
  signal(SIGINT, SIG_DFL);
  signal(SIGTERM, SIG_DFL);
  dp_set_log_callback(keep_warning, NULL);
  char msg[2048] = "";
  char r = run_item(c, it, msg, sizeof msg);
  char out[3700];
  int n = snprintf(out, sizeof out, "%c%.2000s\x1e%s", r, msg, warnings);
  if (n > (int)sizeof out - 1) n = (int)sizeof out - 1;
  ssize_t w = write(fd, out, (size_t)n);
  (void)w;
  _exit(0);
}

static int run(int argc, char **argv) {
  batch_opts o;
  memset(&o, 0, sizeof o);
  if (dp_pipeline_new(&o.pipe) != DP_OK) return dp_cli_fail("out of memory");
  int rc = parse(argc, argv, &o);
  if (rc) {
    dp_pipeline_free(o.pipe);
    return rc < 0 ? DP_EXIT_OK : rc;
  }
  long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
  if (ncpu < 1) ncpu = 1;
  run_ctx ctx = {&o, o.gz ? ".nii.gz" : ".nii", o.threads ? o.threads : (int)(ncpu / o.jobs > 0 ? ncpu / o.jobs : 1)};
  if (mkdir(o.outroot, 0777) != 0 && errno != EEXIST) {
    dp_pipeline_free(o.pipe);
    return dp_cli_fail("cannot create output folder %s: %s", o.outroot, strerror(errno));
  }
  struct stat st;
  if (stat(o.outroot, &st) != 0 || !S_ISDIR(st.st_mode)) {
    dp_pipeline_free(o.pipe);
    return dp_cli_fail("%s is not a folder", o.outroot);
  }
  batch_plan plan;
  memset(&plan, 0, sizeof plan);
  rc = o.manifest ? batch_plan_manifest(&plan, o.manifest, ctx.ext)
                  : batch_plan_inputs(&plan, argc - optind, argv + optind, ctx.ext, ctx.threads);
  /* this shard's items */
  int *mine = rc ? NULL : malloc((size_t)(plan.n ? plan.n : 1) * sizeof *mine);
  int nmine = 0;
  if (!rc && !mine) rc = dp_cli_fail("out of memory");
  for (int i = 0; !rc && i < plan.n; i++)
    if (!o.shard_n || i % o.shard_n == o.shard_k - 1) mine[nmine++] = i;
  if (!rc && o.dry_run) {
    for (int k = 0; k < nmine; k++) {
      const batch_item *it = &plan.items[mine[k]];
      printf("%d\t%s%s%s\t%s%s%s%s%s\n", it->index + 1, it->input, it->series ? " series " : "",
             it->series ? it->series : "", it->output, it->label_output ? "\t" : "",
             it->label_output ? it->label_output : "", it->error ? "\terror: " : "", it->error ? it->error : "");
    }
    free(mine);
    batch_plan_free(&plan);
    dp_pipeline_free(o.pipe);
    return DP_EXIT_OK;
  }
  FILE *log = NULL;
  char log_default[4400];
  if (!rc) {
    const char *lp = o.log_path;
    if (!lp) {
      if (o.shard_n)
        snprintf(log_default, sizeof log_default, "%s/batch-log-%d-of-%d.jsonl", o.outroot, o.shard_k, o.shard_n);
      else
        snprintf(log_default, sizeof log_default, "%s/batch-log.jsonl", o.outroot);
      lp = log_default;
    }
    log = fopen(lp, "a");
    if (!log) rc = dp_cli_fail("%s: cannot open the log: %s", lp, strerror(errno));
  }
  if (rc) {
    free(mine);
    batch_plan_free(&plan);
    dp_pipeline_free(o.pipe);
    return rc;
  }
  for (int k = 0; k < nmine; k++) remove_item_temps(&o, &plan.items[mine[k]]);

  struct sigaction sa, old_int, old_term;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal; /* no SA_RESTART: waitpid returns */
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, &old_int);
  sigaction(SIGTERM, &sa, &old_term);

  progress pg = {nmine, 0, 0, 0, 0, now_s(), 0, isatty(2) && !o.quiet};
  log_line(log, "start", NULL, NULL, 0, NULL, NULL, &o);
  slot *slots = calloc((size_t)o.jobs, sizeof *slots);
  int running = 0, next = 0;
  pid_t self = getpid();
  fflush(stdout);
  fflush(stderr);
  while (slots && (next < nmine || running)) {
    while (!stop_signal && running < o.jobs && next < nmine) {
      int fds[2];
      if (pipe(fds) != 0) {
        stop_signal = -1;
        dp_cli_fail("cannot create a pipe: %s", strerror(errno));
        break;
      }
      const batch_item *it = &plan.items[mine[next]];
      pid_t pid = fork();
      if (pid == 0) {
        close(fds[0]);
        child(&ctx, it, fds[1], self);
      }
      close(fds[1]);
      if (pid < 0) {
        close(fds[0]);
        stop_signal = -1;
        dp_cli_fail("cannot start a process: %s", strerror(errno));
        break;
      }
      int s = 0;
      while (slots[s].pid) s++;
      slots[s] = (slot){pid, fds[0], mine[next], now_s()};
      running++;
      next++;
    }
    draw(&pg, running);
    if (!running) break;
    int status = 0;
    pid_t pid = waitpid(-1, &status, 0);
    if (pid < 0) {
      if (errno == EINTR) {
        if (stop_signal)
          for (int s = 0; s < o.jobs; s++)
            if (slots[s].pid) kill(slots[s].pid, SIGTERM);
        continue;
      }
      break;
    }
    int s = 0;
    while (s < o.jobs && slots[s].pid != pid) s++;
    if (s == o.jobs) continue;
    char buf[4096];
    ssize_t n = read(slots[s].fd, buf, sizeof buf - 1);
    close(slots[s].fd);
    buf[n > 0 ? n : 0] = '\0';
    char *warn = strchr(buf, '\x1e');
    if (warn) *warn++ = '\0';
    const batch_item *it = &plan.items[slots[s].item];
    double secs = now_s() - slots[s].start;
    char why[2200];
    const char *result = "failed";
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0 && n > 0 && (buf[0] == 'W' || buf[0] == 'S')) {
      result = buf[0] == 'W' ? "written" : "up-to-date";
      why[0] = '\0';
    } else if (WIFEXITED(status) && WEXITSTATUS(status) == 0 && n > 0 && buf[0] == 'F') {
      snprintf(why, sizeof why, "%.2100s", buf + 1);
    } else if (WIFSIGNALED(status)) {
      snprintf(why, sizeof why, stop_signal ? "stopped (batch interrupted)" : "the item's process died of signal %d",
               WTERMSIG(status));
      remove_item_temps(&o, it);
    } else {
      snprintf(why, sizeof why, "the item's process ended without a result (status %d)", status);
      remove_item_temps(&o, it);
    }
    int interrupted = stop_signal && WIFSIGNALED(status);
    if (!interrupted) {
      pg.done++;
      if (result[0] == 'w') pg.written++;
      else if (result[0] == 'u') pg.skipped++;
      else pg.failed++;
    }
    log_line(log, "item", it, interrupted ? "interrupted" : result, secs, why[0] ? why : NULL, warn, &o);
    if (!interrupted && result[0] == 'f') {
      if (pg.tty) fputs("\r\033[K", stderr);
      fprintf(stderr, "dcmprep: item %d (%s): %s\n", it->index + 1, it->input, why);
    }
    slots[s].pid = 0;
    running--;
  }
  double total = now_s() - pg.t0;
  const char *state = stop_signal ? "interrupted" : "finished";
  log_summary(log, &pg, state, total, &o);
  if (pg.tty) {
    draw(&pg, 0);
    fputc('\n', stderr);
  }
  if (!o.quiet) {
    char d[32];
    fmt_duration(d, sizeof d, total);
    fprintf(stderr, "dcmprep: batch %s: %d item(s): %d written, %d up to date, %d failed, %d not run (%s)\n", state,
            nmine, pg.written, pg.skipped, pg.failed, nmine - pg.done, d);
  }
  sigaction(SIGINT, &old_int, NULL);
  sigaction(SIGTERM, &old_term, NULL);
  int sig = stop_signal;
  free(slots);
  fclose(log);
  free(mine);
  batch_plan_free(&plan);
  dp_pipeline_free(o.pipe);
  if (sig > 0) return 128 + sig;
  if (sig < 0 || pg.failed) return DP_EXIT_ERROR;
  return DP_EXIT_OK;
}

const dp_cli_command dp_cli_batch = {"batch", "one pipeline over many inputs or a manifest: resumable, sharded",
                                     NULL, run, print_help};
