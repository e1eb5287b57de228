/* Evaluation through the C ABI: the values of the Rust documentation's
 * examples and of the core for fixed inputs (DET and ROC as scikit-learn
 * gives them, operating points, Clopper-Pearson, CMC, FNIR/FPIR, score
 * splitting by labels, mate columns, differentials, the auditor's protocol
 * retraced step by step), the unlinkability curve into a
 * caller buffer, library arrays and curves (freed twice harmlessly), and
 * the refusal of bad scores (BTP_RESULT_INVALID_SCORES), bad parameters,
 * NULL and too small buffers. */
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
  /* With the histogram: the same measure and curve, bins + 1 edges, and
   * densities that integrate to 1. */
  btp_unlinkability u;
  CHECK_RC(btp_eval_unlinkability_details(mated, N, nonmated, N, BINS, NAN, NAN, 1.0, &u),
           BTP_RESULT_OK);
  CHECK(u.d_sys == d_sys && u.bins == BINS);
  CHECK(memcmp(u.d_local, d_local, sizeof d_local) == 0 &&
        memcmp(u.bin_centres, centres, sizeof centres) == 0);
  double area_m = 0.0, area_n = 0.0;
  for (int i = 0; i < BINS; i++) {
    area_m += u.mated_density[i] * (u.bin_edges[i + 1] - u.bin_edges[i]);
    area_n += u.nonmated_density[i] * (u.bin_edges[i + 1] - u.bin_edges[i]);
  }
  CHECK(fabs(area_m - 1.0) < 1e-9 && fabs(area_n - 1.0) < 1e-9);
  CHECK(u.bin_edges[0] == 0.1 && u.bin_edges[BINS] == mated[N - 1]);
  btp_unlinkability_free(&u);
  CHECK(u.d_local == NULL && u.bin_edges == NULL && u.bins == 0);
  btp_unlinkability_free(&u);
  btp_unlinkability_free(NULL);
  CHECK_RC(btp_eval_unlinkability_details(mated, N, nonmated, N, 1, NAN, NAN, 1.0, &u),
           BTP_RESULT_INVALID_PARAMETER);
  CHECK(u.d_local == NULL && u.bins == 0);
  CHECK_RC(btp_eval_unlinkability_details(NULL, N, nonmated, N, BINS, NAN, NAN, 1.0, &u),
           BTP_RESULT_NULL_ARGUMENT);
  CHECK_RC(btp_eval_unlinkability_details(mated, N, nonmated, N, BINS, NAN, NAN, 1.0, NULL),
           BTP_RESULT_NULL_ARGUMENT);
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

static int same_doubles(const double *a, const double *b, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (!(a[i] == b[i] || (isinf(a[i]) && isinf(b[i]) && a[i] > 0 && b[i] > 0))) return 0;
  return 1;
}

static void test_curves(void) {
  const double genuine[] = {0.35, 0.5, 0.8, 0.9};
  const double impostor[] = {0.1, 0.4, 0.6, 0.7};
  /* The values of btp::eval::det / roc (cross-checked against
   * scikit-learn's det_curve / roc_curve by tests/python). */
  const double det_fmr[] = {0.75, 0.75, 0.5, 0.5, 0.25, 0.0};
  const double det_fnmr[] = {0.0, 0.25, 0.25, 0.5, 0.5, 0.5};
  const double det_thr[] = {0.35, 0.4, 0.5, 0.6, 0.7, 0.8};
  btp_curve c;
  CHECK_RC(btp_eval_det(genuine, 4, impostor, 4, &c), BTP_RESULT_OK);
  CHECK(c.len == 6 && same_doubles(c.fmr, det_fmr, 6) && same_doubles(c.fnmr, det_fnmr, 6) &&
        same_doubles(c.thresholds, det_thr, 6));
  btp_curve_free(&c);
  CHECK(c.fmr == NULL && c.fnmr == NULL && c.thresholds == NULL && c.len == 0);
  btp_curve_free(&c); /* emptied: a second free does nothing */
  btp_curve_free(NULL);

  const double roc_fmr[] = {0.0, 0.0, 0.0, 0.25, 0.5, 0.5, 0.75, 0.75, 1.0};
  const double roc_fnmr[] = {1.0, 0.75, 0.5, 0.5, 0.5, 0.25, 0.25, 0.0, 0.0};
  const double roc_thr[] = {INFINITY, 0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.35, 0.1};
  CHECK_RC(btp_eval_roc(genuine, 4, impostor, 4, &c), BTP_RESULT_OK);
  CHECK(c.len == 9 && same_doubles(c.fmr, roc_fmr, 9) && same_doubles(c.fnmr, roc_fnmr, 9) &&
        same_doubles(c.thresholds, roc_thr, 9));
  btp_curve_free(&c);

  /* A failed call leaves an empty curve, whatever was there. */
  const double bad[] = {0.5, NAN};
  c.len = 99;
  CHECK_RC(btp_eval_det(bad, 2, impostor, 4, &c), BTP_RESULT_INVALID_SCORES);
  CHECK(c.fmr == NULL && c.len == 0);
  CHECK_RC(btp_eval_roc(genuine, 4, NULL, 0, &c), BTP_RESULT_INVALID_SCORES);
  CHECK_RC(btp_eval_roc(genuine, 4, NULL, 3, &c), BTP_RESULT_NULL_ARGUMENT);
  CHECK(c.fmr == NULL && c.len == 0);
  CHECK_RC(btp_eval_det(genuine, 4, impostor, 4, NULL), BTP_RESULT_NULL_ARGUMENT);
}

