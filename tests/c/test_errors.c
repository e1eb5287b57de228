/* The error contract of the C ABI: every code has a distinct readable
 * message, NULL and wrong sizes are refused, a template of another key is
 * a key mismatch, too small a buffer reports the size needed, failed
 * constructors leave NULL, *_free accepts NULL, library buffers hold the
 * same bytes as caller buffers. The store's and evaluation's codes are
 * provoked in test_store.c and test_eval.c. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#include "harness.h"

#define DIM 64

static btp_master_key *key_of(uint8_t fill) {
  uint8_t bytes[32];
  memset(bytes, fill, sizeof bytes);
  btp_master_key *k = NULL;
  CHECK_RC(btp_master_key_from_bytes(bytes, sizeof bytes, &k), BTP_RESULT_OK);
  return k;
}

static btp_protector *protector_of(const btp_params *p, const btp_master_key *k,
                                   uint32_t version) {
  btp_protector *prot = NULL;
  CHECK_RC(btp_protector_new(p, k, "gate-A", version, NULL, 0, &prot), BTP_RESULT_OK);
  return prot;
}

static void features(float *x, size_t n, float phase) {
  for (size_t i = 0; i < n; i++) x[i] = (float)sin((double)i * 0.7 + phase);
}

static void test_codes_and_messages(void) {
  const uint32_t codes[] = {
      BTP_RESULT_OK, BTP_RESULT_NULL_ARGUMENT, BTP_RESULT_INVALID_PARAMETER,
      BTP_RESULT_INVALID_KEY_LENGTH, BTP_RESULT_WRONG_DIMENSION, BTP_RESULT_NON_FINITE,
      BTP_RESULT_ZERO_NORM, BTP_RESULT_BUFFER_TOO_SMALL, BTP_RESULT_KEY_MISMATCH,
      BTP_RESULT_SCHEME_MISMATCH, BTP_RESULT_DECODE, BTP_RESULT_DUPLICATE_ID,
      BTP_RESULT_NOT_FOUND, BTP_RESULT_RNG, BTP_RESULT_OUT_OF_MEMORY, BTP_RESULT_INTEGRITY,
      BTP_RESULT_UNKNOWN_PURPOSE, BTP_RESULT_RETENTION_TOO_LONG, BTP_RESULT_EXPIRED,
      BTP_RESULT_HELD, BTP_RESULT_WRONG_KEY, BTP_RESULT_NOT_A_STORE,
      BTP_RESULT_UNSUPPORTED_SCHEMA, BTP_RESULT_KEY_EXHAUSTED, BTP_RESULT_AUDIT_BROKEN,
      BTP_RESULT_CORRUPT, BTP_RESULT_BUSY, BTP_RESULT_IO, BTP_RESULT_DATABASE,
      BTP_RESULT_EXPIRY_IN_PAST, BTP_RESULT_INVALID_SCORES, BTP_RESULT_PANIC};
  const char *unknown = btp_result_str(12345);
  CHECK(unknown != NULL && strcmp(unknown, "unknown result code") == 0);
  for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++) {
    const char *s = btp_result_str(codes[i]);
    CHECK(s != NULL && s[0] != '\0' && strcmp(s, unknown) != 0);
    for (size_t j = 0; j < i; j++) CHECK(codes[j] != codes[i] && strcmp(btp_result_str(codes[j]), s) != 0);
  }
  CHECK(BTP_RESULT_OK == 0);
}

static void test_version(void) {
  char want[64];
  snprintf(want, sizeof want, "%d.%d.%d", BTP_VERSION_MAJOR, BTP_VERSION_MINOR,
           BTP_VERSION_PATCH);
  CHECK(strcmp(btp_version(), want) == 0);
}

static void test_last_error(void) {
  btp_master_key *k = NULL;
  CHECK_RC(btp_master_key_generate(NULL), BTP_RESULT_NULL_ARGUMENT);
  CHECK(strstr(btp_last_error_message(), "btp_master_key_generate") != NULL);
  CHECK(strstr(btp_last_error_message(), "out") != NULL);
  /* The copy interface: a size query, too small, exact. */
  size_t needed = 0;
  CHECK(btp_last_error(NULL, 0, &needed) == BTP_RESULT_BUFFER_TOO_SMALL);
  CHECK(needed == strlen(btp_last_error_message()) + 1);
  char *buf = (char *)malloc(needed);
  CHECK(btp_last_error(buf, needed - 1, &needed) == BTP_RESULT_BUFFER_TOO_SMALL);
  CHECK(btp_last_error(buf, needed, &needed) == BTP_RESULT_OK);
  CHECK(strcmp(buf, btp_last_error_message()) == 0);
  CHECK(btp_last_error(buf, needed, NULL) == BTP_RESULT_NULL_ARGUMENT);
  free(buf);
  /* Success clears it. */
  CHECK_RC(btp_master_key_generate(&k), BTP_RESULT_OK);
  CHECK(strcmp(btp_last_error_message(), "") == 0);
  btp_master_key_free(k);
}

