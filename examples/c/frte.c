/* A NIST-FRTE-style vendor API built on btp.
 *
 * A face recognition vendor submits two functions: create_template() turns
 * the features of one face image into an opaque template, and match()
 * compares two templates into a similarity score. Built on btp, the
 * templates are *protected*: cancellable IoM hashes of the embedding, never
 * the embedding itself, matched without ever restoring it. A template made
 * under another key (another deployment, or a revoked version) is refused
 * with an error, never given a low score.
 *
 * The embedding extractor is the vendor's own; here a seeded stand-in
 * produces 128-dimensional "embeddings". The master key is fixed for the
 * example; a deployment loads it from its key store (HSM, sealed file).
 *
 * Build: cc frte.c $(pkg-config --cflags --libs btp) -lm
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "btp.h"

/* ---- The vendor API ---------------------------------------------------- */

enum { VENDOR_OK = 0, VENDOR_NOT_INITIALISED = 1, VENDOR_BAD_INPUT = 2, VENDOR_FOREIGN_TEMPLATE = 3,
       VENDOR_FAILURE = 4 };

#define EMBEDDING_DIM 128

static btp_protector *protector = NULL;

static int vendor_code(btp_result rc) {
  switch (rc) {
    case BTP_RESULT_OK: return VENDOR_OK;
    case BTP_RESULT_KEY_MISMATCH:
    case BTP_RESULT_SCHEME_MISMATCH: return VENDOR_FOREIGN_TEMPLATE;
    case BTP_RESULT_NULL_ARGUMENT:
    case BTP_RESULT_WRONG_DIMENSION:
    case BTP_RESULT_NON_FINITE:
    case BTP_RESULT_ZERO_NORM:
    case BTP_RESULT_DECODE: return VENDOR_BAD_INPUT;
    default: return VENDOR_FAILURE;
  }
}

/* Sets up the protector: IoM-GRP with 512 hashes of window 16 over
 * L2-normalised embeddings, for application "frte-demo", version 1. */
int vendor_initialize(const uint8_t *master_key, size_t key_len, uint32_t version) {
  btp_master_key *key = NULL;
  btp_params *base = NULL, *params = NULL;
  btp_result rc = btp_master_key_from_bytes(master_key, key_len, &key);
  if (rc == BTP_RESULT_OK) rc = btp_params_iom_grp(EMBEDDING_DIM, 512, 16, &base);
  if (rc == BTP_RESULT_OK) rc = btp_params_with_l2(base, true, &params);
  if (rc == BTP_RESULT_OK) rc = btp_protector_new(params, key, "frte-demo", version, NULL, 0, &protector);
  if (rc != BTP_RESULT_OK) fprintf(stderr, "vendor_initialize: %s\n", btp_last_error_message());
  /* The protector keeps what it needs: the key and parameters can go. */
  btp_params_free(params);
  btp_params_free(base);
  btp_master_key_free(key);
  return vendor_code(rc);
}

void vendor_finalize(void) {
  btp_protector_free(protector);
  protector = NULL;
}

/* The template of one embedding: *tmpl receives *len bytes, to release
 * with release_template(). */
int create_template(const float *features, size_t n, uint8_t **tmpl, size_t *len) {
  if (!protector) return VENDOR_NOT_INITIALISED;
  btp_template *t = NULL;
  btp_result rc = btp_protector_protect(protector, features, n, &t);
  if (rc == BTP_RESULT_OK) rc = btp_template_to_bytes_alloc(t, tmpl, len);
  btp_template_free(t);
  return vendor_code(rc);
}

void release_template(uint8_t *tmpl, size_t len) { btp_bytes_free(tmpl, len); }

/* Similarity in [0, 1] of two templates of this deployment. */
int match(const uint8_t *a, size_t a_len, const uint8_t *b, size_t b_len, double *score) {
  if (!protector) return VENDOR_NOT_INITIALISED;
  btp_template *ta = NULL, *tb = NULL;
  btp_result rc = btp_template_from_bytes(a, a_len, &ta);
  if (rc == BTP_RESULT_OK) rc = btp_template_from_bytes(b, b_len, &tb);
  if (rc == BTP_RESULT_OK) rc = btp_protector_compare(protector, ta, tb, score);
  btp_template_free(ta);
  btp_template_free(tb);
  return vendor_code(rc);
}

