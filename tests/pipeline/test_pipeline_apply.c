/* dp_pipeline_apply: inputs untouched, the same bytes as dp_pipeline_run,
 * per-call random key, thread-safe on one pipeline; dp_step_word. */
#include <pthread.h>

#include "dcmprep/dcmprep.h"
#include "testutil.h"

static void phantom(dp_volume **img, dp_volume **lab) {
  int64_t dim[4] = {24, 20, 16, 1};
  dp_mat4 a = dp_mat4_identity();
  a.m[0][0] = 1.5;
  a.m[2][2] = 2.0;
  a.m[0][3] = -10;
  ck_assert_int_eq(dp_volume_new(dim, DP_I16, &a, img), DP_OK);
  ck_assert_int_eq(dp_volume_new(dim, DP_U8, &a, lab), DP_OK);
  int16_t *p = (*img)->data;
  uint8_t *l = (*lab)->data;
  for (int64_t n = 0; n < dp_volume_nvox(*img); n++) {
    int64_t i = n % 24, j = (n / 24) % 20, k = n / 480;
    p[n] = (int16_t)((i * 37 + j * 11 + k * 5) % 200 - 100);
    l[n] = (uint8_t)((i > 6 && i < 16 && j > 5 && j < 14 && k > 3 && k < 12) ? 1 + (i & 1) : 0);
  }
  ck_assert_int_eq(dp_volume_meta_set_str(*img, "Modality", "CT"), DP_OK);
}

static dp_pipeline *make(const char *text) {
  dp_pipeline *p = NULL;
  ck_assert_int_eq(dp_pipeline_new(&p), DP_OK);
  ck_assert_int_eq(dp_pipeline_parse(p, text, "test"), DP_OK);
  return p;
}

static const char augment_text[] =
    "--seed 11\n--canonical\n--rand-flip\n--rand-rotate 10\n--rand-zoom 0.9,1.1\n"
    "--rand-elastic 2,3\n--rand-gamma 0.8,1.2\n--crop-foreground\n--margin 1\n";

static int same(const dp_volume *a, const dp_volume *b) {
  if (a->dtype != b->dtype || memcmp(a->dim, b->dim, sizeof a->dim)) return 0;
  if (memcmp(&a->ijk_to_ras, &b->ijk_to_ras, sizeof a->ijk_to_ras)) return 0;
  if (memcmp(a->data, b->data, dp_volume_nbytes(a))) return 0;
  const char *pa = dp_volume_meta_get(a, "PrepSteps", NULL), *pb = dp_volume_meta_get(b, "PrepSteps", NULL);
  return (!pa && !pb) || (pa && pb && !strcmp(pa, pb));
}

START_TEST(equals_run_and_leaves_inputs) {
  dp_volume *img, *lab, *img0, *lab0;
  phantom(&img, &lab);
  ck_assert_int_eq(dp_volume_copy(img, &img0), DP_OK);
  ck_assert_int_eq(dp_volume_copy(lab, &lab0), DP_OK);
  dp_pipeline *p = make(augment_text);
  dp_volume *oi = NULL, *ol = NULL;
  ck_assert_int_eq(dp_pipeline_apply(p, img, lab, 0x1234, 5, 1, &oi, &ol), DP_OK);
  ck_assert(same(img, img0) && same(lab, lab0)); /* inputs untouched */
  /* dp_pipeline_run on copies with the same key gives the same bytes */
  dp_volume *ri, *rl;
  ck_assert_int_eq(dp_volume_copy(img, &ri), DP_OK);
  ck_assert_int_eq(dp_volume_copy(lab, &rl), DP_OK);
  int n = 0;
  const dp_step *steps = dp_pipeline_steps(p, &n);
  dp_pipeline_settings st = *dp_pipeline_settings_of(p);
  st.name_hash = 0x1234;
  st.variant = 5;
  ck_assert_int_eq(dp_pipeline_run(steps, n, &st, &ri, &rl), DP_OK);
  ck_assert(same(oi, ri));
  ck_assert_int_eq(memcmp(ol->data, rl->data, dp_volume_nbytes(rl)), 0);
  /* the label carries the image's record */
  ck_assert_str_eq(dp_volume_meta_get(ol, "PrepSteps", NULL), dp_volume_meta_get(oi, "PrepSteps", NULL));
  ck_assert_str_eq(dp_volume_meta_get(oi, "Modality", NULL), "CT");
  /* another variant draws differently; the same one again is identical */
  dp_volume *o2 = NULL, *o3 = NULL;
  ck_assert_int_eq(dp_pipeline_apply(p, img, NULL, 0x1234, 6, 2, &o2, NULL), DP_OK);
  ck_assert(!same(o2, oi));
  dp_volume_free(ol);
  ck_assert_int_eq(dp_pipeline_apply(p, img, lab, 0x1234, 5, 2, &o3, &ol), DP_OK);
  ck_assert(same(o3, oi));
  dp_volume_free(ol);
  dp_volume_free(ri);
  dp_volume_free(rl);
  dp_volume_free(oi);
  dp_volume_free(o2);
  dp_volume_free(o3);
  dp_volume_free(img0);
  dp_volume_free(lab0);
  dp_volume_free(img);
  dp_volume_free(lab);
  dp_pipeline_free(p);
}
END_TEST

