/* Packed codes through the C ABI: protection into codes gives the same
 * templates as protection into handles (so the known-answer vectors hold
 * for codes too), score matrices and paired scores equal
 * btp_protector_compare, galleries filled, read and searched as codes equal
 * galleries of templates, the merge of sharded searches equals one search,
 * linkage scores, the centre of a sample and the export of a master key;
 * and the refusals: NULL, wrong
 * sizes, bad codes, another protector's gallery. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#include "harness.h"

enum { DIM = 16, N = 6 };

static btp_master_key *K;
static btp_params *P;
static btp_protector *PROT, *OTHER;
static float X[N * DIM];
static size_t W; /* words per code */

static void setup(void) {
  uint8_t kb[32];
  memset(kb, 5, sizeof kb);
  CHECK_RC(btp_master_key_from_bytes(kb, sizeof kb, &K), BTP_RESULT_OK);
  CHECK_RC(btp_params_iom_grp(DIM, 40, 4, &P), BTP_RESULT_OK);
  CHECK_RC(btp_protector_new(P, K, "codes", 1, NULL, 0, &PROT), BTP_RESULT_OK);
  CHECK_RC(btp_protector_new(P, K, "codes", 2, NULL, 0, &OTHER), BTP_RESULT_OK);
  for (int i = 0; i < N * DIM; i++) X[i] = (float)sin(i * 0.37 + (i / DIM) * 1.1);
  CHECK_RC(btp_protector_words(PROT, &W), BTP_RESULT_OK);
}

static int same_template(const btp_template *a, const btp_template *b) {
  uint8_t x[512], y[512];
  size_t nx = 0, ny = 0;
  if (btp_template_to_bytes(a, x, sizeof x, &nx) || btp_template_to_bytes(b, y, sizeof y, &ny))
    return 0;
  return nx == ny && memcmp(x, y, nx) == 0;
}

/* A generated key written out and read back is the same key: its
 * protectors have the same fingerprint. */
static void test_master_key_export(void) {
  uint8_t kb[32], back[40];
  memset(kb, 5, sizeof kb);
  size_t needed = 0;
  CHECK_RC(btp_master_key_expose_secret(K, back, sizeof back, &needed), BTP_RESULT_OK);
  CHECK(needed == 32 && memcmp(back, kb, 32) == 0);
  btp_master_key *fresh = NULL, *again = NULL;
  btp_protector *p1 = NULL, *p2 = NULL;
  CHECK_RC(btp_master_key_generate(&fresh), BTP_RESULT_OK);
  CHECK_RC(btp_master_key_expose_secret(fresh, back, 32, &needed), BTP_RESULT_OK);
  CHECK_RC(btp_master_key_from_bytes(back, 32, &again), BTP_RESULT_OK);
  CHECK_RC(btp_protector_new(P, fresh, "codes", 1, NULL, 0, &p1), BTP_RESULT_OK);
  CHECK_RC(btp_protector_new(P, again, "codes", 1, NULL, 0, &p2), BTP_RESULT_OK);
  uint8_t f1[BTP_FINGERPRINT_LEN], f2[BTP_FINGERPRINT_LEN];
  CHECK_RC(btp_protector_fingerprint(p1, f1, sizeof f1), BTP_RESULT_OK);
  CHECK_RC(btp_protector_fingerprint(p2, f2, sizeof f2), BTP_RESULT_OK);
  CHECK(memcmp(f1, f2, sizeof f1) == 0);
  memset(back, 0, sizeof back);
  CHECK_RC(btp_master_key_expose_secret(fresh, back, 31, &needed), BTP_RESULT_BUFFER_TOO_SMALL);
  CHECK(needed == 32 && back[0] == 0 && back[30] == 0);
  CHECK_RC(btp_master_key_expose_secret(fresh, NULL, 0, &needed), BTP_RESULT_BUFFER_TOO_SMALL);
  CHECK(needed == 32);
  CHECK_RC(btp_master_key_expose_secret(fresh, NULL, 32, &needed), BTP_RESULT_NULL_ARGUMENT);
  CHECK_RC(btp_master_key_expose_secret(NULL, back, 32, &needed), BTP_RESULT_NULL_ARGUMENT);
  CHECK_RC(btp_master_key_expose_secret(fresh, back, 32, NULL), BTP_RESULT_NULL_ARGUMENT);
  /* A failed call names the argument, never the key bytes. */
  CHECK(strstr(btp_last_error_message(), "`needed`") != NULL);
  btp_protector_free(p1);
  btp_protector_free(p2);
  btp_master_key_free(fresh);
  btp_master_key_free(again);
}