/* ---- A small evaluation driver ------------------------------------------ */

#define PEOPLE 8

/* Stand-in extractor: a person's embedding plus per-capture noise. */
static void embedding(float *x, int person, int capture) {
  for (int i = 0; i < EMBEDDING_DIM; i++) {
    double identity = sin(i * (0.37 + 0.11 * person) + 1.3 * person);
    double noise = 0.25 * sin(i * 2.9 + 7.0 * capture + person);
    x[i] = (float)(identity + noise);
  }
}

int main(void) {
  const uint8_t key[32] = {0x42, 0x13, 0x37, 0x99, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12,
                           13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28};
  int failures = 0;
  if (vendor_initialize(key, sizeof key, 1) != VENDOR_OK) return 1;

  uint8_t *enrol[PEOPLE], *probe[PEOPLE];
  size_t enrol_len[PEOPLE], probe_len[PEOPLE];
  float x[EMBEDDING_DIM];
  for (int p = 0; p < PEOPLE; p++) {
    embedding(x, p, 0);
    failures += create_template(x, EMBEDDING_DIM, &enrol[p], &enrol_len[p]) != VENDOR_OK;
    embedding(x, p, 1);
    failures += create_template(x, EMBEDDING_DIM, &probe[p], &probe_len[p]) != VENDOR_OK;
  }
  if (failures) return 1;
  printf("template size: %zu bytes\n", enrol_len[0]);

  double genuine[PEOPLE], impostor[PEOPLE * (PEOPLE - 1)];
  size_t n_imp = 0;
  for (int p = 0; p < PEOPLE; p++)
    for (int q = 0; q < PEOPLE; q++) {
      double s = -1.0;
      failures += match(enrol[p], enrol_len[p], probe[q], probe_len[q], &s) != VENDOR_OK;
      if (p == q)
        genuine[p] = s;
      else
        impostor[n_imp++] = s;
    }
  btp_eer eer;
  if (btp_eval_eer(genuine, PEOPLE, impostor, n_imp, &eer) != BTP_RESULT_OK) return 1;
  double worst_genuine = 1.0, best_impostor = 0.0;
  for (int p = 0; p < PEOPLE; p++) worst_genuine = fmin(worst_genuine, genuine[p]);
  for (size_t i = 0; i < n_imp; i++) best_impostor = fmax(best_impostor, impostor[i]);
  printf("genuine >= %.3f, impostor <= %.3f, EER %.3f at threshold %.3f\n", worst_genuine,
         best_impostor, eer.eer, eer.threshold);
  failures += !(worst_genuine > best_impostor && eer.eer == 0.0);

  /* Bad input is an error code, not a crash. */
  uint8_t *none = NULL;
  size_t none_len = 0;
  failures += create_template(x, EMBEDDING_DIM - 1, &none, &none_len) != VENDOR_BAD_INPUT;
  double s = -1.0;
  failures += match(enrol[0], enrol_len[0] - 1, probe[1], probe_len[1], &s) != VENDOR_BAD_INPUT;

  /* Revocation: version 2 of the deployment refuses version 1 templates. */
  vendor_finalize();
  if (vendor_initialize(key, sizeof key, 2) != VENDOR_OK) return 1;
  uint8_t *renewed = NULL;
  size_t renewed_len = 0;
  embedding(x, 0, 1);
  failures += create_template(x, EMBEDDING_DIM, &renewed, &renewed_len) != VENDOR_OK;
  failures += match(enrol[0], enrol_len[0], renewed, renewed_len, &s) != VENDOR_FOREIGN_TEMPLATE;
  printf("a version-1 template against version 2: refused (%s)\n", btp_last_error_message());
  release_template(renewed, renewed_len);

  for (int p = 0; p < PEOPLE; p++) {
    release_template(enrol[p], enrol_len[p]);
    release_template(probe[p], probe_len[p]);
  }
  vendor_finalize();
  printf(failures ? "FAILED\n" : "ok\n");
  return failures ? 1 : 0;
}
