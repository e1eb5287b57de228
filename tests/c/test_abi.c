/* The C ABI's own promises, checked entry point by entry point:
 * - a failed call leaves NULL in every handle out-pointer (and (NULL, 0)
 *   in a library buffer's pair), whatever argument was wrong: each
 *   constructor-like function is called with a garbage out-pointer and one
 *   bad argument (a table);
 * - a NULL buffer with a non-zero length is BTP_RESULT_NULL_ARGUMENT, for
 *   every (pointer, length) pair, inputs, outputs and size queries alike
 *   (a table);
 * - a batch whose length is not a multiple of the dimension is
 *   BTP_RESULT_WRONG_DIMENSION;
 * - messages name the argument that is wrong and never echo free text a
 *   user typed (subject ids, case references, actors, reasons, reviewers);
 * - unknown enum values, sizes whose product overflows and misaligned
 *   pointers are refused with a code. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#include "harness.h"

#define DIM 16
#define DAY 86400

/* What a careless caller leaves in an out-pointer before a call. */
static const uintptr_t GARBAGE = 0x5eed0bad0;
#define SPOIL(p) memcpy(&(p), &GARBAGE, sizeof(p))

/* The fixture: valid objects for the arguments that are not under test. */
static btp_master_key *K;
static btp_params *P;
static btp_protector *PROT;
static btp_template *T, *U;
static btp_gallery *G;
static btp_purpose *PURPOSE;
static btp_store *S;
static float X[3 * DIM];
static uint8_t JUNK[8] = {1, 2, 3, 4, 5, 6, 7, 8};
static uint64_t IDS[3] = {1, 2, 3};
static double SCORES[4] = {0.1, 0.4, 0.6, 0.9};
static const btp_retention MAXIMUM = {BTP_RETENTION_KIND_MAXIMUM, 0};
static char dir[64], store_path[128];

/* The one place a new store file is made (see the store's opening). */
static btp_store *new_store(const char *path) {
  const btp_purpose *purposes[1] = {PURPOSE};
  btp_store *s = NULL;
  CHECK_RC(btp_store_create(path, K, purposes, 1, NULL, &s), BTP_RESULT_OK);
  return s;
}

static void fixture_init(void) {
  for (size_t i = 0; i < 3 * DIM; i++) X[i] = (float)sin((double)i * 0.7);
  uint8_t bytes[32];
  memset(bytes, 9, sizeof bytes);
  CHECK_RC(btp_master_key_from_bytes(bytes, sizeof bytes, &K), BTP_RESULT_OK);
  CHECK_RC(btp_params_iom_grp(DIM, 64, 16, &P), BTP_RESULT_OK);
  CHECK_RC(btp_protector_new(P, K, "abi", 1, NULL, 0, &PROT), BTP_RESULT_OK);
  CHECK_RC(btp_protector_protect(PROT, X, DIM, &T), BTP_RESULT_OK);
  CHECK_RC(btp_protector_protect(PROT, X + DIM, DIM, &U), BTP_RESULT_OK);
  CHECK_RC(btp_gallery_new(PROT, &G), BTP_RESULT_OK);
  CHECK_RC(btp_gallery_add_features(G, PROT, IDS, 3, X, 3 * DIM), BTP_RESULT_OK);
  CHECK_RC(btp_purpose_new("p", P, "abi", 1, 0.3, DAY, &PURPOSE), BTP_RESULT_OK);
  snprintf(store_path, sizeof store_path, "%s/abi.db", dir);
  S = new_store(store_path);
  int64_t record = 0;
  CHECK_RC(btp_store_enroll(S, "p", "person-1", X, DIM, MAXIMUM, "tester", "setup", &record),
           BTP_RESULT_OK);
}

static void fixture_free(void) {
  btp_store_free(S);
  btp_purpose_free(PURPOSE);
  btp_gallery_free(G);
  btp_template_free(T);
  btp_template_free(U);
  btp_protector_free(PROT);
  btp_params_free(P);
  btp_master_key_free(K);
  unlink(store_path);
  rmdir(dir);
}

/* ---- Handle out-pointers: NULL after every failure. ---- */

typedef struct {
  const char *what;
  btp_result want;
  /* Calls the entry point with a garbage out-pointer; returns the result
   * and sets *left to what the call left there. */
  btp_result (*call)(void **left);
} ctor_case;

/* A case: `out` (of type T *) starts as garbage; `expr` uses `&out`. */
#define CTOR(name, T, expr)                                                    \
  static btp_result name(void **left) {                                        \
    T *out;                                                                    \
    SPOIL(out);                                                                \
    btp_result rc = (expr);                                                    \
    *left = (void *)out;                                                       \
    return rc;                                                                 \
  }