static void test_protect_packed(void) {
  size_t words = 0, len = 0;
  CHECK_RC(btp_protector_words(PROT, &words), BTP_RESULT_OK);
  CHECK_RC(btp_protector_code_len(PROT, &len), BTP_RESULT_OK);
  CHECK(len == 40 && words == W && words >= 1);
  uint64_t *codes = NULL;
  size_t n = 0;
  CHECK_RC(btp_protector_protect_packed(PROT, X, N * DIM, &codes, &n), BTP_RESULT_OK);
  CHECK(n == N * words);
  btp_template *batch[N];
  size_t count = 0;
  CHECK_RC(btp_protector_templates_from_codes(PROT, codes, n, batch, N, &count), BTP_RESULT_OK);
  CHECK(count == N);
  for (int i = 0; i < N; i++) {
    btp_template *t = NULL, *u = NULL;
    CHECK_RC(btp_protector_protect(PROT, X + i * DIM, DIM, &t), BTP_RESULT_OK);
    CHECK_RC(btp_protector_template_from_code(PROT, codes + i * words, words, &u), BTP_RESULT_OK);
    CHECK(same_template(t, u) && same_template(t, batch[i]));
    btp_template_free(t);
    btp_template_free(u);
    btp_template_free(batch[i]);
  }
  /* Elements: one byte each, inside the alphabet of 4. */
  uint8_t *el = NULL;
  size_t nel = 0;
  CHECK_RC(btp_protector_unpack(PROT, codes, n, &el, &nel), BTP_RESULT_OK);
  int inside = nel == N * len;
  for (size_t i = 0; i < nel; i++) inside &= el[i] < 4;
  CHECK(inside);
  btp_bytes_free(el, nel);

  /* Refusals. */
  uint64_t *none = codes;
  size_t zero = 7;
  CHECK_RC(btp_protector_protect_packed(PROT, X, N * DIM - 1, &none, &zero),
           BTP_RESULT_WRONG_DIMENSION);
  CHECK(none == NULL && zero == 0);
  CHECK(strstr(btp_last_error_message(), "`rows`") != NULL);
  float nan_x[DIM];
  memcpy(nan_x, X, sizeof nan_x);
  nan_x[3] = NAN;
  CHECK_RC(btp_protector_protect_packed(PROT, nan_x, DIM, &none, &zero), BTP_RESULT_NON_FINITE);
  CHECK_RC(btp_protector_protect_packed(NULL, X, DIM, &none, &zero), BTP_RESULT_NULL_ARGUMENT);
  CHECK_RC(btp_protector_protect_packed(PROT, NULL, DIM, &none, &zero), BTP_RESULT_NULL_ARGUMENT);
  CHECK_RC(btp_protector_protect_packed(PROT, X, DIM, NULL, &zero), BTP_RESULT_NULL_ARGUMENT);
  CHECK_RC(btp_protector_protect_packed(PROT, X, DIM, &none, NULL), BTP_RESULT_NULL_ARGUMENT);
  CHECK_RC(btp_protector_protect_packed(PROT, NULL, 0, &none, &zero), BTP_RESULT_OK);
  CHECK(none == NULL && zero == 0); /* no rows: no codes */
  uint64_t bad[8]; /* every bit set: padding and elements outside the alphabet */
  memset(bad, 0xff, sizeof bad);
  btp_template *t = (btp_template *)bad;
  CHECK_RC(btp_protector_template_from_code(PROT, bad, W, &t), BTP_RESULT_DECODE);
  CHECK(t == NULL);
  CHECK(strstr(btp_last_error_message(), "`code`") != NULL);
  CHECK_RC(btp_protector_template_from_code(PROT, codes, W + 1, &t), BTP_RESULT_DECODE);
  CHECK_RC(btp_protector_template_from_code(PROT, codes, W, NULL), BTP_RESULT_NULL_ARGUMENT);
  uint64_t two_bad[16]; /* a good code, then a bad one */
  memcpy(two_bad, codes, W * sizeof *codes);
  memset(two_bad + W, 0xff, W * sizeof *codes);
  batch[0] = batch[1] = (btp_template *)bad;
  CHECK_RC(btp_protector_templates_from_codes(PROT, two_bad, 2 * W, batch, N, &count),
           BTP_RESULT_DECODE);
  CHECK(batch[0] == NULL && batch[1] == NULL);
  CHECK(strstr(btp_last_error_message(), "row 1") != NULL);
  CHECK_RC(btp_protector_templates_from_codes(PROT, codes, n, batch, N - 1, &count),
           BTP_RESULT_BUFFER_TOO_SMALL);
  CHECK(count == N && batch[0] == NULL);
  CHECK_RC(btp_protector_unpack(PROT, two_bad, 2 * W, &el, &nel), BTP_RESULT_DECODE);
  CHECK(el == NULL && nel == 0);
  CHECK_RC(btp_protector_unpack(PROT, codes, W + 1, &el, &nel), BTP_RESULT_INVALID_PARAMETER);
  CHECK(strstr(btp_last_error_message(), "multiple") != NULL);
  btp_array_u64_free(codes, n);
  btp_array_u64_free(NULL, 3);
}

