/* Command-line parsing of dcmprep-synth. */
#define _POSIX_C_SOURCE 200809L
#include "options.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char synth_usage[] =
    "usage: dcmprep-synth [options] -o OUTDIR [--truth FILE.json]\n"
    "Writes a CT- or MR-like DICOM series of an analytic phantom whose value is a\n"
    "known function of the patient position (DICOM LPS, mm): one file per slice,\n"
    "or one enhanced multi-frame file.\n"
    "\n"
    "Phantoms (x, y, z in LPS mm; +x = patient LEFT, +y = posterior, +z = head):\n"
    "  ramp  v = 100 + 2x + 3y + 5z everywhere (linear: interpolation is exact;\n"
    "        choose --rescale so the values fit the stored range).\n"
    "  body  E(a,b) = (x/a)^2 + (y/b)^2, first match wins:\n"
    "          E(120,90) >= 1                    air     CT -1000  MR 0\n"
    "          (x-60)^2 + y^2 + z^2 < 20^2       marker  CT  1000  MR 1000\n"
    "            (a sphere on the patient's LEFT: left/right flips show)\n"
    "          E(110,80) >= 1                    bone    CT   700  MR 100\n"
    "            (a rim 10 mm thick along the axes)\n"
    "          otherwise                         tissue  CT 40 + 0.5z  MR 400 + 0.5z\n"
    "            (the z ramp makes head/foot flips show)\n"
    "\n"
    "Geometry:\n"
    "  --rows N --cols N          image size (64 x 64)\n"
    "  --pixel-spacing ROW,COL    mm between rows, between columns (1,1)\n"
    "  --slices N                 number of slices (32)\n"
    "  --slice-spacing MM         step between slices along the stack (2)\n"
    "  --thickness MM             SliceThickness (the slice spacing)\n"
    "  --iop R1,R2,R3,C1,C2,C3    ImageOrientationPatient (1,0,0,0,1,0); R is the\n"
    "                             direction along a row (increasing column index)\n"
    "  --orientation axial|coronal|sagittal\n"
    "                             1,0,0,0,1,0 | 1,0,0,0,0,-1 | 0,1,0,0,0,-1\n"
    "  --center X,Y,Z             LPS mm of the volume centre (0,0,0)\n"
    "  --tilt DEG                 gantry tilt: the column direction C is rotated\n"
    "                             about R by DEG (axial: IOP 1\\0\\0\\0\\cos\\-sin),\n"
    "                             slices still advance along the untilted normal\n"
    "                             (the table axis); writes GantryDetectorTilt\n"
    "  --uneven A,B,...           steps between consecutive slices (mm) instead of\n"
    "                             the slice spacing; the last one repeats\n"
    "  --drop I,J,...             slice indices (0-based) not written\n"
    "Pixels:\n"
    "  --modality CT|MR           CT (CT Image Storage) or MR (MR Image Storage)\n"
    "  --phantom body|ramp        (body)\n"
    "  --rescale SLOPE,INTERCEPT  (CT 1,-1024; MR 1,0); stored value =\n"
    "                             round((v - INTERCEPT) / SLOPE), clamped\n"
    "  --signed | --unsigned      PixelRepresentation (CT signed, MR unsigned)\n"
    "  --bits-stored N            2..16 (16); values beyond the range are clamped\n"
    "                             and counted in the truth file\n"
    "  --monochrome1              PhotometricInterpretation MONOCHROME1 (display\n"
    "                             only: stored values are unchanged)\n"
    "Files:\n"
    "  -o, --output OUTDIR        output folder (created)\n"
    "  --ts NAME                  explicit (default), implicit, big, deflate, rle,\n"
    "                             jpeg-lossless (process 14), jpeg-lossless-sv1,\n"
    "                             jpeg-ls (lossless)\n"
    "  --enhanced                 one Enhanced CT/MR Image Storage multi-frame file\n"
    "  --shuffle SEED             random file names, write order (and frame order)\n"
    "  --instance-order natural|reverse|random\n"
    "                             InstanceNumber along the stack (natural: k + 1)\n"
    "  --series-uid UID --study-uid UID --series-number N\n"
    "                             (UIDs default to 2.25.<hash of the options>.n)\n"
    "  --tag KEYWORD=VALUE        set any attribute (keyword, (gggg,eeee) or DCMTK\n"
    "                             path), applied last; repeatable\n"
    "  --truth FILE.json          write the truth: options, geometry, per-slice\n"
    "                             file/instance/position and the ijk_to_ras (RAS)\n"
    "                             affine of the volume a correct loader builds\n"
    "Labels (analytic shapes, in the series' own frame: u along rows, v along\n"
    "columns, w along the image normal, mm from --center):\n"
    "  --rtstruct FILE            also write an RT Structure Set: one ROI per shape,\n"
    "                             its exact cross-sections on every written slice\n"
    "  --seg FILE                 also write a DICOM SEG: one segment per shape,\n"
    "                             a frame per slice where the shape is present\n"
    "  --shape [NAME=]KIND[:P,...] repeatable (default: sphere, torus, nested):\n"
    "                             sphere:U,V,W,R  torus:U,V,W,RMAJOR,RMINOR (axis\n"
    "                             along w: annuli, a hole)  nested:U,V,W,OUTER,HOLE,\n"
    "                             ISLAND,HALF (square ring with a round island,\n"
    "                             |w| < HALF); KIND alone: sizes from the field of view\n"
    "  --contour-points N         points per circle (128)\n"
    "  --seg-factor F             SEG pixels F x F image pixels (1: the image grid)\n"
    "  --seg-fractional           FRACTIONAL SEG (8 bits, coverage of 15 x 15 samples)\n"
    "  --seg-ts NAME              explicit (default), implicit, big, deflate\n"
    "  -h, --help                 this help\n"
    "Exit status: 0 ok, 1 error, 2 usage.\n";