static void test_keys_and_params(void) {
  uint8_t bytes[33] = {0};
  /* A failed constructor leaves NULL even where something else was. */
  btp_master_key *k = (btp_master_key *)&bytes;
  CHECK_RC(btp_master_key_from_bytes(bytes, 31, &k), BTP_RESULT_INVALID_KEY_LENGTH);
  CHECK(k == NULL);
  CHECK_RC(btp_master_key_from_bytes(bytes, 33, &k), BTP_RESULT_INVALID_KEY_LENGTH);
  CHECK_RC(btp_master_key_from_bytes(NULL, 32, &k), BTP_RESULT_NULL_ARGUMENT);
  CHECK_RC(btp_master_key_from_bytes(NULL, 0, &k), BTP_RESULT_INVALID_KEY_LENGTH);
  CHECK_RC(btp_master_key_from_bytes(bytes, 32, NULL), BTP_RESULT_NULL_ARGUMENT);

  btp_params *p = NULL, *q = NULL;
  CHECK_RC(btp_params_iom_grp(0, 128, 16, &p), BTP_RESULT_INVALID_PARAMETER);
  CHECK(p == NULL);
  CHECK_RC(btp_params_iom_grp(DIM, 128, 1, &p), BTP_RESULT_INVALID_PARAMETER);
  CHECK_RC(btp_params_iom_urp(DIM, 128, DIM + 1, 2, &p), BTP_RESULT_INVALID_PARAMETER);
  CHECK_RC(btp_params_biohash(DIM, DIM + 1, &p), BTP_RESULT_INVALID_PARAMETER);
  CHECK_RC(btp_params_iom_grp(DIM, 128, 16, NULL), BTP_RESULT_NULL_ARGUMENT);
  CHECK_RC(btp_params_iom_grp(DIM, 128, 16, &p), BTP_RESULT_OK);

  float centre[DIM];
  features(centre, DIM, 0.3f);
  CHECK_RC(btp_params_with_centre(p, centre, DIM - 1, &q), BTP_RESULT_INVALID_PARAMETER);
  CHECK_RC(btp_params_with_centre(p, NULL, DIM, &q), BTP_RESULT_NULL_ARGUMENT);
  CHECK_RC(btp_params_with_centre(NULL, centre, DIM, &q), BTP_RESULT_NULL_ARGUMENT);
  centre[3] = NAN; /* a bad parameter, not a bad feature vector */
  CHECK_RC(btp_params_with_centre(p, centre, DIM, &q), BTP_RESULT_INVALID_PARAMETER);
  centre[3] = 0.0f;
  CHECK_RC(btp_params_with_centre(p, centre, DIM, &q), BTP_RESULT_OK);
  btp_params *r = NULL;
  CHECK_RC(btp_params_with_l2(q, true, &r), BTP_RESULT_OK);

  /* Encoding: size query, too small, exact; decoding refuses altered bytes. */
  size_t needed = 0;
  CHECK_RC(btp_params_to_bytes(r, NULL, 0, &needed), BTP_RESULT_BUFFER_TOO_SMALL);
  CHECK(needed > 4 * DIM);
  uint8_t *enc = (uint8_t *)malloc(needed);
  size_t n = needed;
  CHECK_RC(btp_params_to_bytes(r, enc, n - 1, &needed), BTP_RESULT_BUFFER_TOO_SMALL);
  CHECK(needed == n);
  CHECK_RC(btp_params_to_bytes(r, NULL, n, &needed), BTP_RESULT_NULL_ARGUMENT);
  CHECK_RC(btp_params_to_bytes(r, enc, n, NULL), BTP_RESULT_NULL_ARGUMENT);
  CHECK_RC(btp_params_to_bytes(r, enc, n, &needed), BTP_RESULT_OK);
  uint8_t *lib = NULL;
  size_t lib_len = 0;
  CHECK_RC(btp_params_to_bytes_alloc(r, &lib, &lib_len), BTP_RESULT_OK);
  CHECK(lib_len == n && memcmp(lib, enc, n) == 0);
  btp_bytes_free(lib, lib_len);
  CHECK_RC(btp_params_to_bytes_alloc(NULL, &lib, &lib_len), BTP_RESULT_NULL_ARGUMENT);
  CHECK(lib == NULL && lib_len == 0);
  CHECK_RC(btp_params_to_bytes_alloc(r, NULL, &lib_len), BTP_RESULT_NULL_ARGUMENT);
  btp_params *s = NULL;
  CHECK_RC(btp_params_from_bytes(enc, n, &s), BTP_RESULT_OK);
  btp_params_free(s);
  s = NULL;
  enc[n / 2] ^= 1;
  CHECK_RC(btp_params_from_bytes(enc, n, &s), BTP_RESULT_DECODE);
  CHECK(s == NULL);
  CHECK_RC(btp_params_from_bytes(enc, 3, &s), BTP_RESULT_DECODE);
  CHECK_RC(btp_params_from_bytes(NULL, 0, &s), BTP_RESULT_DECODE);
  free(enc);

  btp_params_free(p);
  btp_params_free(q);
  btp_params_free(r);
}