static void test_score_matrix(void) {
  size_t words = W, n = 0;
  uint64_t *codes = NULL;
  CHECK_RC(btp_protector_protect_packed(PROT, X, N * DIM, &codes, &n), BTP_RESULT_OK);
  btp_template *t[N];
  size_t count = 0;
  CHECK_RC(btp_protector_templates_from_codes(PROT, codes, n, t, N, &count), BTP_RESULT_OK);
  float *m = NULL;
  size_t nm = 0;
  /* The first 4 codes against all 6. */
  CHECK_RC(btp_protector_score_matrix(PROT, codes, 4 * words, codes, n, &m, &nm), BTP_RESULT_OK);
  CHECK(nm == 4 * N);
  int equal = 1;
  for (int i = 0; i < 4; i++)
    for (int j = 0; j < N; j++) {
      double s = -1.0;
      equal &= btp_protector_compare(PROT, t[i], t[j], &s) == BTP_RESULT_OK;
      equal &= m[i * N + j] == (float)s;
    }
  CHECK(equal);
  CHECK(m[0] == 1.0f && m[N + 1] == 1.0f);
  float *pairs = NULL;
  size_t np = 0;
  CHECK_RC(btp_protector_paired_scores(PROT, codes, 4 * words, codes + 2 * words, 4 * words, &pairs,
                                       &np),
           BTP_RESULT_OK);
  CHECK(np == 4 && pairs[0] == m[2] && pairs[1] == m[N + 3] && pairs[3] == m[3 * N + 5]);
  btp_array_f32_free(pairs, np);
  btp_array_f32_free(m, nm);

  /* An empty side gives an empty matrix; mismatched sizes are refused. */
  CHECK_RC(btp_protector_score_matrix(PROT, codes, n, NULL, 0, &m, &nm), BTP_RESULT_OK);
  CHECK(m == NULL && nm == 0);
  CHECK_RC(btp_protector_paired_scores(PROT, codes, n, codes, 2 * W, &pairs, &np),
           BTP_RESULT_INVALID_PARAMETER);
  CHECK(pairs == NULL && np == 0);
  uint64_t bad[16];
  memset(bad, 0xff, sizeof bad);
  CHECK_RC(btp_protector_score_matrix(PROT, codes, n, bad, W, &m, &nm), BTP_RESULT_DECODE);
  CHECK(m == NULL && nm == 0);
  CHECK_RC(btp_protector_score_matrix(PROT, NULL, W, codes, n, &m, &nm), BTP_RESULT_NULL_ARGUMENT);
  CHECK_RC(btp_protector_score_matrix(PROT, codes, n, codes, n, NULL, &nm),
           BTP_RESULT_NULL_ARGUMENT);
  CHECK_RC(btp_protector_score_matrix(NULL, codes, n, codes, n, &m, &nm), BTP_RESULT_NULL_ARGUMENT);
  for (int i = 0; i < N; i++) btp_template_free(t[i]);
  btp_array_u64_free(codes, n);
}