static void test_more_operating_points(void) {
  const double genuine[] = {0.35, 0.5, 0.8, 0.9};
  const double impostor[] = {0.1, 0.4, 0.6, 0.7};
  const double targets[] = {0.25, 0.5};
  btp_operating_point pts[3], one;
  CHECK_RC(btp_eval_fnmr_at_fmrs(genuine, 4, impostor, 4, targets, 2, pts, 3), BTP_RESULT_OK);
  CHECK_RC(btp_eval_fnmr_at_fmr(genuine, 4, impostor, 4, 0.25, &one), BTP_RESULT_OK);
  CHECK(memcmp(&pts[0], &one, sizeof one) == 0);
  CHECK(pts[1].threshold == 0.6 && pts[1].fnmr == 0.5);
  pts[0].threshold = -1.0;
  CHECK_RC(btp_eval_fnmr_at_fmrs(genuine, 4, impostor, 4, targets, 2, pts, 1),
           BTP_RESULT_BUFFER_TOO_SMALL);
  CHECK(pts[0].threshold == -1.0);
  const double bad_targets[] = {0.1, 1.5};
  CHECK_RC(btp_eval_fnmr_at_fmrs(genuine, 4, impostor, 4, bad_targets, 2, pts, 2),
           BTP_RESULT_INVALID_PARAMETER);
  CHECK(strstr(btp_last_error_message(), "`targets`") != NULL);
  CHECK_RC(btp_eval_fnmr_at_fmrs(genuine, 4, impostor, 4, NULL, 2, pts, 2),
           BTP_RESULT_NULL_ARGUMENT);
  CHECK_RC(btp_eval_fnmr_at_fmrs(genuine, 4, impostor, 4, targets, 2, NULL, 2),
           BTP_RESULT_NULL_ARGUMENT);
  CHECK_RC(btp_eval_fnmr_at_fmrs(genuine, 4, impostor, 4, NULL, 0, NULL, 0), BTP_RESULT_OK);

  CHECK_RC(btp_eval_operating_point(genuine, 4, impostor, 4, 0.5, &one), BTP_RESULT_OK);
  CHECK(one.threshold == 0.5 && one.fmr == 0.5 && one.fnmr == 0.25 && one.false_matches == 2 &&
        one.impostors == 4 && one.false_non_matches == 1 && one.genuines == 4);
  CHECK_RC(btp_eval_operating_point(genuine, 4, impostor, 4, NAN, &one),
           BTP_RESULT_INVALID_PARAMETER);
  CHECK_RC(btp_eval_operating_point(genuine, 4, impostor, 4, 0.5, NULL), BTP_RESULT_NULL_ARGUMENT);

  double lo = -1.0, hi = -1.0;
  CHECK_RC(btp_eval_clopper_pearson(0, 10, 0.95, &lo, &hi), BTP_RESULT_OK);
  CHECK(lo == 0.0 && fabs(hi - 0.3084971078) < 1e-9);
  CHECK_RC(btp_eval_clopper_pearson(3, 20, 0.9, &lo, &hi), BTP_RESULT_OK);
  CHECK(fabs(lo - 0.04216940788577858) < 1e-12 && fabs(hi - 0.3436638043142818) < 1e-12);
  CHECK_RC(btp_eval_clopper_pearson(0, 0, 0.95, &lo, &hi), BTP_RESULT_INVALID_PARAMETER);
  CHECK_RC(btp_eval_clopper_pearson(11, 10, 0.95, &lo, &hi), BTP_RESULT_INVALID_PARAMETER);
  CHECK_RC(btp_eval_clopper_pearson(1, 10, 1.0, &lo, &hi), BTP_RESULT_INVALID_PARAMETER);
  CHECK_RC(btp_eval_clopper_pearson(1, 10, 0.95, NULL, &hi), BTP_RESULT_NULL_ARGUMENT);
  CHECK_RC(btp_eval_clopper_pearson(1, 10, 0.95, &lo, NULL), BTP_RESULT_NULL_ARGUMENT);
}

