/* Evaluation through the C ABI: the values of the Rust documentation's
 * examples, the unlinkability curve into a caller buffer, and the refusal
 * of bad scores (BTP_RESULT_INVALID_SCORES), bad parameters, NULL and too
 * small buffers. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#include "harness.h"

static void test_eer(void) {
  const double genuine[] = {0.6, 0.7, 0.8, 0.9};
  const double impostor[] = {0.1, 0.2, 0.3, 0.65};
  btp_eer e;
  CHECK_RC(btp_eval_eer(genuine, 4, impostor, 4, &e), BTP_RESULT_OK);
  CHECK(e.eer == 0.25 && e.threshold == 0.65);
  CHECK(e.fmr >= 0.0 && e.fnmr >= 0.0 && e.eer == (e.fmr + e.fnmr) / 2);

  const double bad[] = {0.5, NAN, 0.7};
  CHECK_RC(btp_eval_eer(bad, 3, impostor, 4, &e), BTP_RESULT_INVALID_SCORES);
  CHECK(strstr(btp_last_error_message(), "index 1") != NULL);
  const double inf[] = {0.5, INFINITY};
  CHECK_RC(btp_eval_eer(genuine, 4, inf, 2, &e), BTP_RESULT_INVALID_SCORES);
  CHECK_RC(btp_eval_eer(genuine, 4, NULL, 0, &e), BTP_RESULT_INVALID_SCORES);
  CHECK_RC(btp_eval_eer(NULL, 4, impostor, 4, &e), BTP_RESULT_NULL_ARGUMENT);
  CHECK_RC(btp_eval_eer(genuine, 4, impostor, 4, NULL), BTP_RESULT_NULL_ARGUMENT);
}

static void test_operating_points(void) {
  const double genuine[] = {0.35, 0.5, 0.8, 0.9};
  const double impostor[] = {0.1, 0.4, 0.6, 0.7};
  btp_operating_point p;
  CHECK_RC(btp_eval_fnmr_at_fmr(genuine, 4, impostor, 4, 0.25, &p), BTP_RESULT_OK);
  CHECK(p.threshold == 0.7 && p.fmr == 0.25 && p.fnmr == 0.5);
  CHECK(p.false_matches == 1 && p.impostors == 4 && p.false_non_matches == 2 &&
        p.genuines == 4);
  CHECK_RC(btp_eval_fnmr_at_fmr(genuine, 4, impostor, 4, 1.5, &p), BTP_RESULT_INVALID_PARAMETER);
  CHECK_RC(btp_eval_fnmr_at_fmr(genuine, 4, impostor, 4, NAN, &p), BTP_RESULT_INVALID_PARAMETER);
  CHECK_RC(btp_eval_fnmr_at_fmr(NULL, 0, impostor, 4, 0.1, &p), BTP_RESULT_INVALID_SCORES);
  CHECK_RC(btp_eval_fnmr_at_fmr(genuine, 4, impostor, 4, 0.1, NULL), BTP_RESULT_NULL_ARGUMENT);

  const double imp[] = {0.1, 0.2, 0.3, 0.3, 0.4};
  double t = -1.0, fmr = -1.0;
  CHECK_RC(btp_eval_threshold_at_fmr(imp, 5, 0.2, &t, &fmr), BTP_RESULT_OK);
  CHECK(t == 0.4 && fmr == 0.2);
  CHECK_RC(btp_eval_threshold_at_fmr(imp, 5, 0.5, &t, &fmr), BTP_RESULT_OK);
  CHECK(t == 0.4 && fmr == 0.2);
  CHECK_RC(btp_eval_threshold_at_fmr(imp, 5, 0.1, &t, &fmr), BTP_RESULT_OK);
  CHECK(t > 0.4 && t < 0.4 + 1e-15 && fmr == 0.0);
  CHECK_RC(btp_eval_threshold_at_fmr(imp, 5, -0.1, &t, &fmr), BTP_RESULT_INVALID_PARAMETER);
  CHECK_RC(btp_eval_threshold_at_fmr(imp, 0, 0.1, &t, &fmr), BTP_RESULT_INVALID_SCORES);
  CHECK_RC(btp_eval_threshold_at_fmr(imp, 5, 0.1, NULL, &fmr), BTP_RESULT_NULL_ARGUMENT);
  CHECK_RC(btp_eval_threshold_at_fmr(imp, 5, 0.1, &t, NULL), BTP_RESULT_NULL_ARGUMENT);
}

static void test_unlinkability(void) {
  enum { N = 301, BINS = 50 };
  double mated[N], nonmated[N];
  for (int i = 0; i < N; i++) {
    mated[i] = 0.6 + i * 0.001;
    nonmated[i] = 0.1 + i * 0.001;
  }
  double d_sys = -1.0, d_local[BINS], centres[BINS];
  /* D_sys alone. */
  CHECK_RC(btp_eval_unlinkability(mated, N, nonmated, N, BINS, NAN, NAN, 1.0, &d_sys, NULL, NULL, 0),
           BTP_RESULT_OK);
  CHECK(d_sys > 0.9 && d_sys <= 1.0);
  /* With the local curve and the bin centres. */
  double again = -1.0;
  CHECK_RC(btp_eval_unlinkability(mated, N, nonmated, N, BINS, NAN, NAN, 1.0, &again, d_local,
                                  centres, BINS),
           BTP_RESULT_OK);
  CHECK(again == d_sys);
  int binary = 1, ascending = 1;
  for (int i = 0; i < BINS; i++) {
    binary &= d_local[i] == 0.0 || d_local[i] == 1.0;
    if (i > 0) ascending &= centres[i] > centres[i - 1];
  }
  CHECK(binary && ascending && centres[0] > 0.1 && centres[BINS - 1] < 0.9);
  /* Identical distributions are (nearly) unlinkable. */
  CHECK_RC(btp_eval_unlinkability(mated, N, mated, N, BINS, NAN, NAN, 1.0, &d_sys, NULL, NULL, 0),
           BTP_RESULT_OK);
  CHECK(d_sys < 0.05);
  /* An explicit range. */
  CHECK_RC(btp_eval_unlinkability(mated, N, nonmated, N, BINS, 0.0, 1.0, 1.0, &d_sys, NULL, NULL, 0),
           BTP_RESULT_OK);

  /* Too small a curve buffer: refused before any work, nothing written. */
  d_local[0] = -7.0;
  CHECK_RC(btp_eval_unlinkability(mated, N, nonmated, N, BINS, NAN, NAN, 1.0, &d_sys, d_local,
                                  NULL, BINS - 1),
           BTP_RESULT_BUFFER_TOO_SMALL);
  CHECK(d_local[0] == -7.0);
  CHECK_RC(btp_eval_unlinkability(mated, N, nonmated, N, BINS, NAN, NAN, 1.0, &d_sys, NULL,
                                  centres, 3),
           BTP_RESULT_BUFFER_TOO_SMALL);
  /* Bad scores and parameters. */
  double bad[N];
  memcpy(bad, mated, sizeof bad);
  bad[17] = NAN;
  CHECK_RC(btp_eval_unlinkability(bad, N, nonmated, N, BINS, NAN, NAN, 1.0, &d_sys, NULL, NULL, 0),
           BTP_RESULT_INVALID_SCORES);
  CHECK(strstr(btp_last_error_message(), "index 17") != NULL);
  const double same[] = {0.5, 0.5};
  CHECK_RC(btp_eval_unlinkability(same, 2, same, 2, BINS, NAN, NAN, 1.0, &d_sys, NULL, NULL, 0),
           BTP_RESULT_INVALID_SCORES);
  CHECK_RC(btp_eval_unlinkability(mated, N, nonmated, N, BINS, 0.0, 0.2, 1.0, &d_sys, NULL, NULL, 0),
           BTP_RESULT_INVALID_SCORES); /* no mated score in range */
  CHECK_RC(btp_eval_unlinkability(mated, N, nonmated, N, 1, NAN, NAN, 1.0, &d_sys, NULL, NULL, 0),
           BTP_RESULT_INVALID_PARAMETER);
  CHECK_RC(btp_eval_unlinkability(mated, N, nonmated, N, BINS, NAN, 1.0, 1.0, &d_sys, NULL, NULL, 0),
           BTP_RESULT_INVALID_PARAMETER);
  CHECK_RC(btp_eval_unlinkability(mated, N, nonmated, N, BINS, 1.0, 0.0, 1.0, &d_sys, NULL, NULL, 0),
           BTP_RESULT_INVALID_PARAMETER);
  CHECK_RC(btp_eval_unlinkability(mated, N, nonmated, N, BINS, NAN, NAN, 0.0, &d_sys, NULL, NULL, 0),
           BTP_RESULT_INVALID_PARAMETER);
  CHECK_RC(btp_eval_unlinkability(mated, N, NULL, N, BINS, NAN, NAN, 1.0, &d_sys, NULL, NULL, 0),
           BTP_RESULT_NULL_ARGUMENT);
  CHECK_RC(btp_eval_unlinkability(mated, N, nonmated, N, BINS, NAN, NAN, 1.0, NULL, NULL, NULL, 0),
           BTP_RESULT_NULL_ARGUMENT);
}