CTOR(key_null_bytes, btp_master_key, btp_master_key_from_bytes(NULL, 32, &out))
CTOR(key_short, btp_master_key, btp_master_key_from_bytes(JUNK, 8, &out))
CTOR(grp_dim0, btp_params, btp_params_iom_grp(0, 64, 16, &out))
CTOR(urp_window, btp_params, btp_params_iom_urp(DIM, 64, DIM + 1, 2, &out))
CTOR(bio_bits, btp_params, btp_params_biohash(DIM, DIM + 1, &out))
CTOR(centre_null_params, btp_params, btp_params_with_centre(NULL, X, DIM, &out))
CTOR(centre_null_centre, btp_params, btp_params_with_centre(P, NULL, DIM, &out))
CTOR(centre_short, btp_params, btp_params_with_centre(P, X, DIM - 1, &out))
CTOR(l2_null_params, btp_params, btp_params_with_l2(NULL, true, &out))
CTOR(params_null_bytes, btp_params, btp_params_from_bytes(NULL, 8, &out))
CTOR(params_junk, btp_params, btp_params_from_bytes(JUNK, 8, &out))
CTOR(prot_null_params, btp_protector, btp_protector_new(NULL, K, "abi", 1, NULL, 0, &out))
CTOR(prot_null_key, btp_protector, btp_protector_new(P, NULL, "abi", 1, NULL, 0, &out))
CTOR(prot_empty_app, btp_protector, btp_protector_new(P, K, "", 1, NULL, 0, &out))
CTOR(prot_null_subject, btp_protector, btp_protector_new(P, K, "abi", 1, NULL, 4, &out))
CTOR(protect_null_prot, btp_template, btp_protector_protect(NULL, X, DIM, &out))
CTOR(protect_null_x, btp_template, btp_protector_protect(PROT, NULL, DIM, &out))
CTOR(protect_short, btp_template, btp_protector_protect(PROT, X, DIM - 1, &out))
CTOR(template_null_bytes, btp_template, btp_template_from_bytes(NULL, 8, &out))
CTOR(template_junk, btp_template, btp_template_from_bytes(JUNK, 8, &out))
CTOR(gallery_null_prot, btp_gallery, btp_gallery_new(NULL, &out))
CTOR(purpose_null_name, btp_purpose, btp_purpose_new(NULL, P, "abi", 1, 0.3, DAY, &out))
CTOR(purpose_null_params, btp_purpose, btp_purpose_new("q", NULL, "abi", 1, 0.3, DAY, &out))
CTOR(purpose_threshold, btp_purpose, btp_purpose_new("q", P, "abi", 1, 2.0, DAY, &out))
CTOR(open_null_path, btp_store, btp_store_open(NULL, K, NULL, 0, NULL, &out))
CTOR(open_null_key, btp_store, btp_store_open(store_path, NULL, NULL, 0, NULL, &out))
CTOR(open_null_purposes, btp_store, btp_store_open(store_path, K, NULL, 1, NULL, &out))
CTOR(create_null_path, btp_store, btp_store_create(NULL, K, NULL, 0, NULL, &out))
CTOR(create_existing, btp_store, btp_store_create(store_path, K, NULL, 0, NULL, &out))
CTOR(open_missing, btp_store, btp_store_open("/nonexistent-btp-dir/none.db", K, NULL, 0, NULL, &out))
CTOR(probe_null_store, btp_template, btp_store_retained_probe(NULL, 1, &out))
CTOR(probe_absent, btp_template, btp_store_retained_probe(S, 12345, &out))
CTOR(identify_null_store, btp_identification,
     btp_store_identify(NULL, "p", X, DIM, 3, NAN, "tester", "test", &out))
CTOR(identify_null_x, btp_identification,
     btp_store_identify(S, "p", NULL, DIM, 3, NAN, "tester", "test", &out))
CTOR(identify_purpose, btp_identification,
     btp_store_identify(S, "nope", X, DIM, 3, NAN, "tester", "test", &out))
CTOR(identify_k0, btp_identification,
     btp_store_identify(S, "p", X, DIM, 0, NAN, "tester", "test", &out))
CTOR(identify_null_tmpl, btp_identification,
     btp_store_identify_template(S, "p", NULL, 3, NAN, "tester", "test", &out))
CTOR(identify_null_actor, btp_identification,
     btp_store_identify_template(S, "p", T, 3, NAN, NULL, "test", &out))
CTOR(stats_null_store, btp_stats, btp_store_stats(NULL, 0, 10, &out))
CTOR(stats_period, btp_stats, btp_store_stats(S, 10, 5, &out))