static void test_identification(void) {
  /* Three searches of a gallery of three: mates in columns 0 and 2, the
   * third search non-mated. */
  const double s[] = {0.9, 0.1, 0.2, 0.5, 0.7, 0.5, 0.3, 0.4, 0.8};
  const int64_t mates[] = {0, 2, -1};
  double *cmc = NULL;
  size_t n = 99;
  CHECK_RC(btp_eval_cmc(s, 9, 3, mates, 3, 3, &cmc, &n), BTP_RESULT_OK);
  CHECK(n == 3 && cmc[0] == 0.5 && cmc[1] == 0.5 && cmc[2] == 1.0);
  btp_array_f64_free(cmc, n);
  CHECK_RC(btp_eval_cmc(s, 9, 3, mates, 3, SIZE_MAX, &cmc, &n), BTP_RESULT_OK);
  CHECK(n == 3); /* beyond the gallery: the gallery size */
  btp_array_f64_free(cmc, n);
  CHECK_RC(btp_eval_cmc(s, 9, 3, mates, 3, 1, &cmc, &n), BTP_RESULT_OK);
  CHECK(n == 1 && cmc[0] == 0.5);
  btp_array_f64_free(cmc, n);
  btp_array_f64_free(NULL, 5);

  btp_fnir_fpir_point p;
  CHECK_RC(btp_eval_fnir_at_fpir(s, 9, 3, mates, 3, 1, 0.0, &p), BTP_RESULT_OK);
  CHECK(p.rank == 1 && p.fnir == 0.5 && p.fpir == 0.0 && p.misses == 1 && p.mated == 2 &&
        p.false_positives == 0 && p.nonmated == 1 && p.threshold > 0.8 &&
        p.threshold < 0.8 + 1e-15);
  CHECK_RC(btp_eval_identification_point(s, 9, 3, mates, 3, 1, 0.6, &p), BTP_RESULT_OK);
  CHECK(p.threshold == 0.6 && p.fnir == 0.5 && p.fpir == 1.0 && p.false_positives == 1);
  btp_fnir_fpir_curve c;
  CHECK_RC(btp_eval_fnir_fpir_curve(s, 9, 3, mates, 3, 1, &c), BTP_RESULT_OK);
  const double thr[] = {0.8, 0.9, INFINITY}, fpir[] = {1.0, 0.0, 0.0}, fnir[] = {0.5, 0.5, 1.0};
  CHECK(c.len == 3 && same_doubles(c.thresholds, thr, 3) && same_doubles(c.fpir, fpir, 3) &&
        same_doubles(c.fnir, fnir, 3));
  btp_fnir_fpir_curve_free(&c);
  CHECK(c.thresholds == NULL && c.len == 0);
  btp_fnir_fpir_curve_free(&c);

  /* Refusals: a mate below -1, out of range, a wrong matrix size, no mated
   * search, rank 0, NaN, NULL. */
  const int64_t below[] = {0, -2, -1}, beyond[] = {0, 3, -1}, none[] = {-1, -1, -1};
  cmc = (double *)&n;
  CHECK_RC(btp_eval_cmc(s, 9, 3, below, 3, 3, &cmc, &n), BTP_RESULT_INVALID_PARAMETER);
  CHECK(cmc == NULL && n == 0);
  CHECK(strstr(btp_last_error_message(), "`mates`") != NULL);
  CHECK_RC(btp_eval_cmc(s, 9, 3, beyond, 3, 3, &cmc, &n), BTP_RESULT_INVALID_PARAMETER);
  CHECK_RC(btp_eval_cmc(s, 8, 3, mates, 3, 3, &cmc, &n), BTP_RESULT_INVALID_PARAMETER);
  CHECK_RC(btp_eval_cmc(s, 9, 3, none, 3, 3, &cmc, &n), BTP_RESULT_INVALID_SCORES);
  CHECK_RC(btp_eval_cmc(s, 9, 3, mates, 3, 0, &cmc, &n), BTP_RESULT_INVALID_PARAMETER);
  CHECK_RC(btp_eval_cmc(s, 9, 0, mates, 3, 3, &cmc, &n), BTP_RESULT_INVALID_PARAMETER);
  CHECK_RC(btp_eval_cmc(NULL, 9, 3, mates, 3, 3, &cmc, &n), BTP_RESULT_NULL_ARGUMENT);
  CHECK_RC(btp_eval_cmc(s, 9, 3, NULL, 3, 3, &cmc, &n), BTP_RESULT_NULL_ARGUMENT);
  CHECK_RC(btp_eval_cmc(s, 9, 3, mates, 3, 3, NULL, &n), BTP_RESULT_NULL_ARGUMENT);
  CHECK_RC(btp_eval_cmc(s, 9, 3, mates, 3, 3, &cmc, NULL), BTP_RESULT_NULL_ARGUMENT);
  CHECK(cmc == NULL);
  double nan_s[9];
  memcpy(nan_s, s, sizeof nan_s);
  nan_s[4] = NAN;
  CHECK_RC(btp_eval_fnir_at_fpir(nan_s, 9, 3, mates, 3, 1, 0.1, &p), BTP_RESULT_INVALID_SCORES);
  CHECK(strstr(btp_last_error_message(), "search 1") != NULL);
  CHECK_RC(btp_eval_fnir_at_fpir(s, 9, 3, mates, 3, 0, 0.1, &p), BTP_RESULT_INVALID_PARAMETER);
  CHECK_RC(btp_eval_fnir_at_fpir(s, 9, 3, mates, 3, 1, 2.0, &p), BTP_RESULT_INVALID_PARAMETER);
  CHECK_RC(btp_eval_fnir_at_fpir(s, 9, 3, mates, 3, 1, 0.1, NULL), BTP_RESULT_NULL_ARGUMENT);
  CHECK_RC(btp_eval_identification_point(s, 9, 3, mates, 3, 1, NAN, &p),
           BTP_RESULT_INVALID_PARAMETER);
  c.len = 5;
  CHECK_RC(btp_eval_fnir_fpir_curve(s, 9, 3, below, 3, 1, &c), BTP_RESULT_INVALID_PARAMETER);
  CHECK(c.thresholds == NULL && c.len == 0);
  CHECK_RC(btp_eval_fnir_fpir_curve(s, 9, 3, mates, 3, 1, NULL), BTP_RESULT_NULL_ARGUMENT);
}

