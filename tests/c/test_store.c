/* The encrypted store through the C ABI: the whole life of records
 * (enrol, verify, identify, review, retain, hold, erase, sweep, rotate),
 * the audit log (verify, head, export into a library buffer, prune) and
 * statistics, and every store result code a C program can provoke: NULL
 * and bad arguments, unknown purpose, retention too long, expired, held,
 * wrong key, not a store, unsupported schema, key exhausted, I/O, and,
 * by editing the file, integrity, corruption and a broken audit chain. */
#define _POSIX_C_SOURCE 200809L
#include <dirent.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#include "harness.h"

#define DIM 32
#define DAY 86400
#define SUBJECTS 6

static const char *ACTOR = "officer-7";
static const char *REASON = "case 2026/114";

/* The stores' clock: tests move it forward. */
static int64_t fake_now = 1800000000;
static int64_t test_clock(void *ctx) { return *(const int64_t *)ctx; }

static char dir[64];

static void path_in(char *out, size_t n, const char *name) { snprintf(out, n, "%s/%s", dir, name); }

static void features(float *x, int subject, int sample) {
  for (int i = 0; i < DIM; i++)
    x[i] = (float)sin(i * (0.31 + 0.13 * subject) + subject) +
           0.04f * (float)sample * (float)cos(i * 1.7 + sample);
}

static void subject_name(char *out, size_t n, int s) { snprintf(out, n, "person-%03d", s); }

static btp_master_key *key_of(uint8_t fill) {
  uint8_t bytes[32];
  memset(bytes, fill, sizeof bytes);
  btp_master_key *k = NULL;
  CHECK_RC(btp_master_key_from_bytes(bytes, sizeof bytes, &k), BTP_RESULT_OK);
  return k;
}

static unsigned char *read_all(const char *path, long *n) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  fseek(f, 0, SEEK_END);
  *n = ftell(f);
  fseek(f, 0, SEEK_SET);
  unsigned char *b = (unsigned char *)malloc((size_t)*n + 1);
  if (b && fread(b, 1, (size_t)*n, f) != (size_t)*n) {
    free(b);
    b = NULL;
  }
  fclose(f);
  return b;
}

static int write_all(const char *path, const unsigned char *b, long n) {
  FILE *f = fopen(path, "wb");
  if (!f) return 0;
  int ok = fwrite(b, 1, (size_t)n, f) == (size_t)n;
  return fclose(f) == 0 && ok;
}

/* Fixture: a key, parameters, two purposes and options with the fake clock. */
typedef struct {
  btp_master_key *key;
  btp_params *params;
  btp_purpose *border, *watch;
  const btp_purpose *purposes[2];
  btp_store_options *opts;
} fixture;

static void fixture_init(fixture *f) {
  f->key = key_of(7);
  f->params = NULL;
  CHECK_RC(btp_params_iom_grp(DIM, 128, 16, &f->params), BTP_RESULT_OK);
  f->border = f->watch = NULL;
  CHECK_RC(btp_purpose_new("border", f->params, "gate-A", 1, 0.3, 30 * DAY, &f->border),
           BTP_RESULT_OK);
  CHECK_RC(btp_purpose_new("watchlist", f->params, "police", 1, 0.3, 365 * DAY, &f->watch),
           BTP_RESULT_OK);
  f->purposes[0] = f->border;
  f->purposes[1] = f->watch;
  f->opts = NULL;
  CHECK_RC(btp_store_options_new(&f->opts), BTP_RESULT_OK);
  CHECK_RC(btp_store_options_set_clock(f->opts, test_clock, &fake_now), BTP_RESULT_OK);
  CHECK_RC(btp_store_options_set_batch_size(f->opts, 2), BTP_RESULT_OK);
}

static void fixture_free(fixture *f) {
  btp_store_options_free(f->opts);
  btp_purpose_free(f->border);
  btp_purpose_free(f->watch);
  btp_params_free(f->params);
  btp_master_key_free(f->key);
}

static btp_store *open_store(const fixture *f, const char *name) {
  char path[128];
  path_in(path, sizeof path, name);
  btp_store *s = NULL;
  /* btp_store_open never creates a file, btp_store_create never opens one. */
  if (access(path, F_OK) == 0)
    CHECK_RC(btp_store_open(path, f->key, f->purposes, 2, f->opts, &s), BTP_RESULT_OK);
  else
    CHECK_RC(btp_store_create(path, f->key, f->purposes, 2, f->opts, &s), BTP_RESULT_OK);
  return s;
}

static const btp_retention MAXIMUM = {BTP_RETENTION_KIND_MAXIMUM, 0};

static void test_purposes_and_options(const fixture *f) {
  btp_purpose *p = (btp_purpose *)&fake_now; /* a failed constructor leaves NULL */
  CHECK_RC(btp_purpose_new(NULL, f->params, "app", 1, 0.3, DAY, &p), BTP_RESULT_NULL_ARGUMENT);
  CHECK(p == NULL);
  CHECK_RC(btp_purpose_new("", f->params, "app", 1, 0.3, DAY, &p), BTP_RESULT_INVALID_PARAMETER);
  CHECK_RC(btp_purpose_new("x", NULL, "app", 1, 0.3, DAY, &p), BTP_RESULT_NULL_ARGUMENT);
  CHECK_RC(btp_purpose_new("x", f->params, "", 1, 0.3, DAY, &p), BTP_RESULT_INVALID_PARAMETER);
  CHECK_RC(btp_purpose_new("x", f->params, NULL, 1, 0.3, DAY, &p), BTP_RESULT_NULL_ARGUMENT);
  CHECK_RC(btp_purpose_new("x", f->params, "app", 1, 1.5, DAY, &p), BTP_RESULT_INVALID_PARAMETER);
  CHECK(strstr(btp_last_error_message(), "threshold") != NULL);
  CHECK_RC(btp_purpose_new("x", f->params, "app", 1, NAN, DAY, &p), BTP_RESULT_INVALID_PARAMETER);
  CHECK_RC(btp_purpose_new("x", f->params, "app", 1, 0.3, 0, &p), BTP_RESULT_INVALID_PARAMETER);
  CHECK_RC(btp_purpose_new("x", f->params, "app", 1, 0.3, DAY, NULL), BTP_RESULT_NULL_ARGUMENT);
  CHECK(p == NULL);
  btp_purpose_free(NULL);

  btp_store_options *o = NULL;
  CHECK_RC(btp_store_options_new(NULL), BTP_RESULT_NULL_ARGUMENT);
  CHECK_RC(btp_store_options_new(&o), BTP_RESULT_OK);
  CHECK_RC(btp_store_options_set_busy_timeout_ms(NULL, 5), BTP_RESULT_NULL_ARGUMENT);
  CHECK_RC(btp_store_options_set_busy_timeout_ms(o, 5), BTP_RESULT_OK);
  CHECK_RC(btp_store_options_set_batch_size(NULL, 5), BTP_RESULT_NULL_ARGUMENT);
  CHECK_RC(btp_store_options_set_max_encryptions_per_key(NULL, 5), BTP_RESULT_NULL_ARGUMENT);
  CHECK_RC(btp_store_options_set_clock(NULL, test_clock, &fake_now), BTP_RESULT_NULL_ARGUMENT);
  CHECK_RC(btp_store_options_set_clock(o, NULL, NULL), BTP_RESULT_OK); /* system clock */
  /* Options are checked when a store is opened with them. */
  char path[128];
  path_in(path, sizeof path, "options.db");
  btp_store *s = NULL;
  CHECK_RC(btp_store_options_set_batch_size(o, 0), BTP_RESULT_OK);
  CHECK_RC(btp_store_create(path, f->key, f->purposes, 2, o, &s), BTP_RESULT_INVALID_PARAMETER);
  CHECK(strstr(btp_last_error_message(), "batch_size") != NULL && s == NULL);
  CHECK(access(path, F_OK) != 0); /* refused before the file was made */
  CHECK_RC(btp_store_options_set_batch_size(o, 10), BTP_RESULT_OK);
  CHECK_RC(btp_store_options_set_max_encryptions_per_key(o, 0), BTP_RESULT_OK);
  CHECK_RC(btp_store_create(path, f->key, f->purposes, 2, o, &s), BTP_RESULT_INVALID_PARAMETER);
  CHECK_RC(btp_store_options_set_max_encryptions_per_key(o, (uint64_t)1 << 33), BTP_RESULT_OK);
  CHECK_RC(btp_store_create(path, f->key, f->purposes, 2, o, &s), BTP_RESULT_INVALID_PARAMETER);
  btp_store_options_free(o);
  btp_store_options_free(NULL);
}

