/* check_criterion: failed checks of the support library fail the running Criterion test.
 *
 * Linked (as an object, not from libsupport.a, which the benchmark links without Criterion)
 * into every Criterion test program; a constructor installs the hook, so it is in place in each
 * process Criterion runs a test in.
 */
#include <criterion/criterion.h>

#include "check.h"

static void s_fail(const char *file, int line, int fatal, const char *msg)
{
    if (fatal)
        cr_assert_fail("%s:%d: %s", file, line, msg);
    else
        cr_expect_fail("%s:%d: %s", file, line, msg);
}

__attribute__((constructor)) static void s_install(void)
{
    check_fail_hook = s_fail;
}
