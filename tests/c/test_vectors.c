/* The known-answer vectors of tests/vectors/ through the C ABI: the same
 * template bytes, fingerprints and scores as the Rust library wrote.
 * Usage: test_vectors DIR */
#define _POSIX_C_SOURCE 200809L
#include <dirent.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#include "harness.h"

#define MAX_FIELDS 16

typedef struct {
  char key[32];
  char *value;
} field;

typedef struct {
  field fields[MAX_FIELDS];
  size_t n;
  char *text;
} vector_file;

static char *read_file(const char *path) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  fseek(f, 0, SEEK_END);
  long size = ftell(f);
  fseek(f, 0, SEEK_SET);
  char *buf = (char *)malloc((size_t)size + 1);
  if (buf && fread(buf, 1, (size_t)size, f) != (size_t)size) {
    free(buf);
    buf = NULL;
  }
  if (buf) buf[size] = '\0';
  fclose(f);
  return buf;
}

/* Splits `key = value` lines in place; `#` lines and blank lines skipped. */
static int parse(vector_file *v, char *text) {
  v->text = text;
  v->n = 0;
  for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
    if (line[0] == '#' || line[0] == '\0') continue;
    char *eq = strstr(line, " = ");
    if (!eq || v->n == MAX_FIELDS || (size_t)(eq - line) >= sizeof v->fields[0].key) return 0;
    memcpy(v->fields[v->n].key, line, (size_t)(eq - line));
    v->fields[v->n].key[eq - line] = '\0';
    v->fields[v->n].value = eq + 3;
    v->n++;
  }
  return 1;
}

static const char *get(const vector_file *v, const char *key) {
  for (size_t i = 0; i < v->n; i++)
    if (strcmp(v->fields[i].key, key) == 0) return v->fields[i].value;
  fprintf(stderr, "missing field %s\n", key);
  return "";
}

