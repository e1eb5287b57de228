/* The C side of the benchmark suite (bench/run.py runs it):
 *  - the machine's streaming read bandwidth (a u64 sum over 256 MiB, 1 thread
 *    and 2 threads), the reference the 1:N scan rate is compared with;
 *  - the machine's f32 fused multiply-add peak (AVX2, 1 and 2 threads), the
 *    reference the batch protection GFLOP/s are compared with;
 *  - single-template protect and verify latency through the C ABI.
 * Prints `key value` lines. Usage: c_bench [iterations]
 */
#define _POSIX_C_SOURCE 200809L
#include <btp.h>

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#define HAVE_FMA_PEAK 1
#endif

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void must(btp_result r, const char *what) {
  if (r != BTP_RESULT_OK) {
    fprintf(stderr, "c_bench: %s: %s (%s)\n", what, btp_result_str(r), btp_last_error_message());
    exit(1);
  }
}

struct span {
  const uint64_t *p;
  size_t n;
  uint64_t sum;
};

static void *sum_span(void *arg) {
  struct span *s = arg;
  uint64_t a = 0, b = 0, c = 0, d = 0;
  size_t i = 0;
  for (; i + 4 <= s->n; i += 4) {
    a += s->p[i];
    b += s->p[i + 1];
    c += s->p[i + 2];
    d += s->p[i + 3];
  }
  for (; i < s->n; i++) a += s->p[i];
  s->sum = a + b + c + d;
  return NULL;
}

/* Best of 5 streaming sums over `words` u64 with `threads` threads (<= 8). */
static double stream_gbs(const uint64_t *buf, size_t words, int threads) {
  double best = 1e30;
  for (int rep = 0; rep < 5; rep++) {
    struct span spans[8];
    pthread_t tids[8];
    size_t per = words / (size_t)threads;
    double t = now();
    for (int i = 0; i < threads; i++) {
      spans[i].p = buf + (size_t)i * per;
      spans[i].n = per;
      pthread_create(&tids[i], NULL, sum_span, &spans[i]);
    }
    uint64_t total = 0;
    for (int i = 0; i < threads; i++) {
      pthread_join(tids[i], NULL);
      total += spans[i].sum;
    }
    double dt = now() - t;
    if (total == 42) printf("# unlikely\n"); /* keeps the sums live */
    if (dt < best) best = dt;
  }
  return (double)(words * 8) / best / 1e9;
}

#ifdef HAVE_FMA_PEAK
#define FMA_ROUNDS 50000000L
/* 12 independent AVX2 FMA chains (latency 4 x 2 pipes needs at least 8 in
 * flight): FMA_ROUNDS x 12 x 8 lanes x 2 flops. */
__attribute__((target("avx2,fma"))) static void *fma_loop(void *arg) {
  float *out = arg;
  const __m256 a = _mm256_set1_ps(0.999999f), b = _mm256_set1_ps(1e-7f);
  /* Twelve named registers: an array may be kept in memory at -O2. */
  __m256 c0 = _mm256_set1_ps(0.f), c1 = _mm256_set1_ps(1.f), c2 = _mm256_set1_ps(2.f);
  __m256 c3 = _mm256_set1_ps(3.f), c4 = _mm256_set1_ps(4.f), c5 = _mm256_set1_ps(5.f);
  __m256 c6 = _mm256_set1_ps(6.f), c7 = _mm256_set1_ps(7.f), c8 = _mm256_set1_ps(8.f);
  __m256 c9 = _mm256_set1_ps(9.f), c10 = _mm256_set1_ps(10.f), c11 = _mm256_set1_ps(11.f);
  for (long r = 0; r < FMA_ROUNDS; r++) {
    c0 = _mm256_fmadd_ps(c0, a, b);
    c1 = _mm256_fmadd_ps(c1, a, b);
    c2 = _mm256_fmadd_ps(c2, a, b);
    c3 = _mm256_fmadd_ps(c3, a, b);
    c4 = _mm256_fmadd_ps(c4, a, b);
    c5 = _mm256_fmadd_ps(c5, a, b);
    c6 = _mm256_fmadd_ps(c6, a, b);
    c7 = _mm256_fmadd_ps(c7, a, b);
    c8 = _mm256_fmadd_ps(c8, a, b);
    c9 = _mm256_fmadd_ps(c9, a, b);
    c10 = _mm256_fmadd_ps(c10, a, b);
    c11 = _mm256_fmadd_ps(c11, a, b);
  }
  __m256 s = _mm256_add_ps(_mm256_add_ps(_mm256_add_ps(c0, c1), _mm256_add_ps(c2, c3)),
                           _mm256_add_ps(_mm256_add_ps(c4, c5), _mm256_add_ps(c6, c7)));
  s = _mm256_add_ps(s, _mm256_add_ps(_mm256_add_ps(c8, c9), _mm256_add_ps(c10, c11)));
  float lanes[8];
  _mm256_storeu_ps(lanes, s);
  *out = lanes[0];
  return NULL;
}