/* Scores of protected templates: genuine pairs score above impostors. */
static void test_protected_scores(void) {
  enum { DIM = 32, PEOPLE = 6 };
  uint8_t kb[32];
  memset(kb, 3, sizeof kb);
  btp_master_key *k = NULL;
  btp_params *p = NULL;
  btp_protector *prot = NULL;
  CHECK_RC(btp_master_key_from_bytes(kb, sizeof kb, &k), BTP_RESULT_OK);
  CHECK_RC(btp_params_iom_grp(DIM, 256, 16, &p), BTP_RESULT_OK);
  CHECK_RC(btp_protector_new(p, k, "eval", 1, NULL, 0, &prot), BTP_RESULT_OK);
  btp_template *a[PEOPLE], *b[PEOPLE];
  for (int s = 0; s < PEOPLE; s++) {
    float x[DIM], y[DIM];
    for (int i = 0; i < DIM; i++) {
      x[i] = (float)sin(i * (0.3 + 0.17 * s) + s);
      y[i] = x[i] + 0.05f * (float)cos(i * 1.3 + s);
    }
    a[s] = b[s] = NULL;
    CHECK_RC(btp_protector_protect(prot, x, DIM, &a[s]), BTP_RESULT_OK);
    CHECK_RC(btp_protector_protect(prot, y, DIM, &b[s]), BTP_RESULT_OK);
  }
  double genuine[PEOPLE], impostor[PEOPLE * (PEOPLE - 1)];
  size_t ni = 0;
  for (int s = 0; s < PEOPLE; s++)
    for (int t = 0; t < PEOPLE; t++) {
      double score = -1.0;
      CHECK_RC(btp_protector_compare(prot, a[s], b[t], &score), BTP_RESULT_OK);
      if (s == t)
        genuine[s] = score;
      else
        impostor[ni++] = score;
    }
  btp_eer e;
  CHECK_RC(btp_eval_eer(genuine, PEOPLE, impostor, ni, &e), BTP_RESULT_OK);
  CHECK(e.eer == 0.0);
  for (int s = 0; s < PEOPLE; s++) {
    btp_template_free(a[s]);
    btp_template_free(b[s]);
  }
  btp_protector_free(prot);
  btp_params_free(p);
  btp_master_key_free(k);
}

int main(void) {
  test_eer();
  test_operating_points();
  test_unlinkability();
  test_protected_scores();
  return harness_report();
}