static void test_open_errors(const fixture *f) {
  char path[128], junk[128];
  path_in(path, sizeof path, "open.db");
  btp_store *s = (btp_store *)&fake_now;
  CHECK_RC(btp_store_open(NULL, f->key, f->purposes, 2, NULL, &s), BTP_RESULT_NULL_ARGUMENT);
  CHECK(s == NULL);
  CHECK_RC(btp_store_open("", f->key, f->purposes, 2, NULL, &s), BTP_RESULT_INVALID_PARAMETER);
  CHECK_RC(btp_store_open(path, NULL, f->purposes, 2, NULL, &s), BTP_RESULT_NULL_ARGUMENT);
  CHECK_RC(btp_store_open(path, f->key, NULL, 2, NULL, &s), BTP_RESULT_NULL_ARGUMENT);
  const btp_purpose *holey[2] = {f->border, NULL};
  CHECK_RC(btp_store_open(path, f->key, holey, 2, NULL, &s), BTP_RESULT_NULL_ARGUMENT);
  CHECK(strstr(btp_last_error_message(), "purposes[1]") != NULL);
  const btp_purpose *twice[2] = {f->border, f->border};
  CHECK_RC(btp_store_open(path, f->key, twice, 2, NULL, &s), BTP_RESULT_INVALID_PARAMETER);
  CHECK_RC(btp_store_open(path, f->key, f->purposes, 2, NULL, NULL), BTP_RESULT_NULL_ARGUMENT);
  /* A directory that does not exist: the file cannot be created. */
  CHECK_RC(btp_store_create("/nonexistent-btp-dir/x/store.db", f->key, f->purposes, 2, NULL, &s),
           BTP_RESULT_IO);
  CHECK(s == NULL);
  /* Opening never creates: a missing store is not found, and stays missing. */
  CHECK_RC(btp_store_open(path, f->key, f->purposes, 2, NULL, &s), BTP_RESULT_NOT_FOUND);
  CHECK(s == NULL && access(path, F_OK) != 0);

  /* Create the store; creating it again is refused, and reopening it with
   * another key or a changed purpose fails. */
  CHECK_RC(btp_store_create(path, f->key, f->purposes, 2, NULL, &s), BTP_RESULT_OK);
  btp_store_free(s);
  s = NULL;
  CHECK_RC(btp_store_create(path, f->key, f->purposes, 2, NULL, &s), BTP_RESULT_IO);
  CHECK(s == NULL && strstr(btp_last_error_message(), "already exists") != NULL);
  btp_master_key *other = key_of(8);
  CHECK_RC(btp_store_open(path, other, f->purposes, 2, NULL, &s), BTP_RESULT_WRONG_KEY);
  CHECK(s == NULL);
  btp_master_key_free(other);
  btp_purpose *moved = NULL;
  CHECK_RC(btp_purpose_new("border", f->params, "gate-B", 1, 0.3, DAY, &moved), BTP_RESULT_OK);
  const btp_purpose *changed[1] = {moved};
  CHECK_RC(btp_store_open(path, f->key, changed, 1, NULL, &s), BTP_RESULT_INVALID_PARAMETER);
  btp_purpose_free(moved);
  /* No purposes at all is allowed (e.g. for audit work). */
  CHECK_RC(btp_store_open(path, f->key, NULL, 0, NULL, &s), BTP_RESULT_OK);
  btp_store_free(s);
  s = NULL;

  /* A foreign file. */
  path_in(junk, sizeof junk, "junk.db");
  unsigned char bytes[8192];
  memset(bytes, 0x42, sizeof bytes);
  CHECK(write_all(junk, bytes, sizeof bytes));
  CHECK_RC(btp_store_open(junk, f->key, f->purposes, 2, NULL, &s), BTP_RESULT_NOT_A_STORE);
  CHECK(s == NULL);
  /* An emptied file is not a store, and is never reinitialised. */
  CHECK(write_all(junk, bytes, 0));
  CHECK_RC(btp_store_open(junk, f->key, f->purposes, 2, NULL, &s), BTP_RESULT_NOT_A_STORE);
  CHECK(s == NULL);
  long empty = -1;
  unsigned char *none = read_all(junk, &empty);
  CHECK(empty == 0);
  free(none);

  /* A store of a newer schema: user_version (bytes 60..63, big-endian) 99. */
  long n = 0;
  unsigned char *db = read_all(path, &n);
  CHECK(db != NULL && n > 100);
  if (db) {
    db[60] = db[61] = db[62] = 0;
    db[63] = 99;
    char newer[128];
    path_in(newer, sizeof newer, "newer.db");
    CHECK(write_all(newer, db, n));
    CHECK_RC(btp_store_open(newer, f->key, f->purposes, 2, NULL, &s), BTP_RESULT_UNSUPPORTED_SCHEMA);
    CHECK(strstr(btp_last_error_message(), "99") != NULL);
    free(db);
  }
  btp_store_free(NULL);
}

/* Enrols SUBJECTS people in "border" (and person 0 in "watchlist"). */
static void enrol_people(btp_store *s, int64_t *records) {
  for (int p = 0; p < SUBJECTS; p++) {
    float x[DIM];
    char name[32];
    features(x, p, 0);
    subject_name(name, sizeof name, p);
    records[p] = -1;
    CHECK_RC(btp_store_enroll(s, "border", name, x, DIM, MAXIMUM, ACTOR, REASON, &records[p]),
             BTP_RESULT_OK);
  }
  float x[DIM];
  int64_t r = 0;
  features(x, 0, 0);
  CHECK_RC(btp_store_enroll(s, "watchlist", "person-000", x, DIM, MAXIMUM, ACTOR, REASON, &r),
           BTP_RESULT_OK);
}

