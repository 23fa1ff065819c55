/* endpoints: the broker list of an agency daemon's config, walked round robin. */
#include "agency/endpoints.h"
#include "err.h"

#include <string.h>

static int s_is_sep(char c)
{
    return c == ',' || c == '\n' || c == '\r';
}

static int s_is_blank(char c)
{
    return c == ' ' || c == '\t';
}

/* The next entry of *P with blanks trimmed: its start in *START and length in *LEN; advances *P
 * past it and its separator. Returns 0 at the end of the list. */
static int s_next(const char **p, const char **start, size_t *len)
{
    const char *s = *p;
    for (;;) {
        while (*s && (s_is_sep(*s) || s_is_blank(*s)))
            s++;
        if (!*s)
            return 0;
        const char *e = s;
        while (*e && !s_is_sep(*e))
            e++;
        const char *t = e;
        while (t > s && s_is_blank(t[-1]))
            t--;
        *p = e;
        if (t > s) {
            *start = s;
            *len = (size_t)(t - s);
            return 1;
        }
        s = e;
    }
}

int agency_endpoints_pick(const char *list, size_t index, char *out, size_t outlen)
{
    if (outlen)
        out[0] = 0;
    if (!list || !outlen)
        return TACNET_ECONFIG;
    const char *p = list, *start;
    size_t len, n = 0;
    while (s_next(&p, &start, &len)) {
        /* An endpoint cut short would connect somewhere else: refuse the whole list. */
        if (len > AGENCY_ENDPOINT_MAX || len >= outlen)
            return TACNET_ECONFIG;
        n++;
    }
    if (n == 0 || n > (size_t)0x7fffffff)
        return TACNET_ECONFIG;
    size_t want = index % n;
    p = list;
    for (size_t i = 0; s_next(&p, &start, &len); i++) {
        if (i == want) {
            memcpy(out, start, len);
            out[len] = 0;
            break;
        }
    }
    return (int)n;
}
