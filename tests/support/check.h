/* check: how the test support library reports a failed check, without depending on a test
 * framework.
 *
 * The harness, the reliability producers and the fixtures check what they do with CHECK (stop
 * the test) and CHECK_EXPECT (note the failure and go on, e.g. in teardown). A failed check calls
 * the hook in check_fail_hook with where it failed, whether it is fatal and what failed. The
 * Criterion test programs link check_criterion.o, which sets the hook to Criterion's failure
 * (so a failed check fails the test like cr_assert did); the benchmark sets one that prints and
 * exits; without a hook a failure is printed and a fatal one aborts.
 *
 * Each macro takes the condition, then optionally a printf format (a string literal) and its
 * arguments. The message is the condition's text, then the formatted message.
 */
#ifndef TACNET_TEST_CHECK_H
#define TACNET_TEST_CHECK_H

/* Report a failed check at FILE:LINE. FATAL non-zero: the test must stop, and a hook that
 * returns is followed by abort(). MSG is the whole message (the hook does not own it). */
typedef void check_fail_fn(const char *file, int line, int fatal, const char *msg);

/* The hook a failed check calls; NULL prints to stderr (and aborts when fatal). */
extern check_fail_fn *check_fail_hook;

/* Format "COND: FMT..." and call the hook as fatal. Never returns. FMT starts with a space the
 * macros add so that a check without a message still has a non-empty format; it is dropped. */
_Noreturn void check_fatal(const char *file, int line, const char *cond, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* The same, not fatal: returns after the hook. */
void check_expect_failed(const char *file, int line, const char *cond, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Stop the test unless COND holds. */
#define CHECK(cond, ...) \
    ((cond) ? (void)0 : check_fatal(__FILE__, __LINE__, #cond, " " __VA_ARGS__))
/* Fail the test, but go on, unless COND holds. */
#define CHECK_EXPECT(cond, ...) \
    ((cond) ? (void)0 : check_expect_failed(__FILE__, __LINE__, #cond, " " __VA_ARGS__))
/* Stop the test. */
#define CHECK_FAIL(...) check_fatal(__FILE__, __LINE__, NULL, " " __VA_ARGS__)

#endif