static int usage_error(const char *fmt, ...) {
  va_list ap;
  fputs("dcmprep-synth: ", stderr);
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fputs(" (see --help)\n", stderr);
  return 2;
}

static int parse_num(const char *s, double *v) {
  char *end;
  errno = 0;
  *v = strtod(s, &end);
  return end != s && *end == '\0' && errno == 0 && isfinite(*v);
}

static int parse_int(const char *s, long lo, long hi, int *v) {
  char *end;
  errno = 0;
  long x = strtol(s, &end, 10);
  if (end == s || *end || errno || x < lo || x > hi) return 0;
  *v = (int)x;
  return 1;
}

/* Comma-separated numbers into a malloc'ed array; returns the count or -1. */
static int parse_list(const char *s, double **out) {
  int n = 1;
  for (const char *p = s; *p; p++) n += *p == ',';
  double *v = malloc((size_t)n * sizeof *v);
  char *copy = strdup(s);
  if (!v || !copy) goto bad;
  char *save = NULL, *tok = copy;
  for (int i = 0; i < n; i++, tok = NULL) {
    char *t = strtok_r(tok, ",", &save);
    if (!t || !parse_num(t, &v[i])) goto bad;
  }
  if (s[0] == ',' || s[strlen(s) - 1] == ',' || strstr(s, ",,")) goto bad;
  free(copy);
  *out = v;
  return n;
bad:
  free(v);
  free(copy);
  return -1;
}

static int parse_fixed(const char *s, double *v, int n) {
  double *tmp = NULL;
  int got = parse_list(s, &tmp);
  if (got == n) memcpy(v, tmp, (size_t)n * sizeof *v);
  free(tmp);
  return got == n;
}

static const char *ts_uid(const char *name) {
  static const char *const map[][2] = {
      {"implicit", "1.2.840.10008.1.2"}, {"explicit", "1.2.840.10008.1.2.1"},
      {"big", "1.2.840.10008.1.2.2"}, {"deflate", "1.2.840.10008.1.2.1.99"},
      {"rle", "1.2.840.10008.1.2.5"}, {"jpeg-lossless", "1.2.840.10008.1.2.4.57"},
      {"jpeg-lossless-sv1", "1.2.840.10008.1.2.4.70"}, {"jpeg-ls", "1.2.840.10008.1.2.4.80"}};
  for (size_t i = 0; i < sizeof map / sizeof *map; i++)
    if (strcmp(name, map[i][0]) == 0) return map[i][1];
  return NULL;
}

