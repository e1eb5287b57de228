/* Thread safety as documented in btp.h: one protector, one gallery (read
 * only) and one store handle used by several threads at once give exactly
 * the single-threaded results, and each thread has its own last error. */
#define _POSIX_C_SOURCE 200809L
#include <dirent.h>
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#include "harness.h"

#define DIM 48
#define ITEMS 24
#define K 5
#define THREADS 4
#define ROUNDS 3
#define PER_THREAD 3

static btp_protector *prot;
static btp_gallery *gallery;
static btp_store *store;
static float rows[ITEMS][DIM];
static uint8_t *expected_bytes[ITEMS];
static size_t expected_len[ITEMS];
static btp_candidate expected_hits[ITEMS][K];
static size_t expected_found[ITEMS];

/* CHECK is not thread-safe: workers count their own failures. */
typedef struct {
  int index;
  int failures;
  int checks;
} worker;

#define WCHECK(w, cond)                                                          \
  do {                                                                           \
    (w)->checks++;                                                               \
    if (!(cond)) {                                                               \
      (w)->failures++;                                                           \
      fprintf(stderr, "thread %d, line %d: %s (last error: %s)\n", (w)->index, \
              __LINE__, #cond, btp_last_error_message());                        \
    }                                                                            \
  } while (0)

static void features(float *x, int item, int sample) {
  for (int i = 0; i < DIM; i++)
    x[i] = (float)sin(i * (0.21 + 0.07 * item) + item) + 0.03f * (float)sample * (float)cos(i + sample);
}

static int same_template(const btp_template *t, int item) {
  uint8_t *b = NULL;
  size_t n = 0;
  int ok = btp_template_to_bytes_alloc(t, &b, &n) == BTP_RESULT_OK && n == expected_len[item] &&
           memcmp(b, expected_bytes[item], n) == 0;
  btp_bytes_free(b, n);
  return ok;
}

static void *protect_and_search(void *arg) {
  worker *w = (worker *)arg;
  for (int round = 0; round < ROUNDS; round++) {
    for (int j = 0; j < ITEMS; j++) {
      int item = (j + w->index * 5) % ITEMS;
      btp_template *t = NULL;
      WCHECK(w, btp_protector_protect(prot, rows[item], DIM, &t) == BTP_RESULT_OK);
      WCHECK(w, same_template(t, item));
      btp_candidate hits[K];
      size_t found = 0;
      WCHECK(w, btp_gallery_search(gallery, t, K, NAN, hits, K, &found) == BTP_RESULT_OK);
      WCHECK(w, found == expected_found[item] &&
                    memcmp(hits, expected_hits[item], found * sizeof hits[0]) == 0);
      double score = 0.0;
      WCHECK(w, btp_protector_compare(prot, t, t, &score) == BTP_RESULT_OK && score == 1.0);
      btp_template_free(t);
      /* An error of this thread's own: its message stays this thread's. */
      size_t bad_len = (size_t)(DIM + 1 + w->index);
      char want[64];
      snprintf(want, sizeof want, "got %zu", bad_len);
      float x[DIM + THREADS + 1] = {0};
      WCHECK(w, btp_protector_protect(prot, x, bad_len, &t) == BTP_RESULT_WRONG_DIMENSION);
      WCHECK(w, strstr(btp_last_error_message(), want) != NULL);
    }
    /* A batch search of every item at once. */
    const btp_template *probes[ITEMS];
    btp_template *owned[ITEMS];
    size_t count = 0;
    WCHECK(w, btp_protector_protect_batch(prot, &rows[0][0], ITEMS * DIM, owned, ITEMS, &count) ==
                  BTP_RESULT_OK);
    for (int i = 0; i < ITEMS; i++) probes[i] = owned[i];
    btp_candidate hits[ITEMS * K];
    size_t found[ITEMS];
    WCHECK(w, btp_gallery_search_batch(gallery, probes, ITEMS, K, NAN, hits, ITEMS * K, found,
                                       ITEMS) == BTP_RESULT_OK);
    for (int i = 0; i < ITEMS; i++) {
      WCHECK(w, found[i] == expected_found[i] &&
                    memcmp(&hits[i * K], expected_hits[i], found[i] * sizeof hits[0]) == 0);
      btp_template_free(owned[i]);
    }
  }
  return NULL;
}

static void *use_store(void *arg) {
  worker *w = (worker *)arg;
  btp_retention keep = {BTP_RETENTION_KIND_MAXIMUM, 0};
  char name[32];
  for (int i = 0; i < PER_THREAD; i++) {
    int item = w->index * PER_THREAD + i;
    int64_t record = 0;
    snprintf(name, sizeof name, "subject-%02d", item);
    WCHECK(w, btp_store_enroll(store, "gate", name, rows[item], DIM, keep, "worker", "load test",
                               &record) == BTP_RESULT_OK);
  }
  for (int i = 0; i < PER_THREAD; i++) {
    int item = w->index * PER_THREAD + i;
    float y[DIM];
    features(y, item, 1);
    snprintf(name, sizeof name, "subject-%02d", item);
    btp_store_verification v;
    WCHECK(w, btp_store_verify(store, "gate", name, y, DIM, "worker", "load test", &v) ==
                  BTP_RESULT_OK);
    WCHECK(w, v.decision.matched);
    btp_identification *id = NULL;
    WCHECK(w, btp_store_identify(store, "gate", y, DIM, 1, NAN, "worker", "load test", &id) ==
                  BTP_RESULT_OK);
    btp_store_candidate c;
    /* Other threads may not have enrolled yet, but this subject has. */
    WCHECK(w, btp_identification_get(id, 0, &c) == BTP_RESULT_OK && strcmp(c.subject, name) == 0);
    btp_identification_free(id);
  }
  return NULL;
}

static void run_workers(void *(*body)(void *)) {
  pthread_t threads[THREADS];
  worker workers[THREADS];
  for (int i = 0; i < THREADS; i++) {
    workers[i].index = i;
    workers[i].failures = workers[i].checks = 0;
    CHECK(pthread_create(&threads[i], NULL, body, &workers[i]) == 0);
  }
  for (int i = 0; i < THREADS; i++) {
    CHECK(pthread_join(threads[i], NULL) == 0);
    harness_passed += workers[i].checks - workers[i].failures;
    harness_failed += workers[i].failures;
  }
}

int main(void) {
  uint8_t kb[32];
  memset(kb, 0x5c, sizeof kb);
  btp_master_key *key = NULL;
  btp_params *params = NULL;
  CHECK_RC(btp_master_key_from_bytes(kb, sizeof kb, &key), BTP_RESULT_OK);
  CHECK_RC(btp_params_iom_grp(DIM, 256, 16, &params), BTP_RESULT_OK);
  CHECK_RC(btp_protector_new(params, key, "threads", 1, NULL, 0, &prot), BTP_RESULT_OK);
  for (int i = 0; i < ITEMS; i++) features(rows[i], i, 0);

  /* Single-threaded reference results. */
  uint64_t ids[ITEMS];
  for (int i = 0; i < ITEMS; i++) ids[i] = 1000 + (uint64_t)i;
  CHECK_RC(btp_gallery_new(prot, &gallery), BTP_RESULT_OK);
  CHECK_RC(btp_gallery_add_features(gallery, prot, ids, ITEMS, &rows[0][0], ITEMS * DIM),
           BTP_RESULT_OK);
  CHECK_RC(btp_gallery_set_threads(gallery, 2), BTP_RESULT_OK);
  for (int i = 0; i < ITEMS; i++) {
    btp_template *t = NULL;
    CHECK_RC(btp_protector_protect(prot, rows[i], DIM, &t), BTP_RESULT_OK);
    CHECK_RC(btp_template_to_bytes_alloc(t, &expected_bytes[i], &expected_len[i]), BTP_RESULT_OK);
    CHECK_RC(btp_gallery_search(gallery, t, K, NAN, expected_hits[i], K, &expected_found[i]),
             BTP_RESULT_OK);
    CHECK(expected_found[i] == K && expected_hits[i][0].id == ids[i]);
    btp_template_free(t);
  }

  run_workers(protect_and_search);

  /* One store handle shared by every thread. */
  char dir[64], path[128];
  const char *tmp = getenv("TMPDIR");
  snprintf(dir, sizeof dir, "%s/btp-c-threads-XXXXXX", tmp && strlen(tmp) < 40 ? tmp : "/tmp");
  CHECK(mkdtemp(dir) != NULL);
  snprintf(path, sizeof path, "%s/store.db", dir);
  btp_purpose *gate = NULL;
  CHECK_RC(btp_purpose_new("gate", params, "threads", 1, 0.3, 86400, &gate), BTP_RESULT_OK);
  const btp_purpose *purposes[1] = {gate};
  CHECK_RC(btp_store_create(path, key, purposes, 1, NULL, &store), BTP_RESULT_OK);
  run_workers(use_store);
  uint64_t count = 0;
  CHECK_RC(btp_store_record_count(store, "gate", &count), BTP_RESULT_OK);
  CHECK(count == THREADS * PER_THREAD);
  btp_audit_report rep;
  CHECK_RC(btp_store_verify_audit(store, &rep), BTP_RESULT_OK);
  CHECK(rep.events == 2 + THREADS * PER_THREAD * 3); /* created, purpose, enrol+verify+identify */
  btp_store_free(store);

  DIR *d = opendir(dir);
  struct dirent *e;
  while (d && (e = readdir(d)) != NULL) {
    if (e->d_name[0] == '.') continue;
    char p[512];
    snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
    unlink(p);
  }
  if (d) closedir(d);
  rmdir(dir);

  for (int i = 0; i < ITEMS; i++) btp_bytes_free(expected_bytes[i], expected_len[i]);
  btp_purpose_free(gate);
  btp_gallery_free(gallery);
  btp_protector_free(prot);
  btp_params_free(params);
  btp_master_key_free(key);
  return harness_report();
}
