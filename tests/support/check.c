/* check: failed checks handed to the program's hook (see check.h). */
#include "check.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

check_fail_fn *check_fail_hook;

static void s_report(const char *file, int line, int fatal, const char *cond, const char *fmt,
                     va_list ap)
{
    char msg[2048], text[1800] = "";
    /* The macros put a space before every format; a check without a message has only that. */
    vsnprintf(text, sizeof(text), fmt[0] == ' ' ? fmt + 1 : fmt, ap);
    if (cond && text[0])
        snprintf(msg, sizeof(msg), "%s: %s", cond, text);
    else
        snprintf(msg, sizeof(msg), "%s", cond ? cond : text);
    if (check_fail_hook)
        check_fail_hook(file, line, fatal, msg);
    else
        fprintf(stderr, "%s:%d: %s: %s\n", file, line,
                fatal ? "check failed" : "expectation failed", msg);
}

void check_fatal(const char *file, int line, const char *cond, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    s_report(file, line, 1, cond, fmt, ap);
    va_end(ap);
    abort();
}

void check_expect_failed(const char *file, int line, const char *cond, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    s_report(file, line, 0, cond, fmt, ap);
    va_end(ap);
}
