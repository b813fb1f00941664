/* dcmprep-synth: writes a synthetic CT or MR DICOM series of an analytic
 * phantom with exactly known geometry (a test tool; not installed). */
#define _DEFAULT_SOURCE
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "dcmprep/dcmprep.h"
#include "dicom/dcmtk_bridge.h"
#include "phantom.h"

static const char usage[] =
    "usage: dcmprep-synth [options] -o OUTDIR\n"
    "Writes a DICOM series of an analytic phantom (value = known function of\n"
    "the LPS patient position in mm; see tools/synth/README.md).\n"
    "  --modality CT|MR          (CT)\n"
    "  --phantom body|ramp       (body)\n"
    "  --rows N --cols N         (64 x 64)\n"
    "  --pixel-spacing ROW,COL   mm between rows, between columns (1,1)\n"
    "  --slices N                (32)\n"
    "  --slice-spacing MM        step between slices (2)\n"
    "  --thickness MM            SliceThickness (= slice spacing)\n"
    "  --orientation axial|coronal|sagittal, or --iop r1,r2,r3,c1,c2,c3\n"
    "  --center X,Y,Z            LPS mm of the volume centre (0,0,0)\n"
    "  --tilt DEG                gantry tilt: image plane rotated about the row\n"
    "                            direction, slices still advance along the\n"
    "                            untilted normal (the table axis)\n"
    "  --uneven A,B,...          steps between consecutive slices (mm; the last\n"
    "                            repeats)\n"
    "  --drop I,J,...            slice indices (0-based) not written\n"
    "  --rescale SLOPE,INTERCEPT (CT 1,-1024; MR none)\n"
    "  --signed | --unsigned     PixelRepresentation (CT signed, MR unsigned)\n"
    "  --bits-stored N           (16; values are clamped to the stored range)\n"
    "  --monochrome1             PhotometricInterpretation MONOCHROME1\n"
    "  --shuffle SEED            random file names and write order\n"
    "  --enhanced                one enhanced multi-frame file\n"
    "  --ts implicit|explicit|big|deflate|rle|jpeg-lossless|jpeg-lossless-sv1|jpeg-ls\n"
    "  --series-uid UID --series-number N --study-uid UID\n"
    "  --tag KEYWORD=VALUE       set any attribute last (repeatable)\n"
    "  --truth FILE.json         write the geometry truth\n";

enum { MAX_SLICES = 4096, MAX_TAGS = 32 };

typedef struct {
  const char *out, *truth, *series_uid, *study_uid;
  int mr, rows, cols, slices, series_number, is_signed, bits_stored, mono1, enhanced;
  unsigned shuffle;
  phantom_kind phantom;
  double ps[2], step, thickness, iop[6], center[3], tilt, slope, inter;
  int has_rescale;
  double gaps[MAX_SLICES];
  int ngaps;
  char drop[MAX_SLICES];
  const char *ts;
  const char *tags[MAX_TAGS];
  int ntags;
} opts;

static int fail(const char *fmt, const char *a) {
  fprintf(stderr, "dcmprep-synth: ");
  fprintf(stderr, fmt, a);
  fprintf(stderr, "\n");
  return 1;
}