/* Many subjects in one call: all or nothing. */
static void test_enroll_batch(const fixture *f) {
  btp_store *s = open_store(f, "batch.db");
  enum { N = 6 };
  float rows[N * DIM];
  char names[N][32];
  const char *subjects[N];
  for (int p = 0; p < N; p++) {
    features(rows + p * DIM, p, 0);
    subject_name(names[p], sizeof names[p], p);
    subjects[p] = names[p];
  }
  int64_t records[N] = {0};
  uint64_t count = 0;
  /* A subject twice, a NaN, a partial row, a short output, a NULL subject. */
  const char *twice[N] = {names[0], names[1], names[2], names[1], names[4], names[5]};
  CHECK_RC(btp_store_enroll_batch(s, "border", twice, N, rows, N * DIM, MAXIMUM, ACTOR, REASON,
                                  records, N),
           BTP_RESULT_INVALID_PARAMETER);
  CHECK(strstr(btp_last_error_message(), "row 3") != NULL);
  CHECK(strstr(btp_last_error_message(), names[1]) == NULL);
  float saved = rows[4 * DIM + 2];
  rows[4 * DIM + 2] = NAN;
  CHECK_RC(btp_store_enroll_batch(s, "border", subjects, N, rows, N * DIM, MAXIMUM, ACTOR, REASON,
                                  records, N),
           BTP_RESULT_NON_FINITE);
  CHECK(strstr(btp_last_error_message(), "row 4") != NULL);
  rows[4 * DIM + 2] = saved;
  CHECK_RC(btp_store_enroll_batch(s, "border", subjects, N, rows, N * DIM - 1, MAXIMUM, ACTOR,
                                  REASON, records, N),
           BTP_RESULT_WRONG_DIMENSION);
  CHECK_RC(btp_store_enroll_batch(s, "border", subjects, N, rows, N * DIM, MAXIMUM, ACTOR, REASON,
                                  records, N - 1),
           BTP_RESULT_BUFFER_TOO_SMALL);
  const char *holey[N] = {names[0], names[1], NULL, names[3], names[4], names[5]};
  CHECK_RC(btp_store_enroll_batch(s, "border", holey, N, rows, N * DIM, MAXIMUM, ACTOR, REASON,
                                  records, N),
           BTP_RESULT_NULL_ARGUMENT);
  CHECK(strstr(btp_last_error_message(), "subjects[2]") != NULL);
  CHECK_RC(btp_store_record_count(s, NULL, &count), BTP_RESULT_OK);
  CHECK(count == 0);
  CHECK_RC(btp_store_enroll_batch(s, "border", subjects, N, rows, N * DIM, MAXIMUM, ACTOR, REASON,
                                  records, N),
           BTP_RESULT_OK);
  CHECK_RC(btp_store_record_count(s, NULL, &count), BTP_RESULT_OK);
  CHECK(count == N && records[N - 1] > records[0]);
  float probe[DIM];
  features(probe, 3, 1);
  btp_store_verification v;
  CHECK_RC(btp_store_verify(s, "border", names[3], probe, DIM, ACTOR, REASON, &v), BTP_RESULT_OK);
  CHECK(v.record == records[3]);
  btp_store_free(s);
}