static const ctor_case CTORS[] = {
    {"master_key_from_bytes(NULL, 32)", BTP_RESULT_NULL_ARGUMENT, key_null_bytes},
    {"master_key_from_bytes(8 bytes)", BTP_RESULT_INVALID_KEY_LENGTH, key_short},
    {"params_iom_grp(dim 0)", BTP_RESULT_INVALID_PARAMETER, grp_dim0},
    {"params_iom_urp(window > dim)", BTP_RESULT_INVALID_PARAMETER, urp_window},
    {"params_biohash(bits > dim)", BTP_RESULT_INVALID_PARAMETER, bio_bits},
    {"params_with_centre(NULL params)", BTP_RESULT_NULL_ARGUMENT, centre_null_params},
    {"params_with_centre(NULL centre)", BTP_RESULT_NULL_ARGUMENT, centre_null_centre},
    {"params_with_centre(short)", BTP_RESULT_INVALID_PARAMETER, centre_short},
    {"params_with_l2(NULL params)", BTP_RESULT_NULL_ARGUMENT, l2_null_params},
    {"params_from_bytes(NULL, 8)", BTP_RESULT_NULL_ARGUMENT, params_null_bytes},
    {"params_from_bytes(junk)", BTP_RESULT_DECODE, params_junk},
    {"protector_new(NULL params)", BTP_RESULT_NULL_ARGUMENT, prot_null_params},
    {"protector_new(NULL key)", BTP_RESULT_NULL_ARGUMENT, prot_null_key},
    {"protector_new(\"\" application)", BTP_RESULT_INVALID_PARAMETER, prot_empty_app},
    {"protector_new(NULL subject, 4)", BTP_RESULT_NULL_ARGUMENT, prot_null_subject},
    {"protector_protect(NULL prot)", BTP_RESULT_NULL_ARGUMENT, protect_null_prot},
    {"protector_protect(NULL features)", BTP_RESULT_NULL_ARGUMENT, protect_null_x},
    {"protector_protect(short)", BTP_RESULT_WRONG_DIMENSION, protect_short},
    {"template_from_bytes(NULL, 8)", BTP_RESULT_NULL_ARGUMENT, template_null_bytes},
    {"template_from_bytes(junk)", BTP_RESULT_DECODE, template_junk},
    {"gallery_new(NULL prot)", BTP_RESULT_NULL_ARGUMENT, gallery_null_prot},
    {"purpose_new(NULL name)", BTP_RESULT_NULL_ARGUMENT, purpose_null_name},
    {"purpose_new(NULL params)", BTP_RESULT_NULL_ARGUMENT, purpose_null_params},
    {"purpose_new(threshold 2)", BTP_RESULT_INVALID_PARAMETER, purpose_threshold},
    {"store_open(NULL path)", BTP_RESULT_NULL_ARGUMENT, open_null_path},
    {"store_open(NULL key)", BTP_RESULT_NULL_ARGUMENT, open_null_key},
    {"store_open(NULL purposes, 1)", BTP_RESULT_NULL_ARGUMENT, open_null_purposes},
    {"store_create(NULL path)", BTP_RESULT_NULL_ARGUMENT, create_null_path},
    {"store_create(existing path)", BTP_RESULT_IO, create_existing},
    {"store_open(missing path)", BTP_RESULT_NOT_FOUND, open_missing},
    {"store_retained_probe(NULL store)", BTP_RESULT_NULL_ARGUMENT, probe_null_store},
    {"store_retained_probe(absent)", BTP_RESULT_NOT_FOUND, probe_absent},
    {"store_identify(NULL store)", BTP_RESULT_NULL_ARGUMENT, identify_null_store},
    {"store_identify(NULL features)", BTP_RESULT_NULL_ARGUMENT, identify_null_x},
    {"store_identify(unknown purpose)", BTP_RESULT_UNKNOWN_PURPOSE, identify_purpose},
    {"store_identify(k 0)", BTP_RESULT_INVALID_PARAMETER, identify_k0},
    {"store_identify_template(NULL tmpl)", BTP_RESULT_NULL_ARGUMENT, identify_null_tmpl},
    {"store_identify_template(NULL actor)", BTP_RESULT_NULL_ARGUMENT, identify_null_actor},
    {"store_stats(NULL store)", BTP_RESULT_NULL_ARGUMENT, stats_null_store},
    {"store_stats(from > to)", BTP_RESULT_INVALID_PARAMETER, stats_period},
};