static int parse_list(const char *s, double *v, int max) {
  int n = 0;
  char *end;
  while (*s && n < max) {
    v[n++] = strtod(s, &end);
    if (end == s) return -1;
    s = *end == ',' ? end + 1 : end;
    if (*end && *end != ',') return -1;
  }
  return n;
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

static int parse(int argc, char **argv, opts *o) {
  static const struct option lo[] = {
      {"modality", 1, 0, 'm'}, {"phantom", 1, 0, 'p'}, {"rows", 1, 0, 'r'}, {"cols", 1, 0, 'c'},
      {"pixel-spacing", 1, 0, 'P'}, {"slices", 1, 0, 'n'}, {"slice-spacing", 1, 0, 's'},
      {"thickness", 1, 0, 'T'}, {"orientation", 1, 0, 'O'}, {"iop", 1, 0, 'I'},
      {"center", 1, 0, 'C'}, {"tilt", 1, 0, 't'}, {"uneven", 1, 0, 'u'}, {"drop", 1, 0, 'd'},
      {"rescale", 1, 0, 'R'}, {"signed", 0, 0, 'S'}, {"unsigned", 0, 0, 'U'},
      {"bits-stored", 1, 0, 'b'}, {"monochrome1", 0, 0, '1'}, {"shuffle", 1, 0, 'x'},
      {"enhanced", 0, 0, 'e'}, {"ts", 1, 0, 'X'}, {"series-uid", 1, 0, 'A'},
      {"series-number", 1, 0, 'N'}, {"study-uid", 1, 0, 'B'}, {"tag", 1, 0, 'g'},
      {"truth", 1, 0, 'J'}, {"output", 1, 0, 'o'}, {"help", 0, 0, 'h'}, {0, 0, 0, 0}};
  int c, sign_set = 0;
  double v[MAX_SLICES];
  while ((c = getopt_long(argc, argv, "o:h", lo, NULL)) != -1) {
    int n = 0;
    switch (c) {
      case 'm':
        o->mr = strcmp(optarg, "MR") == 0;
        if (!o->mr && strcmp(optarg, "CT")) return 2;
        break;
      case 'p':
        o->phantom = strcmp(optarg, "ramp") == 0 ? PHANTOM_RAMP : PHANTOM_BODY;
        if (o->phantom == PHANTOM_BODY && strcmp(optarg, "body")) return 2;
        break;
      case 'r': o->rows = atoi(optarg); break;
      case 'c': o->cols = atoi(optarg); break;
      case 'P': if (parse_list(optarg, o->ps, 2) != 2) return 2; break;
      case 'n': o->slices = atoi(optarg); break;
      case 's': o->step = atof(optarg); break;
      case 'T': o->thickness = atof(optarg); break;
      case 'O':
        if (!strcmp(optarg, "axial")) memcpy(o->iop, (double[6]){1, 0, 0, 0, 1, 0}, sizeof o->iop);
        else if (!strcmp(optarg, "coronal")) memcpy(o->iop, (double[6]){1, 0, 0, 0, 0, -1}, sizeof o->iop);
        else if (!strcmp(optarg, "sagittal")) memcpy(o->iop, (double[6]){0, 1, 0, 0, 0, -1}, sizeof o->iop);
        else return 2;
        break;
      case 'I': if (parse_list(optarg, o->iop, 6) != 6) return 2; break;
      case 'C': if (parse_list(optarg, o->center, 3) != 3) return 2; break;
      case 't': o->tilt = atof(optarg); break;
      case 'u': if ((o->ngaps = parse_list(optarg, o->gaps, MAX_SLICES)) < 1) return 2; break;
      case 'd':
        if ((n = parse_list(optarg, v, MAX_SLICES)) < 1) return 2;
        for (int i = 0; i < n; i++) if (v[i] >= 0 && v[i] < MAX_SLICES) o->drop[(int)v[i]] = 1;
        break;
      case 'R':
        if (parse_list(optarg, v, 2) != 2 || v[0] == 0) return 2;
        o->slope = v[0];
        o->inter = v[1];
        o->has_rescale = 1;
        break;
      case 'S': o->is_signed = 1; sign_set = 1; break;
      case 'U': o->is_signed = 0; sign_set = 1; break;
      case 'b': o->bits_stored = atoi(optarg); break;
      case '1': o->mono1 = 1; break;
      case 'x': o->shuffle = (unsigned)strtoul(optarg, NULL, 10) | 1u; break;
      case 'e': o->enhanced = 1; break;
      case 'X': if (!(o->ts = ts_uid(optarg))) return 2; break;
      case 'A': o->series_uid = optarg; break;
      case 'N': o->series_number = atoi(optarg); break;
      case 'B': o->study_uid = optarg; break;
      case 'g':
        if (o->ntags == MAX_TAGS || !strchr(optarg, '=')) return 2;
        o->tags[o->ntags++] = optarg;
        break;
      case 'J': o->truth = optarg; break;
      case 'o': o->out = optarg; break;
      case 'h': fputs(usage, stdout); exit(0);
      default: return 2;
    }
  }
  if (!sign_set) o->is_signed = !o->mr;
  if (!o->has_rescale && !o->mr) { o->slope = 1; o->inter = -1024; o->has_rescale = 1; }
  if (!o->has_rescale) { o->slope = 1; o->inter = 0; }
  if (!o->thickness) o->thickness = o->step;
  if (!o->out || optind != argc || o->rows < 1 || o->cols < 1 || o->slices < 1 ||
      o->slices > MAX_SLICES || o->step <= 0 || o->ps[0] <= 0 || o->ps[1] <= 0 ||
      o->bits_stored < 2 || o->bits_stored > 16)
    return 2;
  return 0;
}

static void norm3(double *v) {
  double n = sqrt(v[0] * v[0] + v[1] * v[1] + v[2] * v[2]);
  for (int i = 0; i < 3; i++) v[i] /= n;
}

typedef struct {
  double r[3], c[3], n[3], stack[3], ipp[MAX_SLICES][3], pos[MAX_SLICES];
} geometry;

static void make_geometry(const opts *o, geometry *g) {
  double n0[3];
  memcpy(g->r, o->iop, sizeof g->r);
  memcpy(g->c, o->iop + 3, sizeof g->c);
  norm3(g->r);
  norm3(g->c);
  n0[0] = g->r[1] * g->c[2] - g->r[2] * g->c[1];
  n0[1] = g->r[2] * g->c[0] - g->r[0] * g->c[2];
  n0[2] = g->r[0] * g->c[1] - g->r[1] * g->c[0];
  double t = o->tilt * 3.14159265358979323846 / 180.0;
  for (int i = 0; i < 3; i++) { /* rotate the plane about r; stack along n0 */
    double c = g->c[i];
    g->c[i] = c * cos(t) - n0[i] * sin(t);
    g->n[i] = n0[i] * cos(t) + c * sin(t);
    g->stack[i] = n0[i];
  }
  g->pos[0] = 0;
  for (int k = 1; k < o->slices; k++) {
    double gap = o->ngaps ? o->gaps[k - 1 < o->ngaps ? k - 1 : o->ngaps - 1] : o->step;
    g->pos[k] = g->pos[k - 1] + gap;
  }
  double half = g->pos[o->slices - 1] / 2;
  for (int k = 0; k < o->slices; k++)
    for (int i = 0; i < 3; i++)
      g->ipp[k][i] = o->center[i] - (o->cols - 1) / 2.0 * o->ps[1] * g->r[i] -
                     (o->rows - 1) / 2.0 * o->ps[0] * g->c[i] + (g->pos[k] - half) * g->stack[i];
}

static void render(const opts *o, const geometry *g, int k, uint16_t *px) {
  double lo = o->is_signed ? -ldexp(1, o->bits_stored - 1) : 0;
  double hi = o->is_signed ? ldexp(1, o->bits_stored - 1) - 1 : ldexp(1, o->bits_stored) - 1;
  for (int j = 0; j < o->rows; j++)
    for (int i = 0; i < o->cols; i++) {
      double p[3];
      for (int a = 0; a < 3; a++)
        p[a] = g->ipp[k][a] + i * o->ps[1] * g->r[a] + j * o->ps[0] * g->c[a];
      double v = phantom_value(o->phantom, o->mr, p[0], p[1], p[2]);
      double s = round((v - o->inter) / o->slope);
      s = s < lo ? lo : s > hi ? hi : s;
      px[(size_t)j * o->cols + i] = (uint16_t)(int32_t)s;
    }
}

static uint64_t fnv(const char *s, uint64_t h) {
  for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ull;
  return h;
}

#define SET(key, ...)                                              \
  do {                                                             \
    snprintf(buf, sizeof buf, __VA_ARGS__);                        \
    if ((s = dp__dcm_ds_set(ds, key, buf)) != DP_OK) goto done;    \
  } while (0)

static dp_status write_file(const opts *o, const geometry *g, const int *ks, int nk,
                            const char *uid_base, const char *path, int instance) {
  char buf[256], key[160];
  dp__dcm_ds *ds = NULL;
  uint16_t *px = NULL;
  dp_status s = dp__dcm_ds_new(&ds);
  if (s != DP_OK) return s;
  size_t npx = (size_t)o->rows * o->cols;
  px = malloc(npx * nk * sizeof *px);
  if (!px) { s = DP_ENOMEM; goto done; }
  const char *sop = o->enhanced ? (o->mr ? "1.2.840.10008.5.1.4.1.1.4.1" : "1.2.840.10008.5.1.4.1.1.2.1")
                                : (o->mr ? "1.2.840.10008.5.1.4.1.1.4" : "1.2.840.10008.5.1.4.1.1.2");
  SET("SOPClassUID", "%s", sop);
  SET("SOPInstanceUID", "%s.%d", uid_base, 1000 + instance);
  SET("StudyInstanceUID", "%s", o->study_uid ? o->study_uid : uid_base);
  if (o->series_uid) SET("SeriesInstanceUID", "%s", o->series_uid);
  else SET("SeriesInstanceUID", "%s.1", uid_base);
  SET("FrameOfReferenceUID", "%s.2", uid_base);
  SET("Modality", "%s", o->mr ? "MR" : "CT");
  SET("PatientName", "SYNTH^PHANTOM");
  SET("PatientID", "SYNTH0001");
  SET("StudyDate", "20260101");
  SET("SeriesDate", "20260101");
  SET("Manufacturer", "dcmprep-synth");
  SET("SeriesNumber", "%d", o->series_number);
  SET("SeriesDescription", "synthetic %s %s", o->mr ? "MR" : "CT", o->phantom ? "ramp" : "body");
  SET("InstanceNumber", "%d", instance);
  SET("AcquisitionNumber", "1");
  SET("ImageType", "ORIGINAL\\PRIMARY\\AXIAL");
  SET("Rows", "%d", o->rows);
  SET("Columns", "%d", o->cols);
  SET("SamplesPerPixel", "1");
  SET("PhotometricInterpretation", "%s", o->mono1 ? "MONOCHROME1" : "MONOCHROME2");
  SET("BitsAllocated", "16");
  SET("BitsStored", "%d", o->bits_stored);
  SET("HighBit", "%d", o->bits_stored - 1);
  SET("PixelRepresentation", "%d", o->is_signed);
  SET("WindowCenter", "%s", o->mr ? "500" : "40");
  SET("WindowWidth", "%s", o->mr ? "1000" : "400");
  if (o->tilt != 0) SET("GantryDetectorTilt", "%.6g", o->tilt);
  const char *iop_fmt = "%.8f\\%.8f\\%.8f\\%.8f\\%.8f\\%.8f";
  if (!o->enhanced) {
    int k = ks[0];
    SET("ImagePositionPatient", "%.6f\\%.6f\\%.6f", g->ipp[k][0], g->ipp[k][1], g->ipp[k][2]);
    SET("ImageOrientationPatient", iop_fmt, g->r[0], g->r[1], g->r[2], g->c[0], g->c[1], g->c[2]);
    SET("PixelSpacing", "%.8g\\%.8g", o->ps[0], o->ps[1]);
    SET("SliceThickness", "%.8g", o->thickness);
    SET("SliceLocation", "%.6f", g->ipp[k][0] * g->n[0] + g->ipp[k][1] * g->n[1] + g->ipp[k][2] * g->n[2]);
    if (o->has_rescale && (!o->mr || o->slope != 1 || o->inter != 0)) {
      SET("RescaleSlope", "%.10g", o->slope);
      SET("RescaleIntercept", "%.10g", o->inter);
      if (!o->mr) SET("RescaleType", "HU");
    }
  } else {
    SET("NumberOfFrames", "%d", nk);
    const char *sh = "SharedFunctionalGroupsSequence[0].";
    snprintf(key, sizeof key, "%sPixelMeasuresSequence[0].PixelSpacing", sh);
    SET(key, "%.8g\\%.8g", o->ps[0], o->ps[1]);
    snprintf(key, sizeof key, "%sPixelMeasuresSequence[0].SliceThickness", sh);
    SET(key, "%.8g", o->thickness);
    snprintf(key, sizeof key, "%sPlaneOrientationSequence[0].ImageOrientationPatient", sh);
    SET(key, iop_fmt, g->r[0], g->r[1], g->r[2], g->c[0], g->c[1], g->c[2]);
    snprintf(key, sizeof key, "%sPixelValueTransformationSequence[0].RescaleSlope", sh);
    SET(key, "%.10g", o->slope);
    snprintf(key, sizeof key, "%sPixelValueTransformationSequence[0].RescaleIntercept", sh);
    SET(key, "%.10g", o->inter);
    snprintf(key, sizeof key, "%sPixelValueTransformationSequence[0].RescaleType", sh);
    SET(key, "%s", o->mr ? "US" : "HU");
    for (int f = 0; f < nk; f++) {
      int k = ks[f];
      snprintf(key, sizeof key, "PerFrameFunctionalGroupsSequence[%d].PlanePositionSequence[0].ImagePositionPatient", f);
      SET(key, "%.6f\\%.6f\\%.6f", g->ipp[k][0], g->ipp[k][1], g->ipp[k][2]);
      snprintf(key, sizeof key, "PerFrameFunctionalGroupsSequence[%d].FrameContentSequence[0].InStackPositionNumber", f);
      SET(key, "%d", f + 1);
    }
  }
  for (int t = 0; t < o->ntags; t++) {
    char k2[128];
    const char *eq = strchr(o->tags[t], '=');
    snprintf(k2, sizeof k2, "%.*s", (int)(eq - o->tags[t]), o->tags[t]);
    if ((s = dp__dcm_ds_set(ds, k2, eq + 1)) != DP_OK) goto done;
  }
  for (int f = 0; f < nk; f++) render(o, g, ks[f], px + npx * f);
  if ((s = dp__dcm_ds_set_pixels16(ds, px, npx * nk)) != DP_OK) goto done;
  s = dp__dcm_ds_save(ds, path, o->ts ? o->ts : "1.2.840.10008.1.2.1");
done:
  free(px);
  dp__dcm_ds_free(ds);
  return s;
}

static void write_truth(const opts *o, const geometry *g, char names[][64], const int *ks, int nk,
                        FILE *f) {
  fprintf(f, "{\n  \"modality\": \"%s\",\n  \"phantom\": \"%s\",\n", o->mr ? "MR" : "CT",
          o->phantom ? "ramp" : "body");
  fprintf(f, "  \"rows\": %d,\n  \"cols\": %d,\n  \"pixel_spacing\": [%.17g, %.17g],\n", o->rows,
          o->cols, o->ps[0], o->ps[1]);
  fprintf(f, "  \"iop\": [%.17g, %.17g, %.17g, %.17g, %.17g, %.17g],\n", g->r[0], g->r[1],
          g->r[2], g->c[0], g->c[1], g->c[2]);
  fprintf(f, "  \"normal\": [%.17g, %.17g, %.17g],\n", g->n[0], g->n[1], g->n[2]);
  fprintf(f, "  \"tilt_deg\": %.17g,\n  \"rescale\": [%.17g, %.17g],\n", o->tilt, o->slope, o->inter);
  fprintf(f, "  \"bits_stored\": %d,\n  \"signed\": %s,\n  \"enhanced\": %s,\n", o->bits_stored,
          o->is_signed ? "true" : "false", o->enhanced ? "true" : "false");
  fprintf(f, "  \"slices\": [\n");
  for (int i = 0; i < nk; i++) {
    int k = ks[i];
    fprintf(f, "    {\"index\": %d, \"file\": \"%s\", \"ipp\": [%.17g, %.17g, %.17g]}%s\n", k,
            names[i], g->ipp[k][0], g->ipp[k][1], g->ipp[k][2], i + 1 < nk ? "," : "");
  }
  /* the grid a correct loader builds for a regular stack, in RAS */
  int k0 = ks[0], k1 = ks[nk - 1];
  double m[3][4];
  for (int a = 0; a < 3; a++) {
    double sgn = a < 2 ? -1 : 1;
    m[a][0] = sgn * g->r[a] * o->ps[1];
    m[a][1] = sgn * g->c[a] * o->ps[0];
    m[a][2] = sgn * (nk > 1 ? (g->ipp[k1][a] - g->ipp[k0][a]) / (nk - 1) : g->n[a] * o->step);
    m[a][3] = sgn * g->ipp[k0][a];
  }
  fprintf(f, "  ],\n  \"ijk_to_ras\": [");
  for (int a = 0; a < 3; a++)
    fprintf(f, "[%.17g, %.17g, %.17g, %.17g], ", m[a][0], m[a][1], m[a][2], m[a][3]);
  fprintf(f, "[0, 0, 0, 1]]\n}\n");
}

int main(int argc, char **argv) {
  opts o;
  memset(&o, 0, sizeof o);
  o.rows = o.cols = 64;
  o.slices = 32;
  o.step = 2;
  o.ps[0] = o.ps[1] = 1;
  o.iop[0] = o.iop[4] = 1;
  o.bits_stored = 16;
  o.series_number = 1;
  if (argc < 2) { fputs(usage, stderr); return 2; }
  if (parse(argc, argv, &o)) { fputs(usage, stderr); return 2; }
  static geometry g;
  make_geometry(&o, &g);
  if (mkdir(o.out, 0755) != 0 && errno != EEXIST) return fail("cannot create %s", o.out);
  uint64_t h = 1469598103934665603ull;
  for (int i = 1; i < argc; i++) h = fnv(argv[i], h);
  char uid_base[64];
  snprintf(uid_base, sizeof uid_base, "2.25.%llu", (unsigned long long)(h % 10000000000000000000ull));
  static int ks[MAX_SLICES];
  static char names[MAX_SLICES][64];
  int nk = 0;
  for (int k = 0; k < o.slices; k++)
    if (!o.drop[k]) ks[nk++] = k;
  int order[MAX_SLICES];
  for (int i = 0; i < nk; i++) order[i] = i;
  uint64_t rng = o.shuffle;
  if (o.shuffle)
    for (int i = nk - 1; i > 0; i--) {
      rng = rng * 6364136223846793005ull + 1442695040888963407ull;
      int j = (int)((rng >> 33) % (uint64_t)(i + 1)), t = order[i];
      order[i] = order[j];
      order[j] = t;
    }
  char path[4200];
  dp_status s = DP_OK;
  if (o.enhanced) {
    snprintf(names[0], sizeof names[0], "ENHANCED.dcm");
    for (int i = 1; i < nk; i++) snprintf(names[i], sizeof names[i], "ENHANCED.dcm");
    snprintf(path, sizeof path, "%s/%s", o.out, names[0]);
    s = write_file(&o, &g, ks, nk, uid_base, path, 1);
  } else {
    for (int w = 0; w < nk && s == DP_OK; w++) {
      int i = order[w];
      if (o.shuffle) {
        rng = rng * 6364136223846793005ull + 1442695040888963407ull;
        snprintf(names[i], sizeof names[i], "%08llx", (unsigned long long)(rng >> 32));
      } else {
        snprintf(names[i], sizeof names[i], "IM%04d.dcm", i + 1);
      }
      snprintf(path, sizeof path, "%s/%s", o.out, names[i]);
      s = write_file(&o, &g, &ks[i], 1, uid_base, path, ks[i] + 1);
    }
  }
  if (s != DP_OK) {
    fprintf(stderr, "dcmprep-synth: %s\n", dp_last_error());
    return 1;
  }
  if (o.truth) {
    FILE *f = fopen(o.truth, "w");
    if (!f) return fail("cannot write %s", o.truth);
    write_truth(&o, &g, names, ks, nk, f);
    if (fclose(f) != 0) return fail("cannot write %s", o.truth);
  }
  return 0;
}
