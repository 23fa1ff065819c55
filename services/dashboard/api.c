/* api: the JSON API's lists, in pages (see api.h). */
#include "api.h"
#include "page.h"
#include "web.h"
#include "apijson.h"
#include "err.h"
#include "pbjson.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* An ApiReply's JSON, as every API answer has it (apijson.h). */
static json_t *s_reply_json(const Tacnet__ApiReply *reply)
{
    return apijson_reply(reply);
}

static int s_refuse(int code, const char *reason, json_t **out)
{
    Tacnet__ApiReply r = TACNET__API_REPLY__INIT;
    r.code = code;
    r.reason = (char *)reason;
    *out = s_reply_json(&r);
    return code;
}

static int s_ref_cmp(const void *a, const void *b)
{
    const Tacnet__CaseSummary *x = *(Tacnet__CaseSummary *const *)a;
    const Tacnet__CaseSummary *y = *(Tacnet__CaseSummary *const *)b;
    size_t n = x->case_ref.len < y->case_ref.len ? x->case_ref.len : y->case_ref.len;
    int c = memcmp(x->case_ref.data, y->case_ref.data, n);
    return c ? c : (int)x->case_ref.len - (int)y->case_ref.len;
}

static void s_cases_free(Tacnet__ListCasesReply *list)
{
    Tacnet__ApiReply w = TACNET__API_REPLY__INIT;
    w.result_case = TACNET__API_REPLY__RESULT_CASES;
    w.cases = xcalloc(1, sizeof(*list));
    *w.cases = *list;
    agency_reply_free(&w);
    memset(list, 0, sizeof(*list));
}

/* The summary of case S with its counts (they depend on the clock, so are folded per read). */
static json_t *s_case_json(agency_t *self, const Tacnet__CaseSummary *s)
{
    Tacnet__ApiReply show = TACNET__API_REPLY__INIT;
    show.result_case = TACNET__API_REPLY__RESULT_SHOW_CASE;
    show.show_case = xcalloc(1, sizeof(*show.show_case));
    tacnet__show_case_reply__init(show.show_case);
    int rc = agency_view_show(self, s->case_ref.data, s->case_ref.len, show.show_case);
    json_t *j = pbjson_from_message(
        rc == 0 && show.show_case->summary ? &show.show_case->summary->base : &s->base);
    agency_reply_free(&show);
    return j;
}

int dashboard_api_cases(agency_t *self, const char *actor, const dashboard_kv_t *q, json_t **out)
{
    uint32_t limit;
    dashboard_page_pos_t after;
    int has_after;
    char why[128];
    int rc = dashboard_page_read(q, &limit, &after, &has_after, why, sizeof(why));
    if (rc != 0)
        return s_refuse(rc, why, out);
    Tacnet__ListCasesReply list = TACNET__LIST_CASES_REPLY__INIT;
    rc = agency_view_list(self, &list, 0);
    if (rc == 0)
        rc = dashboard_web_audit(self, actor, "cases.list", "", 0);
    if (rc != 0) {
        s_cases_free(&list);
        return s_refuse(rc, tacnet_strerror(rc), out);
    }
    /* Ours only, by reference; the page after the cursor. */
    size_t n = 0;
    for (size_t i = 0; i < list.n_cases; i++)
        if (dashboard_web_member(self, list.cases[i])) {
            Tacnet__CaseSummary *t = list.cases[n];
            list.cases[n++] = list.cases[i];
            list.cases[i] = t;
        }
    if (n > 1) /* qsort must never see a NULL array, even an empty one */
        qsort(list.cases, n, sizeof(*list.cases), s_ref_cmp);
    size_t start = 0;
    while (has_after && start < n &&
           dashboard_page_cmp(0, (const char *)list.cases[start]->case_ref.data,
                              list.cases[start]->case_ref.len, &after) <= 0)
        start++;
    size_t end = start + limit < n ? start + limit : n;
    json_t *cases = json_array();
    for (size_t i = start; i < end; i++)
        json_array_append_new(cases, s_case_json(self, list.cases[i]));
    Tacnet__ApiReply empty = TACNET__API_REPLY__INIT;
    json_t *j = s_reply_json(&empty);
    json_object_set_new(j, "cases", cases);
    if (end < n) {
        dashboard_page_pos_t pos = { 0 };
        snprintf(pos.id, sizeof(pos.id), "%.*s", (int)list.cases[end - 1]->case_ref.len,
                 (const char *)list.cases[end - 1]->case_ref.data);
        char cursor[DASHBOARD_PAGE_CURSOR];
        dashboard_page_cursor(&pos, cursor);
        json_object_set_new(j, "next", json_string(cursor));
    }
    s_cases_free(&list);
    *out = j;
    return 0;
}