static void test_failed_constructors_leave_null(void) {
  for (size_t i = 0; i < sizeof CTORS / sizeof CTORS[0]; i++) {
    void *left = NULL;
    btp_result rc = CTORS[i].call(&left);
    const char *msg = btp_last_error_message();
    if (rc == CTORS[i].want && left == NULL && msg[0] != '\0') {
      harness_passed++;
    } else {
      harness_failed++;
      fprintf(stderr, "btp_%s gave %u (want %u), left %p; last error: %s\n", CTORS[i].what,
              (unsigned)rc, (unsigned)CTORS[i].want, left, msg);
    }
  }

  /* An array of handle out-pointers: every slot NULL after a failure. */
  btp_template *slots[3];
  size_t count = 0;
  const size_t lens[] = {3 * DIM - 1, 3 * DIM};
  for (size_t i = 0; i < 2; i++) {
    for (size_t j = 0; j < 3; j++) SPOIL(slots[j]);
    btp_result want = i == 0 ? BTP_RESULT_WRONG_DIMENSION : BTP_RESULT_NULL_ARGUMENT;
    CHECK_RC(btp_protector_protect_batch(i == 0 ? PROT : NULL, X, lens[i], slots, 3, &count), want);
    CHECK(slots[0] == NULL && slots[1] == NULL && slots[2] == NULL);
  }
  for (size_t j = 0; j < 3; j++) SPOIL(slots[j]);
  CHECK_RC(btp_protector_protect_batch(PROT, X, 3 * DIM, slots, 2, &count),
           BTP_RESULT_BUFFER_TOO_SMALL);
  CHECK(count == 3 && slots[0] == NULL && slots[1] == NULL);

  /* Library buffers: (NULL, 0) after a failure. */
  uint8_t *buf;
  size_t len;
  uint64_t events = 0;
  SPOIL(buf);
  len = 77;
  CHECK_RC(btp_params_to_bytes_alloc(NULL, &buf, &len), BTP_RESULT_NULL_ARGUMENT);
  CHECK(buf == NULL && len == 0);
  SPOIL(buf);
  len = 77;
  CHECK_RC(btp_template_to_bytes_alloc(NULL, &buf, &len), BTP_RESULT_NULL_ARGUMENT);
  CHECK(buf == NULL && len == 0);
  SPOIL(buf);
  len = 77;
  CHECK_RC(btp_store_export_audit(NULL, 0, 0, &buf, &len, &events), BTP_RESULT_NULL_ARGUMENT);
  CHECK(buf == NULL && len == 0);
}

/* ---- NULL with a non-zero length: NULL_ARGUMENT, for every pair. ---- */

typedef struct {
  const char *what;
  btp_result (*call)(void);
} null_case;

#define NULLCASE(name, expr)                                                   \
  static btp_result name(void) { return (expr); }

/* Outputs of the calls below: none may be set by a failed call. */
static btp_master_key *key_out;
static btp_params *params_out;
static btp_protector *prot_out;
static btp_template *tmpl_out, *tmpl_slots[4];
static btp_store *store_out;
static btp_identification *ident_out;
static btp_candidate cands[8];
static size_t found[4], sz;
static double dbl, curve[128];
static btp_eer eer_out;
static btp_operating_point op_out;
static int64_t rec;
static btp_store_verification verification;
static const btp_template *PROBES[2];

NULLCASE(n_key, btp_master_key_from_bytes(NULL, 32, &key_out))
NULLCASE(n_centre, btp_params_with_centre(P, NULL, DIM, &params_out))
NULLCASE(n_params_buf, btp_params_to_bytes(P, NULL, 4, &sz))
NULLCASE(n_params_bytes, btp_params_from_bytes(NULL, 4, &params_out))
NULLCASE(n_subject, btp_protector_new(P, K, "abi", 1, NULL, 1, &prot_out))
NULLCASE(n_prot_fp, btp_protector_fingerprint(PROT, NULL, 4))
NULLCASE(n_features, btp_protector_protect(PROT, NULL, DIM, &tmpl_out))
NULLCASE(n_rows, btp_protector_protect_batch(PROT, NULL, DIM, tmpl_slots, 4, &sz))
NULLCASE(n_batch_out, btp_protector_protect_batch(PROT, X, DIM, NULL, 1, &sz))
NULLCASE(n_template_buf, btp_template_to_bytes(T, NULL, 4, &sz))
NULLCASE(n_template_bytes, btp_template_from_bytes(NULL, 4, &tmpl_out))
NULLCASE(n_template_fp, btp_template_fingerprint(T, NULL, 4))
NULLCASE(n_add_ids, btp_gallery_add_batch(G, NULL, 1, PROBES, 1))
NULLCASE(n_add_templates, btp_gallery_add_batch(G, IDS, 1, NULL, 1))
NULLCASE(n_features_ids, btp_gallery_add_features(G, PROT, NULL, 1, X, DIM))
NULLCASE(n_features_rows, btp_gallery_add_features(G, PROT, IDS, 1, NULL, DIM))
NULLCASE(n_remove_ids, btp_gallery_remove_batch(G, NULL, 1, &sz))
NULLCASE(n_search_out, btp_gallery_search(G, T, 3, NAN, NULL, 3, &sz))
NULLCASE(n_sb_probes, btp_gallery_search_batch(G, NULL, 2, 3, NAN, cands, 6, found, 2))
NULLCASE(n_sb_out, btp_gallery_search_batch(G, PROBES, 2, 3, NAN, NULL, 6, found, 2))
NULLCASE(n_sb_found, btp_gallery_search_batch(G, PROBES, 2, 3, NAN, cands, 6, NULL, 2))
NULLCASE(n_eer_g, btp_eval_eer(NULL, 2, SCORES, 2, &eer_out))
NULLCASE(n_eer_i, btp_eval_eer(SCORES, 2, NULL, 2, &eer_out))
NULLCASE(n_fnmr_g, btp_eval_fnmr_at_fmr(NULL, 2, SCORES, 2, 0.1, &op_out))
NULLCASE(n_fnmr_i, btp_eval_fnmr_at_fmr(SCORES, 2, NULL, 2, 0.1, &op_out))
NULLCASE(n_thr_i, btp_eval_threshold_at_fmr(NULL, 2, 0.1, &dbl, &dbl))
NULLCASE(n_unl_m, btp_eval_unlinkability(NULL, 2, SCORES, 4, 10, NAN, NAN, 1.0, &dbl, NULL, NULL, 0))
NULLCASE(n_unl_n, btp_eval_unlinkability(SCORES, 4, NULL, 2, 10, NAN, NAN, 1.0, &dbl, NULL, NULL, 0))
NULLCASE(n_unl_curves, btp_eval_unlinkability(SCORES + 2, 2, SCORES, 2, 10, NAN, NAN, 1.0, &dbl,
                                              NULL, NULL, 128))