static void test_enrol_verify_identify(const fixture *f) {
  btp_store *s = open_store(f, "main.db");
  int64_t records[SUBJECTS];
  enrol_people(s, records);
  CHECK(records[0] > 0 && records[1] > records[0]);

  float x[DIM], bad[DIM];
  features(x, 1, 1);
  int64_t r = -1;
  /* Bad enrolments. */
  CHECK_RC(btp_store_enroll(s, "nope", "a", x, DIM, MAXIMUM, ACTOR, REASON, &r),
           BTP_RESULT_UNKNOWN_PURPOSE);
  btp_retention too_long = {BTP_RETENTION_KIND_FOR_SECONDS, 31 * DAY};
  CHECK_RC(btp_store_enroll(s, "border", "a", x, DIM, too_long, ACTOR, REASON, &r),
           BTP_RESULT_RETENTION_TOO_LONG);
  /* An expiry that has passed has its own code, and a message in dates. */
  btp_retention past = {BTP_RETENTION_KIND_UNTIL, fake_now - 1};
  CHECK_RC(btp_store_enroll(s, "border", "a", x, DIM, past, ACTOR, REASON, &r),
           BTP_RESULT_EXPIRY_IN_PAST);
  CHECK(strstr(btp_last_error_message(), "is not after the present (20") != NULL);
  btp_retention negative = {BTP_RETENTION_KIND_FOR_SECONDS, -5};
  CHECK_RC(btp_store_enroll(s, "border", "a", x, DIM, negative, ACTOR, REASON, &r),
           BTP_RESULT_INVALID_PARAMETER);
  btp_retention unknown = {7, 0};
  CHECK_RC(btp_store_enroll(s, "border", "a", x, DIM, unknown, ACTOR, REASON, &r),
           BTP_RESULT_INVALID_PARAMETER);
  CHECK_RC(btp_store_enroll(s, "border", "a", x, DIM - 1, MAXIMUM, ACTOR, REASON, &r),
           BTP_RESULT_WRONG_DIMENSION);
  memcpy(bad, x, sizeof bad);
  bad[3] = NAN;
  CHECK_RC(btp_store_enroll(s, "border", "a", bad, DIM, MAXIMUM, ACTOR, REASON, &r),
           BTP_RESULT_NON_FINITE);
  CHECK_RC(btp_store_enroll(s, "border", "a", NULL, DIM, MAXIMUM, ACTOR, REASON, &r),
           BTP_RESULT_NULL_ARGUMENT);
  CHECK_RC(btp_store_enroll(s, "border", "", x, DIM, MAXIMUM, ACTOR, REASON, &r),
           BTP_RESULT_INVALID_PARAMETER);
  CHECK_RC(btp_store_enroll(s, "border", NULL, x, DIM, MAXIMUM, ACTOR, REASON, &r),
           BTP_RESULT_NULL_ARGUMENT);
  CHECK_RC(btp_store_enroll(s, "border", "a", x, DIM, MAXIMUM, "  ", REASON, &r),
           BTP_RESULT_INVALID_PARAMETER);
  CHECK_RC(btp_store_enroll(s, "border", "a", x, DIM, MAXIMUM, ACTOR, "", &r),
           BTP_RESULT_INVALID_PARAMETER);
  CHECK_RC(btp_store_enroll(s, "border", "a", x, DIM, MAXIMUM, NULL, REASON, &r),
           BTP_RESULT_NULL_ARGUMENT);
  CHECK_RC(btp_store_enroll(s, "border", "a", x, DIM, MAXIMUM, ACTOR, NULL, &r),
           BTP_RESULT_NULL_ARGUMENT);
  CHECK_RC(btp_store_enroll(s, NULL, "a", x, DIM, MAXIMUM, ACTOR, REASON, &r),
           BTP_RESULT_NULL_ARGUMENT);
  CHECK_RC(btp_store_enroll(NULL, "border", "a", x, DIM, MAXIMUM, ACTOR, REASON, &r),
           BTP_RESULT_NULL_ARGUMENT);
  CHECK_RC(btp_store_enroll(s, "border", "a", x, DIM, MAXIMUM, ACTOR, REASON, NULL),
           BTP_RESULT_NULL_ARGUMENT);
  CHECK_RC(btp_store_enroll(s, "border", "\xc3\x28", x, DIM, MAXIMUM, ACTOR, REASON, &r),
           BTP_RESULT_INVALID_PARAMETER); /* not UTF-8 */

  /* 1:1. */
  btp_store_verification v;
  memset(&v, 0, sizeof v);
  CHECK_RC(btp_store_verify(s, "border", "person-001", x, DIM, ACTOR, REASON, &v), BTP_RESULT_OK);
  CHECK(v.decision.matched && v.decision.threshold == 0.3 && v.record == records[1] && v.event > 0);
  uint64_t first_event = v.event;
  features(x, 2, 1);
  CHECK_RC(btp_store_verify(s, "border", "person-001", x, DIM, ACTOR, REASON, &v), BTP_RESULT_OK);
  CHECK(!v.decision.matched && v.event > first_event);
  CHECK_RC(btp_store_verify(s, "border", "nobody", x, DIM, ACTOR, REASON, &v), BTP_RESULT_NOT_FOUND);
  CHECK_RC(btp_store_verify(s, "watchlist", "person-001", x, DIM, ACTOR, REASON, &v),
           BTP_RESULT_NOT_FOUND);
  CHECK_RC(btp_store_verify(s, "nope", "person-001", x, DIM, ACTOR, REASON, &v),
           BTP_RESULT_UNKNOWN_PURPOSE);
  CHECK_RC(btp_store_verify(s, "border", "person-001", x, DIM + 1, ACTOR, REASON, &v),
           BTP_RESULT_WRONG_DIMENSION);
  CHECK_RC(btp_store_verify(s, "border", "person-001", x, DIM, ACTOR, REASON, NULL),
           BTP_RESULT_NULL_ARGUMENT);

  /* Templates: of the purpose's protector (same params, key, application,
   * version) they are accepted; of another key they are a key mismatch. */
  btp_protector *mine = NULL, *foreign = NULL, *other_app = NULL;
  btp_master_key *other = key_of(9);
  CHECK_RC(btp_protector_new(f->params, f->key, "gate-A", 1, NULL, 0, &mine), BTP_RESULT_OK);
  CHECK_RC(btp_protector_new(f->params, other, "gate-A", 1, NULL, 0, &foreign), BTP_RESULT_OK);
  CHECK_RC(btp_protector_new(f->params, f->key, "police", 1, NULL, 0, &other_app), BTP_RESULT_OK);
  btp_template *t = NULL, *tf = NULL, *ta = NULL;
  features(x, 3, 2);
  CHECK_RC(btp_protector_protect(mine, x, DIM, &t), BTP_RESULT_OK);
  CHECK_RC(btp_protector_protect(foreign, x, DIM, &tf), BTP_RESULT_OK);
  CHECK_RC(btp_protector_protect(other_app, x, DIM, &ta), BTP_RESULT_OK);
  CHECK_RC(btp_store_verify_template(s, "border", "person-003", t, ACTOR, REASON, &v), BTP_RESULT_OK);
  CHECK(v.decision.matched && v.record == records[3]);
  CHECK_RC(btp_store_verify_template(s, "border", "person-003", tf, ACTOR, REASON, &v),
           BTP_RESULT_KEY_MISMATCH);
  CHECK_RC(btp_store_verify_template(s, "border", "person-003", ta, ACTOR, REASON, &v),
           BTP_RESULT_KEY_MISMATCH);
  CHECK_RC(btp_store_verify_template(s, "border", "person-003", NULL, ACTOR, REASON, &v),
           BTP_RESULT_NULL_ARGUMENT);
  CHECK_RC(btp_store_enroll_template(s, "border", "person-003", tf, MAXIMUM, ACTOR, REASON, &r),
           BTP_RESULT_KEY_MISMATCH);
  CHECK_RC(btp_store_enroll_template(s, "border", "tmpl-person", t, MAXIMUM, ACTOR, REASON, &r),
           BTP_RESULT_OK);

  /* 1:N. */
  btp_identification *id = (btp_identification *)&fake_now;
  features(x, 4, 1);
  CHECK_RC(btp_store_identify(s, "border", x, DIM, 3, NAN, ACTOR, REASON, &id), BTP_RESULT_OK);
  size_t len = 0;
  CHECK_RC(btp_identification_len(id, &len), BTP_RESULT_OK);
  CHECK(len >= 1 && len <= 3);
  btp_store_candidate c;
  CHECK_RC(btp_identification_get(id, 0, &c), BTP_RESULT_OK);
  CHECK(strcmp(c.subject, "person-004") == 0 && c.subject_len == 10 && c.record == records[4] &&
        c.score >= 0.3);
  for (size_t i = 1; i < len; i++) {
    btp_store_candidate d;
    CHECK_RC(btp_identification_get(id, i, &d), BTP_RESULT_OK);
    CHECK(d.score <= c.score && d.score >= 0.3 && strlen(d.subject) == d.subject_len);
  }
  CHECK_RC(btp_identification_get(id, len, &c), BTP_RESULT_INVALID_PARAMETER);
  CHECK_RC(btp_identification_get(id, 0, NULL), BTP_RESULT_NULL_ARGUMENT);
  CHECK_RC(btp_identification_get(NULL, 0, &c), BTP_RESULT_NULL_ARGUMENT);
  double threshold = 0.0;
  uint64_t ident_event = 0, review_event = 0;
  CHECK_RC(btp_identification_threshold(id, &threshold), BTP_RESULT_OK);
  CHECK(threshold == 0.3);
  CHECK_RC(btp_identification_event(id, &ident_event), BTP_RESULT_OK);
  CHECK(ident_event > first_event);
  CHECK_RC(btp_identification_len(id, NULL), BTP_RESULT_NULL_ARGUMENT);
  CHECK_RC(btp_identification_threshold(id, NULL), BTP_RESULT_NULL_ARGUMENT);
  CHECK_RC(btp_identification_event(NULL, &ident_event), BTP_RESULT_NULL_ARGUMENT);

  /* Review of the candidate list. */
  CHECK_RC(btp_store_review(s, ident_event, "reviewer-2", BTP_REVIEW_OUTCOME_CONFIRMED, records[4],
                            ACTOR, REASON, &review_event),
           BTP_RESULT_OK);
  CHECK(review_event > ident_event);
  CHECK_RC(btp_store_review(s, ident_event, "reviewer-2", BTP_REVIEW_OUTCOME_CONFIRMED, 999999,
                            ACTOR, REASON, &review_event),
           BTP_RESULT_INVALID_PARAMETER);
  CHECK_RC(btp_store_review(s, ident_event, "reviewer-2", BTP_REVIEW_OUTCOME_REJECTED, 0, ACTOR,
                            REASON, &review_event),
           BTP_RESULT_OK);
  CHECK_RC(btp_store_review(s, ident_event, "reviewer-2", BTP_REVIEW_OUTCOME_INCONCLUSIVE, 0,
                            ACTOR, REASON, &review_event),
           BTP_RESULT_OK);
  CHECK_RC(btp_store_review(s, ident_event, "reviewer-2", 9, 0, ACTOR, REASON, &review_event),
           BTP_RESULT_INVALID_PARAMETER);
  CHECK_RC(btp_store_review(s, first_event, "reviewer-2", BTP_REVIEW_OUTCOME_REJECTED, 0, ACTOR,
                            REASON, &review_event),
           BTP_RESULT_NOT_FOUND); /* a verify event, not an identification */
  CHECK_RC(btp_store_review(s, ident_event, "", BTP_REVIEW_OUTCOME_REJECTED, 0, ACTOR, REASON,
                            &review_event),
           BTP_RESULT_INVALID_PARAMETER);
  CHECK_RC(btp_store_review(s, ident_event, NULL, BTP_REVIEW_OUTCOME_REJECTED, 0, ACTOR, REASON,
                            &review_event),
           BTP_RESULT_NULL_ARGUMENT);
  btp_identification_free(id);
  id = NULL;
  btp_identification_free(id);

  /* Identification from a template, a threshold, a foreign template. */
  CHECK_RC(btp_store_identify_template(s, "border", t, 10, 0.99, ACTOR, REASON, &id), BTP_RESULT_OK);
  CHECK_RC(btp_identification_len(id, &len), BTP_RESULT_OK);
  CHECK(len == 1); /* "tmpl-person" was enrolled from this very template */
  CHECK_RC(btp_identification_get(id, 0, &c), BTP_RESULT_OK);
  CHECK(strcmp(c.subject, "tmpl-person") == 0 && c.score == 1.0);
  btp_identification_free(id);
  id = (btp_identification *)&fake_now;
  CHECK_RC(btp_store_identify_template(s, "border", tf, 10, NAN, ACTOR, REASON, &id),
           BTP_RESULT_KEY_MISMATCH);
  CHECK(id == NULL);
  CHECK_RC(btp_store_identify(s, "border", x, DIM, 10, 1.5, ACTOR, REASON, &id),
           BTP_RESULT_INVALID_PARAMETER);
  CHECK_RC(btp_store_identify(s, "nope", x, DIM, 10, NAN, ACTOR, REASON, &id),
           BTP_RESULT_UNKNOWN_PURPOSE);
  CHECK_RC(btp_store_identify(s, "border", x, DIM, 10, NAN, ACTOR, REASON, NULL),
           BTP_RESULT_NULL_ARGUMENT);

  /* Counts. */
  uint64_t count = 0;
  CHECK_RC(btp_store_record_count(s, "border", &count), BTP_RESULT_OK);
  CHECK(count == SUBJECTS + 1);
  CHECK_RC(btp_store_record_count(s, "watchlist", &count), BTP_RESULT_OK);
  CHECK(count == 1);
  CHECK_RC(btp_store_record_count(s, NULL, &count), BTP_RESULT_OK);
  CHECK(count == SUBJECTS + 2);
  CHECK_RC(btp_store_record_count(s, "nope", &count), BTP_RESULT_UNKNOWN_PURPOSE);
  CHECK_RC(btp_store_record_count(s, NULL, NULL), BTP_RESULT_NULL_ARGUMENT);
  int64_t now = 0;
  CHECK_RC(btp_store_now(s, &now), BTP_RESULT_OK);
  CHECK(now == fake_now);

  btp_template_free(t);
  btp_template_free(tf);
  btp_template_free(ta);
  btp_protector_free(mine);
  btp_protector_free(foreign);
  btp_protector_free(other_app);
  btp_master_key_free(other);
  btp_store_free(s);
}

