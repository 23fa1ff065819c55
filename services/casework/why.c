/* why: shared refusal and text helpers for the casework checks (why.h). */
#include "casework/why.h"

#include <stdarg.h>
#include <stdio.h>

int casework_refuse(int code, char *why, size_t cap, const char *fmt, ...)
{
    if (why && cap) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(why, cap, fmt, ap);
        va_end(ap);
    }
    return code;
}

int casework_has_text(const char *s)
{
    for (; s && *s; s++)
        if (*s != ' ' && *s != '\t' && *s != '\n' && *s != '\r')
            return 1;
    return 0;
}