NULLCASE(n_open_purposes, btp_store_open(store_path, K, NULL, 1, NULL, &store_out))
NULLCASE(n_enroll, btp_store_enroll(S, "p", "x", NULL, DIM, MAXIMUM, "tester", "test", &rec))
NULLCASE(n_retain, btp_store_retain_probe(S, "p", "c", NULL, DIM, MAXIMUM, "tester", "test", &rec))
NULLCASE(n_verify, btp_store_verify(S, "p", "person-1", NULL, DIM, "tester", "test", &verification))
NULLCASE(n_identify, btp_store_identify(S, "p", NULL, DIM, 3, NAN, "tester", "test", &ident_out))

static const null_case NULLS[] = {
    {"master_key_from_bytes(bytes)", n_key},
    {"params_with_centre(centre)", n_centre},
    {"params_to_bytes(buf, 4): not BUFFER_TOO_SMALL", n_params_buf},
    {"params_from_bytes(bytes)", n_params_bytes},
    {"protector_new(subject)", n_subject},
    {"protector_fingerprint(buf, 4): not BUFFER_TOO_SMALL", n_prot_fp},
    {"protector_protect(features)", n_features},
    {"protector_protect_batch(rows)", n_rows},
    {"protector_protect_batch(out)", n_batch_out},
    {"template_to_bytes(buf, 4): not BUFFER_TOO_SMALL", n_template_buf},
    {"template_from_bytes(bytes)", n_template_bytes},
    {"template_fingerprint(buf, 4): not BUFFER_TOO_SMALL", n_template_fp},
    {"gallery_add_batch(ids)", n_add_ids},
    {"gallery_add_batch(templates)", n_add_templates},
    {"gallery_add_features(ids)", n_features_ids},
    {"gallery_add_features(rows)", n_features_rows},
    {"gallery_remove_batch(ids)", n_remove_ids},
    {"gallery_search(out)", n_search_out},
    {"gallery_search_batch(probes)", n_sb_probes},
    {"gallery_search_batch(out)", n_sb_out},
    {"gallery_search_batch(found)", n_sb_found},
    {"eval_eer(genuine)", n_eer_g},
    {"eval_eer(impostor)", n_eer_i},
    {"eval_fnmr_at_fmr(genuine)", n_fnmr_g},
    {"eval_fnmr_at_fmr(impostor)", n_fnmr_i},
    {"eval_threshold_at_fmr(impostor)", n_thr_i},
    {"eval_unlinkability(mated)", n_unl_m},
    {"eval_unlinkability(nonmated)", n_unl_n},
    {"eval_unlinkability(d_local, bin_centres, 128)", n_unl_curves},
    {"store_open(purposes)", n_open_purposes},
    {"store_enroll(features)", n_enroll},
    {"store_retain_probe(features)", n_retain},
    {"store_verify(features)", n_verify},
    {"store_identify(features)", n_identify},
};