static void test_gallery_codes(void) {
  uint64_t *codes = NULL;
  size_t n = 0;
  CHECK_RC(btp_protector_protect_packed(PROT, X, N * DIM, &codes, &n), BTP_RESULT_OK);
  const uint64_t ids[N] = {10, 11, 12, 13, 14, 15};
  btp_gallery *g = NULL, *h = NULL, *whole = NULL;
  CHECK_RC(btp_gallery_new(PROT, &g), BTP_RESULT_OK);
  CHECK_RC(btp_gallery_add_packed(g, PROT, ids, N, codes, n), BTP_RESULT_OK);
  CHECK_RC(btp_gallery_remove(g, 12), BTP_RESULT_OK);
  bool present = true;
  CHECK_RC(btp_gallery_contains(g, 12, &present), BTP_RESULT_OK);
  CHECK(!present);
  CHECK_RC(btp_gallery_contains(g, 13, &present), BTP_RESULT_OK);
  CHECK(present);

  /* Read back as codes and rebuilt: the same searches. */
  uint64_t *gids = NULL, *gcodes = NULL;
  size_t ngids = 0, ngcodes = 0;
  CHECK_RC(btp_gallery_codes(g, &gids, &ngids, &gcodes, &ngcodes), BTP_RESULT_OK);
  CHECK(ngids == N - 1 && ngcodes == (N - 1) * W);
  CHECK_RC(btp_gallery_new(PROT, &h), BTP_RESULT_OK);
  CHECK_RC(btp_gallery_add_packed(h, PROT, gids, ngids, gcodes, ngcodes), BTP_RESULT_OK);
  btp_candidate a[3 * 2], b[3 * 2];
  size_t fa[2], fb[2];
  CHECK_RC(btp_gallery_search_packed(g, PROT, codes, 2 * W, 3, NAN, a, 6, fa, 2), BTP_RESULT_OK);
  CHECK_RC(btp_gallery_search_packed(h, PROT, codes, 2 * W, 3, NAN, b, 6, fb, 2), BTP_RESULT_OK);
  CHECK(fa[0] == 3 && fb[0] == 3 && memcmp(a, b, sizeof a) == 0);
  CHECK(a[0].id == 10 && a[0].score == 1.0 && a[3].id == 11 && a[3].score == 1.0);
  /* The same as a batch search of templates. */
  btp_template *probes[2];
  size_t count = 0;
  CHECK_RC(btp_protector_templates_from_codes(PROT, codes, 2 * W, probes, 2, &count), BTP_RESULT_OK);
  CHECK_RC(btp_gallery_search_batch(g, (const btp_template *const *)probes, 2, 3, NAN, b, 6, fb, 2),
           BTP_RESULT_OK);
  CHECK(memcmp(a, b, sizeof a) == 0 && fa[1] == fb[1]);

  /* Get, scores in storage order, threads. */
  btp_template *got = NULL;
  CHECK_RC(btp_gallery_get(g, 10, &got), BTP_RESULT_OK);
  CHECK(same_template(got, probes[0]));
  btp_template_free(got);
  got = probes[0];
  CHECK_RC(btp_gallery_get(g, 12, &got), BTP_RESULT_NOT_FOUND);
  CHECK(got == NULL);
  double *scores = NULL;
  size_t ns = 0;
  CHECK_RC(btp_gallery_scores(g, probes[1], &scores, &ns), BTP_RESULT_OK);
  CHECK(ns == N - 1 && gids[1] == 11 && scores[1] == 1.0);
  int agree = 1;
  for (size_t i = 0; i < ns; i++) {
    btp_template *e = NULL;
    double s = -1.0;
    agree &= btp_gallery_get(g, gids[i], &e) == BTP_RESULT_OK;
    agree &= btp_protector_compare(PROT, e, probes[1], &s) == BTP_RESULT_OK && s == scores[i];
    btp_template_free(e);
  }
  CHECK(agree);
  btp_array_f64_free(scores, ns);
  size_t threads = 9;
  CHECK_RC(btp_gallery_threads(g, &threads), BTP_RESULT_OK);
  CHECK(threads == 0);
  CHECK_RC(btp_gallery_set_threads(g, 3), BTP_RESULT_OK);
  CHECK_RC(btp_gallery_threads(g, &threads), BTP_RESULT_OK);
  CHECK(threads == 3);

  /* Shards: the merge of their results is one search of the whole. */
  btp_gallery *s1 = NULL, *s2 = NULL;
  CHECK_RC(btp_gallery_new(PROT, &whole), BTP_RESULT_OK);
  CHECK_RC(btp_gallery_new(PROT, &s1), BTP_RESULT_OK);
  CHECK_RC(btp_gallery_new(PROT, &s2), BTP_RESULT_OK);
  CHECK_RC(btp_gallery_add_packed(whole, PROT, ids, N, codes, n), BTP_RESULT_OK);
  CHECK_RC(btp_gallery_add_packed(s1, PROT, ids, 2, codes, 2 * W), BTP_RESULT_OK);
  CHECK_RC(btp_gallery_add_packed(s2, PROT, ids + 2, N - 2, codes + 2 * W, n - 2 * W), BTP_RESULT_OK);
  btp_candidate one[4], parts[8], merged[4];
  size_t f1 = 0, f2 = 0, f3 = 0, fm = 0;
  CHECK_RC(btp_gallery_search_packed(whole, PROT, codes + 4 * W, W, 4, NAN, one, 4, &f1, 1),
           BTP_RESULT_OK);
  CHECK_RC(btp_gallery_search_packed(s1, PROT, codes + 4 * W, W, 4, NAN, parts, 4, &f2, 1),
           BTP_RESULT_OK);
  CHECK_RC(btp_gallery_search_packed(s2, PROT, codes + 4 * W, W, 4, NAN, parts + f2, 4, &f3, 1),
           BTP_RESULT_OK);
  CHECK_RC(btp_candidates_merge(parts, f2 + f3, 4, merged, 4, &fm), BTP_RESULT_OK);
  CHECK(fm == f1 && f1 == 4 && memcmp(one, merged, sizeof one) == 0);
  CHECK_RC(btp_candidates_merge(parts, f2 + f3, 4, merged, 3, &fm), BTP_RESULT_BUFFER_TOO_SMALL);
  CHECK(fm == 4);
  CHECK_RC(btp_candidates_merge(parts, f2 + f3, 0, merged, 4, &fm), BTP_RESULT_INVALID_PARAMETER);
  parts[1].score = NAN;
  CHECK_RC(btp_candidates_merge(parts, f2 + f3, 4, merged, 4, &fm), BTP_RESULT_INVALID_SCORES);
  CHECK_RC(btp_candidates_merge(NULL, 2, 4, merged, 4, &fm), BTP_RESULT_NULL_ARGUMENT);
  CHECK_RC(btp_candidates_merge(NULL, 0, 4, NULL, 0, &fm), BTP_RESULT_OK);
  CHECK(fm == 0);

  btp_array_u64_free(gids, ngids);
  btp_array_u64_free(gcodes, ngcodes);

  /* Refusals: another protector, sizes, bad codes, duplicates, NULL. */
  CHECK_RC(btp_gallery_add_packed(h, OTHER, ids, 1, codes, W), BTP_RESULT_KEY_MISMATCH);
  CHECK_RC(btp_gallery_add_packed(h, PROT, ids, 2, codes, 3 * W), BTP_RESULT_INVALID_PARAMETER);
  CHECK_RC(btp_gallery_add_packed(h, PROT, ids, 1, codes, W), BTP_RESULT_DUPLICATE_ID);
  const uint64_t fresh[2] = {100, 101};
  uint64_t bad[16]; /* a good code, then a bad one */
  memcpy(bad, codes, W * sizeof *codes);
  memset(bad + W, 0xff, W * sizeof *codes);
  CHECK_RC(btp_gallery_add_packed(h, PROT, fresh, 2, bad, 2 * W), BTP_RESULT_DECODE);
  CHECK_RC(btp_gallery_contains(h, 100, &present), BTP_RESULT_OK);
  CHECK(!present); /* all or nothing */
  CHECK_RC(btp_gallery_add_packed(h, PROT, fresh, 2, NULL, 2 * W), BTP_RESULT_NULL_ARGUMENT);
  CHECK_RC(btp_gallery_add_packed(NULL, PROT, fresh, 2, codes, 2 * W), BTP_RESULT_NULL_ARGUMENT);
  CHECK_RC(btp_gallery_search_packed(g, OTHER, codes, 2 * W, 3, NAN, a, 6, fa, 2),
           BTP_RESULT_KEY_MISMATCH);
  CHECK_RC(btp_gallery_search_packed(g, PROT, codes, 2 * W, 3, NAN, a, 5, fa, 2),
           BTP_RESULT_BUFFER_TOO_SMALL);
  CHECK_RC(btp_gallery_search_packed(g, PROT, codes, 2 * W, 3, NAN, a, 6, fa, 1),
           BTP_RESULT_BUFFER_TOO_SMALL);
  CHECK_RC(btp_gallery_search_packed(g, PROT, bad, 2 * W, 3, NAN, a, 6, fa, 2), BTP_RESULT_DECODE);
  CHECK_RC(btp_gallery_search_packed(g, PROT, codes, 2 * W, SIZE_MAX, NAN, a, 6, fa, 2),
           BTP_RESULT_INVALID_PARAMETER);
  CHECK_RC(btp_gallery_search_packed(g, PROT, codes, 2 * W, 3, NAN, NULL, 6, fa, 2),
           BTP_RESULT_NULL_ARGUMENT);
  CHECK_RC(btp_gallery_codes(g, &gids, &ngids, NULL, &ngcodes), BTP_RESULT_NULL_ARGUMENT);
  CHECK(gids == NULL && ngids == 0);
  CHECK_RC(btp_gallery_codes(NULL, &gids, &ngids, &gcodes, &ngcodes), BTP_RESULT_NULL_ARGUMENT);
  CHECK(gcodes == NULL && ngcodes == 0);
  CHECK_RC(btp_gallery_scores(g, NULL, &scores, &ns), BTP_RESULT_NULL_ARGUMENT);
  CHECK(scores == NULL && ns == 0);
  CHECK_RC(btp_gallery_get(g, 10, NULL), BTP_RESULT_NULL_ARGUMENT);
  CHECK_RC(btp_gallery_contains(g, 10, NULL), BTP_RESULT_NULL_ARGUMENT);
  CHECK_RC(btp_gallery_threads(NULL, &threads), BTP_RESULT_NULL_ARGUMENT);

  btp_gallery_free(s1);
  btp_gallery_free(s2);
  btp_gallery_free(whole);
  btp_template_free(probes[0]);
  btp_template_free(probes[1]);
  btp_gallery_free(h);
  btp_gallery_free(g);
  btp_array_u64_free(codes, n);
}