/* Best of 3 runs of fma_loop on `threads` threads (<= 8), in GFLOP/s. */
static double fma_gflops(int threads) {
  double best = 1e30;
  for (int rep = 0; rep < 3; rep++) {
    pthread_t tids[8];
    float sink[8];
    double t = now();
    for (int i = 0; i < threads; i++) pthread_create(&tids[i], NULL, fma_loop, &sink[i]);
    for (int i = 0; i < threads; i++) pthread_join(tids[i], NULL);
    double dt = now() - t;
    if (sink[0] == 42.0f) printf("# unlikely\n"); /* keeps the sums live */
    if (dt < best) best = dt;
  }
  return (double)threads * FMA_ROUNDS * 12 * 8 * 2 / best / 1e9;
}
#endif

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

int main(int argc, char **argv) {
  int iters = argc > 1 ? atoi(argv[1]) : 2000;
  if (iters < 10) iters = 10;

  size_t words = (256u << 20) / 8;
  uint64_t *buf = malloc(words * 8);
  if (!buf) return 1;
  for (size_t i = 0; i < words; i++) buf[i] = i * 0x9e3779b97f4a7c15ull;
  printf("stream_gbs_1 %.2f\n", stream_gbs(buf, words, 1));
  printf("stream_gbs_2 %.2f\n", stream_gbs(buf, words, 2));
  free(buf);
#ifdef HAVE_FMA_PEAK
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) {
    printf("fma_gflops_1 %.1f\n", fma_gflops(1));
    printf("fma_gflops_2 %.1f\n", fma_gflops(2));
  }
#endif

  uint8_t key_bytes[32];
  for (int i = 0; i < 32; i++) key_bytes[i] = (uint8_t)(0x5a ^ i);
  struct btp_master_key *key = NULL;
  struct btp_params *params = NULL;
  struct btp_protector *prot = NULL;
  must(btp_master_key_from_bytes(key_bytes, 32, &key), "key");
  must(btp_params_iom_grp(128, 512, 16, &params), "params");
  must(btp_protector_new(params, key, "bench", 1, NULL, 0, &prot), "protector");

  float x[128], y[128];
  for (int i = 0; i < 128; i++) {
    x[i] = (float)((i * 37) % 101) / 50.0f - 1.0f;
    y[i] = x[i] + (float)((i * 13) % 7) / 70.0f;
  }
  struct btp_template *a = NULL, *b = NULL;
  must(btp_protector_protect(prot, x, 128, &a), "protect");
  must(btp_protector_protect(prot, y, 128, &b), "protect");

  double *lat = malloc(sizeof(double) * (size_t)iters);
  if (!lat) return 1;
  for (int i = 0; i < iters; i++) {
    struct btp_template *t = NULL;
    double t0 = now();
    must(btp_protector_protect(prot, x, 128, &t), "protect");
    lat[i] = now() - t0;
    btp_template_free(t);
  }
  qsort(lat, (size_t)iters, sizeof(double), cmp_double);
  printf("c_protect_us %.2f\n", lat[iters / 2] * 1e6);

  for (int i = 0; i < iters; i++) {
    struct btp_decision d;
    double t0 = now();
    must(btp_protector_verify(prot, a, b, 0.3, &d), "verify");
    lat[i] = now() - t0;
  }
  qsort(lat, (size_t)iters, sizeof(double), cmp_double);
  printf("c_verify_us %.3f\n", lat[iters / 2] * 1e6);

  free(lat);
  btp_template_free(a);
  btp_template_free(b);
  btp_protector_free(prot);
  btp_params_free(params);
  btp_master_key_free(key);
  return 0;
}