static void test_null_with_a_length(void) {
  PROBES[0] = T;
  PROBES[1] = U;
  for (size_t i = 0; i < sizeof NULLS / sizeof NULLS[0]; i++) {
    btp_result rc = NULLS[i].call();
    const char *msg = btp_last_error_message();
    if (rc == BTP_RESULT_NULL_ARGUMENT && strstr(msg, "NULL") != NULL) {
      harness_passed++;
    } else {
      harness_failed++;
      fprintf(stderr, "btp_%s gave %u, not NULL_ARGUMENT; last error: %s\n", NULLS[i].what,
              (unsigned)rc, msg);
    }
  }
  /* The failed calls made nothing. */
  CHECK(key_out == NULL && params_out == NULL && prot_out == NULL && tmpl_out == NULL &&
        store_out == NULL && ident_out == NULL);
  for (size_t i = 0; i < 4; i++) CHECK(tmpl_slots[i] == NULL);
  size_t len = 0;
  CHECK_RC(btp_gallery_len(G, &len), BTP_RESULT_OK);
  CHECK(len == 3);
  /* The copy of the last error (which keeps the message unchanged). */
  CHECK_RC(btp_params_to_bytes(P, NULL, 4, &sz), BTP_RESULT_NULL_ARGUMENT);
  size_t needed = 0;
  CHECK(btp_last_error(NULL, 2, &needed) == BTP_RESULT_NULL_ARGUMENT);
  CHECK(needed == strlen(btp_last_error_message()) + 1);
  CHECK(btp_last_error(NULL, 0, &needed) == BTP_RESULT_BUFFER_TOO_SMALL);
  /* NULL with length 0 stays a size query or an empty input. */
  CHECK_RC(btp_template_to_bytes(T, NULL, 0, &sz), BTP_RESULT_BUFFER_TOO_SMALL);
  CHECK_RC(btp_protector_fingerprint(PROT, NULL, 0), BTP_RESULT_BUFFER_TOO_SMALL);
  CHECK_RC(btp_gallery_remove_batch(G, NULL, 0, &sz), BTP_RESULT_OK);
  /* One curve of the unlinkability wanted: the other may be NULL. */
  CHECK_RC(btp_eval_unlinkability(SCORES + 2, 2, SCORES, 2, 10, NAN, NAN, 1.0, &dbl, NULL, curve,
                                  128),
           BTP_RESULT_OK);
  CHECK(curve[0] < curve[9]);
}

/* ---- Batches: a length that is not a multiple of the dimension. ---- */

static void test_batch_dimensions(void) {
  btp_template *slots[3] = {NULL, NULL, NULL};
  size_t count = 0;
  CHECK_RC(btp_protector_protect_batch(PROT, X, 3 * DIM - 1, slots, 3, &count),
           BTP_RESULT_WRONG_DIMENSION);
  CHECK(strstr(btp_last_error_message(), "`rows`") != NULL);
  CHECK(strstr(btp_last_error_message(), "row 2") != NULL);
  CHECK_RC(btp_protector_protect_batch(PROT, X, 1, slots, 3, &count), BTP_RESULT_WRONG_DIMENSION);
  btp_gallery *h = NULL;
  CHECK_RC(btp_gallery_new(PROT, &h), BTP_RESULT_OK);
  uint64_t ids[3] = {7, 8, 9};
  CHECK_RC(btp_gallery_add_features(h, PROT, ids, 3, X, 3 * DIM - 1), BTP_RESULT_WRONG_DIMENSION);
  CHECK(strstr(btp_last_error_message(), "`rows`") != NULL);
  CHECK_RC(btp_gallery_add_features(h, PROT, ids, 3, X, 3 * DIM + 1), BTP_RESULT_WRONG_DIMENSION);
  /* A whole number of rows, but not one per id: a count, not a dimension. */
  CHECK_RC(btp_gallery_add_features(h, PROT, ids, 2, X, 3 * DIM), BTP_RESULT_INVALID_PARAMETER);
  CHECK(strstr(btp_last_error_message(), "`ids`") != NULL);
  size_t len = 99;
  CHECK_RC(btp_gallery_len(h, &len), BTP_RESULT_OK);
  CHECK(len == 0);
  CHECK_RC(btp_gallery_add_features(h, PROT, ids, 3, X, 3 * DIM), BTP_RESULT_OK);
  btp_gallery_free(h);
}

/* ---- Messages: the argument named, no free text echoed. ---- */

#define CHECK_NAMES(call, code, name)                                          \
  do {                                                                         \
    CHECK_RC(call, code);                                                      \
    CHECK(strstr(btp_last_error_message(), name) != NULL);                     \
  } while (0)

/* Free text a user typed: must never appear in a message. */
#define SECRET "Zq7-private"

static void check_quiet(void) {
  const char *msg = btp_last_error_message();
  CHECK(msg[0] != '\0' && strstr(msg, SECRET) == NULL && strlen(msg) < 300);
  if (strstr(msg, SECRET) != NULL) fprintf(stderr, "echoed: %s\n", msg);
}

