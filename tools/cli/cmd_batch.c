#define _GNU_SOURCE /* prctl's PR_SET_PDEATHSIG */
/* dcmprep batch: one pipeline over many inputs.  Each item runs in its own
 * child process (a crash or a kill takes one item down, never the batch);
 * outputs are written atomically and carry a content hash of what made them,
 * so a rerun skips what is up to date and finishes the rest. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
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
    "label (a label moved in lockstep: a NIfTI, an RTSTRUCT or SEG file or\n"
    "folder drawn on the image's grid, or auto: the one in the input folder\n"
    "labelling the series), label_output (default NAME_label), series (the\n"
    "DICOM series number when the input has several).\n"
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
    "  --label auto          DICOM INPUTs: each series that an RTSTRUCT or SEG of\n"
    "                        its folder labels gets NAME_label (with its label map)\n"
    DP_CLI_LABEL_HELP
    "  -j, --jobs N          items run at once (default 1)\n"
    "  --threads N           threads per item (default: cores / jobs)\n"
    "  --shard K/N           only items K, K+N, K+2N, ... (1-based) of the plan:\n"
    "                        N machines with K = 1..N together do everything once\n"
    "  --log FILE            status log (default OUTROOT/batch-log.jsonl, or\n"
    "                        OUTROOT/batch-log-K-of-N.jsonl with --shard)\n"
    "  --no-gz               write .nii instead of .nii.gz\n"
    "  --force               redo items even when their outputs are up to date\n"
    "  --dry-run             print the plan (item, input, output) and stop\n"
    "  --json                with --dry-run: the plan as JSON Lines, one object\n"
    "                        per item (item, input, series, label, output,\n"
    "                        label_output, error: members present when set)\n"
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
  int jobs, threads, gz, force, dry_run, json, quiet, fsync;
  int shard_k, shard_n;
  dp_pipeline *pipe;
  int label_auto;           /* --label auto */
  dp_cli_label_opts labels; /* --roi, --contour-tolerance, --seg-threshold */
} batch_opts;

enum { OPT_MANIFEST = 900, OPT_PIPELINE, OPT_THREADS, OPT_SHARD, OPT_LOG, OPT_NO_GZ, OPT_FORCE,
       OPT_DRY_RUN, OPT_MAX_VOXELS, OPT_MAX_MEMORY, OPT_FSYNC, OPT_LABEL, OPT_LABEL_OPT, OPT_JSON };

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
      {"label", required_argument, NULL, OPT_LABEL},   {"roi", required_argument, NULL, OPT_LABEL_OPT},
      {"contour-tolerance", required_argument, NULL, OPT_LABEL_OPT},
      {"seg-threshold", required_argument, NULL, OPT_LABEL_OPT},
      {"json", no_argument, NULL, OPT_JSON},
      {"help", no_argument, NULL, 'h'},                {NULL, 0, NULL, 0}};
  int c, rc = 0, li = 0;
  o->labels = (dp_cli_label_opts)DP_CLI_LABEL_OPTS_INIT;
  long v;
  o->jobs = 1;
  o->gz = 1;
  while (rc == 0 && (c = getopt_long(argc, argv, "o:j:qh", lo, &li)) != -1) {
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
      case OPT_JSON: o->json = 1; break;
      case OPT_MAX_VOXELS: rc = dp_cli_take_limit(&dp_cli_batch, "max-voxels", optarg); break;
      case OPT_MAX_MEMORY: rc = dp_cli_take_limit(&dp_cli_batch, "max-memory", optarg); break;
      case OPT_FSYNC: o->fsync = 1; break;
      case OPT_LABEL:
        if (strcmp(optarg, "auto") != 0)
          rc = dp_cli_usage_error(&dp_cli_batch, "--label takes auto (name other labels in a manifest), not '%s'", optarg);
        o->label_auto = 1;
        break;
      case OPT_LABEL_OPT: dp_cli_take_label_option(&dp_cli_batch, lo[li].name, optarg, 0, &o->labels, &rc); break;
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
  if (o->json && !o->dry_run) return dp_cli_usage_error(&dp_cli_batch, "--json goes with --dry-run");
  return 0;
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

/* The item's plan: number, input, series, label, outputs. */
static void json_item(dp__json *j, const batch_item *it) {
  dp__json_int(j, "item", it->index + 1);
  dp__json_str(j, "input", it->input);
  if (it->series) dp__json_str(j, "series", it->series);
  if (it->label) dp__json_str(j, "label", it->label);
  dp__json_str(j, "output", it->output);
  if (it->label_output) dp__json_str(j, "label_output", it->label_output);
}

/* --dry-run --json: one line per item. */
static void print_plan_json(const batch_item *it) {
  dp__json j;
  dp__json_init(&j, 0);
  dp__json_begin_object(&j, NULL);
  json_item(&j, it);
  if (it->error) dp__json_str(&j, "error", it->error);
  dp__json_end_object(&j);
  char *text = NULL;
  size_t n = 0;
  if (dp__json_finish(&j, &text, &n) == DP_OK) {
    while (n > 0 && text[n - 1] == '\n') n--;
    printf("%.*s\n", (int)n, text);
  }
  free(text);
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
    json_item(&j, it);
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
static void child(const batch_run *c, const batch_item *it, int fd, pid_t parent) {
  prctl(PR_SET_PDEATHSIG, SIGKILL); /* the batch was killed: so is the item */
  if (getppid() != parent) _exit(3);
  signal(SIGINT, SIG_DFL);
  signal(SIGTERM, SIG_DFL);
  dp_set_log_callback(keep_warning, NULL);
  char msg[2048] = "";
  char r = batch_run_item(c, it, msg, sizeof msg);
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
  const char *ext = o.gz ? ".nii.gz" : ".nii";
  batch_run ctx = {o.outroot, o.pipe, o.threads ? o.threads : (int)(ncpu / o.jobs > 0 ? ncpu / o.jobs : 1),
                   o.force, o.fsync, o.labels};
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
  rc = o.manifest ? batch_plan_manifest(&plan, o.manifest, ext)
                  : batch_plan_inputs(&plan, argc - optind, argv + optind, ext, ctx.threads, o.label_auto);
  /* this shard's items */
  int *mine = rc ? NULL : malloc((size_t)(plan.n ? plan.n : 1) * sizeof *mine);
  int nmine = 0;
  if (!rc && !mine) rc = dp_cli_fail("out of memory");
  for (int i = 0; !rc && i < plan.n; i++)
    if (!o.shard_n || i % o.shard_n == o.shard_k - 1) mine[nmine++] = i;
  if (!rc && o.dry_run) {
    for (int k = 0; k < nmine; k++) {
      const batch_item *it = &plan.items[mine[k]];
      if (o.json) {
        print_plan_json(it);
        continue;
      }
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
  for (int k = 0; k < nmine; k++) batch_remove_item_temps(o.outroot, &plan.items[mine[k]]);

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
      batch_remove_item_temps(o.outroot, it);
    } else {
      snprintf(why, sizeof why, "the item's process ended without a result (status %d)", status);
      batch_remove_item_temps(o.outroot, it);
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
