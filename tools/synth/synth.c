/* dcmprep-synth: writes a synthetic CT or MR DICOM series of an analytic
 * phantom with exactly known geometry (a test tool; not installed).  The
 * options are in options.c, the geometry in geometry.c, the phantoms in
 * phantom.c and the truth file in truth.c. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/internal.h"
#include "dcmprep/dcmprep.h"
#include "dicom/dcmtk/dataset_write.h"
#include "geometry.h"
#include "options.h"
#include "truth.h"
#include "labels.h"

static int fail(const char *fmt, ...) {
  va_list ap;
  fputs("dcmprep-synth: ", stderr);
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fputc('\n', stderr);
  return 1;
}

/* ---- deterministic identifiers and randomness ------------------------------ */

static uint64_t fnv(uint64_t h, const void *data, size_t n) {
  const unsigned char *p = data;
  for (size_t i = 0; i < n; i++) h = (h ^ p[i]) * 1099511628211ull;
  return h;
}

/* A hash of the effective options (not of the output paths), so the same
 * request gives the same UIDs wherever it is written. */
static uint64_t options_hash(const synth_opts *o) {
  uint64_t h = 1469598103934665603ull;
  int ints[] = {o->mr, (int)o->phantom, o->rows, o->cols, o->slices, o->is_signed, o->bits_stored,
                o->mono1, o->enhanced, o->shuffle, (int)o->order, o->series_number, o->ngaps, o->ndrops};
  double nums[] = {o->ps[0], o->ps[1], o->step, o->thickness, o->iop[0], o->iop[1], o->iop[2],
                   o->iop[3], o->iop[4], o->iop[5], o->center[0], o->center[1], o->center[2],
                   o->tilt, o->slope, o->inter};
  h = fnv(h, ints, sizeof ints);
  h = fnv(h, nums, sizeof nums);
  h = fnv(h, &o->seed, sizeof o->seed);
  if (o->ngaps) h = fnv(h, o->gaps, (size_t)o->ngaps * sizeof *o->gaps);
  if (o->ndrops) h = fnv(h, o->drops, (size_t)o->ndrops * sizeof *o->drops);
  h = fnv(h, o->ts_uid, strlen(o->ts_uid));
  for (int i = 0; i < o->ntags; i++) h = fnv(h, o->tags[i], strlen(o->tags[i]) + 1);
  return h;
}