static void test_expiry_holds_erasure_sweep(const fixture *f) {
  btp_store *s = open_store(f, "life.db");
  float x[DIM];
  int64_t rec_short = 0, rec_held = 0, rec_dave = 0, probe = 0, hold = 0, hold2 = 0;
  features(x, 0, 0);
  btp_retention hundred = {BTP_RETENTION_KIND_FOR_SECONDS, 100};
  btp_retention until = {BTP_RETENTION_KIND_UNTIL, fake_now + 200};
  btp_retention too_long = {BTP_RETENTION_KIND_FOR_SECONDS, 30 * DAY + 1};
  CHECK_RC(btp_store_enroll(s, "border", "carol", x, DIM, hundred, ACTOR, REASON, &rec_short),
           BTP_RESULT_OK);
  CHECK_RC(btp_store_enroll(s, "border", "erin", x, DIM, until, ACTOR, REASON, &rec_held),
           BTP_RESULT_OK);
  CHECK_RC(btp_store_enroll(s, "watchlist", "dave", x, DIM, MAXIMUM, ACTOR, REASON, &rec_dave),
           BTP_RESULT_OK);
  CHECK_RC(btp_store_retain_probe(s, "border", "case-17", x, DIM, hundred, ACTOR, REASON, &probe),
           BTP_RESULT_OK);
  CHECK_RC(btp_store_retain_probe(s, "border", "case-18", x, DIM, too_long, ACTOR,
                                  REASON, &probe),
           BTP_RESULT_RETENTION_TOO_LONG);
  CHECK_RC(btp_store_retain_probe(s, "border", "case-17", x, DIM, hundred, ACTOR, REASON, &probe),
           BTP_RESULT_OK);
  btp_template *t = NULL;
  CHECK_RC(btp_store_retained_probe(s, probe, &t), BTP_RESULT_OK);
  CHECK(t != NULL);
  btp_template_free(t);
  CHECK_RC(btp_store_retained_probe(s, rec_short, &t), BTP_RESULT_NOT_FOUND); /* a template */
  CHECK(t == NULL);
  CHECK_RC(btp_store_retained_probe(s, 123456, &t), BTP_RESULT_NOT_FOUND);

  /* A retained probe from a template; never matched by identification. */
  btp_protector *prot = NULL;
  CHECK_RC(btp_protector_new(f->params, f->key, "gate-A", 1, NULL, 0, &prot), BTP_RESULT_OK);
  CHECK_RC(btp_protector_protect(prot, x, DIM, &t), BTP_RESULT_OK);
  int64_t probe2 = 0;
  CHECK_RC(btp_store_retain_probe_template(s, "border", "case-19", t, hundred, ACTOR, REASON, &probe2),
           BTP_RESULT_OK);
  btp_identification *id = NULL;
  size_t len = 0;
  CHECK_RC(btp_store_identify_template(s, "border", t, 10, NAN, ACTOR, REASON, &id), BTP_RESULT_OK);
  CHECK_RC(btp_identification_len(id, &len), BTP_RESULT_OK);
  CHECK(len == 2); /* carol and erin, not the probes */
  btp_identification_free(id);
  btp_template_free(t);
  t = NULL;

  /* Time passes: carol's record and the probes expire. */
  fake_now += 150;
  btp_store_verification v;
  CHECK_RC(btp_store_verify(s, "border", "carol", x, DIM, ACTOR, REASON, &v), BTP_RESULT_EXPIRED);
  CHECK(strstr(btp_last_error_message(), "expired") != NULL);
  CHECK_RC(btp_store_verify(s, "border", "erin", x, DIM, ACTOR, REASON, &v), BTP_RESULT_OK);
  CHECK_RC(btp_store_retained_probe(s, probe, &t), BTP_RESULT_EXPIRED);
  CHECK_RC(btp_store_identify(s, "border", x, DIM, 10, NAN, ACTOR, REASON, &id), BTP_RESULT_OK);
  CHECK_RC(btp_identification_len(id, &len), BTP_RESULT_OK);
  CHECK(len == 1); /* expired records are never candidates */
  btp_identification_free(id);

  /* Holds: on a subject (blocks erasure), on a record (survives sweeps). */
  CHECK_RC(btp_store_hold_subject(s, "dave", ACTOR, "court order 5", &hold), BTP_RESULT_OK);
  CHECK(hold > 0);
  btp_erasure_report er;
  CHECK_RC(btp_store_erase(s, "dave", NULL, ACTOR, REASON, &er), BTP_RESULT_HELD);
  /* The message names the hold, never its reason (free text). */
  CHECK(strstr(btp_last_error_message(), "court order") == NULL);
  CHECK(strstr(btp_last_error_message(), "hold") != NULL);
  CHECK_RC(btp_store_erase(s, "dave", "watchlist", ACTOR, REASON, &er), BTP_RESULT_HELD);
  CHECK_RC(btp_store_hold_record(s, rec_held, ACTOR, "appeal", &hold2), BTP_RESULT_OK);
  CHECK(hold2 > hold);
  CHECK_RC(btp_store_hold_record(s, 999999, ACTOR, REASON, &hold2), BTP_RESULT_NOT_FOUND);
  CHECK_RC(btp_store_hold_subject(s, "", ACTOR, REASON, &hold2), BTP_RESULT_INVALID_PARAMETER);
  CHECK_RC(btp_store_hold_subject(s, "dave", ACTOR, REASON, NULL), BTP_RESULT_NULL_ARGUMENT);
  CHECK_RC(btp_store_release(s, 999999, ACTOR, REASON), BTP_RESULT_NOT_FOUND);

  /* Sweep at a time when erin's record has expired too: it is held. Carol's
   * record and the three probes go. */
  int64_t later = fake_now + 100;
  btp_sweep_report sw;
  CHECK_RC(btp_store_sweep(s, &later, ACTOR, "nightly", &sw), BTP_RESULT_OK);
  CHECK(sw.now == later && sw.deleted == 4 && sw.held == 1 && sw.event > 0 && sw.checkpointed);
  CHECK_RC(btp_store_sweep(s, NULL, ACTOR, "nightly", &sw), BTP_RESULT_OK); /* idempotent */
  CHECK(sw.now == fake_now && sw.deleted == 0);
  CHECK_RC(btp_store_sweep(s, NULL, ACTOR, "nightly", NULL), BTP_RESULT_NULL_ARGUMENT);
  CHECK_RC(btp_store_sweep(s, NULL, "", "nightly", &sw), BTP_RESULT_INVALID_PARAMETER);

  /* Release, erase. */
  CHECK_RC(btp_store_release(s, hold, ACTOR, "order lifted"), BTP_RESULT_OK);
  CHECK_RC(btp_store_release(s, hold, ACTOR, "again"), BTP_RESULT_NOT_FOUND);
  CHECK_RC(btp_store_erase(s, "dave", "border", ACTOR, REASON, &er), BTP_RESULT_OK);
  CHECK(er.erased == 0);
  CHECK_RC(btp_store_erase(s, "dave", NULL, ACTOR, "subject request", &er), BTP_RESULT_OK);
  CHECK(er.erased == 1 && er.event > 0 && er.checkpointed);
  CHECK_RC(btp_store_erase(s, "dave", "nope", ACTOR, REASON, &er), BTP_RESULT_UNKNOWN_PURPOSE);
  CHECK_RC(btp_store_erase(s, NULL, NULL, ACTOR, REASON, &er), BTP_RESULT_NULL_ARGUMENT);
  CHECK_RC(btp_store_erase(s, "dave", NULL, ACTOR, REASON, NULL), BTP_RESULT_NULL_ARGUMENT);
  CHECK_RC(btp_store_verify(s, "watchlist", "dave", x, DIM, ACTOR, REASON, &v), BTP_RESULT_NOT_FOUND);
  /* erin's held record blocks her erasure until released. */
  CHECK_RC(btp_store_erase(s, "erin", NULL, ACTOR, REASON, &er), BTP_RESULT_HELD);
  CHECK_RC(btp_store_release(s, hold2, ACTOR, "appeal decided"), BTP_RESULT_OK);
  CHECK_RC(btp_store_erase(s, "erin", NULL, ACTOR, REASON, &er), BTP_RESULT_OK);
  CHECK(er.erased == 1);
  uint64_t count = 99;
  CHECK_RC(btp_store_record_count(s, NULL, &count), BTP_RESULT_OK);
  CHECK(count == 0);
  CHECK_RC(btp_store_check_integrity(s), BTP_RESULT_OK);
  CHECK_RC(btp_store_checkpoint(s), BTP_RESULT_OK);
  CHECK_RC(btp_store_check_integrity(NULL), BTP_RESULT_NULL_ARGUMENT);
  CHECK_RC(btp_store_checkpoint(NULL), BTP_RESULT_NULL_ARGUMENT);

  btp_protector_free(prot);
  btp_store_free(s);
}