static int nibble(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

/* Hex to a new buffer (at least 1 byte allocated); *len receives the size. */
static uint8_t *unhex(const char *hex, size_t *len) {
  size_t n = strlen(hex) / 2;
  uint8_t *out = (uint8_t *)malloc(n + 1);
  for (size_t i = 0; i < n; i++)
    out[i] = (uint8_t)(nibble(hex[2 * i]) << 4 | nibble(hex[2 * i + 1]));
  *len = n;
  return out;
}

/* f32 little-endian hex to floats, independent of the host's byte order. */
static float *unhex_f32(const char *hex, size_t *len) {
  size_t n;
  uint8_t *b = unhex(hex, &n);
  float *out = (float *)malloc((n / 4 + 1) * sizeof(float));
  for (size_t i = 0; i < n / 4; i++) {
    uint32_t u = (uint32_t)b[4 * i] | (uint32_t)b[4 * i + 1] << 8 |
                 (uint32_t)b[4 * i + 2] << 16 | (uint32_t)b[4 * i + 3] << 24;
    memcpy(&out[i], &u, sizeof u);
  }
  free(b);
  *len = n / 4;
  return out;
}

/* The wire bytes of a template equal the hex of the file. */
static int template_is(const btp_template *t, const char *hex) {
  size_t want_len, needed = 0;
  uint8_t *want = unhex(hex, &want_len);
  uint8_t *got = (uint8_t *)malloc(want_len + 1);
  int ok = btp_template_to_bytes(t, got, want_len, &needed) == BTP_RESULT_OK &&
           needed == want_len && memcmp(got, want, want_len) == 0;
  /* The same bytes in a library buffer. */
  uint8_t *lib = NULL;
  size_t lib_len = 0;
  ok = ok && btp_template_to_bytes_alloc(t, &lib, &lib_len) == BTP_RESULT_OK &&
       lib_len == want_len && memcmp(lib, want, want_len) == 0;
  btp_bytes_free(lib, lib_len);
  free(want);
  free(got);
  return ok;
}

static void run_vector(const char *path) {
  char *text = read_file(path);
  vector_file v;
  CHECK(text != NULL && parse(&v, text));
  if (!text) return;
  printf("vector %s\n", get(&v, "name"));

  size_t key_len, params_len, subject_len = 0, fp_len, input_len, probe_len;
  uint8_t *key_bytes = unhex(get(&v, "master_key"), &key_len);
  uint8_t *params_bytes = unhex(get(&v, "params"), &params_len);
  uint8_t *fp = unhex(get(&v, "fingerprint"), &fp_len);
  const char *subject_hex = get(&v, "subject");
  uint8_t *subject = strcmp(subject_hex, "-") == 0 ? NULL : unhex(subject_hex, &subject_len);
  float *input = unhex_f32(get(&v, "input"), &input_len);
  float *probe = unhex_f32(get(&v, "probe"), &probe_len);
  unsigned long version = strtoul(get(&v, "version"), NULL, 10);
  double want_score = strtod(get(&v, "score"), NULL);

  btp_master_key *key = NULL;
  btp_params *params = NULL;
  btp_protector *prot = NULL;
  btp_template *t = NULL, *u = NULL, *back = NULL;
  btp_gallery *g = NULL;
  CHECK_RC(btp_master_key_from_bytes(key_bytes, key_len, &key), BTP_RESULT_OK);
  CHECK_RC(btp_params_from_bytes(params_bytes, params_len, &params), BTP_RESULT_OK);

  /* The parameters re-encode to the same canonical bytes. */
  size_t needed = 0;
  uint8_t *params_again = (uint8_t *)malloc(params_len + 1);
  CHECK_RC(btp_params_to_bytes(params, params_again, params_len, &needed), BTP_RESULT_OK);
  CHECK(needed == params_len && memcmp(params_again, params_bytes, params_len) == 0);
  size_t dim = 0;
  CHECK_RC(btp_params_dim(params, &dim), BTP_RESULT_OK);
  CHECK(dim == input_len && dim == probe_len);

  CHECK_RC(btp_protector_new(params, key, get(&v, "application"), (uint32_t)version,
                             subject, subject_len, &prot),
           BTP_RESULT_OK);
  uint8_t fp_got[BTP_FINGERPRINT_LEN];
  CHECK_RC(btp_protector_fingerprint(prot, fp_got, sizeof fp_got), BTP_RESULT_OK);
  CHECK(fp_len == BTP_FINGERPRINT_LEN && memcmp(fp_got, fp, fp_len) == 0);

  /* Byte-identical templates. */
  CHECK_RC(btp_protector_protect(prot, input, input_len, &t), BTP_RESULT_OK);
  CHECK_RC(btp_protector_protect(prot, probe, probe_len, &u), BTP_RESULT_OK);
  CHECK(template_is(t, get(&v, "template")));
  CHECK(template_is(u, get(&v, "probe_template")));
  memset(fp_got, 0, sizeof fp_got);
  CHECK_RC(btp_template_fingerprint(u, fp_got, sizeof fp_got), BTP_RESULT_OK);
  CHECK(memcmp(fp_got, fp, fp_len) == 0);

  /* Wire bytes in and out. */
  size_t tlen;
  uint8_t *tbytes = unhex(get(&v, "template"), &tlen);
  CHECK_RC(btp_template_from_bytes(tbytes, tlen, &back), BTP_RESULT_OK);
  CHECK(template_is(back, get(&v, "template")));

  /* The same score: exactly, and through its %.17g text. */
  double score = -1.0;
  CHECK_RC(btp_protector_compare(prot, back, u, &score), BTP_RESULT_OK);
  CHECK(score == want_score);
  char text_score[64];
  snprintf(text_score, sizeof text_score, "%.17g", score);
  CHECK(strtod(text_score, NULL) == want_score);
  printf("  score %s (file: %s)\n", text_score, get(&v, "score"));

  btp_decision d;
  CHECK_RC(btp_protector_verify(prot, t, u, want_score, &d), BTP_RESULT_OK);
  CHECK(d.matched && d.score == want_score && d.threshold == want_score);
  if (want_score < 1.0) {
    double above = nextafter(want_score, 2.0);
    CHECK_RC(btp_protector_verify(prot, t, u, above, &d), BTP_RESULT_OK);
    CHECK(!d.matched && d.score == want_score);
  }

  /* A batch gives the same templates. */
  float *rows = (float *)malloc(2 * dim * sizeof(float));
  memcpy(rows, input, dim * sizeof(float));
  memcpy(rows + dim, probe, dim * sizeof(float));
  btp_template *batch[2] = {NULL, NULL};
  size_t count = 0;
  CHECK_RC(btp_protector_protect_batch(prot, rows, 2 * dim, batch, 2, &count), BTP_RESULT_OK);
  CHECK(count == 2);
  CHECK(template_is(batch[0], get(&v, "template")));
  CHECK(template_is(batch[1], get(&v, "probe_template")));

  /* 1:N: the reference is found with the file's score. */
  CHECK_RC(btp_gallery_new(prot, &g), BTP_RESULT_OK);
  CHECK_RC(btp_gallery_add(g, 7, t), BTP_RESULT_OK);
  CHECK_RC(btp_gallery_add(g, 8, batch[1]), BTP_RESULT_OK);
  btp_candidate c[4];
  size_t found = 0;
  CHECK_RC(btp_gallery_search(g, u, 4, NAN, c, 4, &found), BTP_RESULT_OK);
  CHECK(found == 2 && c[0].score >= c[1].score);
  for (size_t i = 0; i < found && i < 2; i++)
    CHECK(c[i].id == 7 ? c[i].score == want_score : c[i].id == 8 && c[i].score == 1.0);

  /* A gallery filled straight from the feature vectors holds the same
   * codes: the batch search finds the same scores. */
  btp_gallery *g2 = NULL;
  const uint64_t ids[2] = {7, 8};
  CHECK_RC(btp_gallery_new(prot, &g2), BTP_RESULT_OK);
  CHECK_RC(btp_gallery_add_features(g2, prot, ids, 2, rows, 2 * dim), BTP_RESULT_OK);
  const btp_template *probes[1] = {u};
  btp_candidate c2[4];
  size_t found2[1] = {0};
  CHECK_RC(btp_gallery_search_batch(g2, probes, 1, 4, NAN, c2, 4, found2, 1), BTP_RESULT_OK);
  CHECK(found2[0] == found && memcmp(c, c2, found * sizeof c[0]) == 0);
  btp_gallery_free(g2);

  btp_gallery_free(g);
  btp_template_free(batch[0]);
  btp_template_free(batch[1]);
  btp_template_free(t);
  btp_template_free(u);
  btp_template_free(back);
  btp_protector_free(prot);
  btp_params_free(params);
  btp_master_key_free(key);
  free(rows);
  free(tbytes);
  free(params_again);
  free(key_bytes);
  free(params_bytes);
  free(fp);
  free(subject);
  free(input);
  free(probe);
  free(text);
}

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: %s VECTOR_DIR\n", argv[0]);
    return 2;
  }
  DIR *dir = opendir(argv[1]);
  CHECK(dir != NULL);
  if (!dir) return harness_report();
  int files = 0;
  struct dirent *e;
  while ((e = readdir(dir)) != NULL) {
    size_t n = strlen(e->d_name);
    if (n < 4 || strcmp(e->d_name + n - 4, ".txt") != 0) continue;
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", argv[1], e->d_name);
    run_vector(path);
    files++;
  }
  closedir(dir);
  CHECK(files >= 5);
  printf("%d vector files\n", files);
  return harness_report();
}