static uint64_t splitmix(uint64_t *state) {
  uint64_t z = (*state += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

static void permute(int *v, int n, uint64_t *rng) {
  for (int i = n - 1; i > 0; i--) {
    int j = (int)(splitmix(rng) % (uint64_t)(i + 1)), t = v[i];
    v[i] = v[j];
    v[j] = t;
  }
}

/* A bijection of 32-bit numbers (xor-shift and odd multipliers), so that
 * shuffled names of different slices never collide. */
static uint32_t scramble(uint32_t x, uint64_t seed) {
  x ^= (uint32_t)seed;
  x ^= x >> 16;
  x *= 0x7feb352du;
  x ^= x >> 15;
  x *= 0x846ca68bu;
  x ^= x >> 16;
  return x ^ (uint32_t)(seed >> 32);
}

/* ---- the dataset ------------------------------------------------------------ */

typedef struct {
  dp__dcm_ds *ds;
  dp_status st;
} writer;

/* Sets the attribute at path to a printf-formatted value.  The first error
 * sticks: later calls do nothing. */
static void set(writer *w, const char *path, const char *fmt, ...) DP__PRINTF(3, 4);
static void set(writer *w, const char *path, const char *fmt, ...) {
  char buf[512];
  va_list ap;
  if (w->st != DP_OK) return;
  va_start(ap, fmt);
  vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  w->st = dp__dcm_ds_set(w->ds, path, buf);
}

static void set_ds(writer *w, const char *path, const double *v, int n) {
  char buf[17 * 6 + 8], one[17];
  buf[0] = '\0';
  for (int i = 0; i < n; i++) {
    synth_ds(one, v[i]);
    if (i) strcat(buf, "\\");
    strcat(buf, one);
  }
  set(w, path, "%s", buf);
}

const char *synth_sop_class(const synth_opts *o) {
  if (o->enhanced) return o->mr ? "1.2.840.10008.5.1.4.1.1.4.1" : "1.2.840.10008.5.1.4.1.1.2.1";
  return o->mr ? "1.2.840.10008.5.1.4.1.1.4" : "1.2.840.10008.5.1.4.1.1.2";
}

static void common(writer *w, const synth_opts *o, const synth_series *s, int instance) {
  set(w, "SOPClassUID", "%s", synth_sop_class(o));
  set(w, "SOPInstanceUID", "%s.%d", s->series_uid, instance);
  set(w, "StudyInstanceUID", "%s", s->study_uid);
  set(w, "SeriesInstanceUID", "%s", s->series_uid);
  set(w, "FrameOfReferenceUID", "%s", s->for_uid);
  set(w, "PositionReferenceIndicator", "%s", "");
  set(w, "Modality", "%s", o->mr ? "MR" : "CT");
  set(w, "PatientName", "SYNTH^PHANTOM");
  set(w, "PatientID", "SYNTH0001");
  set(w, "PatientBirthDate", "%s", "");
  set(w, "PatientSex", "O");
  set(w, "PatientPosition", "HFS");
  set(w, "StudyDate", "20240101");
  set(w, "StudyTime", "120000");
  set(w, "SeriesDate", "20240101");
  set(w, "SeriesTime", "120000");
  set(w, "ContentDate", "20240101");
  set(w, "ContentTime", "120000");
  set(w, "StudyID", "1");
  set(w, "AccessionNumber", "%s", "");
  set(w, "ReferringPhysicianName", "%s", "");
  set(w, "Manufacturer", "dcmprep-synth");
  set(w, "SeriesNumber", "%d", o->series_number);
  set(w, "SeriesDescription", "synthetic %s %s", o->mr ? "MR" : "CT", o->phantom == PHANTOM_RAMP ? "ramp" : "body");
  set(w, "InstanceNumber", "%d", instance);
  set(w, "AcquisitionNumber", "1");
  set(w, "Rows", "%d", o->rows);
  set(w, "Columns", "%d", o->cols);
  set(w, "SamplesPerPixel", "1");
  set(w, "PhotometricInterpretation", "%s", o->mono1 ? "MONOCHROME1" : "MONOCHROME2");
  set(w, "BitsAllocated", "16");
  set(w, "BitsStored", "%d", o->bits_stored);
  set(w, "HighBit", "%d", o->bits_stored - 1);
  set(w, "PixelRepresentation", "%d", o->is_signed);
  set(w, "BurnedInAnnotation", "NO");
  if (o->tilt != 0) set_ds(w, "GantryDetectorTilt", &o->tilt, 1);
  if (o->mr) {
    set(w, "ScanningSequence", "SE");
    set(w, "SequenceVariant", "NONE");
    set(w, "ScanOptions", "%s", "");
    set(w, "MRAcquisitionType", "2D");
    set(w, "RepetitionTime", "500");
    set(w, "EchoTime", "10");
    set(w, "EchoTrainLength", "1");
    set(w, "MagneticFieldStrength", "1.5");
  } else {
    set(w, "KVP", "120");
    set(w, "ConvolutionKernel", "STANDARD");
  }
}

static void classic(writer *w, const synth_opts *o, const synth_geometry *g, int k) {
  double iop[6] = {g->r[0], g->r[1], g->r[2], g->c[0], g->c[1], g->c[2]};
  double rescale[2] = {g->slope, g->inter};
  double loc = g->ipp[k][0] * g->n[0] + g->ipp[k][1] * g->n[1] + g->ipp[k][2] * g->n[2];
  set(w, "ImageType", "ORIGINAL\\PRIMARY\\AXIAL");
  set_ds(w, "ImagePositionPatient", g->ipp[k], 3);
  set_ds(w, "ImageOrientationPatient", iop, 6);
  set_ds(w, "PixelSpacing", g->ps, 2);
  set_ds(w, "SliceThickness", &o->thickness, 1);
  set_ds(w, "SliceLocation", &loc, 1);
  /* MR Image Storage has no rescale; it is written only when it matters */
  if (!o->mr || g->slope != 1 || g->inter != 0) {
    set_ds(w, "RescaleIntercept", &rescale[1], 1);
    set_ds(w, "RescaleSlope", &rescale[0], 1);
    set(w, "RescaleType", "%s", o->mr ? "US" : "HU");
  }
  set(w, "WindowCenter", "%s", o->mr ? "500" : "40");
  set(w, "WindowWidth", "%s", o->mr ? "1000" : "400");
}

static void enhanced(writer *w, const synth_opts *o, const synth_geometry *g, const synth_series *s,
                     const int *frames, int nframes) {
  static const char sh[] = "SharedFunctionalGroupsSequence[0].";
  char key[200];
  double iop[6] = {g->r[0], g->r[1], g->r[2], g->c[0], g->c[1], g->c[2]};
  double rescale[2] = {g->slope, g->inter};
#define KEY(...) (snprintf(key, sizeof key, __VA_ARGS__), key)
  set(w, "ImageType", "ORIGINAL\\PRIMARY\\VOLUME\\NONE");
  set(w, "PixelPresentation", "MONOCHROME");
  set(w, "VolumetricProperties", "VOLUME");
  set(w, "VolumeBasedCalculationTechnique", "NONE");
  set(w, "NumberOfFrames", "%d", nframes);
  set(w, "DimensionOrganizationType", "3D");
  set(w, "DimensionOrganizationSequence[0].DimensionOrganizationUID", "%s.9", s->series_uid);
  for (int d = 0; d < 2; d++) {
    set(w, KEY("DimensionIndexSequence[%d].DimensionOrganizationUID", d), "%s.9", s->series_uid);
    set(w, KEY("DimensionIndexSequence[%d].DimensionIndexPointer", d), "%s", d ? "(0020,9057)" : "(0020,9056)");
    set(w, KEY("DimensionIndexSequence[%d].FunctionalGroupPointer", d), "(0020,9111)");
  }
  set_ds(w, KEY("%sPixelMeasuresSequence[0].PixelSpacing", sh), g->ps, 2);
  set_ds(w, KEY("%sPixelMeasuresSequence[0].SliceThickness", sh), &o->thickness, 1);
  set_ds(w, KEY("%sPlaneOrientationSequence[0].ImageOrientationPatient", sh), iop, 6);
  set_ds(w, KEY("%sPixelValueTransformationSequence[0].RescaleIntercept", sh), &rescale[1], 1);
  set_ds(w, KEY("%sPixelValueTransformationSequence[0].RescaleSlope", sh), &rescale[0], 1);
  set(w, KEY("%sPixelValueTransformationSequence[0].RescaleType", sh), "%s", o->mr ? "US" : "HU");
  set(w, KEY("%sFrameVOILUTSequence[0].WindowCenter", sh), "%s", o->mr ? "500" : "40");
  set(w, KEY("%sFrameVOILUTSequence[0].WindowWidth", sh), "%s", o->mr ? "1000" : "400");
  set(w, KEY("%s%s[0].FrameType", sh, o->mr ? "MRImageFrameTypeSequence" : "CTImageFrameTypeSequence"),
      "ORIGINAL\\PRIMARY\\VOLUME\\NONE");
  /* InStackPositionNumber counts the written frames along the stack */
  for (int f = 0; f < nframes; f++) {
    int k = s->slices[frames[f]].k, in_stack = frames[f] + 1;
#define PF "PerFrameFunctionalGroupsSequence[%d]."
    set_ds(w, KEY(PF "PlanePositionSequence[0].ImagePositionPatient", f), g->ipp[k], 3);
    set(w, KEY(PF "FrameContentSequence[0].StackID", f), "1");
    set(w, KEY(PF "FrameContentSequence[0].InStackPositionNumber", f), "%d", in_stack);
    set(w, KEY(PF "FrameContentSequence[0].DimensionIndexValues", f), "1\\%d", in_stack);
#undef PF
  }
#undef KEY
}

/* Writes the file of the written slices idx[0..n) (indices into s->slices):
 * one classic image, or all frames of the enhanced object. */
static dp_status write_file(const synth_opts *o, const synth_geometry *g, synth_series *s,
                            const int *idx, int n, const char *path) {
  writer w = {NULL, DP_OK};
  size_t npx = (size_t)o->rows * o->cols;
  uint16_t *px = malloc(npx * (size_t)n * sizeof *px);
  if (!px) return dp__error(DP_ENOMEM, "out of memory for %d x %d x %d pixels", o->rows, o->cols, n);
  w.st = dp__dcm_ds_new(&w.ds);
  common(&w, o, s, o->enhanced ? 1 : s->slices[idx[0]].instance);
  if (o->enhanced) enhanced(&w, o, g, s, idx, n);
  else classic(&w, o, g, s->slices[idx[0]].k);
  for (int t = 0; t < o->ntags && w.st == DP_OK; t++) {
    char key[256];
    const char *eq = strchr(o->tags[t], '=');
    snprintf(key, sizeof key, "%.*s", (int)(eq - o->tags[t]), o->tags[t]);
    w.st = dp__dcm_ds_set(w.ds, key, eq + 1);
  }
  if (w.st == DP_OK) {
    for (int f = 0; f < n; f++) s->clamped += synth_render(g, o, s->slices[idx[f]].k, px + npx * f);
    w.st = dp__dcm_ds_set_pixels(w.ds, px, npx * (size_t)n * sizeof *px);
  }
  if (w.st == DP_OK) w.st = dp__dcm_ds_save(w.ds, path, o->ts_uid);
  free(px);
  dp__dcm_ds_free(w.ds);
  return w.st;
}

/* ---- the series --------------------------------------------------------------- */

/* Lists the written slices in stack order with their instance numbers and
 * file names. */
static int plan(const synth_opts *o, const synth_geometry *g, synth_series *s) {
  uint64_t h = options_hash(o);
  snprintf(s->study_uid, sizeof s->study_uid, "%s", o->study_uid ? o->study_uid : "");
  if (!o->study_uid) snprintf(s->study_uid, sizeof s->study_uid, "2.25.%llu.1", (unsigned long long)h);
  if (o->series_uid) snprintf(s->series_uid, sizeof s->series_uid, "%s", o->series_uid);
  else snprintf(s->series_uid, sizeof s->series_uid, "2.25.%llu.2", (unsigned long long)h);
  snprintf(s->for_uid, sizeof s->for_uid, "2.25.%llu.3", (unsigned long long)h);
  int *inst = malloc((size_t)o->slices * sizeof *inst);
  s->slices = calloc((size_t)o->slices, sizeof *s->slices);
  if (!inst || !s->slices) {
    free(inst);
    return fail("out of memory");
  }
  for (int k = 0; k < o->slices; k++) inst[k] = o->order == ORDER_REVERSE ? o->slices - k : k + 1;
  uint64_t rng = o->seed ^ 0x5eedull;
  if (o->order == ORDER_RANDOM) permute(inst, o->slices, &rng);
  for (int k = 0; k < o->slices; k++) {
    if (g->dropped[k]) continue;
    synth_slice *sl = &s->slices[s->nslices];
    sl->k = k;
    sl->instance = inst[k];
    sl->frame = o->enhanced ? s->nslices + 1 : 0;
    uint32_t id = scramble((uint32_t)(o->enhanced ? 0 : s->nslices), o->seed);
    if (o->shuffle) snprintf(sl->name, sizeof sl->name, "%08X", id);
    else if (o->enhanced) snprintf(sl->name, sizeof sl->name, "ENHANCED.dcm");
    else snprintf(sl->name, sizeof sl->name, "IM%04d.dcm", s->nslices + 1);
    s->nslices++;
  }
  free(inst);
  return 0;
}

static int write_series(const synth_opts *o, const synth_geometry *g, synth_series *s) {
  int n = s->nslices;
  int *order = malloc((size_t)n * sizeof *order);
  if (!order) return fail("out of memory");
  for (int i = 0; i < n; i++) order[i] = i;
  uint64_t rng = o->seed;
  if (o->shuffle) permute(order, n, &rng);
  size_t plen = strlen(o->out) + 40;
  char *path = malloc(plen);
  dp_status st = path ? DP_OK : DP_ENOMEM;
  if (o->enhanced && path) {
    /* frame f holds written slice order[f]; its frame number is f + 1 */
    for (int f = 0; f < n; f++) s->slices[order[f]].frame = f + 1;
    snprintf(path, plen, "%s/%s", o->out, s->slices[0].name);
    st = write_file(o, g, s, order, n, path);
  }
  for (int i = 0; i < n && path && !o->enhanced && st == DP_OK; i++) {
    snprintf(path, plen, "%s/%s", o->out, s->slices[order[i]].name);
    st = write_file(o, g, s, &order[i], 1, path);
  }
  free(path);
  free(order);
  return st == DP_OK ? 0 : fail("%s", st == DP_ENOMEM && !path ? "out of memory" : dp_last_error());
}

static int write_labels(const synth_opts *o, const synth_geometry *g, const synth_series *s,
                        synth_shape **shapes, int *n) {
  char err[256];
  if (synth_shapes(o, g, shapes, n, err, sizeof err)) return fail("%s", err);
  dp_status st = synth_write_labels(o, g, s, *shapes, *n);
  return st == DP_OK ? 0 : fail("%s", dp_last_error());
}

int main(int argc, char **argv) {
  synth_opts o;
  synth_geometry g;
  synth_series s;
  synth_shape *shapes = NULL;
  int nshapes = 0;
  char err[256];
  int rc = 1;
  if (argc < 2) {
    fputs(synth_usage, stderr);
    return 2;
  }
  int r = synth_parse(argc, argv, &o);
  if (r) {
    synth_opts_free(&o);
    return r < 0 ? 0 : 2;
  }
  memset(&s, 0, sizeof s);
  if (synth_geometry_init(&g, &o, err, sizeof err)) {
    synth_opts_free(&o);
    fail("%s", err);
    return strncmp(err, "--", 2) == 0 ? 2 : 1;
  }
  if (mkdir(o.out, 0777) != 0 && errno != EEXIST) {
    fail("cannot create %s: %s", o.out, strerror(errno));
  } else if (plan(&o, &g, &s) == 0 && write_series(&o, &g, &s) == 0 &&
             (!(o.rtstruct || o.seg) || write_labels(&o, &g, &s, &shapes, &nshapes) == 0)) {
    rc = 0;
    dp_status st = o.truth ? synth_write_truth(o.truth, &o, &g, &s, shapes, nshapes, argc, argv) : DP_OK;
    if (st != DP_OK) rc = fail("%s: %s", o.truth, dp_last_error());
    if (s.clamped)
      fprintf(stderr, "dcmprep-synth: note: %zu pixels clamped to the stored range [%g, %g]\n",
              s.clamped, g.lo, g.hi);
  }
  free(s.slices);
  free(shapes);
  synth_geometry_free(&g);
  synth_opts_free(&o);
  return rc;
}
