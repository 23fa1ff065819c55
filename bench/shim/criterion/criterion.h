/* A stand-in for <criterion/criterion.h> so the benchmark can reuse the integration tests'
 * harness (tests/integration/harness.c) outside a Criterion runner: an assertion that fails
 * prints where and exits the benchmark process; an expectation that fails only warns. Only the
 * macros the harness uses are defined; their optional message arguments are ignored.
 */
#ifndef TACNET_BENCH_CRITERION_SHIM_H
#define TACNET_BENCH_CRITERION_SHIM_H

#include <stdio.h>
#include <stdlib.h>

#define B_CR_CHECK(cond, text)                                                                     \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "bench: %s:%d: %s failed\n", __FILE__, __LINE__, text);                \
            exit(3);                                                                               \
        }                                                                                          \
    } while (0)
#define B_CR_WARN(cond, text)                                                                      \
    do {                                                                                           \
        if (!(cond))                                                                               \
            fprintf(stderr, "bench: %s:%d: warning: %s\n", __FILE__, __LINE__, text);              \
    } while (0)

#define cr_assert(c, ...)          B_CR_CHECK((c), #c)
#define cr_assert_eq(a, b, ...)    B_CR_CHECK((a) == (b), #a " == " #b)
#define cr_assert_geq(a, b, ...)   B_CR_CHECK((a) >= (b), #a " >= " #b)
#define cr_assert_gt(a, b, ...)    B_CR_CHECK((a) > (b), #a " > " #b)
#define cr_assert_leq(a, b, ...)   B_CR_CHECK((a) <= (b), #a " <= " #b)
#define cr_assert_not_null(p, ...) B_CR_CHECK((p) != NULL, #p " != NULL")
#define cr_assert_fail(...)        B_CR_CHECK(0, "cr_assert_fail")
#define cr_expect(c, ...)          B_CR_WARN((c), #c)

#endif