static void test_labels(void) {
  /* Labels 0, 0, 1 against themselves: one genuine pair (0, 1). */
  const double s[] = {1.0, 0.9, 0.2, 0.9, 1.0, 0.3, 0.2, 0.3, 1.0};
  const uint32_t rows[] = {0, 0, 1}, two[] = {0, 1};
  double *g = NULL, *i = NULL;
  size_t ng = 9, ni = 9;
  CHECK_RC(btp_eval_split_scores(s, 9, rows, 3, NULL, 0, &g, &ng, &i, &ni), BTP_RESULT_OK);
  CHECK(ng == 1 && g[0] == 0.9 && ni == 2 && i[0] == 0.2 && i[1] == 0.3);
  btp_array_f64_free(g, ng);
  btp_array_f64_free(i, ni);
  /* The first two rows against three columns. */
  CHECK_RC(btp_eval_split_scores(s, 6, two, 2, rows, 3, &g, &ng, &i, &ni), BTP_RESULT_OK);
  CHECK(ng == 3 && g[0] == 1.0 && g[1] == 0.9 && g[2] == 0.3);
  CHECK(ni == 3 && i[0] == 0.2 && i[1] == 0.9 && i[2] == 1.0);
  btp_array_f64_free(g, ng);
  btp_array_f64_free(i, ni);
  /* Empty columns (non-NULL, length 0) differ from NULL (self). */
  CHECK_RC(btp_eval_split_scores(NULL, 0, two, 2, rows, 0, &g, &ng, &i, &ni), BTP_RESULT_OK);
  CHECK(g == NULL && ng == 0 && i == NULL && ni == 0);

  /* With pairs: a 3 x 4 matrix 0..11. */
  double m[12];
  for (int k = 0; k < 12; k++) m[k] = k;
  const uint32_t r3[] = {1, 2, 1}, c4[] = {1, 1, 2, 3};
  size_t *gp = NULL, *ip = NULL, ngp = 0, nip = 0;
  CHECK_RC(btp_eval_split_scores_with_pairs(m, 12, r3, 3, c4, 4, &g, &ng, &i, &ni, &gp, &ngp, &ip,
                                            &nip),
           BTP_RESULT_OK);
  const size_t want[] = {0, 0, 0, 1, 1, 2, 2, 0, 2, 1};
  CHECK(ng == 5 && ngp == 10 && memcmp(gp, want, sizeof want) == 0);
  CHECK(ni == 7 && nip == 14);
  int indexed = 1;
  for (size_t k = 0; k < ng; k++) indexed &= g[k] == m[gp[2 * k] * 4 + gp[2 * k + 1]];
  for (size_t k = 0; k < ni; k++) indexed &= i[k] == m[ip[2 * k] * 4 + ip[2 * k + 1]];
  CHECK(indexed);
  btp_array_f64_free(g, ng);
  btp_array_f64_free(i, ni);
  btp_array_size_free(gp, ngp);
  btp_array_size_free(ip, nip);

  /* Refusals leave (NULL, 0) in every pair. */
  CHECK_RC(btp_eval_split_scores(s, 9, two, 2, NULL, 0, &g, &ng, &i, &ni),
           BTP_RESULT_INVALID_PARAMETER);
  CHECK(g == NULL && ng == 0 && i == NULL && ni == 0);
  const double nan_s[] = {1.0, NAN, 0.5, 1.0};
  CHECK_RC(btp_eval_split_scores(nan_s, 4, two, 2, NULL, 0, &g, &ng, &i, &ni),
           BTP_RESULT_INVALID_SCORES);
  CHECK_RC(btp_eval_split_scores(s, 9, rows, 3, NULL, 2, &g, &ng, &i, &ni),
           BTP_RESULT_NULL_ARGUMENT);
  CHECK_RC(btp_eval_split_scores(s, 9, NULL, 3, NULL, 0, &g, &ng, &i, &ni),
           BTP_RESULT_NULL_ARGUMENT);
  CHECK_RC(btp_eval_split_scores(s, 9, rows, 3, NULL, 0, NULL, &ng, &i, &ni),
           BTP_RESULT_NULL_ARGUMENT);
  CHECK_RC(btp_eval_split_scores(s, 9, rows, 3, NULL, 0, &g, &ng, &i, NULL),
           BTP_RESULT_NULL_ARGUMENT);
  CHECK_RC(btp_eval_split_scores_with_pairs(m, 12, r3, 3, c4, 4, &g, &ng, &i, &ni, &gp, &ngp,
                                            NULL, &nip),
           BTP_RESULT_NULL_ARGUMENT);
  CHECK(g == NULL && ng == 0 && gp == NULL && ngp == 0);

  /* Mate columns. */
  const uint32_t probes[] = {3, 9, 1}, gallery[] = {1, 2, 3}, twice[] = {1, 1};
  int64_t *mates = NULL;
  size_t nm = 0;
  CHECK_RC(btp_eval_mate_columns(probes, 3, gallery, 3, &mates, &nm), BTP_RESULT_OK);
  CHECK(nm == 3 && mates[0] == 2 && mates[1] == -1 && mates[2] == 0);
  btp_array_i64_free(mates, nm);
  CHECK_RC(btp_eval_mate_columns(probes, 3, twice, 2, &mates, &nm), BTP_RESULT_INVALID_PARAMETER);
  CHECK(mates == NULL && nm == 0);
  CHECK_RC(btp_eval_mate_columns(probes, 3, NULL, 3, &mates, &nm), BTP_RESULT_NULL_ARGUMENT);
  CHECK_RC(btp_eval_mate_columns(probes, 3, gallery, 3, &mates, NULL), BTP_RESULT_NULL_ARGUMENT);
}