static void test_rotation_and_exhaustion(const fixture *f) {
  btp_store_options *o = NULL;
  CHECK_RC(btp_store_options_new(&o), BTP_RESULT_OK);
  CHECK_RC(btp_store_options_set_clock(o, test_clock, &fake_now), BTP_RESULT_OK);
  CHECK_RC(btp_store_options_set_max_encryptions_per_key(o, 3), BTP_RESULT_OK);
  char path[128];
  path_in(path, sizeof path, "rotate.db");
  btp_store *s = NULL;
  CHECK_RC(btp_store_create(path, f->key, f->purposes, 2, o, &s), BTP_RESULT_OK);
  btp_store_options_free(o); /* the store keeps its own copy */
  float x[DIM];
  int64_t r = 0;
  char name[32];
  for (int p = 0; p < 3; p++) {
    features(x, p, 0);
    subject_name(name, sizeof name, p);
    CHECK_RC(btp_store_enroll(s, "border", name, x, DIM, MAXIMUM, ACTOR, REASON, &r), BTP_RESULT_OK);
  }
  features(x, 3, 0);
  CHECK_RC(btp_store_enroll(s, "border", "person-003", x, DIM, MAXIMUM, ACTOR, REASON, &r),
           BTP_RESULT_KEY_EXHAUSTED);
  CHECK(strstr(btp_last_error_message(), "rotate") != NULL);
  btp_erasure_report er;
  CHECK_RC(btp_store_erase(s, "person-002", NULL, ACTOR, REASON, &er), BTP_RESULT_OK);
  btp_rotation_report rot;
  CHECK_RC(btp_store_rotate_key(s, "border", ACTOR, "key schedule", &rot), BTP_RESULT_OK);
  CHECK(rot.purposes == 1 && rot.reencrypted == 2);
  /* The new key has one encryption left. */
  CHECK_RC(btp_store_enroll(s, "border", "person-003", x, DIM, MAXIMUM, ACTOR, REASON, &r),
           BTP_RESULT_OK);
  btp_store_verification v;
  features(x, 1, 1);
  CHECK_RC(btp_store_verify(s, "border", "person-001", x, DIM, ACTOR, REASON, &v), BTP_RESULT_OK);
  CHECK(v.decision.matched);
  CHECK_RC(btp_store_rotate_key(s, NULL, ACTOR, "key schedule", &rot), BTP_RESULT_OK);
  CHECK(rot.purposes == 2 && rot.reencrypted == 3);
  CHECK_RC(btp_store_rotate_key(s, "nope", ACTOR, REASON, &rot), BTP_RESULT_UNKNOWN_PURPOSE);
  CHECK_RC(btp_store_rotate_key(s, NULL, ACTOR, REASON, NULL), BTP_RESULT_NULL_ARGUMENT);
  btp_store_free(s);
}