static void test_messages(void) {
  btp_purpose *p = NULL;
  btp_template *t = NULL;
  CHECK_NAMES(btp_protector_protect(PROT, X, DIM - 1, &t), BTP_RESULT_WRONG_DIMENSION, "`features`");
  CHECK_NAMES(btp_purpose_new("", P, "abi", 1, 0.3, DAY, &p), BTP_RESULT_INVALID_PARAMETER,
              "argument `name`");
  CHECK_NAMES(btp_purpose_new("q", P, "abi", 1, 0.3, 0, &p), BTP_RESULT_INVALID_PARAMETER,
              "`max_retention_seconds`");
  CHECK_NAMES(btp_purpose_new("q", P, "abi", 1, -0.5, DAY, &p), BTP_RESULT_INVALID_PARAMETER,
              "`threshold`");
  CHECK_NAMES(btp_template_from_bytes(JUNK, 8, &t), BTP_RESULT_DECODE, "`bytes`");
  btp_master_key *k = NULL;
  CHECK_NAMES(btp_master_key_from_bytes(JUNK, 8, &k), BTP_RESULT_INVALID_KEY_LENGTH, "`bytes`");
  btp_store_options *o = NULL;
  CHECK_RC(btp_store_options_new(&o), BTP_RESULT_OK);
  CHECK_RC(btp_store_options_set_batch_size(o, 0), BTP_RESULT_OK);
  const btp_purpose *purposes[1] = {PURPOSE};
  btp_store *s = NULL;
  CHECK_NAMES(btp_store_open(store_path, K, purposes, 1, o, &s), BTP_RESULT_INVALID_PARAMETER,
              "`options.batch_size`");
  CHECK_RC(btp_store_options_set_batch_size(o, 10), BTP_RESULT_OK);
  /* Past what SQLite takes: refused, never a panic. */
  CHECK_RC(btp_store_options_set_busy_timeout_ms(o, UINT64_MAX), BTP_RESULT_OK);
  CHECK_NAMES(btp_store_open(store_path, K, purposes, 1, o, &s), BTP_RESULT_INVALID_PARAMETER,
              "`options.busy_timeout_ms`");
  btp_store_options_free(o);

  /* Free text: subject ids, case references, actors, reasons, reviewers. */
  int64_t record = 0, hold = 0;
  CHECK_RC(btp_store_enroll(S, "p", SECRET "-subject", X, DIM, MAXIMUM, "tester", "setup", &record),
           BTP_RESULT_OK);
  CHECK_RC(btp_store_hold_subject(S, SECRET "-subject", SECRET "-actor", SECRET " court order", &hold),
           BTP_RESULT_OK);
  btp_erasure_report erased;
  CHECK_RC(btp_store_erase(S, SECRET "-subject", NULL, SECRET "-actor", SECRET " request", &erased),
           BTP_RESULT_HELD);
  check_quiet();
  CHECK_RC(btp_store_enroll(S, "nope", SECRET "-subject", X, DIM, MAXIMUM, SECRET, SECRET, &record),
           BTP_RESULT_UNKNOWN_PURPOSE);
  check_quiet();
  CHECK_NAMES(btp_store_enroll(S, "p", SECRET "-subject", X, DIM - 1, MAXIMUM, SECRET, SECRET, &record),
              BTP_RESULT_WRONG_DIMENSION, "`features`");
  check_quiet();
  CHECK_NAMES(btp_store_enroll(S, "p", SECRET "-subject", X, DIM, MAXIMUM, SECRET, "", &record),
              BTP_RESULT_INVALID_PARAMETER, "`reason`");
  check_quiet();
  CHECK_NAMES(btp_store_retain_probe(S, "p", "", X, DIM, MAXIMUM, SECRET, SECRET, &record),
              BTP_RESULT_INVALID_PARAMETER, "`case_ref`");
  check_quiet();
  CHECK_NAMES(btp_store_retain_probe(S, "p", SECRET "-case", X, DIM - 1, MAXIMUM, SECRET, SECRET,
                                     &record),
              BTP_RESULT_WRONG_DIMENSION, "`features`");
  check_quiet();
  CHECK_RC(btp_store_verify(S, "p", SECRET "-nobody", X, DIM, SECRET, SECRET, &verification),
           BTP_RESULT_NOT_FOUND);
  check_quiet();
  uint64_t event = 0;
  CHECK_RC(btp_store_review(S, 999999, SECRET "-reviewer", BTP_REVIEW_OUTCOME_REJECTED, 0, SECRET,
                            SECRET, &event),
           BTP_RESULT_NOT_FOUND);
  check_quiet();
  CHECK_RC(btp_store_hold_record(S, 999999, SECRET, SECRET, &hold), BTP_RESULT_NOT_FOUND);
  check_quiet();
  CHECK_RC(btp_store_release(S, 999999, SECRET, SECRET), BTP_RESULT_NOT_FOUND);
  check_quiet();
  /* A subject id far too long: refused by its length, not echoed. */
  size_t n = 70000;
  char *long_id = (char *)malloc(n + 1);
  for (size_t i = 0; i < n; i++) long_id[i] = SECRET[i % (sizeof SECRET - 1)];
  long_id[n] = '\0';
  CHECK_NAMES(btp_store_enroll(S, "p", long_id, X, DIM, MAXIMUM, "tester", "test", &record),
              BTP_RESULT_INVALID_PARAMETER, "`subject`");
  check_quiet();
  CHECK_NAMES(btp_store_retain_probe(S, "p", long_id, X, DIM, MAXIMUM, "tester", "test", &record),
              BTP_RESULT_INVALID_PARAMETER, "`case_ref`");
  check_quiet();
  CHECK_RC(btp_store_erase(S, long_id, NULL, "tester", "test", &erased), BTP_RESULT_INVALID_PARAMETER);
  check_quiet();
  free(long_id);
  btp_stats *st = NULL;
  CHECK_RC(btp_store_stats(S, 0, INT64_MAX, &st), BTP_RESULT_OK);
  uint64_t count = 0;
  CHECK_NAMES(btp_stats_count(st, 0, SECRET "-action", &count), BTP_RESULT_INVALID_PARAMETER,
              "`action`");
  check_quiet();
  btp_stats_free(st);
}