static void test_differentials(void) {
  /* The example of btp::eval::differentials: group 0 ("a") rejects a
   * genuine 0.4 and accepts an impostor 0.6; group 1 makes no error. */
  const double s[] = {0.9, 0.4, 0.2, 0.6, 0.8, 0.7, 0.1, 0.3};
  const uint8_t genuine[] = {1, 1, 0, 0, 1, 1, 0, 0};
  const uint32_t groups[] = {0, 0, 0, 0, 1, 1, 1, 1};
  btp_differentials d;
  CHECK_RC(btp_eval_differentials(s, 8, genuine, 8, groups, 8, 0.5, 0.95, 0.25, &d), BTP_RESULT_OK);
  CHECK(d.threshold == 0.5 && d.groups_len == 2 && d.garbe_alpha == 0.25);
  CHECK(d.groups[0].group == 0 && d.groups[0].fnmr.rate == 0.5 && d.groups[0].fnmr.errors == 1 &&
        d.groups[0].fnmr.trials == 2 && d.groups[0].fmr.rate == 0.5);
  CHECK(d.groups[1].group == 1 && d.groups[1].fnmr.rate == 0.0 && d.groups[1].fmr.rate == 0.0);
  double lo = -1.0, hi = -1.0;
  CHECK_RC(btp_eval_clopper_pearson(1, 2, 0.95, &lo, &hi), BTP_RESULT_OK);
  CHECK(d.groups[0].fnmr.lo == lo && d.groups[0].fnmr.hi == hi);
  CHECK(isinf(d.fnmr.max_min_ratio) && isinf(d.fmr.max_min_ratio) && d.fmr.groups == 2);
  CHECK(d.fmr.min == 0.0 && d.fmr.max == 0.5 && d.garbe >= 0.0 && d.garbe <= 1.0);
  btp_differentials_free(&d);
  CHECK(d.groups == NULL && d.groups_len == 0);
  btp_differentials_free(&d);
  btp_differentials_free(NULL);
  /* A group without genuine comparisons: its FNMR is undefined (NaN). */
  const uint8_t impostors_only[] = {1, 1, 0, 0, 0, 0, 0, 0};
  CHECK_RC(btp_eval_differentials(s, 8, impostors_only, 8, groups, 8, 0.5, 0.95, 0.25, &d),
           BTP_RESULT_OK);
  CHECK(d.groups[1].fnmr.trials == 0 && isnan(d.groups[1].fnmr.rate) &&
        isnan(d.groups[1].fnmr.lo) && d.fnmr.groups == 1 && isnan(d.fnmr.gini) && isnan(d.garbe));
  btp_differentials_free(&d);
  /* Refusals leave an empty report. */
  const uint8_t two[] = {1, 2, 0, 0, 1, 1, 0, 0};
  CHECK_RC(btp_eval_differentials(s, 8, two, 8, groups, 8, 0.5, 0.95, 0.25, &d),
           BTP_RESULT_INVALID_PARAMETER);
  CHECK(d.groups == NULL && d.groups_len == 0);
  CHECK(strstr(btp_last_error_message(), "`is_genuine`") != NULL);
  CHECK_RC(btp_eval_differentials(s, 8, genuine, 7, groups, 8, 0.5, 0.95, 0.25, &d),
           BTP_RESULT_INVALID_SCORES);
  CHECK_RC(btp_eval_differentials(s, 8, genuine, 8, groups, 8, NAN, 0.95, 0.25, &d),
           BTP_RESULT_INVALID_PARAMETER);
  CHECK_RC(btp_eval_differentials(s, 8, genuine, 8, groups, 8, 0.5, 1.0, 0.25, &d),
           BTP_RESULT_INVALID_PARAMETER);
  CHECK_RC(btp_eval_differentials(s, 8, genuine, 8, groups, 8, 0.5, 0.95, 2.0, &d),
           BTP_RESULT_INVALID_PARAMETER);
  CHECK_RC(btp_eval_differentials(s, 8, NULL, 8, groups, 8, 0.5, 0.95, 0.25, &d),
           BTP_RESULT_NULL_ARGUMENT);
  CHECK_RC(btp_eval_differentials(s, 8, genuine, 8, groups, 8, 0.5, 0.95, 0.25, NULL),
           BTP_RESULT_NULL_ARGUMENT);
}

