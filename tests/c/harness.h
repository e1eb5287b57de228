/* A tiny test harness for the C tests of btp: CHECK counts, the last line
 * of output is "N passed, M failed" (CI reads it), exit status 1 on any
 * failure. Compiles as C11 and as C++17. */
#ifndef BTP_TEST_HARNESS_H
#define BTP_TEST_HARNESS_H

#include <stdio.h>
#include <string.h>

#include "btp.h"

static int harness_passed = 0;
static int harness_failed = 0;

#define CHECK(cond)                                                            \
  do {                                                                         \
    if (cond) {                                                                \
      harness_passed++;                                                        \
    } else {                                                                   \
      harness_failed++;                                                        \
      fprintf(stderr, "%s:%d: CHECK failed: %s (last error: %s)\n", __FILE__,  \
              __LINE__, #cond, btp_last_error_message());                      \
    }                                                                          \
  } while (0)

/* A call that must return `code`, with a last-error message set exactly
 * when it fails. */
#define CHECK_RC(call, code)                                                   \
  do {                                                                         \
    btp_result rc_ = (call);                                                   \
    const char *msg_ = btp_last_error_message();                               \
    if (rc_ == (btp_result)(code) &&                                           \
        ((code) == BTP_RESULT_OK ? msg_[0] == '\0' : msg_[0] != '\0')) {       \
      harness_passed++;                                                        \
    } else {                                                                   \
      harness_failed++;                                                        \
      fprintf(stderr, "%s:%d: %s gave %u (%s), expected %u; last error: %s\n", \
              __FILE__, __LINE__, #call, (unsigned)rc_,                        \
              btp_result_str((uint32_t)rc_), (unsigned)(code), msg_);         \
    }                                                                          \
  } while (0)

static int harness_report(void) {
  printf("%d passed, %d failed\n", harness_passed, harness_failed);
  return harness_failed == 0 && harness_passed > 0 ? 0 : 1;
}

#endif