/* ---- Enums, sizes and pointers a C caller can get wrong. ---- */

static void test_enums_sizes_pointers(void) {
  int64_t record = 0;
  uint64_t event = 0;
  const uint32_t kinds[] = {3, 99, UINT32_MAX};
  for (size_t i = 0; i < 3; i++) {
    btp_retention r = {kinds[i], DAY};
    CHECK_NAMES(btp_store_enroll(S, "p", "person-2", X, DIM, r, "tester", "test", &record),
                BTP_RESULT_INVALID_PARAMETER, "`retention.kind`");
    CHECK_NAMES(btp_store_review(S, 1, "reviewer", kinds[i], 0, "tester", "test", &event),
                BTP_RESULT_INVALID_PARAMETER, "`outcome`");
  }
  btp_retention negative = {BTP_RETENTION_KIND_FOR_SECONDS, -5};
  CHECK_NAMES(btp_store_enroll(S, "p", "person-2", X, DIM, negative, "tester", "test", &record),
              BTP_RESULT_INVALID_PARAMETER, "`retention.value`");

  /* n probes x k: an overflow is refused before anything is written. */
  const btp_template *probes[3] = {T, U, T};
  CHECK_NAMES(btp_gallery_search_batch(G, probes, 3, SIZE_MAX / 2, NAN, cands, 8, found, 4),
              BTP_RESULT_INVALID_PARAMETER, "`k`");
  CHECK_RC(btp_gallery_search_batch(G, probes, 2, SIZE_MAX / 2, NAN, cands, 8, found, 4),
           BTP_RESULT_BUFFER_TOO_SMALL);
  /* A huge k with one probe: at most the gallery comes back. */
  size_t n = 0;
  CHECK_RC(btp_gallery_search(G, T, SIZE_MAX, NAN, cands, 8, &n), BTP_RESULT_OK);
  CHECK(n == 3);
  /* A huge thread count: the search still runs. */
  CHECK_RC(btp_gallery_set_threads(G, SIZE_MAX), BTP_RESULT_OK);
  CHECK_RC(btp_gallery_search_batch(G, probes, 3, 3, NAN, cands, 8, found, 3),
           BTP_RESULT_BUFFER_TOO_SMALL); /* 9 slots needed, 8 here */
  CHECK_RC(btp_gallery_search_batch(G, probes, 2, 4, NAN, cands, 8, found, 2), BTP_RESULT_OK);
  CHECK(found[0] == 3 && found[1] == 3 && cands[0].id == 1 && cands[4].id == 2);
  CHECK_RC(btp_gallery_set_threads(G, 0), BTP_RESULT_OK);
  /* bins: the curve arrays are checked against it before any work. */
  CHECK_RC(btp_eval_unlinkability(SCORES + 2, 2, SCORES, 2, SIZE_MAX, NAN, NAN, 1.0, &dbl, curve,
                                  NULL, 128),
           BTP_RESULT_BUFFER_TOO_SMALL);

  /* Misaligned pointers to values the library reads or writes. */
  int64_t words[3] = {0, 0, 0};
  int64_t *odd = (int64_t *)(void *)((char *)words + 1);
  btp_sweep_report sweep;
  CHECK_NAMES(btp_store_sweep(S, odd, "tester", "test", &sweep), BTP_RESULT_INVALID_PARAMETER,
              "`now`");
  CHECK(strstr(btp_last_error_message(), "aligned") != NULL);
  btp_audit_head head, heads[2];
  CHECK_RC(btp_store_audit_head(S, &head), BTP_RESULT_OK);
  CHECK_RC(btp_store_check_audit_head(S, &head), BTP_RESULT_OK);
  memcpy((char *)heads + 4, &head, sizeof head); /* a valid head, misaligned */
  CHECK_NAMES(btp_store_check_audit_head(S, (const btp_audit_head *)(void *)((char *)heads + 4)),
              BTP_RESULT_INVALID_PARAMETER, "`head`");
  CHECK(strstr(btp_last_error_message(), "aligned") != NULL);
  CHECK(btp_last_error(NULL, 0, (size_t *)(void *)((char *)words + 1)) ==
        BTP_RESULT_INVALID_PARAMETER);
}

int main(void) {
  const char *tmp = getenv("TMPDIR");
  snprintf(dir, sizeof dir, "%s/btp-c-abi-XXXXXX", tmp && strlen(tmp) < 40 ? tmp : "/tmp");
  if (!mkdtemp(dir)) {
    perror("mkdtemp");
    return 1;
  }
  fixture_init();
  test_failed_constructors_leave_null();
  test_null_with_a_length();
  test_batch_dimensions();
  test_messages();
  test_enums_sizes_pointers();
  fixture_free();
  return harness_report();
}
