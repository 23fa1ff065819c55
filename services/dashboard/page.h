/* page: how the dashboard's lists and the JSON API's lists are cut into pages. A list is sorted
 * by a key (a number, smaller first) and then by an identifier (a case reference, an event id),
 * so the position after a row is that pair; the client gets it back as an opaque cursor (hex)
 * and asks `?after=CURSOR&limit=N`. A cursor stays valid as rows are added or removed: the next
 * page starts after where the last one ended, whatever moved before it. */
#ifndef TACNET_DASHBOARD_PAGE_H
#define TACNET_DASHBOARD_PAGE_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

#define DASHBOARD_PAGE_DEFAULT 50
#define DASHBOARD_PAGE_MAX     500

/* A position in a list: the sort key and the identifier of the last row seen. */
typedef struct dashboard_page_pos {
    uint64_t key;
    char id[48];
} dashboard_page_pos_t;

/* A request's page: ?limit (1-DASHBOARD_PAGE_MAX; absent: DASHBOARD_PAGE_DEFAULT) and ?after (a
 * cursor, or absent for the first page). Returns 0 with *LIMIT and, when there is a cursor,
 * *AFTER and *HAS_AFTER set; TACNET_EFIELD with WHY naming the parameter when either is
 * malformed. */
int dashboard_page_read(const dashboard_kv_t *q, uint32_t *limit, dashboard_page_pos_t *after,
                        int *has_after, char *why, size_t whylen);

/* The cursor for POS into OUT (at least DASHBOARD_PAGE_CURSOR bytes). */
#define DASHBOARD_PAGE_CURSOR 2 * (20 + 1 + 48) + 1
void dashboard_page_cursor(const dashboard_page_pos_t *pos, char *out);

/* Compare (KEY, ID) with POS: <0 before it, 0 at it, >0 after it. */
int dashboard_page_cmp(uint64_t key, const char *id, size_t idlen, const dashboard_page_pos_t *pos);

#endif