START_TEST(no_steps_and_intensity_only_give_copies) {
  dp_volume *img, *lab;
  phantom(&img, &lab);
  dp_pipeline *p = NULL;
  ck_assert_int_eq(dp_pipeline_new(&p), DP_OK);
  dp_volume *oi = NULL, *ol = NULL;
  ck_assert_int_eq(dp_pipeline_apply(p, img, lab, 0, 0, 0, &oi, &ol), DP_OK);
  ck_assert_ptr_ne(oi, img);
  ck_assert_ptr_ne(ol, lab);
  ck_assert(same(oi, img));
  ck_assert_int_eq(memcmp(ol->data, lab->data, dp_volume_nbytes(lab)), 0);
  dp_volume_free(oi);
  dp_volume_free(ol);
  dp_pipeline_free(p);
  /* steps that may work in place when the pipeline owns the volume (clip,
   * a cast to the image's own type) leave the caller's input alone */
  dp_volume *img0 = NULL;
  ck_assert_int_eq(dp_volume_copy(img, &img0), DP_OK);
  p = make("--clip -50,50\n--dtype i16\n");
  ck_assert_int_eq(dp_pipeline_apply(p, img, NULL, 0, 0, 0, &oi, NULL), DP_OK);
  ck_assert_ptr_ne(oi, img);
  ck_assert(same(img, img0));
  ck_assert_double_le(dp_volume_get(oi, 0), 50);
  dp_volume_free(oi);
  dp_pipeline_free(p);
  p = make("--dtype i16\n");
  ck_assert_int_eq(dp_pipeline_apply(p, img, NULL, 0, 0, 0, &oi, NULL), DP_OK);
  ck_assert_ptr_ne(oi, img);
  ck_assert(same(img, img0));
  dp_volume_free(oi);
  dp_pipeline_free(p);
  dp_volume_free(img0);
  p = make("--clip -50,50\n");
  ck_assert_int_eq(dp_pipeline_apply(p, img, lab, 0, 0, 0, &oi, &ol), DP_OK);
  ck_assert_ptr_ne(ol, lab); /* the label is untouched by intensity steps, but a copy */
  ck_assert_int_eq(memcmp(ol->data, lab->data, dp_volume_nbytes(lab)), 0);
  ck_assert_ptr_nonnull(dp_volume_meta_get(ol, "PrepSteps", NULL));
  dp_volume_free(oi);
  dp_volume_free(ol);
  dp_pipeline_free(p);
  dp_volume_free(img);
  dp_volume_free(lab);
}
END_TEST