static int set_orientation(const char *name, double *iop) {
  static const struct { const char *name; double iop[6]; } map[] = {
      {"axial", {1, 0, 0, 0, 1, 0}}, {"coronal", {1, 0, 0, 0, 0, -1}}, {"sagittal", {0, 1, 0, 0, 0, -1}}};
  for (size_t i = 0; i < sizeof map / sizeof *map; i++)
    if (strcmp(name, map[i].name) == 0) {
      memcpy(iop, map[i].iop, sizeof map[i].iop);
      return 1;
    }
  return 0;
}

static void defaults(synth_opts *o) {
  memset(o, 0, sizeof *o);
  o->phantom = PHANTOM_BODY;
  o->rows = o->cols = 64;
  o->slices = 32;
  o->ps[0] = o->ps[1] = 1;
  o->step = 2;
  o->iop[0] = o->iop[4] = 1;
  o->bits_stored = 16;
  o->series_number = 1;
  o->ts_name = "explicit";
  o->ts_uid = ts_uid("explicit");
  o->contour_points = 128;
  o->seg_factor = 1;
  o->seg_ts = ts_uid("explicit");
}

enum { MAX_DIM = 4096, MAX_SLICES = 10000 };

/* Checks that need every option. */
static int validate(synth_opts *o, int sign_set, int rescale_set, int thickness_set) {
  if (!o->out) return usage_error("no output folder (-o OUTDIR)");
  if (!sign_set) o->is_signed = !o->mr;
  if (!rescale_set) {
    o->slope = 1;
    o->inter = o->mr ? 0 : -1024;
  }
  if (!thickness_set) o->thickness = o->step;
  if (o->ngaps > o->slices - 1 && o->slices > 1)
    return usage_error("--uneven: %d steps given for %d slices", o->ngaps, o->slices);
  for (int i = 0; i < o->ndrops; i++)
    if (o->drops[i] < 0 || o->drops[i] >= o->slices)
      return usage_error("--drop: slice %d is not in 0..%d", o->drops[i], o->slices - 1);
  int kept = o->slices;
  for (int k = 0; k < o->slices; k++)
    for (int i = 0; i < o->ndrops; i++)
      if (o->drops[i] == k) { kept--; break; }
  if (kept < 1) return usage_error("--drop leaves no slice");
  if ((double)o->rows * o->cols * kept * 2 > 2147483647.0)
    return usage_error("%d x %d x %d pixels is too many", o->rows, o->cols, kept);
  return 0;
}

