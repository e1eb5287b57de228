/* The encrypted template store from C: a border-control deployment.
 *
 * Opens a store in a temporary directory, enrols travellers, verifies one
 * (1:1), identifies another (1:N, a candidate list for an officer to
 * review), erases a traveller on request, sweeps expired records, and
 * verifies the audit chain, exporting it as JSON lines. Every call that
 * touches biometric data names who acts and why: the audit log records it.
 *
 * Build: cc store_example.c $(pkg-config --cflags --libs btp) -lm
 */
#define _POSIX_C_SOURCE 200809L
#include <dirent.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "btp.h"

#define DIM 128
#define TRAVELLERS 5

/* Stops at the first failure with the library's message. */
#define TRY(call)                                                                    \
  do {                                                                               \
    btp_result rc_ = (call);                                                         \
    if (rc_ != BTP_RESULT_OK) {                                                      \
      fprintf(stderr, "%s:%d: %s failed: %s (%s)\n", __FILE__, __LINE__, #call,      \
              btp_result_str((uint32_t)rc_), btp_last_error_message());              \
      exit(1);                                                                       \
    }                                                                                \
  } while (0)

/* Stand-in for the e-gate's face embedding extractor. */
static void embedding(float *x, int person, int capture) {
  for (int i = 0; i < DIM; i++)
    x[i] = (float)(sin(i * (0.29 + 0.09 * person) + person) + 0.2 * sin(i * 3.1 + 5.0 * capture));
}

static void remove_dir(const char *dir) {
  DIR *d = opendir(dir);
  struct dirent *e;
  char path[512];
  while (d && (e = readdir(d)) != NULL) {
    if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
    snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
    unlink(path);
  }
  if (d) closedir(d);
  rmdir(dir);
}

int main(void) {
  char dir[] = "/tmp/btp-store-example-XXXXXX";
  if (!mkdtemp(dir)) return 1;
  char path[64];
  snprintf(path, sizeof path, "%s/border.db", dir);

  /* The deployment's master key (from its key store in real life). */
  btp_master_key *key = NULL;
  TRY(btp_master_key_generate(&key));

  /* One purpose: border entry, threshold 0.3, records kept 30 days at most. */
  btp_params *params = NULL;
  btp_purpose *border = NULL;
  TRY(btp_params_iom_grp(DIM, 512, 16, &params));
  TRY(btp_purpose_new("border-entry", params, "gate-A", 1, 0.3, 30 * 86400, &border));
  const btp_purpose *purposes[] = {border};
  btp_store *store = NULL;
  TRY(btp_store_create(path, key, purposes, 1, NULL, &store));

  /* Enrolment: the feature vectors are protected at once and never stored. */
  const btp_retention keep_max = {BTP_RETENTION_KIND_MAXIMUM, 0};
  const btp_retention one_day = {BTP_RETENTION_KIND_FOR_SECONDS, 86400};
  float x[DIM];
  char passport[32];
  for (int p = 0; p < TRAVELLERS; p++) {
    int64_t record = 0;
    embedding(x, p, 0);
    snprintf(passport, sizeof passport, "P-%07d", 1000 + p);
    TRY(btp_store_enroll(store, "border-entry", passport, x, DIM, p == 4 ? one_day : keep_max,
                         "enrolment-kiosk-3", "visa application", &record));
  }

  /* 1:1 at the gate. */
  btp_store_verification v;
  embedding(x, 1, 1);
  TRY(btp_store_verify(store, "border-entry", "P-0001001", x, DIM, "gate-A-12", "entry check", &v));
  printf("1:1 P-0001001: score %.3f >= %.2f: %s (audit event %llu)\n", v.decision.score,
         v.decision.threshold, v.decision.matched ? "match" : "no match",
         (unsigned long long)v.event);

  /* 1:N for an officer: candidates, then the officer's review. */
  btp_identification *ident = NULL;
  size_t n = 0;
  uint64_t event = 0, review = 0;
  embedding(x, 3, 2);
  TRY(btp_store_identify(store, "border-entry", x, DIM, 3, NAN, "officer-7", "document fraud case 88",
                         &ident));
  TRY(btp_identification_len(ident, &n));
  TRY(btp_identification_event(ident, &event));
  printf("1:N: %zu candidate(s)\n", n);
  btp_store_candidate best = {NULL, 0, 0, 0.0};
  for (size_t i = 0; i < n; i++) {
    btp_store_candidate c;
    TRY(btp_identification_get(ident, i, &c));
    printf("  %s record %lld score %.3f\n", c.subject, (long long)c.record, c.score);
    if (i == 0) best = c;
  }
  if (n > 0)
    TRY(btp_store_review(store, event, "officer-7", BTP_REVIEW_OUTCOME_CONFIRMED, best.record,
                         "officer-7", "document fraud case 88", &review));
  btp_identification_free(ident); /* wipes the subject ids; `best.subject` is gone too */

  /* Erasure on the traveller's request. */
  btp_erasure_report er;
  TRY(btp_store_erase(store, "P-0001002", NULL, "dpo-office", "erasure request 2026-17", &er));
  printf("erased %llu record(s)\n", (unsigned long long)er.erased);

  /* The nightly sweep, run here as if two days had passed. */
  int64_t now = 0;
  TRY(btp_store_now(store, &now));
  int64_t later = now + 2 * 86400;
  btp_sweep_report sw;
  TRY(btp_store_sweep(store, &later, "retention-job", "nightly sweep", &sw));
  printf("sweep: %llu expired record(s) deleted, %llu held\n", (unsigned long long)sw.deleted,
         (unsigned long long)sw.held);

  /* The audit chain verifies; keep its head elsewhere; export it. */
  btp_audit_report audit;
  TRY(btp_store_verify_audit(store, &audit));
  printf("audit: %llu events verified, head seq %llu, mac %02x%02x%02x%02x...\n",
         (unsigned long long)audit.events, (unsigned long long)audit.head.seq, audit.head.mac[0],
         audit.head.mac[1], audit.head.mac[2], audit.head.mac[3]);
  uint8_t *jsonl = NULL;
  size_t jsonl_len = 0;
  uint64_t exported = 0;
  TRY(btp_store_export_audit(store, 0, 0, &jsonl, &jsonl_len, &exported));
  const uint8_t *first_nl = (const uint8_t *)memchr(jsonl, '\n', jsonl_len);
  printf("exported %llu events (%zu bytes); the first:\n%.*s\n", (unsigned long long)exported,
         jsonl_len, (int)(first_nl ? first_nl - jsonl : 0), (const char *)jsonl);
  btp_bytes_free(jsonl, jsonl_len);

  uint64_t left = 0;
  TRY(btp_store_record_count(store, NULL, &left));
  printf("%llu record(s) left\n", (unsigned long long)left);

  btp_store_free(store);
  btp_purpose_free(border);
  btp_params_free(params);
  btp_master_key_free(key);
  remove_dir(dir);
  return v.decision.matched && er.erased == 1 && sw.deleted == 1 && left == TRAVELLERS - 2 &&
                 exported == audit.events
             ? 0
             : 1;
}