static void test_protector(void) {
  btp_master_key *k = key_of(1), *other = key_of(2);
  btp_params *p = NULL, *bio = NULL;
  CHECK_RC(btp_params_iom_grp(DIM, 128, 16, &p), BTP_RESULT_OK);
  CHECK_RC(btp_params_biohash(DIM, 32, &bio), BTP_RESULT_OK);

  btp_protector *prot = NULL;
  CHECK_RC(btp_protector_new(p, k, "", 1, NULL, 0, &prot), BTP_RESULT_INVALID_PARAMETER);
  CHECK_RC(btp_protector_new(p, k, "\xff\xfe", 1, NULL, 0, &prot), BTP_RESULT_INVALID_PARAMETER);
  CHECK_RC(btp_protector_new(p, k, NULL, 1, NULL, 0, &prot), BTP_RESULT_NULL_ARGUMENT);
  CHECK_RC(btp_protector_new(NULL, k, "gate-A", 1, NULL, 0, &prot), BTP_RESULT_NULL_ARGUMENT);
  CHECK_RC(btp_protector_new(p, NULL, "gate-A", 1, NULL, 0, &prot), BTP_RESULT_NULL_ARGUMENT);
  CHECK_RC(btp_protector_new(p, k, "gate-A", 1, NULL, 4, &prot), BTP_RESULT_NULL_ARGUMENT);
  CHECK(prot == NULL);

  btp_protector *a = protector_of(p, k, 1);
  btp_protector *b = protector_of(p, other, 1);   /* another master key */
  btp_protector *v2 = protector_of(p, k, 2);      /* revoked: version 2 */
  btp_protector *c = protector_of(bio, k, 1);     /* another scheme */
  /* The inputs may be freed: protectors keep what they need. */
  btp_params_free(p);
  btp_params_free(bio);
  btp_master_key_free(k);
  btp_master_key_free(other);

  size_t dim = 0;
  CHECK_RC(btp_protector_dim(a, &dim), BTP_RESULT_OK);
  CHECK(dim == DIM);
  uint8_t fp[BTP_FINGERPRINT_LEN];
  CHECK_RC(btp_protector_fingerprint(a, fp, sizeof fp - 1), BTP_RESULT_BUFFER_TOO_SMALL);
  CHECK_RC(btp_protector_fingerprint(a, NULL, sizeof fp), BTP_RESULT_NULL_ARGUMENT);

  float x[DIM + 1], y[DIM];
  features(x, DIM + 1, 0.0f);
  features(y, DIM, 0.05f);
  btp_template *t = NULL, *u = NULL, *tb = NULL, *t2 = NULL, *tc = NULL;
  CHECK_RC(btp_protector_protect(a, x, DIM - 1, &t), BTP_RESULT_WRONG_DIMENSION);
  CHECK_RC(btp_protector_protect(a, x, DIM + 1, &t), BTP_RESULT_WRONG_DIMENSION);
  CHECK_RC(btp_protector_protect(a, NULL, DIM, &t), BTP_RESULT_NULL_ARGUMENT);
  CHECK_RC(btp_protector_protect(NULL, x, DIM, &t), BTP_RESULT_NULL_ARGUMENT);
  CHECK_RC(btp_protector_protect(a, x, DIM, NULL), BTP_RESULT_NULL_ARGUMENT);
  /* A misaligned float array is refused, not read. */
  float *misaligned = (float *)(void *)((char *)x + 1);
  CHECK_RC(btp_protector_protect(a, misaligned, DIM - 1, &t), BTP_RESULT_INVALID_PARAMETER);
  float bad[DIM];
  memcpy(bad, y, sizeof bad);
  bad[5] = INFINITY;
  CHECK_RC(btp_protector_protect(a, bad, DIM, &t), BTP_RESULT_NON_FINITE);
  CHECK(strstr(btp_last_error_message(), "index 5") != NULL);
  memset(bad, 0, sizeof bad);
  CHECK_RC(btp_protector_protect(a, bad, DIM, &t), BTP_RESULT_ZERO_NORM);
  CHECK(t == NULL);

  CHECK_RC(btp_protector_protect(a, x, DIM, &t), BTP_RESULT_OK);
  CHECK_RC(btp_protector_protect(a, y, DIM, &u), BTP_RESULT_OK);
  CHECK_RC(btp_protector_protect(b, x, DIM, &tb), BTP_RESULT_OK);
  CHECK_RC(btp_protector_protect(v2, x, DIM, &t2), BTP_RESULT_OK);
  CHECK_RC(btp_protector_protect(c, x, DIM, &tc), BTP_RESULT_OK);

  double score = -1.0;
  CHECK_RC(btp_protector_compare(a, t, u, &score), BTP_RESULT_OK);
  CHECK(score > 0.5 && score <= 1.0);
  CHECK_RC(btp_protector_compare(a, t, tb, &score), BTP_RESULT_KEY_MISMATCH);
  CHECK_RC(btp_protector_compare(a, t, t2, &score), BTP_RESULT_KEY_MISMATCH);
  CHECK_RC(btp_protector_compare(a, t, tc, &score), BTP_RESULT_SCHEME_MISMATCH);
  CHECK_RC(btp_protector_compare(a, t, NULL, &score), BTP_RESULT_NULL_ARGUMENT);
  CHECK_RC(btp_protector_compare(a, t, u, NULL), BTP_RESULT_NULL_ARGUMENT);

  btp_decision d;
  CHECK_RC(btp_protector_verify(a, t, u, 0.5, &d), BTP_RESULT_OK);
  CHECK(d.matched && d.threshold == 0.5);
  CHECK_RC(btp_protector_verify(a, t, u, 1.5, &d), BTP_RESULT_INVALID_PARAMETER);
  CHECK_RC(btp_protector_verify(a, t, u, NAN, &d), BTP_RESULT_INVALID_PARAMETER);
  CHECK_RC(btp_protector_verify(a, tb, u, 0.5, &d), BTP_RESULT_KEY_MISMATCH);
  CHECK_RC(btp_protector_verify(b, tb, u, 0.5, &d), BTP_RESULT_KEY_MISMATCH);
  CHECK_RC(btp_protector_verify(a, t, u, 0.5, NULL), BTP_RESULT_NULL_ARGUMENT);

  /* Template bytes: size query, too small (with the size), round trip. */
  size_t needed = 0;
  CHECK_RC(btp_template_to_bytes(t, NULL, 0, &needed), BTP_RESULT_BUFFER_TOO_SMALL);
  CHECK(needed > 0);
  size_t n = needed;
  uint8_t *buf = (uint8_t *)malloc(n);
  needed = 0;
  CHECK_RC(btp_template_to_bytes(t, buf, n - 1, &needed), BTP_RESULT_BUFFER_TOO_SMALL);
  CHECK(needed == n);
  CHECK_RC(btp_template_to_bytes(NULL, buf, n, &needed), BTP_RESULT_NULL_ARGUMENT);
  CHECK_RC(btp_template_to_bytes(t, buf, n, &needed), BTP_RESULT_OK);
  btp_template *back = NULL;
  CHECK_RC(btp_template_from_bytes(buf, n, &back), BTP_RESULT_OK);
  CHECK_RC(btp_protector_compare(a, t, back, &score), BTP_RESULT_OK);
  CHECK(score == 1.0);
  btp_template_free(back);
  back = NULL;
  CHECK_RC(btp_template_from_bytes(buf, n - 1, &back), BTP_RESULT_DECODE);
  buf[n - 1] ^= 0x80;
  CHECK_RC(btp_template_from_bytes(buf, n, &back), BTP_RESULT_DECODE);
  CHECK_RC(btp_template_from_bytes(NULL, 8, &back), BTP_RESULT_NULL_ARGUMENT);
  CHECK(back == NULL);
  free(buf);
  CHECK_RC(btp_template_fingerprint(t, fp, sizeof fp), BTP_RESULT_OK);
  uint8_t fp_prot[BTP_FINGERPRINT_LEN];
  CHECK_RC(btp_protector_fingerprint(a, fp_prot, sizeof fp_prot), BTP_RESULT_OK);
  CHECK(memcmp(fp, fp_prot, sizeof fp) == 0);
  CHECK_RC(btp_protector_fingerprint(b, fp_prot, sizeof fp_prot), BTP_RESULT_OK);
  CHECK(memcmp(fp, fp_prot, sizeof fp) != 0);

  /* Batch: all or nothing, the bad row named; too small an output array. */
  float rows[3 * DIM];
  features(rows, 3 * DIM, 1.0f);
  btp_template *out[3] = {NULL, NULL, NULL};
  size_t count = 0;
  CHECK_RC(btp_protector_protect_batch(a, rows, 3 * DIM, out, 2, &count), BTP_RESULT_BUFFER_TOO_SMALL);
  CHECK(count == 3 && out[0] == NULL);
  CHECK_RC(btp_protector_protect_batch(a, rows, 3 * DIM - 1, out, 3, &count), BTP_RESULT_WRONG_DIMENSION);
  CHECK_RC(btp_protector_protect_batch(a, rows, 3 * DIM, out, 3, NULL), BTP_RESULT_NULL_ARGUMENT);
  CHECK_RC(btp_protector_protect_batch(a, rows, 3 * DIM, NULL, 3, &count), BTP_RESULT_NULL_ARGUMENT);
  rows[DIM + 2] = NAN;
  CHECK_RC(btp_protector_protect_batch(a, rows, 3 * DIM, out, 3, &count), BTP_RESULT_NON_FINITE);
  CHECK(strstr(btp_last_error_message(), "row 1") != NULL && out[0] == NULL);
  rows[DIM + 2] = 0.5f;
  CHECK_RC(btp_protector_protect_batch(a, rows, 3 * DIM, out, 3, &count), BTP_RESULT_OK);
  CHECK(count == 3 && out[0] && out[1] && out[2]);
  CHECK_RC(btp_protector_protect_batch(a, NULL, 0, NULL, 0, &count), BTP_RESULT_OK);
  CHECK(count == 0);

  /* Gallery. */
  btp_gallery *g = NULL;
  CHECK_RC(btp_gallery_new(NULL, &g), BTP_RESULT_NULL_ARGUMENT);
  CHECK_RC(btp_gallery_new(a, &g), BTP_RESULT_OK);
  CHECK_RC(btp_gallery_add(g, 1, t), BTP_RESULT_OK);
  CHECK_RC(btp_gallery_add(g, 1, u), BTP_RESULT_DUPLICATE_ID);
  CHECK_RC(btp_gallery_add(g, 2, tb), BTP_RESULT_KEY_MISMATCH);
  CHECK_RC(btp_gallery_add(g, 2, t2), BTP_RESULT_KEY_MISMATCH);
  CHECK_RC(btp_gallery_add(g, 2, tc), BTP_RESULT_SCHEME_MISMATCH);
  CHECK_RC(btp_gallery_add(g, 2, NULL), BTP_RESULT_NULL_ARGUMENT);
  CHECK_RC(btp_gallery_add(NULL, 2, u), BTP_RESULT_NULL_ARGUMENT);
  for (uint64_t i = 0; i < 3; i++) CHECK_RC(btp_gallery_add(g, 10 + i, out[i]), BTP_RESULT_OK);
  size_t len = 0;
  CHECK_RC(btp_gallery_len(g, &len), BTP_RESULT_OK);
  CHECK(len == 4);
  CHECK_RC(btp_gallery_remove(g, 99), BTP_RESULT_NOT_FOUND);
  CHECK_RC(btp_gallery_remove(g, 12), BTP_RESULT_OK);
  CHECK_RC(btp_gallery_len(g, &len), BTP_RESULT_OK);
  CHECK(len == 3);
  CHECK_RC(btp_gallery_set_threads(g, 2), BTP_RESULT_OK);

  btp_candidate cand[4];
  size_t found = 99;
  CHECK_RC(btp_gallery_search(g, u, 4, NAN, cand, 4, &found), BTP_RESULT_OK);
  CHECK(found == 3 && cand[0].id == 1 && cand[0].score >= cand[1].score &&
        cand[1].score >= cand[2].score);
  CHECK_RC(btp_gallery_search(g, u, 4, NAN, cand, 2, &found), BTP_RESULT_BUFFER_TOO_SMALL);
  CHECK(found == 3);
  CHECK_RC(btp_gallery_search(g, u, 4, 1.0, cand, 4, &found), BTP_RESULT_OK);
  CHECK(found == 0);
  CHECK_RC(btp_gallery_search(g, u, 0, NAN, NULL, 0, &found), BTP_RESULT_INVALID_PARAMETER);
  CHECK_RC(btp_gallery_search(g, u, 4, 2.0, cand, 4, &found), BTP_RESULT_INVALID_PARAMETER);
  CHECK_RC(btp_gallery_search(g, tb, 4, NAN, cand, 4, &found), BTP_RESULT_KEY_MISMATCH);
  CHECK_RC(btp_gallery_search(g, u, 4, NAN, NULL, 4, &found), BTP_RESULT_NULL_ARGUMENT);
  CHECK_RC(btp_gallery_search(g, u, 4, NAN, cand, 4, NULL), BTP_RESULT_NULL_ARGUMENT);

  /* Library buffers hold the same bytes as caller buffers; failures leave
   * (NULL, 0). */
  uint8_t *lib = NULL, *lib2 = (uint8_t *)&score;
  size_t lib_len = 0, lib2_len = 99;
  CHECK_RC(btp_template_to_bytes_alloc(t, &lib, &lib_len), BTP_RESULT_OK);
  CHECK_RC(btp_template_to_bytes(t, NULL, 0, &needed), BTP_RESULT_BUFFER_TOO_SMALL);
  uint8_t *copy = (uint8_t *)malloc(needed);
  CHECK_RC(btp_template_to_bytes(t, copy, needed, &needed), BTP_RESULT_OK);
  CHECK(lib != NULL && lib_len == needed && memcmp(lib, copy, needed) == 0);
  free(copy);
  btp_bytes_free(lib, lib_len);
  lib = NULL;
  CHECK_RC(btp_template_to_bytes_alloc(NULL, &lib2, &lib2_len), BTP_RESULT_NULL_ARGUMENT);
  CHECK(lib2 == NULL && lib2_len == 0);
  CHECK_RC(btp_template_to_bytes_alloc(t, NULL, &lib2_len), BTP_RESULT_NULL_ARGUMENT);
  CHECK_RC(btp_template_to_bytes_alloc(t, &lib2, NULL), BTP_RESULT_NULL_ARGUMENT);
  btp_bytes_free(NULL, 0);
  btp_bytes_free(NULL, 12);

  /* Gallery batches: all or nothing, counts and sizes checked. */
  btp_gallery *h = NULL;
  CHECK_RC(btp_gallery_new(a, &h), BTP_RESULT_OK);
  uint64_t bids[3] = {20, 21, 22}, dup_ids[3] = {20, 23, 20};
  const btp_template *batch_ok[3] = {out[0], out[1], out[2]};
  const btp_template *holey[3] = {out[0], NULL, out[2]};
  const btp_template *mixed[3] = {out[0], tb, out[2]};
  CHECK_RC(btp_gallery_add_batch(h, bids, 3, batch_ok, 2), BTP_RESULT_INVALID_PARAMETER);
  CHECK_RC(btp_gallery_add_batch(h, bids, 3, NULL, 3), BTP_RESULT_NULL_ARGUMENT);
  CHECK_RC(btp_gallery_add_batch(h, NULL, 3, batch_ok, 3), BTP_RESULT_NULL_ARGUMENT);
  CHECK_RC(btp_gallery_add_batch(NULL, bids, 3, batch_ok, 3), BTP_RESULT_NULL_ARGUMENT);
  CHECK_RC(btp_gallery_add_batch(h, bids, 3, holey, 3), BTP_RESULT_NULL_ARGUMENT);
  CHECK(strstr(btp_last_error_message(), "templates[1]") != NULL);
  CHECK_RC(btp_gallery_add_batch(h, bids, 3, mixed, 3), BTP_RESULT_KEY_MISMATCH);
  CHECK_RC(btp_gallery_add_batch(h, dup_ids, 3, batch_ok, 3), BTP_RESULT_DUPLICATE_ID);
  CHECK_RC(btp_gallery_len(h, &len), BTP_RESULT_OK);
  CHECK(len == 0);
  CHECK_RC(btp_gallery_add_batch(h, bids, 3, batch_ok, 3), BTP_RESULT_OK);
  CHECK_RC(btp_gallery_add_batch(h, NULL, 0, NULL, 0), BTP_RESULT_OK);

  uint64_t fids[3] = {30, 31, 32};
  CHECK_RC(btp_gallery_add_features(h, a, fids, 3, rows, 3 * DIM - 1), BTP_RESULT_WRONG_DIMENSION);
  CHECK_RC(btp_gallery_add_features(h, a, fids, 2, rows, 3 * DIM), BTP_RESULT_INVALID_PARAMETER);
  CHECK_RC(btp_gallery_add_features(h, a, fids, 3, NULL, 3 * DIM), BTP_RESULT_NULL_ARGUMENT);
  CHECK_RC(btp_gallery_add_features(h, NULL, fids, 3, rows, 3 * DIM), BTP_RESULT_NULL_ARGUMENT);
  CHECK_RC(btp_gallery_add_features(h, b, fids, 3, rows, 3 * DIM), BTP_RESULT_KEY_MISMATCH);
  CHECK_RC(btp_gallery_add_features(h, c, fids, 3, rows, 3 * DIM), BTP_RESULT_SCHEME_MISMATCH);
  CHECK_RC(btp_gallery_add_features(h, a, bids, 3, rows, 3 * DIM), BTP_RESULT_DUPLICATE_ID);
  rows[2 * DIM + 1] = INFINITY;
  CHECK_RC(btp_gallery_add_features(h, a, fids, 3, rows, 3 * DIM), BTP_RESULT_NON_FINITE);
  CHECK(strstr(btp_last_error_message(), "row 2") != NULL);
  rows[2 * DIM + 1] = 0.25f;
  CHECK_RC(btp_gallery_len(h, &len), BTP_RESULT_OK);
  CHECK(len == 3);
  CHECK_RC(btp_gallery_add_features(h, a, fids, 3, rows, 3 * DIM), BTP_RESULT_OK);
  CHECK_RC(btp_gallery_len(h, &len), BTP_RESULT_OK);
  CHECK(len == 6);

  uint64_t gone[3] = {20, 99, 31};
  size_t removed = 0;
  CHECK_RC(btp_gallery_remove_batch(h, gone, 3, &removed), BTP_RESULT_OK);
  CHECK(removed == 2);
  CHECK_RC(btp_gallery_remove_batch(h, gone, 3, NULL), BTP_RESULT_NULL_ARGUMENT);
  CHECK_RC(btp_gallery_remove_batch(h, NULL, 3, &removed), BTP_RESULT_NULL_ARGUMENT);
  CHECK_RC(btp_gallery_len(h, &len), BTP_RESULT_OK);
  CHECK(len == 4);

  /* Batch search: the same lists as one search per probe, in fixed slots. */
  const btp_template *probes[2] = {u, out[1]};
  btp_candidate slots[2 * 3], one[3];
  size_t found2[2] = {9, 9};
  CHECK_RC(btp_gallery_search_batch(h, probes, 2, 3, NAN, slots, 6, found2, 2), BTP_RESULT_OK);
  for (size_t i = 0; i < 2; i++) {
    CHECK_RC(btp_gallery_search(h, probes[i], 3, NAN, one, 3, &found), BTP_RESULT_OK);
    CHECK(found2[i] == found && memcmp(&slots[i * 3], one, found * sizeof one[0]) == 0);
  }
  CHECK_RC(btp_gallery_search_batch(h, probes, 2, 3, 0.99, slots, 6, found2, 2), BTP_RESULT_OK);
  CHECK(found2[0] == 0 && found2[1] == 1 && slots[3].id == 21 && slots[3].score == 1.0 &&
        slots[0].id == 0 && slots[4].id == 0); /* unused slots zeroed */
  CHECK_RC(btp_gallery_search_batch(h, probes, 2, 3, NAN, slots, 5, found2, 2),
           BTP_RESULT_BUFFER_TOO_SMALL);
  CHECK_RC(btp_gallery_search_batch(h, probes, 2, 3, NAN, slots, 6, found2, 1),
           BTP_RESULT_BUFFER_TOO_SMALL);
  CHECK_RC(btp_gallery_search_batch(h, probes, 2, 3, NAN, NULL, 6, found2, 2),
           BTP_RESULT_NULL_ARGUMENT);
  CHECK_RC(btp_gallery_search_batch(h, probes, 2, 3, NAN, slots, 6, NULL, 2),
           BTP_RESULT_NULL_ARGUMENT);
  CHECK_RC(btp_gallery_search_batch(h, NULL, 2, 3, NAN, slots, 6, found2, 2),
           BTP_RESULT_NULL_ARGUMENT);
  CHECK_RC(btp_gallery_search_batch(h, probes, 2, SIZE_MAX, NAN, slots, 6, found2, 2),
           BTP_RESULT_INVALID_PARAMETER);
  const btp_template *foreign[2] = {u, tb};
  CHECK_RC(btp_gallery_search_batch(h, foreign, 2, 3, NAN, slots, 6, found2, 2),
           BTP_RESULT_KEY_MISMATCH);
  CHECK_RC(btp_gallery_search_batch(h, probes, 2, 0, NAN, NULL, 0, found2, 2),
           BTP_RESULT_INVALID_PARAMETER);
  CHECK_RC(btp_gallery_search_batch(h, probes, 2, 3, 2.0, slots, 6, found2, 2),
           BTP_RESULT_INVALID_PARAMETER);
  CHECK_RC(btp_gallery_search_batch(h, NULL, 0, 3, NAN, NULL, 0, NULL, 0), BTP_RESULT_OK);
  btp_gallery_free(h);

  /* Every *_free accepts NULL; freeing then setting NULL makes a second
   * free harmless. */
  btp_gallery_free(g);
  g = NULL;
  btp_gallery_free(g);
  for (size_t i = 0; i < 3; i++) btp_template_free(out[i]);
  btp_template_free(t);
  t = NULL;
  btp_template_free(t);
  btp_template_free(u);
  btp_template_free(tb);
  btp_template_free(t2);
  btp_template_free(tc);
  btp_protector_free(a);
  btp_protector_free(b);
  btp_protector_free(v2);
  btp_protector_free(c);
  btp_protector_free(NULL);
  btp_params_free(NULL);
  btp_master_key_free(NULL);
}

int main(void) {
  test_codes_and_messages();
  test_version();
  test_last_error();
  test_keys_and_params();
  test_protector();
  return harness_report();
}