static int parse_one(int c, const char *arg, synth_opts *o, int *sign_set, int *rescale_set,
                     int *thickness_set) {
  double v[2], *list = NULL;
  int n;
  switch (c) {
    case 'm':
      if (strcmp(arg, "CT") && strcmp(arg, "MR")) return usage_error("--modality: '%s' is not CT or MR", arg);
      o->mr = strcmp(arg, "MR") == 0;
      return 0;
    case 'p':
      if (!strcmp(arg, "body")) o->phantom = PHANTOM_BODY;
      else if (!strcmp(arg, "ramp")) o->phantom = PHANTOM_RAMP;
      else return usage_error("--phantom: '%s' is not body or ramp", arg);
      return 0;
    case 'r': return parse_int(arg, 1, MAX_DIM, &o->rows) ? 0 : usage_error("--rows: '%s' is not in 1..%d", arg, MAX_DIM);
    case 'c': return parse_int(arg, 1, MAX_DIM, &o->cols) ? 0 : usage_error("--cols: '%s' is not in 1..%d", arg, MAX_DIM);
    case 'n': return parse_int(arg, 1, MAX_SLICES, &o->slices) ? 0 : usage_error("--slices: '%s' is not in 1..%d", arg, MAX_SLICES);
    case 'P':
      if (!parse_fixed(arg, o->ps, 2) || o->ps[0] <= 0 || o->ps[1] <= 0)
        return usage_error("--pixel-spacing: '%s' is not ROW,COL (mm > 0)", arg);
      return 0;
    case 's':
      if (!parse_num(arg, &o->step) || o->step <= 0) return usage_error("--slice-spacing: '%s' is not > 0", arg);
      return 0;
    case 'T':
      *thickness_set = 1;
      if (!parse_num(arg, &o->thickness) || o->thickness <= 0) return usage_error("--thickness: '%s' is not > 0", arg);
      return 0;
    case 'O':
      return set_orientation(arg, o->iop) ? 0 : usage_error("--orientation: '%s' is not axial, coronal or sagittal", arg);
    case 'I': return parse_fixed(arg, o->iop, 6) ? 0 : usage_error("--iop: '%s' is not six numbers", arg);
    case 'C':
      if (!parse_fixed(arg, o->center, 3) || fabs(o->center[0]) > 1e5 || fabs(o->center[1]) > 1e5 ||
          fabs(o->center[2]) > 1e5)
        return usage_error("--center: '%s' is not X,Y,Z (|mm| <= 100000)", arg);
      return 0;
    case 't':
      if (!parse_num(arg, &o->tilt) || fabs(o->tilt) >= 60) return usage_error("--tilt: '%s' is not in (-60, 60) degrees", arg);
      return 0;
    case 'u':
      free(o->gaps);
      o->gaps = NULL;
      if ((o->ngaps = parse_list(arg, &o->gaps)) < 1) return usage_error("--uneven: '%s' is not a list of mm", arg);
      for (int i = 0; i < o->ngaps; i++)
        if (o->gaps[i] <= 0) return usage_error("--uneven: steps must be > 0 mm");
      return 0;
    case 'd':
      if ((n = parse_list(arg, &list)) < 1) return usage_error("--drop: '%s' is not a list of indices", arg);
      free(o->drops);
      o->drops = malloc((size_t)n * sizeof *o->drops);
      if (!o->drops) { free(list); return usage_error("out of memory"); }
      for (int i = 0; i < n; i++) {
        if (list[i] != floor(list[i]) || fabs(list[i]) > MAX_SLICES) {
          free(list);
          return usage_error("--drop: '%s' is not a list of indices", arg);
        }
        o->drops[i] = (int)list[i];
      }
      o->ndrops = n;
      free(list);
      return 0;
    case 'R':
      if (!parse_fixed(arg, v, 2) || v[0] == 0) return usage_error("--rescale: '%s' is not SLOPE,INTERCEPT (SLOPE != 0)", arg);
      o->slope = v[0];
      o->inter = v[1];
      *rescale_set = 1;
      return 0;
    case 'S': o->is_signed = 1; *sign_set = 1; return 0;
    case 'U': o->is_signed = 0; *sign_set = 1; return 0;
    case 'b': return parse_int(arg, 2, 16, &o->bits_stored) ? 0 : usage_error("--bits-stored: '%s' is not in 2..16", arg);
    case '1': o->mono1 = 1; return 0;
    case 'x': {
      char *end;
      errno = 0;
      o->seed = strtoull(arg, &end, 0);
      if (end == arg || *end || errno) return usage_error("--shuffle: '%s' is not a number", arg);
      o->shuffle = 1;
      return 0;
    }
    case 'Q':
      if (!strcmp(arg, "natural")) o->order = ORDER_NATURAL;
      else if (!strcmp(arg, "reverse")) o->order = ORDER_REVERSE;
      else if (!strcmp(arg, "random")) o->order = ORDER_RANDOM;
      else return usage_error("--instance-order: '%s' is not natural, reverse or random", arg);
      return 0;
    case 'e': o->enhanced = 1; return 0;
    case 'X':
      if (!(o->ts_uid = ts_uid(arg))) return usage_error("--ts: unknown transfer syntax '%s'", arg);
      o->ts_name = arg;
      return 0;
    case 'A': o->series_uid = arg; return 0;
    case 'B': o->study_uid = arg; return 0;
    case 'N': return parse_int(arg, 0, 2147483647L, &o->series_number) ? 0 : usage_error("--series-number: '%s' is not a number", arg);
    case 'g': {
      const char *eq = strchr(arg, '=');
      if (!eq || eq == arg) return usage_error("--tag: '%s' is not KEYWORD=VALUE", arg);
      const char **t = realloc(o->tags, (size_t)(o->ntags + 1) * sizeof *t);
      if (!t) return usage_error("out of memory");
      o->tags = t;
      o->tags[o->ntags++] = arg;
      return 0;
    }
    case 'J': o->truth = arg; return 0;
    case 1001: o->rtstruct = arg; return 0;
    case 1002: o->seg = arg; return 0;
    case 1003: {
      const char **t = realloc(o->shapes, (size_t)(o->nshapes + 1) * sizeof *t);
      if (!t) return usage_error("out of memory");
      o->shapes = t;
      o->shapes[o->nshapes++] = arg;
      return 0;
    }
    case 1004: return parse_int(arg, 3, 100000, &o->contour_points) ? 0 : usage_error("--contour-points: '%s' is not in 3..100000", arg);
    case 1005: return parse_int(arg, 1, 64, &o->seg_factor) ? 0 : usage_error("--seg-factor: '%s' is not in 1..64", arg);
    case 1006: o->seg_fractional = 1; return 0;
    case 1007:
      if (strcmp(arg, "explicit") && strcmp(arg, "implicit") && strcmp(arg, "big") && strcmp(arg, "deflate"))
        return usage_error("--seg-ts: '%s' is not explicit, implicit, big or deflate", arg);
      o->seg_ts = ts_uid(arg);
      return 0;
    case 'o': o->out = arg; return 0;
    default: return 2;
  }
}

