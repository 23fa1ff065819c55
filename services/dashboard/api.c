/* api: the JSON API's lists, in pages (see api.h). */
#include "api.h"
#include "case_index.h"
#include "page.h"
#include "web.h"
#include "apijson.h"
#include "err.h"
#include "pbjson.h"

#include <errno.h>
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

/* The summary of case S with its counts (they depend on the clock, so are folded per read), or
 * NULL when the view no longer holds the case. */
static json_t *s_case_json(agency_t *self, const Tacnet__CaseSummary *s)
{
    Tacnet__ApiReply show = TACNET__API_REPLY__INIT;
    show.result_case = TACNET__API_REPLY__RESULT_SHOW_CASE;
    show.show_case = xcalloc(1, sizeof(*show.show_case));
    tacnet__show_case_reply__init(show.show_case);
    int rc = agency_view_show(self, s->case_ref.data, s->case_ref.len, show.show_case);
    /* Gone since the index last read every case (shredded under retention): not listed. */
    json_t *j = rc == TACNET_ENOTFOUND || rc == TACNET_ESHREDDED
                    ? NULL
                    : pbjson_from_message(rc == 0 && show.show_case->summary
                                              ? &show.show_case->summary->base
                                              : &s->base);
    agency_reply_free(&show);
    return j;
}

int dashboard_api_cases(agency_t *self, dashboard_index_t *index, const char *actor,
                        const dashboard_kv_t *q, json_t **out)
{
    uint32_t limit;
    dashboard_page_pos_t after;
    int has_after;
    char why[128];
    int rc = dashboard_page_read(q, &limit, &after, &has_after, why, sizeof(why));
    if (rc != 0)
        return s_refuse(rc, why, out);
    /* The index holds every summary sorted by reference (case_index.h): a page reads only its
     * own cases, for their counts. */
    const Tacnet__ListCasesReply *list = NULL;
    rc = dashboard_index_cases(index, self, &list);
    if (rc == 0)
        rc = dashboard_web_audit(self, actor, "cases.list", "", 0);
    if (rc != 0)
        return s_refuse(rc, tacnet_strerror(rc), out);
    json_t *cases = json_array();
    const Tacnet__CaseSummary *last = NULL;
    int more = 0;
    for (size_t i = 0; i < list->n_cases && !more; i++) {
        const Tacnet__CaseSummary *s = list->cases[i];
        if (!dashboard_web_member(self, s) ||
            (has_after &&
             dashboard_page_cmp(0, (const char *)s->case_ref.data, s->case_ref.len, &after) <= 0))
            continue;
        if (json_array_size(cases) == limit) {
            more = 1;
            break;
        }
        json_t *c = s_case_json(self, s);
        if (!c)
            continue;
        json_array_append_new(cases, c);
        last = s;
    }
    Tacnet__ApiReply empty = TACNET__API_REPLY__INIT;
    json_t *j = s_reply_json(&empty);
    json_object_set_new(j, "cases", cases);
    if (more && last) {
        dashboard_page_pos_t pos = { 0 };
        snprintf(pos.id, sizeof(pos.id), "%.*s", (int)last->case_ref.len,
                 (const char *)last->case_ref.data);
        char cursor[DASHBOARD_PAGE_CURSOR];
        dashboard_page_cursor(&pos, cursor);
        json_object_set_new(j, "next", json_string(cursor));
    }
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
    int member = dashboard_web_case_member(self, ref);
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
    *after = has ? pos.key : 0;
    if (rc == 0 && !has && a && *a) {
        /* Digits only here; one too large for 64 bits is not a position. */
        errno = 0;
        char *end;
        unsigned long long v = strtoull(a, &end, 10);
        if (errno == ERANGE || *end) {
            snprintf(why, whylen, "after: \"%.40s\" is not a position in the event stream", a);
            return TACNET_EFIELD;
        }
        *after = v;
    }
    return rc;
}

int dashboard_api_events(agency_t *self, const char *actor, const dashboard_kv_t *q, json_t **out,
                         int *empty)
{
    uint64_t after;
    uint32_t limit;
    char why[128];
    if (empty)
        *empty = 0;
    int rc = s_events_page(q, &after, &limit, why, sizeof(why));
    uint64_t head = 0;
    if (rc == 0 && (rc = agency_view_head(self, &head)) != 0)
        snprintf(why, sizeof(why), "%s", tacnet_strerror(rc));
    else if (rc == 0 && after > head) {
        /* A cursor past the newest event is none this view gave: waiting on it would wait for
         * events numbered from somewhere else. */
        snprintf(why, sizeof(why), "after: %llu is beyond the newest event (local_seq %llu)",
                 (unsigned long long)after, (unsigned long long)head);
        rc = TACNET_EFIELD;
    }
    if (rc != 0)
        return s_refuse(rc, why, out);
    Tacnet__ApiReply reply = TACNET__API_REPLY__INIT;
    reply.result_case = TACNET__API_REPLY__RESULT_FOLLOW;
    reply.follow = xcalloc(1, sizeof(*reply.follow));
    tacnet__follow_reply__init(reply.follow);
    rc = agency_view_follow(self, after, limit, reply.follow);
    if (rc == 0 && empty && reply.follow->n_entries == 0 && reply.follow->next_local_seq <= after) {
        /* Nothing after the cursor yet: the caller holds the request (not audited until it
         * is answered). Events of cases it is not a member of move the cursor on, so they
         * answer at once, with the cursor past them. */
        agency_reply_free(&reply);
        *empty = 1;
        *out = NULL;
        return 0;
    }
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