static size_t count_lines(const uint8_t *b, size_t n) {
  size_t lines = 0;
  for (size_t i = 0; i < n; i++) lines += b[i] == '\n';
  return lines;
}

static void test_audit_and_stats(const fixture *f) {
  int64_t start = fake_now;
  btp_store *s = open_store(f, "audit.db");
  int64_t records[SUBJECTS];
  enrol_people(s, records);
  float x[DIM];
  features(x, 1, 1);
  btp_store_verification v;
  CHECK_RC(btp_store_verify(s, "border", "person-001", x, DIM, ACTOR, REASON, &v), BTP_RESULT_OK);
  btp_erasure_report er;
  CHECK_RC(btp_store_erase(s, "person-002", NULL, ACTOR, REASON, &er), BTP_RESULT_OK);

  btp_audit_report rep;
  CHECK_RC(btp_store_verify_audit(s, &rep), BTP_RESULT_OK);
  CHECK(rep.events >= SUBJECTS + 5 && rep.first_seq == 1 && rep.head.seq == rep.events &&
        rep.pruned_through == 0);
  btp_audit_head head;
  CHECK_RC(btp_store_audit_head(s, &head), BTP_RESULT_OK);
  CHECK(head.seq == rep.head.seq && memcmp(head.mac, rep.head.mac, BTP_AUDIT_MAC_LEN) == 0);
  CHECK_RC(btp_store_check_audit_head(s, &head), BTP_RESULT_OK);
  btp_audit_head forged = head;
  forged.mac[5] ^= 1;
  CHECK_RC(btp_store_check_audit_head(s, &forged), BTP_RESULT_AUDIT_BROKEN);
  forged = head;
  forged.seq += 5; /* a head the log no longer reaches: truncated */
  CHECK_RC(btp_store_check_audit_head(s, &forged), BTP_RESULT_AUDIT_BROKEN);
  forged.seq = 0;
  CHECK_RC(btp_store_check_audit_head(s, &forged), BTP_RESULT_INVALID_PARAMETER);
  CHECK_RC(btp_store_check_audit_head(s, NULL), BTP_RESULT_NULL_ARGUMENT);
  CHECK_RC(btp_store_verify_audit(s, NULL), BTP_RESULT_NULL_ARGUMENT);
  CHECK_RC(btp_store_audit_head(NULL, &head), BTP_RESULT_NULL_ARGUMENT);

  /* Export: every event as one JSON line, into a library buffer. */
  uint8_t *out = (uint8_t *)&fake_now;
  size_t out_len = 99;
  uint64_t events = 0;
  CHECK_RC(btp_store_export_audit(s, 0, 0, &out, &out_len, &events), BTP_RESULT_OK);
  CHECK(out != NULL && events == rep.events && count_lines(out, out_len) == events);
  CHECK(out_len > 10 && memcmp(out, "{\"seq\":1,", 9) == 0 && out[out_len - 1] == '\n');
  /* No subject id or feature ever appears in the audit log. */
  int leaked = 0;
  for (size_t i = 0; i + 10 <= out_len; i++) leaked |= memcmp(out + i, "person-001", 10) == 0;
  CHECK(!leaked);
  btp_bytes_free(out, out_len);
  /* Paging. */
  CHECK_RC(btp_store_export_audit(s, 2, 3, &out, &out_len, &events), BTP_RESULT_OK);
  CHECK(events == 3 && count_lines(out, out_len) == 3 && memcmp(out, "{\"seq\":3,", 9) == 0);
  btp_bytes_free(out, out_len);
  out = (uint8_t *)&fake_now;
  CHECK_RC(btp_store_export_audit(s, rep.head.seq, 0, &out, &out_len, &events), BTP_RESULT_OK);
  CHECK(events == 0 && out == NULL && out_len == 0);
  btp_bytes_free(out, out_len);
  CHECK_RC(btp_store_export_audit(s, 0, 0, NULL, &out_len, &events), BTP_RESULT_NULL_ARGUMENT);
  CHECK_RC(btp_store_export_audit(s, 0, 0, &out, NULL, &events), BTP_RESULT_NULL_ARGUMENT);
  CHECK_RC(btp_store_export_audit(s, 0, 0, &out, &out_len, NULL), BTP_RESULT_NULL_ARGUMENT);
  CHECK(out == NULL);
  btp_bytes_free(NULL, 0);

  /* Statistics of the period. */
  btp_stats *st = NULL;
  CHECK_RC(btp_store_stats(s, start, fake_now + 1, &st), BTP_RESULT_OK);
  size_t rows = 0;
  CHECK_RC(btp_stats_len(st, &rows), BTP_RESULT_OK);
  int seen_border = 0;
  for (size_t i = 0; i < rows; i++) {
    btp_purpose_stats ps;
    uint64_t enrolled = 0, verified = 0;
    CHECK_RC(btp_stats_get(st, i, &ps), BTP_RESULT_OK);
    CHECK_RC(btp_stats_count(st, i, "enroll", &enrolled), BTP_RESULT_OK);
    CHECK_RC(btp_stats_count(st, i, "verify", &verified), BTP_RESULT_OK);
    if (strcmp(ps.purpose, "border") == 0) {
      seen_border = 1;
      CHECK(enrolled == SUBJECTS && verified == 1 && ps.erased_records == 1 &&
            ps.live_templates == SUBJECTS - 1 && ps.swept_records == 0);
    } else if (strcmp(ps.purpose, "watchlist") == 0) {
      CHECK(enrolled == 1 && ps.live_templates == 1);
    }
  }
  CHECK(seen_border && rows >= 2);
  uint64_t n = 0;
  CHECK_RC(btp_stats_count(st, 0, "enrol", &n), BTP_RESULT_INVALID_PARAMETER);
  CHECK_RC(btp_stats_count(st, rows, "enroll", &n), BTP_RESULT_INVALID_PARAMETER);
  CHECK_RC(btp_stats_count(st, 0, NULL, &n), BTP_RESULT_NULL_ARGUMENT);
  btp_purpose_stats ps;
  CHECK_RC(btp_stats_get(st, rows, &ps), BTP_RESULT_INVALID_PARAMETER);
  CHECK_RC(btp_stats_get(st, 0, NULL), BTP_RESULT_NULL_ARGUMENT);
  CHECK_RC(btp_stats_len(NULL, &rows), BTP_RESULT_NULL_ARGUMENT);
  btp_stats_free(st);
  btp_stats_free(NULL);
  CHECK_RC(btp_store_stats(s, start, fake_now, NULL), BTP_RESULT_NULL_ARGUMENT);

  /* The log's own retention: prune what is older than an hour from now. */
  fake_now += 7200;
  btp_prune_report pr;
  CHECK_RC(btp_store_prune_audit(s, fake_now - 3600, ACTOR, "audit retention", &pr), BTP_RESULT_OK);
  CHECK(pr.pruned == rep.events && pr.pruned_through == rep.events);
  CHECK_RC(btp_store_verify_audit(s, &rep), BTP_RESULT_OK);
  CHECK(rep.pruned_through == pr.pruned_through && rep.events >= 1);
  CHECK_RC(btp_store_prune_audit(s, fake_now, ACTOR, "", &pr), BTP_RESULT_INVALID_PARAMETER);
  btp_store_free(s);
}