static void test_linkage_and_centre(void) {
  btp_protector *a = NULL, *b = NULL, *wide = NULL;
  btp_params *p8 = NULL;
  CHECK_RC(btp_protector_new(P, K, "app-a", 1, NULL, 0, &a), BTP_RESULT_OK);
  CHECK_RC(btp_protector_new(P, K, "app-b", 1, NULL, 0, &b), BTP_RESULT_OK);
  CHECK_RC(btp_params_iom_grp(DIM, 40, 8, &p8), BTP_RESULT_OK);
  CHECK_RC(btp_protector_new(p8, K, "app-b", 1, NULL, 0, &wide), BTP_RESULT_OK);
  uint64_t *ca = NULL, *cb = NULL;
  size_t na = 0, nb = 0;
  CHECK_RC(btp_protector_protect_packed(a, X, N * DIM, &ca, &na), BTP_RESULT_OK);
  CHECK_RC(btp_protector_protect_packed(b, X, N * DIM, &cb, &nb), BTP_RESULT_OK);
  const uint32_t labels[N] = {0, 0, 0, 1, 1, 2};
  double *mated = NULL, *nonmated = NULL;
  size_t nm = 0, nn = 0;
  uint64_t total = 0;
  CHECK_RC(btp_eval_linkage_scores(a, ca, na, b, cb, nb, labels, N, SIZE_MAX, &mated, &nm,
                                   &nonmated, &nn, &total),
           BTP_RESULT_OK);
  /* Mated: 3 * 2 + 2 * 1 ordered pairs; non-mated: 6 * 6 - 6 - 8. */
  CHECK(nm == 8 && nn == 22 && total == 22);
  /* Mated pair (0, 1) and non-mated pair (0, 3), as score matrices of
   * the two protectors' templates give them. */
  btp_template *t0 = NULL, *u1 = NULL, *u3 = NULL;
  CHECK_RC(btp_protector_template_from_code(a, ca, W, &t0), BTP_RESULT_OK);
  CHECK_RC(btp_protector_template_from_code(b, cb + W, W, &u1), BTP_RESULT_OK);
  CHECK_RC(btp_protector_template_from_code(b, cb + 3 * W, W, &u3), BTP_RESULT_OK);
  double s01 = -1.0, s03 = -1.0;
  CHECK_RC(btp_protector_compare(a, t0, t0, &s01), BTP_RESULT_OK);
  CHECK(s01 == 1.0);
  /* Across protectors, compare would refuse (another key): the linkage
   * score is the code similarity, which the paired scores give. */
  float *pair = NULL;
  size_t npair = 0;
  uint64_t both[32];
  memcpy(both, ca, W * sizeof *ca);
  memcpy(both + W, ca, W * sizeof *ca);
  uint64_t other[32];
  memcpy(other, cb + W, W * sizeof *cb);
  memcpy(other + W, cb + 3 * W, W * sizeof *cb);
  CHECK_RC(btp_protector_paired_scores(a, both, 2 * W, other, 2 * W, &pair, &npair), BTP_RESULT_OK);
  s01 = pair[0];
  s03 = pair[1];
  CHECK(npair == 2 && (float)mated[0] == s01 && (float)nonmated[0] == s03);
  btp_array_f32_free(pair, npair);
  CHECK_RC(btp_protector_compare(a, t0, u1, &s01), BTP_RESULT_KEY_MISMATCH);
  btp_array_f64_free(mated, nm);
  btp_array_f64_free(nonmated, nn);
  CHECK_RC(btp_eval_linkage_scores(a, ca, na, b, cb, nb, labels, N, 8, &mated, &nm, &nonmated,
                                   &nn, &total),
           BTP_RESULT_OK);
  CHECK(nm == 8 && nn == 8 && total == 22);
  btp_array_f64_free(mated, nm);
  btp_array_f64_free(nonmated, nn);
  btp_template_free(t0);
  btp_template_free(u1);
  btp_template_free(u3);
  /* Refusals. */
  CHECK_RC(btp_eval_linkage_scores(a, ca, na, wide, cb, nb, labels, N, 10, &mated, &nm, &nonmated,
                                   &nn, &total),
           BTP_RESULT_SCHEME_MISMATCH);
  CHECK(mated == NULL && nm == 0 && nonmated == NULL && nn == 0);
  CHECK_RC(btp_eval_linkage_scores(a, ca, na, b, cb, nb, labels, N - 1, 10, &mated, &nm, &nonmated,
                                   &nn, &total),
           BTP_RESULT_INVALID_PARAMETER);
  CHECK_RC(btp_eval_linkage_scores(a, ca, na, b, cb, nb, labels, N, 0, &mated, &nm, &nonmated, &nn,
                                   &total),
           BTP_RESULT_INVALID_PARAMETER);
  CHECK_RC(btp_eval_linkage_scores(a, ca, na, NULL, cb, nb, labels, N, 10, &mated, &nm, &nonmated,
                                   &nn, &total),
           BTP_RESULT_NULL_ARGUMENT);
  CHECK_RC(btp_eval_linkage_scores(a, ca, na, b, cb, nb, labels, N, 10, &mated, &nm, &nonmated,
                                   &nn, NULL),
           BTP_RESULT_NULL_ARGUMENT);
  btp_array_u64_free(ca, na);
  btp_array_u64_free(cb, nb);
  btp_protector_free(a);
  btp_protector_free(b);
  btp_protector_free(wide);
  btp_params_free(p8);

  /* The centre: the mean of the rows, usable by btp_params_with_centre. */
  const float rows[] = {1.0f, 2.0f, 3.0f, 3.0f, 4.0f, 5.0f};
  float *centre = NULL;
  size_t nc = 0;
  CHECK_RC(btp_fit_centre(rows, 6, 3, &centre, &nc), BTP_RESULT_OK);
  CHECK(nc == 3 && centre[0] == 2.0f && centre[1] == 3.0f && centre[2] == 4.0f);
  btp_array_f32_free(centre, nc);
  CHECK_RC(btp_fit_centre(X, N * DIM, DIM, &centre, &nc), BTP_RESULT_OK);
  btp_params *centred = NULL;
  CHECK_RC(btp_params_with_centre(P, centre, nc, &centred), BTP_RESULT_OK);
  btp_params_free(centred);
  btp_array_f32_free(centre, nc);
  CHECK_RC(btp_fit_centre(rows, 5, 3, &centre, &nc), BTP_RESULT_WRONG_DIMENSION);
  CHECK(centre == NULL && nc == 0);
  CHECK_RC(btp_fit_centre(NULL, 0, 3, &centre, &nc), BTP_RESULT_INVALID_PARAMETER);
  CHECK_RC(btp_fit_centre(rows, 6, 0, &centre, &nc), BTP_RESULT_WRONG_DIMENSION);
  CHECK_RC(btp_fit_centre(rows, 6, 3, NULL, &nc), BTP_RESULT_NULL_ARGUMENT);
}

int main(void) {
  setup();
  test_master_key_export();
  test_protect_packed();
  test_score_matrix();
  test_gallery_codes();
  test_linkage_and_centre();
  btp_protector_free(OTHER);
  btp_protector_free(PROT);
  btp_params_free(P);
  btp_master_key_free(K);
  return harness_report();
}