int synth_parse(int argc, char **argv, synth_opts *o) {
  static const struct option lo[] = {
      {"modality", 1, 0, 'm'}, {"phantom", 1, 0, 'p'}, {"rows", 1, 0, 'r'}, {"cols", 1, 0, 'c'},
      {"pixel-spacing", 1, 0, 'P'}, {"slices", 1, 0, 'n'}, {"slice-spacing", 1, 0, 's'},
      {"thickness", 1, 0, 'T'}, {"orientation", 1, 0, 'O'}, {"iop", 1, 0, 'I'},
      {"center", 1, 0, 'C'}, {"tilt", 1, 0, 't'}, {"uneven", 1, 0, 'u'}, {"drop", 1, 0, 'd'},
      {"rescale", 1, 0, 'R'}, {"signed", 0, 0, 'S'}, {"unsigned", 0, 0, 'U'},
      {"bits-stored", 1, 0, 'b'}, {"monochrome1", 0, 0, '1'}, {"shuffle", 1, 0, 'x'},
      {"instance-order", 1, 0, 'Q'}, {"enhanced", 0, 0, 'e'}, {"ts", 1, 0, 'X'},
      {"series-uid", 1, 0, 'A'}, {"series-number", 1, 0, 'N'}, {"study-uid", 1, 0, 'B'},
      {"tag", 1, 0, 'g'}, {"truth", 1, 0, 'J'}, {"output", 1, 0, 'o'}, {"help", 0, 0, 'h'},
      {"rtstruct", 1, 0, 1001}, {"seg", 1, 0, 1002}, {"shape", 1, 0, 1003}, {"contour-points", 1, 0, 1004},
      {"seg-factor", 1, 0, 1005}, {"seg-fractional", 0, 0, 1006}, {"seg-ts", 1, 0, 1007},
      {0, 0, 0, 0}};
  int c, sign_set = 0, rescale_set = 0, thickness_set = 0;
  defaults(o);
  opterr = 0;
  while ((c = getopt_long(argc, argv, ":o:h", lo, NULL)) != -1) {
    if (c == 'h') {
      fputs(synth_usage, stdout);
      return -1;
    }
    if (c == '?') return usage_error("unknown option '%s'", argv[optind - 1]);
    if (c == ':') return usage_error("option '%s' needs a value", argv[optind - 1]);
    int r = parse_one(c, optarg, o, &sign_set, &rescale_set, &thickness_set);
    if (r) return r;
  }
  if (optind < argc) return usage_error("unexpected argument '%s'", argv[optind]);
  return validate(o, sign_set, rescale_set, thickness_set);
}

void synth_opts_free(synth_opts *o) {
  free(o->gaps);
  free(o->drops);
  free(o->tags);
  free(o->shapes);
  o->shapes = NULL;
  o->gaps = NULL;
  o->drops = NULL;
  o->tags = NULL;
}
