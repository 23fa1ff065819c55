/* page: cursors and limits for the dashboard's and the API's lists (see page.h). */
#include "page.h"
#include "err.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int dashboard_page_read(const dashboard_kv_t *q, uint32_t *limit, dashboard_page_pos_t *after,
                        int *has_after, char *why, size_t whylen)
{
    const char *l = q ? dashboard_kv_get(q, "limit") : NULL;
    const char *a = q ? dashboard_kv_get(q, "after") : NULL;
    *limit = DASHBOARD_PAGE_DEFAULT;
    *has_after = 0;
    memset(after, 0, sizeof(*after));
    if (l && *l) {
        char *end;
        unsigned long v = strtoul(l, &end, 10);
        if (*end || v < 1 || v > DASHBOARD_PAGE_MAX) {
            snprintf(why, whylen, "limit must be 1 to %d", DASHBOARD_PAGE_MAX);
            return TACNET_EFIELD;
        }
        *limit = (uint32_t)v;
    }
    if (!a || !*a)
        return 0;
    char raw[DASHBOARD_PAGE_CURSOR / 2 + 1];
    size_t n = 0;
    if (strlen(a) >= DASHBOARD_PAGE_CURSOR ||
        sodium_hex2bin((unsigned char *)raw, sizeof(raw) - 1, a, strlen(a), NULL, &n, NULL) != 0)
        goto fail;
    raw[n] = 0;
    char *colon = memchr(raw, ':', n);
    if (!colon || colon == raw || strlen(raw) != n)
        goto fail;
    *colon = 0;
    char *end;
    after->key = strtoull(raw, &end, 10);
    size_t idlen = strlen(colon + 1);
    if (*end || idlen >= sizeof(after->id))
        goto fail;
    memcpy(after->id, colon + 1, idlen + 1);
    *has_after = 1;
    return 0;
fail:
    snprintf(why, whylen, "after is not a cursor this server gave (use the next one of a reply)");
    return TACNET_EFIELD;
}

void dashboard_page_cursor(const dashboard_page_pos_t *pos, char *out)
{
    char raw[20 + 1 + 48 + 1];
    int n = snprintf(raw, sizeof(raw), "%llu:%s", (unsigned long long)pos->key, pos->id);
    sodium_bin2hex(out, DASHBOARD_PAGE_CURSOR, (const unsigned char *)raw, n > 0 ? (size_t)n : 0);
}

int dashboard_page_cmp(uint64_t key, const char *id, size_t idlen, const dashboard_page_pos_t *pos)
{
    if (key != pos->key)
        return key < pos->key ? -1 : 1;
    size_t pl = strlen(pos->id), m = idlen < pl ? idlen : pl;
    int c = memcmp(id, pos->id, m);
    if (c)
        return c;
    return idlen < pl ? -1 : idlen > pl ? 1 : 0;
}