/* The auditor's protocol equals the same steps taken through the C ABI:
 * the stolen-key scenario is the shared protector's score matrix split by
 * labels, the unlinkability is that of the linkage scores of the
 * protectors of "APP/link-a" and "APP/link-b". */
static void test_protection_report(void) {
  enum { DIM = 32, SUBJECTS = 8, SAMPLES = 3, ROWS = SUBJECTS * SAMPLES, BINS = 20 };
  static float x[ROWS * DIM];
  uint32_t labels[ROWS];
  for (int r = 0; r < ROWS; r++) {
    int s = r / SAMPLES;
    labels[r] = (uint32_t)s;
    for (int i = 0; i < DIM; i++)
      x[r * DIM + i] = (float)(sin(i * (0.3 + 0.17 * s) + s) + 0.1 * cos(i * 1.3 + r));
  }
  uint8_t kb[32];
  memset(kb, 9, sizeof kb);
  btp_master_key *k = NULL;
  btp_params *p = NULL;
  CHECK_RC(btp_master_key_from_bytes(kb, sizeof kb, &k), BTP_RESULT_OK);
  CHECK_RC(btp_params_iom_grp(DIM, 128, 16, &p), BTP_RESULT_OK);
  btp_protection_report rep;
  CHECK_RC(btp_eval_protection_report(x, ROWS * DIM, labels, ROWS, p, k, "audit", 1, 0.01, BINS,
                                      0.0, 1.0, 1.0, 1000000, &rep),
           BTP_RESULT_OK);
  CHECK(rep.code_len == 128 && rep.bins == BINS && rep.d_sys >= 0.0 && rep.d_sys <= 1.0);
  CHECK(rep.normal.genuine_pairs == SUBJECTS * 3 && rep.stolen_key.genuine_pairs == SUBJECTS * 3);
  CHECK(rep.unprotected.impostor_pairs == ROWS * (ROWS - 1) / 2 - SUBJECTS * 3);

  /* The stolen key, step by step. */
  btp_protector *shared = NULL, *a = NULL, *b = NULL;
  CHECK_RC(btp_protector_new(p, k, "audit", 1, NULL, 0, &shared), BTP_RESULT_OK);
  uint64_t *codes = NULL;
  size_t nc = 0, nm = 0, ng = 0, ni = 0;
  float *m = NULL;
  CHECK_RC(btp_protector_protect_packed(shared, x, ROWS * DIM, &codes, &nc), BTP_RESULT_OK);
  CHECK_RC(btp_protector_score_matrix(shared, codes, nc, codes, nc, &m, &nm), BTP_RESULT_OK);
  static double md[ROWS * ROWS];
  for (size_t i = 0; i < nm; i++) md[i] = m[i];
  double *g = NULL, *im = NULL;
  CHECK_RC(btp_eval_split_scores(md, nm, labels, ROWS, NULL, 0, &g, &ng, &im, &ni), BTP_RESULT_OK);
  btp_eer e;
  CHECK_RC(btp_eval_eer(g, ng, im, ni, &e), BTP_RESULT_OK);
  CHECK(ng == rep.stolen_key.genuine_pairs && ni == rep.stolen_key.impostor_pairs);
  CHECK(e.eer == rep.stolen_key.eer.eer && fabs(e.threshold - rep.stolen_key.eer.threshold) < 1e-6);
  btp_array_f64_free(g, ng);
  btp_array_f64_free(im, ni);
  btp_array_f32_free(m, nm);
  btp_array_u64_free(codes, nc);

  /* The unlinkability, step by step: the same D_sys and curve. */
  uint64_t *ca = NULL, *cb = NULL;
  size_t na = 0, nb = 0;
  CHECK_RC(btp_protector_new(p, k, "audit/link-a", 1, NULL, 0, &a), BTP_RESULT_OK);
  CHECK_RC(btp_protector_new(p, k, "audit/link-b", 1, NULL, 0, &b), BTP_RESULT_OK);
  CHECK_RC(btp_protector_protect_packed(a, x, ROWS * DIM, &ca, &na), BTP_RESULT_OK);
  CHECK_RC(btp_protector_protect_packed(b, x, ROWS * DIM, &cb, &nb), BTP_RESULT_OK);
  double *mated = NULL, *nonmated = NULL;
  size_t nmated = 0, nnon = 0;
  uint64_t total = 0;
  CHECK_RC(btp_eval_linkage_scores(a, ca, na, b, cb, nb, labels, ROWS, 1000000, &mated, &nmated,
                                   &nonmated, &nnon, &total),
           BTP_RESULT_OK);
  CHECK(nmated == rep.mated_linkage_pairs && nnon == rep.nonmated_linkage_pairs);
  double d_sys = -1.0, d_local[BINS], centres[BINS];
  CHECK_RC(btp_eval_unlinkability(mated, nmated, nonmated, nnon, BINS, 0.0, 1.0, 1.0, &d_sys,
                                  d_local, centres, BINS),
           BTP_RESULT_OK);
  CHECK(d_sys == rep.d_sys);
  CHECK(memcmp(d_local, rep.d_local, sizeof d_local) == 0 &&
        memcmp(centres, rep.bin_centres, sizeof centres) == 0);
  btp_array_f64_free(mated, nmated);
  btp_array_f64_free(nonmated, nnon);
  btp_array_u64_free(ca, na);
  btp_array_u64_free(cb, nb);
  btp_protection_report_free(&rep);
  CHECK(rep.d_local == NULL && rep.bins == 0);
  btp_protection_report_free(&rep);

  /* Refusals leave an empty report. */
  CHECK_RC(btp_eval_protection_report(x, ROWS * DIM, labels, ROWS - 1, p, k, "audit", 1, 0.01,
                                      BINS, 0.0, 1.0, 1.0, 1000, &rep),
           BTP_RESULT_INVALID_PARAMETER);
  CHECK(rep.d_local == NULL && rep.bins == 0);
  CHECK_RC(btp_eval_protection_report(x, ROWS * DIM - 1, labels, ROWS, p, k, "audit", 1, 0.01,
                                      BINS, 0.0, 1.0, 1.0, 1000, &rep),
           BTP_RESULT_WRONG_DIMENSION);
  CHECK(strstr(btp_last_error_message(), "`rows`") != NULL);
  CHECK_RC(btp_eval_protection_report(x, ROWS * DIM, labels, ROWS, p, k, "audit", 1, 2.0, BINS,
                                      0.0, 1.0, 1.0, 1000, &rep),
           BTP_RESULT_INVALID_PARAMETER);
  CHECK_RC(btp_eval_protection_report(x, ROWS * DIM, labels, ROWS, p, k, "audit", 1, 0.01, 1, 0.0,
                                      1.0, 1.0, 1000, &rep),
           BTP_RESULT_INVALID_PARAMETER);
  CHECK_RC(btp_eval_protection_report(x, ROWS * DIM, labels, ROWS, NULL, k, "audit", 1, 0.01, BINS,
                                      0.0, 1.0, 1.0, 1000, &rep),
           BTP_RESULT_NULL_ARGUMENT);
  CHECK_RC(btp_eval_protection_report(x, ROWS * DIM, labels, ROWS, p, k, NULL, 1, 0.01, BINS, 0.0,
                                      1.0, 1.0, 1000, &rep),
           BTP_RESULT_NULL_ARGUMENT);
  CHECK_RC(btp_eval_protection_report(x, ROWS * DIM, labels, ROWS, p, k, "audit", 1, 0.01, BINS,
                                      0.0, 1.0, 1.0, 1000, NULL),
           BTP_RESULT_NULL_ARGUMENT);
  btp_protector_free(a);
  btp_protector_free(b);
  btp_protector_free(shared);
  btp_params_free(p);
  btp_master_key_free(k);
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
  test_curves();
  test_more_operating_points();
  test_identification();
  test_labels();
  test_differentials();
  test_protection_report();
  test_protected_scores();
  return harness_report();
}