START_TEST(failures_free_everything) {
  dp_volume *img, *lab, *small;
  phantom(&img, &lab);
  int64_t before = dp_volume_bytes_in_use();
  dp_pipeline *p = make("--canonical\n--like /nonexistent/ref.nii.gz\n");
  dp_volume *oi = (dp_volume *)0x1, *ol = (dp_volume *)0x1;
  ck_assert_int_ne(dp_pipeline_apply(p, img, lab, 0, 0, 1, &oi, &ol), DP_OK);
  ck_assert_ptr_null(oi);
  ck_assert_ptr_null(ol);
  ck_assert_ptr_nonnull(strstr(dp_last_error(), "/nonexistent/ref.nii.gz"));
  ck_assert_int_eq(dp_volume_bytes_in_use(), before);
  int64_t dim[4] = {4, 4, 4, 1};
  ck_assert_int_eq(dp_volume_new(dim, DP_U8, NULL, &small), DP_OK);
  ck_assert_int_eq(dp_pipeline_apply(p, img, small, 0, 0, 1, &oi, &ol), DP_EGEOMETRY);
  ck_assert_int_eq(dp_pipeline_apply(p, img, lab, 0, 0, 1, &oi, NULL), DP_EINVAL);
  ck_assert_int_eq(dp_pipeline_apply(NULL, img, NULL, 0, 0, 1, &oi, NULL), DP_EINVAL);
  dp_volume_free(small);
  dp_pipeline_free(p);
  dp_volume_free(img);
  dp_volume_free(lab);
}
END_TEST

typedef struct {
  const dp_pipeline *p;
  const dp_volume *img, *lab;
  uint64_t variant;
  dp_volume *out;
  dp_status s;
} job;

static void *worker(void *arg) {
  job *j = arg;
  dp_volume *ol = NULL;
  j->s = dp_pipeline_apply(j->p, j->img, j->lab, 77, j->variant, 1, &j->out, &ol);
  dp_volume_free(ol);
  return NULL;
}

START_TEST(threads_share_one_pipeline) {
  dp_volume *img, *lab;
  phantom(&img, &lab);
  dp_pipeline *p = make(augment_text);
  enum { N = 6 };
  job jobs[N];
  pthread_t t[N];
  for (int i = 0; i < N; i++) {
    jobs[i] = (job){p, img, lab, (uint64_t)(i % 3), NULL, DP_OK};
    ck_assert_int_eq(pthread_create(&t[i], NULL, worker, &jobs[i]), 0);
  }
  for (int i = 0; i < N; i++) pthread_join(t[i], NULL);
  for (int i = 0; i < N; i++) {
    ck_assert_int_eq(jobs[i].s, DP_OK);
    dp_volume *alone = NULL, *alone_lab = NULL; /* the same variant made alone, 2 threads */
    ck_assert_int_eq(dp_pipeline_apply(p, img, lab, 77, jobs[i].variant, 2, &alone, &alone_lab), DP_OK);
    ck_assert(same(jobs[i].out, alone));
    dp_volume_free(alone);
    dp_volume_free(alone_lab);
    ck_assert(same(jobs[i].out, jobs[i % 3].out));
  }
  ck_assert(!same(jobs[0].out, jobs[1].out));
  for (int i = 0; i < N; i++) dp_volume_free(jobs[i].out);
  dp_pipeline_free(p);
  dp_volume_free(img);
  dp_volume_free(lab);
}
END_TEST

START_TEST(step_words_are_the_table) {
  const dp_step_desc *tab = dp_step_table();
  int i = 0;
  for (; tab[i].name; i++) {
    int arg = -1, setting = -1;
    const char *metavar = "x", *help = NULL;
    ck_assert_str_eq(dp_step_word(i, &arg, &setting, &metavar, &help), tab[i].name);
    ck_assert_int_eq(arg, tab[i].arg);
    ck_assert_int_eq(setting, tab[i].is_setting);
    ck_assert_ptr_eq(metavar, tab[i].metavar);
    ck_assert_ptr_eq(help, tab[i].help);
    ck_assert_str_eq(dp_step_word(i, NULL, NULL, NULL, NULL), tab[i].name);
  }
  ck_assert_int_gt(i, 20);
  ck_assert_ptr_null(dp_step_word(i, NULL, NULL, NULL, NULL));
  ck_assert_ptr_null(dp_step_word(-1, NULL, NULL, NULL, NULL));
}
END_TEST

int main(void) {
  Suite *s = suite_create("pipeline_apply");
  TCase *tc = tcase_create("pipeline_apply");
  tcase_set_timeout(tc, 120);
  tcase_add_test(tc, equals_run_and_leaves_inputs);
  tcase_add_test(tc, no_steps_and_intensity_only_give_copies);
  tcase_add_test(tc, failures_free_everything);
  tcase_add_test(tc, threads_share_one_pipeline);
  tcase_add_test(tc, step_words_are_the_table);
  suite_add_tcase(s, tc);
  return dp_test_run(s);
}