/* Whether this agency is (still) a member of the case of E; MEMO remembers the answers of this
 * page's cases, so each is read once. */
typedef struct {
    char ref[48];
    int member;
} memo_t;

static int s_member(agency_t *self, const Tacnet__TimelineEntry *e, memo_t *memo, size_t *n_memo,
                    size_t cap)
{
    ProtobufCBinaryData ref = e->header->case_ref;
    if (ref.len >= sizeof(memo[0].ref))
        return 0;
    for (size_t i = 0; i < *n_memo; i++)
        if (strlen(memo[i].ref) == ref.len && memcmp(memo[i].ref, ref.data, ref.len) == 0)
            return memo[i].member;
    Tacnet__ShowCaseReply sc = TACNET__SHOW_CASE_REPLY__INIT;
    int member = agency_view_show(self, ref.data, ref.len, &sc) == 0 &&
                 dashboard_web_member(self, sc.summary);
    Tacnet__ApiReply w = TACNET__API_REPLY__INIT;
    w.result_case = TACNET__API_REPLY__RESULT_SHOW_CASE;
    w.show_case = xcalloc(1, sizeof(sc));
    *w.show_case = sc;
    agency_reply_free(&w);
    if (*n_memo < cap) {
        memcpy(memo[*n_memo].ref, ref.data, ref.len);
        memo[*n_memo].ref[ref.len] = 0;
        memo[(*n_memo)++].member = member;
    }
    return member;
}

/* ?after as a cursor, or as the local seq it held before cursors. Returns 0 or TACNET_EFIELD. */
static int s_events_page(const dashboard_kv_t *q, uint64_t *after, uint32_t *limit, char *why,
                         size_t whylen)
{
    const char *a = dashboard_kv_get(q, "after"), *max = dashboard_kv_get(q, "max");
    dashboard_kv_t rest = { 0 };
    const char *l = dashboard_kv_get(q, "limit");
    if (l)
        dashboard_kv_add(&rest, "limit", l);
    else if (max)
        dashboard_kv_add(&rest, "limit", max);
    if (a && *a && strspn(a, "0123456789") != strlen(a))
        dashboard_kv_add(&rest, "after", a);
    dashboard_page_pos_t pos;
    int has = 0;
    int rc = dashboard_page_read(&rest, limit, &pos, &has, why, whylen);
    dashboard_kv_clear(&rest);
    *after = has ? pos.key : a && *a ? strtoull(a, NULL, 10) : 0;
    return rc;
}

int dashboard_api_events(agency_t *self, const char *actor, const dashboard_kv_t *q, json_t **out)
{
    uint64_t after;
    uint32_t limit;
    char why[128];
    int rc = s_events_page(q, &after, &limit, why, sizeof(why));
    if (rc != 0)
        return s_refuse(rc, why, out);
    Tacnet__ApiReply reply = TACNET__API_REPLY__INIT;
    reply.result_case = TACNET__API_REPLY__RESULT_FOLLOW;
    reply.follow = xcalloc(1, sizeof(*reply.follow));
    tacnet__follow_reply__init(reply.follow);
    rc = agency_view_follow(self, after, limit, reply.follow);
    memo_t memo[64];
    size_t n_memo = 0, keep = 0;
    for (size_t i = 0; rc == 0 && i < reply.follow->n_entries; i++) {
        Tacnet__TimelineEntry *e = reply.follow->entries[i];
        if (s_member(self, e, memo, &n_memo, sizeof(memo) / sizeof(memo[0]))) {
            reply.follow->entries[keep++] = e;
        } else {
            tacnet__header__free_unpacked(e->header, NULL);
            if (e->body)
                tacnet__body__free_unpacked(e->body, NULL);
            free(e);
        }
    }
    if (rc == 0)
        reply.follow->n_entries = keep;
    if (rc == 0)
        rc = dashboard_web_audit(self, actor, "events.follow", "", 0);
    reply.code = rc;
    json_t *j = s_reply_json(&reply);
    if (rc == 0) {
        dashboard_page_pos_t pos = { .key = reply.follow->next_local_seq };
        char cursor[DASHBOARD_PAGE_CURSOR];
        dashboard_page_cursor(&pos, cursor);
        json_object_set_new(j, "next", json_string(cursor));
    }
    agency_reply_free(&reply);
    *out = j;
    return rc;
}