/* Index of the 1024-byte window with the most distinct byte values: inside
 * a ciphertext of well over 1024 bytes (nothing else in a store file is a
 * long run of random bytes). */
static long most_random_window(const unsigned char *b, long n) {
  long best = -1;
  int best_distinct = 0;
  for (long i = 0; i + 1024 <= n; i += 16) {
    int seen[256] = {0}, distinct = 0;
    for (long j = i; j < i + 1024; j++) distinct += seen[b[j]]++ == 0;
    if (distinct > best_distinct) {
      best_distinct = distinct;
      best = i;
    }
  }
  return best_distinct >= 230 ? best : -1;
}

static long find(const unsigned char *b, long n, const char *s) {
  long m = (long)strlen(s);
  for (long i = 0; i + m <= n; i++)
    if (memcmp(b + i, s, (size_t)m) == 0) return i;
  return -1;
}

static void test_damaged_files(const fixture *f) {
  /* One record with a long code (4096 elements of 4 bits: a ciphertext of
   * over 2 kB), so that its bytes can be found in the file. */
  btp_params *big = NULL;
  btp_purpose *pb = NULL;
  CHECK_RC(btp_params_iom_grp(8, 4096, 16, &big), BTP_RESULT_OK);
  CHECK_RC(btp_purpose_new("big", big, "gate-Z", 1, 0.3, DAY, &pb), BTP_RESULT_OK);
  const btp_purpose *purposes[1] = {pb};
  char path[128], copy[128];
  path_in(path, sizeof path, "damage.db");
  btp_store *s = NULL;
  CHECK_RC(btp_store_create(path, f->key, purposes, 1, f->opts, &s), BTP_RESULT_OK);
  float x[8] = {1, 2, 3, 4, 5, 6, 7, 8};
  int64_t r = 0;
  CHECK_RC(btp_store_enroll(s, "big", "zoe", x, 8, MAXIMUM, "auditor-QX7", REASON, &r), BTP_RESULT_OK);
  btp_store_free(s); /* the last handle: the WAL is folded into the file */
  s = NULL;
  long n = 0;
  unsigned char *db = read_all(path, &n);
  CHECK(db != NULL);
  if (!db) return;
  btp_store_verification v;

  /* A ciphertext byte flipped: the record fails authentication. */
  long w = most_random_window(db, n);
  CHECK(w >= 0);
  if (w >= 0) {
    db[w + 512] ^= 0x01;
    path_in(copy, sizeof copy, "integrity.db");
    CHECK(write_all(copy, db, n));
    db[w + 512] ^= 0x01;
    CHECK_RC(btp_store_open(copy, f->key, purposes, 1, f->opts, &s), BTP_RESULT_OK);
    CHECK_RC(btp_store_verify(s, "big", "zoe", x, 8, ACTOR, REASON, &v), BTP_RESULT_INTEGRITY);
    CHECK(strstr(btp_last_error_message(), "record") != NULL);
    btp_store_free(s);
    s = NULL;
  }

  /* An audit event's actor changed in place: the chain breaks. */
  long a = find(db, n, "auditor-QX7");
  CHECK(a >= 0);
  if (a >= 0) {
    db[a + 8] = 'Z';
    path_in(copy, sizeof copy, "audit-edit.db");
    CHECK(write_all(copy, db, n));
    db[a + 8] = 'Q';
    CHECK_RC(btp_store_open(copy, f->key, purposes, 1, f->opts, &s), BTP_RESULT_OK);
    btp_audit_report rep;
    CHECK_RC(btp_store_verify_audit(s, &rep), BTP_RESULT_AUDIT_BROKEN);
    CHECK(strstr(btp_last_error_message(), "sequence") != NULL);
    CHECK_RC(btp_store_verify(s, "big", "zoe", x, 8, ACTOR, REASON, &v), BTP_RESULT_OK);
    btp_store_free(s);
    s = NULL;
  }

  /* A page of garbage in the middle of the file: SQLite reports corruption
   * when the store is opened or, at the latest, when its structure is
   * checked. */
  long page = 4096, mid = (n / page / 2) * page;
  unsigned char *garbled = (unsigned char *)malloc((size_t)n);
  if (garbled) {
    memcpy(garbled, db, (size_t)n);
    memset(garbled + mid, 0xA5, (size_t)page);
    path_in(copy, sizeof copy, "corrupt.db");
    CHECK(write_all(copy, garbled, n));
    free(garbled);
    btp_result rc = btp_store_open(copy, f->key, purposes, 1, f->opts, &s);
    if (rc == BTP_RESULT_OK) rc = btp_store_check_integrity(s);
    CHECK(rc == BTP_RESULT_CORRUPT);
    CHECK(btp_last_error_message()[0] != '\0');
    btp_store_free(s);
    s = NULL;
  }

  /* The undamaged file is still sound. */
  CHECK_RC(btp_store_open(path, f->key, purposes, 1, f->opts, &s), BTP_RESULT_OK);
  CHECK_RC(btp_store_check_integrity(s), BTP_RESULT_OK);
  CHECK_RC(btp_store_verify(s, "big", "zoe", x, 8, ACTOR, REASON, &v), BTP_RESULT_OK);
  btp_store_free(s);
  free(db);
  btp_purpose_free(pb);
  btp_params_free(big);
}

static void remove_dir(void) {
  DIR *d = opendir(dir);
  if (!d) return;
  struct dirent *e;
  char path[512];
  while ((e = readdir(d)) != NULL) {
    if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
    snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
    unlink(path);
  }
  closedir(d);
  rmdir(dir);
}

int main(void) {
  const char *tmp = getenv("TMPDIR");
  snprintf(dir, sizeof dir, "%s/btp-c-store-XXXXXX", tmp && strlen(tmp) < 40 ? tmp : "/tmp");
  if (!mkdtemp(dir)) {
    perror("mkdtemp");
    return 1;
  }
  fixture f;
  fixture_init(&f);
  test_purposes_and_options(&f);
  test_open_errors(&f);
  test_enrol_verify_identify(&f);
  test_enroll_batch(&f);
  test_expiry_holds_erasure_sweep(&f);
  test_rotation_and_exhaustion(&f);
  test_audit_and_stats(&f);
  test_damaged_files(&f);
  fixture_free(&f);
  remove_dir();
  return harness_report();
}
