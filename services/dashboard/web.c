/* web: the dashboard's pages (see web.h). Forms live in forms.c, static files in assets.c. */
#include "web_internal.h"
#include "agencies.h"
#include "case_index.h"
#include "page.h"
#include "zone.h"
#include "casework/casestate.h"
#include "casework/escalation_rights.h"
#include "clock.h"
#include "err.h"
#include "labels.h"
#include "names.h"
#include "policy.h"
#include "wire.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

/* ------------------------------------------------------------------ reads and audit */

void dashboard_web_actor(const agency_session_t *s, char *out, size_t cap)
{
    const char *role = agency_role_name(s->role);
    snprintf(out, cap, "web/%s:%s", s->initials, role ? role : "?");
}

int dashboard_web_audit(agency_t *self, const char *actor, const char *action, const char *object,
                        int code)
{
    char obj[72];
    /* Objects are identifiers; anything else (a mistyped URL) is cut to printable ASCII. */
    size_t i = 0;
    for (; object && object[i] && i < sizeof(obj) - 1; i++)
        obj[i] = object[i] >= 0x20 && object[i] < 0x7f ? object[i] : '?';
    obj[i] = 0;
    return agency_audit_record(self, actor, action, obj, code);
}

int dashboard_web_member(const agency_t *self, const Tacnet__CaseSummary *c)
{
    uint32_t us = agency_profile(self)->agency;
    for (size_t i = 0; c && i < c->n_members; i++)
        if ((uint32_t)c->members[i] == us)
            return 1;
    return 0;
}

int dashboard_web_case_member(agency_t *self, ProtobufCBinaryData ref)
{
    Tacnet__ShowCaseReply sc = TACNET__SHOW_CASE_REPLY__INIT;
    int member = agency_view_show(self, ref.data, ref.len, &sc) == 0 &&
                 dashboard_web_member(self, sc.summary);
    Tacnet__ApiReply w = TACNET__API_REPLY__INIT;
    w.result_case = TACNET__API_REPLY__RESULT_SHOW_CASE;
    w.show_case = xcalloc(1, sizeof(sc));
    *w.show_case = sc;
    agency_reply_free(&w);
    return member;
}

int dashboard_web_case_read(agency_t *self, const char *actor, const char *ref,
                            Tacnet__ApiReply *reply)
{
    int rc = policy_case_ref_check((const uint8_t *)ref, strlen(ref)) == 0 ? 0 : TACNET_ENOTFOUND;
    if (rc == 0) {
        reply->show_case = xcalloc(1, sizeof(*reply->show_case));
        tacnet__show_case_reply__init(reply->show_case);
        reply->result_case = TACNET__API_REPLY__RESULT_SHOW_CASE;
        rc = agency_view_show(self, (const uint8_t *)ref, strlen(ref), reply->show_case);
        if (rc == 0 && !dashboard_web_member(self, reply->show_case->summary))
            rc = TACNET_ENOTFOUND; /* a case it left reads like one it never held */
        if (rc == TACNET_ESHREDDED)
            rc = TACNET_ENOTFOUND; /* destroyed under retention: to the web, gone is not held */
        if (rc != 0) {
            agency_reply_free(reply);
            memset(reply, 0, sizeof(*reply));
            tacnet__api_reply__init(reply);
        }
    }
    int arc = dashboard_web_audit(self, actor, "case.read", ref, rc);
    if (rc == 0 && arc != 0) {
        /* No read without its audit record. */
        agency_reply_free(reply);
        memset(reply, 0, sizeof(*reply));
        tacnet__api_reply__init(reply);
        rc = arc;
    }
    reply->code = rc;
    return rc;
}

/* ------------------------------------------------------------------ formatting */

void dashboard_web_text(dashboard_buf_t *b, const char *s)
{
    if (s)
        dashboard_buf_html(b, s, strlen(s));
}

void dashboard_web_bytes(dashboard_buf_t *b, ProtobufCBinaryData d)
{
    dashboard_buf_html(b, (const char *)d.data, d.len);
}

void dashboard_web_date(dashboard_buf_t *b, uint32_t d)
{
    if (d)
        dashboard_buf_printf(b, "%04u-%02u-%02u", d / 10000, d / 100 % 100, d % 100);
    else
        dashboard_buf_puts(b, "—");
}

void dashboard_web_time(dashboard_buf_t *b, uint64_t ms)
{
    char out[48];
    if (!zone_format(ms, out, sizeof(out))) {
        dashboard_buf_puts(b, "—");
        return;
    }
    dashboard_buf_printf(b, "<time datetime=\"%lld\">", (long long)ms);
    dashboard_buf_html(b, out, strlen(out));
    dashboard_buf_puts(b, "</time>");
}

void dashboard_web_left(dashboard_buf_t *b, uint64_t deadline_ms, uint64_t now)
{
    if (!deadline_ms) {
        dashboard_buf_puts(b, "no deadline");
        return;
    }
    int over = deadline_ms < now;
    uint64_t d = over ? now - deadline_ms : deadline_ms - now;
    uint64_t h = d / 3600000, m = d / 60000 % 60;
    dashboard_buf_printf(b, "<span class=\"%s\" data-deadline=\"%llu\">", over ? "overdue" : "left",
                         (unsigned long long)deadline_ms);
    if (over)
        dashboard_buf_puts(b, "overdue by ");
    if (h >= 24)
        dashboard_buf_printf(b, "%llu days %llu h", (unsigned long long)(h / 24),
                             (unsigned long long)(h % 24));
    else
        dashboard_buf_printf(b, "%llu h %llu min", (unsigned long long)h, (unsigned long long)m);
    dashboard_buf_puts(b, over ? "</span>" : " left</span>");
}

const char *dashboard_web_enum(const ProtobufCEnumDescriptor *d, int v)
{
    return labels_enum(d, v);
}

void dashboard_web_cap(dashboard_buf_t *b, const char *label)
{
    if (!label || !*label)
        return;
    char first = (char)toupper((unsigned char)label[0]);
    dashboard_buf_html(b, &first, 1);
    dashboard_web_text(b, label + 1);
}

const char *dashboard_web_role(uint32_t r)
{
    return labels_role(r);
}

const char *dashboard_web_agency_title(uint32_t a)
{
    return labels_agency(a);
}

void dashboard_web_prof(dashboard_buf_t *b, const Tacnet__Professional *p)
{
    if (!p) {
        dashboard_buf_puts(b, "—");
        return;
    }
    /* Each part only when there is one: an agency that named no contact shows as the agency
     * alone, not ", School". */
    int said = 0;
    if (p->initials.len) {
        dashboard_buf_puts(b, "<strong>");
        dashboard_web_bytes(b, p->initials);
        dashboard_buf_puts(b, "</strong>");
        said = 1;
    }
    if (p->has_role && said)
        dashboard_buf_printf(b, " (%s)", dashboard_web_role(p->role));
    if (p->job_title && *p->job_title) {
        dashboard_buf_puts(b, said ? ", " : "");
        dashboard_web_text(b, p->job_title);
        said = 1;
    }
    if (p->has_agency)
        dashboard_buf_printf(b, "%s%s", said ? ", " : "", dashboard_web_agency_title(p->agency));
    else if (!said)
        dashboard_buf_puts(b, "—");
}

const char *dashboard_web_need_name(uint32_t level)
{
    static const char *const n[] = { "—", "1 universal", "2 early help", "3 child in need",
                                     "4 child protection" };
    return level < N_OF(n) ? n[level] : "?";
}

/* ------------------------------------------------------------------ layout */

/* On every page of a logged-in user: the broker refused this agency's own events as out of
 * sequence, which nobody may miss (another party may hold the agency's key, or its clock is
 * off). */
static void s_sequence_alert(dashboard_web_t *w)
{
    agency_sequence_alert_t a;
    if (!w->user || agency_sequence_alert(w->agency, &a) != 0 || !a.refusals)
        return;
    dashboard_buf_printf(&w->body,
                         "<div class=\"refusal\" role=\"alert\"><p><strong>Sequence alert"
                         "</strong>: the broker refused %llu of this agency's events as out of "
                         "sequence (latest: <code>%s</code> at sender_seq %llu). ",
                         (unsigned long long)a.refusals, tacnet_errname(a.code),
                         (unsigned long long)a.sender_seq);
    dashboard_buf_puts(&w->body, a.code == TACNET_ECLOCK
                                     ? "This machine's clock is off: check its time service."
                                     : "Unless this system was restored from a backup, someone "
                                       "else may be publishing with this agency's key: tell "
                                       "the partnership's administrator now.");
    dashboard_buf_puts(&w->body, " <a href=\"/outbox\">See the outbox</a>.</p></div>");
}

void dashboard_web_head(dashboard_web_t *w, const char *title, const char *live)
{
    dashboard_buf_t *b = &w->body;
    dashboard_buf_printf(b,
                         "<!doctype html>\n<html lang=\"en-GB\"><head><meta charset=\"utf-8\">"
                         "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
                         "<title>%s · tacnet %s</title>"
                         "<link rel=\"stylesheet\" href=\"/static/app.css\">"
                         "<link rel=\"icon\" href=\"/static/icon.svg\" type=\"image/svg+xml\">"
                         "<script src=\"/static/live.js\" defer></script></head><body>"
                         "<a class=\"skip\" href=\"#main\">Skip to content</a>"
                         "<header><p class=\"brand\">tacnet · <strong>%s</strong></p>",
                         title, agency_profile(w->agency)->title, agency_profile(w->agency)->title);
    if (w->user) {
        dashboard_buf_printf(
            b,
            "<nav aria-label=\"Main\"><a href=\"/\">My cases</a> "
            "<a href=\"/inbox\">Escalations inbox</a> <a href=\"/outbox\">Outbox</a></nav>"
            "<form class=\"who\" method=\"post\" action=\"/logout\">"
            "<span>%s (%s)</span>"
            "<input type=\"hidden\" name=\"csrf\" value=\"%s\">"
            "<button type=\"submit\">Log out</button></form>",
            w->user->initials, dashboard_web_role(w->user->role), w->user->csrf);
    }
    dashboard_buf_puts(b, "</header>");
    if (live)
        dashboard_buf_printf(b,
                             "<p id=\"live-status\" class=\"live\" role=\"status\" "
                             "aria-live=\"polite\"></p><main id=\"main\" data-live=\"%s\">",
                             live);
    else
        dashboard_buf_puts(b, "<main id=\"main\">");
    s_sequence_alert(w);
}

void dashboard_web_foot(dashboard_web_t *w)
{
    dashboard_buf_puts(&w->body, "</main></body></html>\n");
}

void dashboard_web_error(dashboard_web_t *w, int status, int code, const char *reason)
{
    w->status = status;
    dashboard_web_head(w, "Refused", NULL);
    dashboard_buf_printf(&w->body,
                         "<h1>Refused</h1><div class=\"refusal\" role=\"alert\">"
                         "<p><code>%s</code> ",
                         tacnet_errname(code));
    dashboard_web_text(&w->body, reason);
    dashboard_buf_puts(&w->body, "</p></div><p><a href=\"/\">Back to my cases</a></p>");
    dashboard_web_foot(w);
}

int dashboard_web_next_ok(const char *path)
{
    size_t n = path ? strlen(path) : 0;
    return n > 1 && n < 200 && path[0] == '/' && path[1] != '/' &&
           strspn(path, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789/_.-") ==
               n &&
           strcmp(path, "/login") != 0 && strstr(path, "..") == NULL;
}

void dashboard_web_login(dashboard_web_t *w, const char *login_csrf, int code, const char *next,
                         const char *why)
{
    dashboard_buf_t *b = &w->body;
    dashboard_web_head(w, "Log in", NULL);
    dashboard_buf_printf(b, "<h1>Log in to %s</h1>", agency_profile(w->agency)->title);
    if (!code && why && strcmp(why, "sent") == 0)
        dashboard_buf_puts(b, "<div class=\"refusal\" role=\"alert\"><p><strong>Your session "
                              "ended before that form was sent: nothing was sent.</strong> Log in "
                              "again and the page opens again for you to send it.</p></div>");
    else if (!code && why && strcmp(why, "expired") == 0)
        dashboard_buf_puts(b, "<div class=\"refusal\" role=\"status\"><p>Your session ended: "
                              "log in again to go on where you were.</p></div>");
    if (code == TACNET_ELOCKED)
        dashboard_buf_puts(b, "<div class=\"refusal\" role=\"alert\"><p><code>E_LOCKED</code> "
                              "Too many failed log-ins from this address: this account is locked "
                              "here for a while (it still works from elsewhere). Try again later, "
                              "or ask your administrator to unlock it.</p></div>");
    else if (code)
        dashboard_buf_printf(b,
                             "<div class=\"refusal\" role=\"alert\"><p><code>%s</code> Initials or "
                             "password not recognised. After %d failures from one address in %llu "
                             "minutes the account is locked there.</p></div>",
                             tacnet_errname(code), AGENCY_LOCK_FAILS,
                             (unsigned long long)(AGENCY_LOCK_MS / 60000));
    dashboard_buf_printf(b,
                         "<form method=\"post\" action=\"/login\" class=\"card narrow\">"
                         "<input type=\"hidden\" name=\"csrf\" value=\"%s\">%s%s%s"
                         "<label for=\"initials\">Initials</label>"
                         "<input id=\"initials\" name=\"initials\" autocomplete=\"username\" "
                         "required pattern=\"[A-Z]{2,4}\" maxlength=\"4\">"
                         "<label for=\"password\">Password</label>"
                         "<input id=\"password\" name=\"password\" type=\"password\" "
                         "autocomplete=\"current-password\" required>"
                         "<button type=\"submit\">Log in</button></form>",
                         login_csrf,
                         dashboard_web_next_ok(next) ? "<input type=\"hidden\" "
                                                       "name=\"next\" value=\""
                                                     : "",
                         dashboard_web_next_ok(next) ? next : "",
                         dashboard_web_next_ok(next) ? "\">" : "");
    dashboard_web_foot(w);
}

/* ------------------------------------------------------------------ case data helpers */

static void s_reply_clear(Tacnet__ApiReply *r)
{
    agency_reply_free(r);
    memset(r, 0, sizeof(*r));
    tacnet__api_reply__init(r);
}

int dashboard_web_escalation_open(const Tacnet__EscalationView *e)
{
    return escalation_rights_of(e, 0, 0).open;
}

void dashboard_web_hex(dashboard_buf_t *b, ProtobufCBinaryData d)
{
    for (size_t i = 0; i < d.len; i++)
        dashboard_buf_printf(b, "%02x", d.data[i]);
}

/* ------------------------------------------------------------------ My cases */

typedef struct {
    Tacnet__ApiReply show;
    const Tacnet__CaseSummary *s;
    uint32_t max_need;
    size_t open_esc, overdue;
    uint64_t next_deadline;
} row_t;

static void s_option(dashboard_buf_t *b, const char *value, const char *label, const char *current)
{
    dashboard_buf_printf(b, "<option value=\"%s\"%s>%s</option>", value,
                         current && strcmp(current, value) == 0 ? " selected" : "", label);
}

static int s_contains(ProtobufCBinaryData d, const char *needle)
{
    size_t n = strlen(needle);
    if (!n)
        return 1;
    for (size_t i = 0; i + n <= d.len; i++) {
        size_t k = 0;
        while (k < n && (d.data[i + k] | 0x20) == (needle[k] | 0x20))
            k++;
        if (k == n)
            return 1;
    }
    return 0;
}

/* The case list's filters, as the query gives them (each NULL when absent). */
typedef struct {
    const char *q, *member, *sort, *esc, *need;
    const char *ref; /* one case only: the row live updates fetch to patch the table */
    uint32_t min_need;
} filters_t;

static void s_filters_read(const dashboard_kv_t *query, filters_t *f)
{
    f->q = dashboard_kv_get(query, "q");
    f->member = dashboard_kv_get(query, "member");
    f->sort = dashboard_kv_get(query, "sort");
    f->esc = dashboard_kv_get(query, "esc");
    f->need = dashboard_kv_get(query, "need");
    f->ref = dashboard_kv_get(query, "ref");
    f->min_need = f->need ? (uint32_t)atoi(f->need) : 0;
}

/* Whether summary S passes the filters that need only the summary. */
static int s_summary_passes(const Tacnet__CaseSummary *s, const filters_t *f)
{
    if (f->q && *f->q && !s_contains(s->case_ref, f->q) && !s_contains(s->initials, f->q))
        return 0;
    if (f->ref && *f->ref &&
        (s->case_ref.len != strlen(f->ref) || memcmp(s->case_ref.data, f->ref, s->case_ref.len)))
        return 0;
    if (!f->member || !*f->member)
        return 1;
    int found = 0;
    for (size_t m = 0; m < s->n_members; m++)
        found |= strcmp(names_agency(s->members[m]), f->member) == 0;
    return found;
}

/* Fill R for case S: its case read, highest level of need, counts and nearest deadline. Returns
 * 1 when the row passes the filters that need the case (R then owns r->show), else 0 with
 * nothing held. */
static int s_row_load(agency_t *self, const Tacnet__CaseSummary *s, const filters_t *f, row_t *r)
{
    /* Start afresh: the slot may hold the level of need and deadline of a case the filters
     * refused. */
    memset(r, 0, sizeof(*r));
    tacnet__api_reply__init(&r->show);
    r->show.show_case = xcalloc(1, sizeof(*r->show.show_case));
    tacnet__show_case_reply__init(r->show.show_case);
    r->show.result_case = TACNET__API_REPLY__RESULT_SHOW_CASE;
    if (agency_view_show(self, s->case_ref.data, s->case_ref.len, r->show.show_case) != 0) {
        s_reply_clear(&r->show);
        return 0;
    }
    r->s = s;
    for (size_t l = 0; l < s->n_level_of_need; l++)
        if (s->level_of_need[l] > r->max_need)
            r->max_need = s->level_of_need[l];
    /* The counts come from the fold that built the case state (view.c), as for `tacnet
     * cases`; the nearest deadline is read from that state. */
    const Tacnet__CaseState *st = r->show.show_case->state;
    r->open_esc = r->show.show_case->summary->open_escalations;
    r->overdue = r->show.show_case->summary->overdue_items;
    for (size_t e = 0; st && e < st->n_escalations; e++) {
        const Tacnet__EscalationView *ev = st->escalations[e];
        if (ev->has_state && dashboard_web_escalation_open(ev) && ev->has_deadline_ms &&
            (!r->next_deadline || ev->deadline_ms < r->next_deadline))
            r->next_deadline = ev->deadline_ms;
    }
    if (r->max_need < f->min_need || (f->esc && *f->esc && !r->open_esc)) {
        s_reply_clear(&r->show);
        return 0;
    }
    return 1;
}

/* A case of the list before its page is drawn: what the filters and the sort need, read from
 * its summary alone unless they ask about escalations (then its state is folded too), so a long
 * list costs one pass over the summaries and a case read per row shown. */
typedef struct {
    const Tacnet__CaseSummary *s;
    uint64_t key; /* the sort key, smaller first */
} lite_t;

static int s_lite_cmp(const void *a, const void *b)
{
    const lite_t *x = a, *y = b;
    if (x->key != y->key)
        return x->key < y->key ? -1 : 1;
    size_t n = x->s->case_ref.len < y->s->case_ref.len ? x->s->case_ref.len : y->s->case_ref.len;
    int c = memcmp(x->s->case_ref.data, y->s->case_ref.data, n);
    return c ? c : (int)x->s->case_ref.len - (int)y->s->case_ref.len;
}

static uint32_t s_max_need(const Tacnet__CaseSummary *s)
{
    uint32_t m = 0;
    for (size_t l = 0; l < s->n_level_of_need; l++)
        m = s->level_of_need[l] > m ? s->level_of_need[l] : m;
    return m;
}

/* The cases of LIST this agency is a member of that pass F, sorted as F asks (ties by
 * reference). ESC (parallel to LIST, or NULL when F asks nothing of escalations) holds the
 * index's escalation facts, so the filter and the deadline sort read no case. Returns how many;
 * *OUT is the caller's (free). */
static size_t s_lite_collect(agency_t *self, const Tacnet__ListCasesReply *list,
                             const dashboard_index_esc_t *esc, const filters_t *f, lite_t **out)
{
    lite_t *r = xcalloc(list->n_cases ? list->n_cases : 1, sizeof(*r));
    size_t n = 0;
    for (size_t i = 0; i < list->n_cases; i++) {
        const Tacnet__CaseSummary *s = list->cases[i];
        uint32_t need = s_max_need(s);
        if (!dashboard_web_member(self, s) || !s_summary_passes(s, f) || need < f->min_need)
            continue;
        if (esc && f->esc && *f->esc && !esc[i].open)
            continue;
        uint64_t deadline = esc ? esc[i].next_deadline : 0;
        r[n].s = s;
        if (f->sort && strcmp(f->sort, "ref") == 0)
            r[n].key = 0;
        else if (f->sort && strcmp(f->sort, "need") == 0)
            r[n].key = 4 - (need < 4 ? need : 4);
        else if (f->sort && strcmp(f->sort, "deadline") == 0)
            r[n].key = deadline ? deadline : UINT64_MAX;
        else
            r[n].key = UINT64_MAX - s->last_activity_ms;
        n++;
    }
    if (n > 1) /* qsort must never see a NULL array, even an empty one */
        qsort(r, n, sizeof(*r), s_lite_cmp);
    *out = r;
    return n;
}

/* A link to the case list with the filters in use, from cursor AFTER (NULL: the first page). */
static void s_cases_link(dashboard_buf_t *b, const filters_t *f, uint32_t limit, const char *after,
                         const char *label)
{
    const char *keys[] = { "q", "member", "need", "sort", "esc" };
    const char *vals[] = { f->q, f->member, f->need, f->sort, f->esc };
    dashboard_buf_puts(b, "<a href=\"/?");
    for (size_t i = 0; i < N_OF(keys); i++) {
        if (!vals[i] || !*vals[i])
            continue;
        dashboard_buf_printf(b, "%s=", keys[i]);
        for (const unsigned char *p = (const unsigned char *)vals[i]; *p; p++) {
            if ((*p >= '0' && *p <= '9') || ((*p | 0x20) >= 'a' && (*p | 0x20) <= 'z') ||
                *p == '-' || *p == '_')
                dashboard_buf_printf(b, "%c", *p);
            else
                dashboard_buf_printf(b, "%%%02X", *p);
        }
        dashboard_buf_puts(b, "&amp;");
    }
    if (after)
        dashboard_buf_printf(b, "after=%s&amp;", after);
    dashboard_buf_printf(b, "limit=%u\">%s</a>", limit, label);
}

/* The filter form, showing the filters in use. */
static void s_filters_form(dashboard_buf_t *b, const filters_t *f)
{
    dashboard_buf_puts(b, "<form method=\"get\" action=\"/\" class=\"filters\" role=\"search\">"
                          "<div><label for=\"q\">Reference or initials</label>"
                          "<input id=\"q\" name=\"q\" value=\"");
    dashboard_web_text(b, f->q);
    dashboard_buf_puts(b, "\"></div><div><label for=\"member\">Member agency</label>"
                          "<select id=\"member\" name=\"member\">");
    s_option(b, "", "any", f->member);
    s_option(b, "camhs", "CAMHS", f->member);
    s_option(b, "school", "School", f->member);
    s_option(b, "health_visiting", "Health visiting", f->member);
    s_option(b, "social_care", "Social care", f->member);
    /* And the agencies the roster declares beyond the four (family_support in make run); a
     * roster from before agencies were declared lists none, so the four are not taken from it. */
    uint32_t ids[AGENCIES_MAX];
    size_t n = agencies_list(ids, AGENCIES_MAX);
    for (size_t i = 0; i < n; i++)
        if (!protobuf_c_enum_descriptor_get_value(&tacnet__agency__descriptor, (int)ids[i]))
            s_option(b, names_agency(ids[i]), labels_agency(ids[i]), f->member);
    dashboard_buf_puts(b, "</select></div><div><label for=\"need\">Level of need at least</label>"
                          "<select id=\"need\" name=\"need\">");
    s_option(b, "0", "any", f->need);
    s_option(b, "2", "2 early help", f->need);
    s_option(b, "3", "3 child in need", f->need);
    s_option(b, "4", "4 child protection", f->need);
    dashboard_buf_puts(b, "</select></div><div><label for=\"sort\">Sort by</label>"
                          "<select id=\"sort\" name=\"sort\">");
    s_option(b, "activity", "last activity", f->sort);
    s_option(b, "deadline", "nearest escalation deadline", f->sort);
    s_option(b, "need", "highest level of need", f->sort);
    s_option(b, "ref", "case reference", f->sort);
    dashboard_buf_printf(b,
                         "</select></div><div class=\"check\"><input type=\"checkbox\" id=\"esc\" "
                         "name=\"esc\" value=\"1\"%s><label for=\"esc\">Only with open "
                         "escalations</label></div><button type=\"submit\">Apply</button></form>",
                         f->esc && *f->esc ? " checked" : "");
}

/* One case's row of the table. */
static void s_row_draw(dashboard_buf_t *b, const row_t *r, uint64_t now)
{
    const Tacnet__CaseState *st = r->show.show_case->state;
    dashboard_buf_puts(b, "<tr data-ref=\"");
    dashboard_web_bytes(b, r->s->case_ref);
    dashboard_buf_puts(b, "\"><td>");
    dashboard_web_bytes(b, r->s->initials);
    dashboard_buf_puts(b, "</td><td><a href=\"/cases/");
    dashboard_web_bytes(b, r->s->case_ref);
    dashboard_buf_puts(b, "\">");
    dashboard_web_bytes(b, r->s->case_ref);
    dashboard_buf_puts(b, "</a>");
    if (st && st->closed) {
        dashboard_buf_puts(b, " <span class=\"meta\">closed");
        if (st->closed->has_closed_date) {
            dashboard_buf_puts(b, " ");
            dashboard_web_date(b, st->closed->closed_date);
        }
        dashboard_buf_puts(b, "</span>");
    }
    dashboard_buf_puts(b, "</td><td>");
    if (st && st->lead)
        dashboard_web_prof(b, st->lead);
    else if (r->s->has_lead)
        dashboard_buf_puts(b, dashboard_web_agency_title(r->s->lead));
    else
        dashboard_buf_puts(b, "none yet");
    dashboard_buf_puts(b, "</td><td><ul class=\"plain\">");
    for (size_t m = 0; m < r->s->n_members; m++) {
        uint32_t a = r->s->members[m];
        dashboard_buf_printf(b, "<li>%s", dashboard_web_agency_title(a));
        for (size_t t = 0; st && t < st->n_team; t++) {
            if ((uint32_t)st->team[t]->agency == a && st->team[t]->named_contact) {
                dashboard_buf_puts(b, ": ");
                dashboard_web_bytes(b, st->team[t]->named_contact->initials);
            }
        }
        dashboard_buf_puts(b, "</li>");
    }
    dashboard_buf_puts(b, "</ul></td><td><ul class=\"plain\">");
    for (size_t l = 1; l < r->s->n_level_of_need; l++)
        if (r->s->level_of_need[l])
            dashboard_buf_printf(b, "<li>%s: %s</li>", dashboard_web_agency_title((uint32_t)l),
                                 dashboard_web_need_name(r->s->level_of_need[l]));
    dashboard_buf_printf(b, "</ul></td><td>%zu", r->open_esc);
    if (r->next_deadline) {
        dashboard_buf_puts(b, "<br>");
        dashboard_web_left(b, r->next_deadline, now);
    }
    dashboard_buf_printf(b, "</td><td>%s%zu%s</td><td>", r->overdue ? "<strong>" : "", r->overdue,
                         r->overdue ? "</strong>" : "");
    dashboard_web_time(b, r->s->last_activity_ms);
    dashboard_buf_puts(b, "</td></tr>");
}

/* The live stream from the newest event on: opening a page replays no history. */
static void s_live_now(agency_t *self, char *out, size_t cap)
{
    uint64_t head = 0;
    agency_view_head(self, &head);
    snprintf(out, cap, "/events?after=%llu", (unsigned long long)head);
}

/* The rows [START, END) of the sorted list, each read in full and drawn. */
static void s_cases_rows(agency_t *self, dashboard_buf_t *b, const lite_t *l, size_t start,
                         size_t end, uint64_t now)
{
    filters_t all = { 0 };
    for (size_t i = start; i < end; i++) {
        row_t row;
        if (s_row_load(self, l[i].s, &all, &row)) {
            s_row_draw(b, &row, now);
            s_reply_clear(&row.show);
        }
    }
}

void dashboard_web_cases(dashboard_web_t *w)
{
    agency_t *self = w->agency;
    dashboard_buf_t *b = &w->body;
    char actor[48], why[128], live[64];
    dashboard_web_actor(w->user, actor, sizeof(actor));
    uint32_t limit;
    dashboard_page_pos_t after;
    int has_after;
    if (dashboard_page_read(w->query, &limit, &after, &has_after, why, sizeof(why)) != 0) {
        dashboard_web_error(w, 422, TACNET_EFIELD, why);
        return;
    }
    s_live_now(self, live, sizeof(live));
    const Tacnet__ListCasesReply *list = NULL;
    int rc = dashboard_index_cases(w->index, self, &list);
    if (rc == 0)
        rc = dashboard_web_audit(self, actor, "cases.list", "", 0);
    filters_t f;
    s_filters_read(w->query, &f);
    uint64_t now = clock_now_ms();
    lite_t *l = NULL;
    int by_esc = (f.esc && *f.esc) || (f.sort && strcmp(f.sort, "deadline") == 0);
    const dashboard_index_esc_t *esc =
        rc == 0 && by_esc ? dashboard_index_escalations(w->index, self) : NULL;
    size_t n = rc == 0 ? s_lite_collect(self, list, esc, &f, &l) : 0;
    size_t start = 0;
    while (has_after && start < n &&
           dashboard_page_cmp(l[start].key, (const char *)l[start].s->case_ref.data,
                              l[start].s->case_ref.len, &after) <= 0)
        start++;
    size_t end = start + limit < n ? start + limit : n;

    dashboard_web_head(w, "My cases", live);
    dashboard_buf_puts(b,
                       "<h1>My cases</h1><p><a class=\"button\" href=\"/cases/new/forms/concern\">"
                       "Open a case</a></p>");
    s_filters_form(b, &f);
    if (rc != 0)
        dashboard_buf_printf(b, "<p class=\"refusal\">%s</p>", tacnet_errname(rc));
    if (end > start)
        dashboard_buf_printf(b, "<p>%zu case%s; showing %zu to %zu.</p>", n, n == 1 ? "" : "s",
                             start + 1, end);
    else
        dashboard_buf_printf(b, "<p>%zu case%s.</p>", n, n == 1 ? "" : "s");
    dashboard_buf_puts(
        b,
        "<div class=\"scroll\" tabindex=\"0\"><table class=\"cases\" data-rows=\"ref\"><thead><tr>"
        "<th scope=\"col\">Initials</th><th scope=\"col\">Case</th>"
        "<th scope=\"col\">Lead professional</th>"
        "<th scope=\"col\">Team and named contacts</th>"
        "<th scope=\"col\">Level of need</th>"
        "<th scope=\"col\">Open escalations</th><th scope=\"col\">Overdue</th>"
        "<th scope=\"col\">Last activity</th></tr></thead><tbody>");
    s_cases_rows(self, b, l, start, end, now);
    dashboard_buf_puts(b, "</tbody></table></div><nav class=\"pager\" aria-label=\"Pages\">");
    if (has_after)
        s_cases_link(b, &f, limit, NULL, "First page");
    if (end < n) {
        dashboard_page_pos_t pos = { .key = l[end - 1].key };
        snprintf(pos.id, sizeof(pos.id), "%.*s", (int)l[end - 1].s->case_ref.len,
                 (const char *)l[end - 1].s->case_ref.data);
        char cursor[DASHBOARD_PAGE_CURSOR];
        dashboard_page_cursor(&pos, cursor);
        dashboard_buf_puts(b, " ");
        s_cases_link(b, &f, limit, cursor, "Next page");
    }
    dashboard_buf_puts(b, "</nav>");
    dashboard_web_foot(w);
    free(l);
}

/* ------------------------------------------------------------------ inbox */

/* One open escalation of the inbox. */
typedef struct {
    char ref[32];
    uint32_t stage, audience;
    uint64_t deadline;
    ProtobufCBinaryData id;
    char idhex[33];
    char topic[96];
    uint32_t parties[8];
    size_t n_parties;
    int party, urgent;
    int resolved; /* a resolution is proposed: the clock stopped, acknowledgements are owed */
    int ack;      /* this agency is a party that has not acknowledged it yet */
    int proposed; /* this agency proposed the resolution */
    int unheld;   /* a resolution is proposed whose text never reached this view */
    int breached; /* past the last stage's deadline (casestate_escalation_breached) */
} item_t;

/* Whether IT waits on a user of ROLE: its audience is that role; and a lead professional is
 * also its agency's practitioner, so a practitioners' stage of an escalation its agency is a
 * party to is theirs too. Once a resolution is proposed, only an acknowledgement this agency
 * owes waits on it. */
static int s_mine(const item_t *it, uint32_t role)
{
    /* With a resolution proposed, what is owed is each party's acknowledgement: nothing waits on
     * an agency that proposed it, has acknowledged it or is no party. */
    if (!it->audience || (it->resolved && !it->ack && !it->unheld))
        return 0;
    return it->audience == role || (role == TACNET__ROLE__LEAD_PROFESSIONAL &&
                                    it->audience == TACNET__ROLE__PRACTITIONER && it->party);
}

/* Its row: case, topic, urgency, stage, who must act (MINE: the user's role), deadline, time
 * left, and the answer this agency may give. */
static void s_inbox_row(dashboard_buf_t *b, const item_t *it, int mine, uint64_t now)
{
    dashboard_buf_printf(b, "<tr data-ref=\"%s\"><td><a href=\"/cases/%s\">%s</a></td><td>",
                         it->ref, it->ref, it->ref);
    dashboard_web_text(b, it->topic[0] ? it->topic : "—");
    dashboard_buf_printf(b, "</td><td>%s</td><td>%u of %u</td><td>%s",
                         it->urgent ? "<strong class=\"overdue\">Urgent</strong>" : "Not urgent",
                         it->stage, CASESTATE_ESCALATION_LAST_STAGE,
                         it->audience ? dashboard_web_role(it->audience) : "—");
    for (size_t p = 0; p < it->n_parties; p++)
        dashboard_buf_printf(b, "%s%s", p ? ", " : " at ",
                             dashboard_web_agency_title(it->parties[p]));
    dashboard_buf_printf(b, "%s</td><td>", mine ? " <strong>yours</strong>" : "");
    dashboard_web_time(b, it->deadline);
    dashboard_buf_puts(b, "</td><td>");
    /* Breached is said in words, not only as time overdue: no stage follows, so nothing will
     * move it on by itself; it stays with the partnership until someone resolves it. */
    if (it->breached)
        dashboard_buf_puts(b, "<strong class=\"overdue\">Breached: past the partnership's last "
                              "deadline</strong>");
    else if (it->resolved)
        dashboard_buf_puts(b, "Resolution proposed: no deadline while it is acknowledged");
    else
        dashboard_web_left(b, it->deadline, now);
    /* With a resolution proposed the answer owed is an acknowledgement, not a response (the
     * broker takes no response then). */
    if (it->ack)
        dashboard_buf_printf(b,
                             "</td><td><a href=\"/cases/%s/forms/escalation_ack?about="
                             "%s\">Acknowledge</a></td></tr>",
                             it->ref, it->idhex);
    else if (it->unheld)
        dashboard_buf_printf(b,
                             "</td><td><a href=\"/cases/%s\">Resolution proposed but not "
                             "received here: ask for it at a class this agency receives</a>"
                             "</td></tr>",
                             it->ref);
    else if (it->resolved)
        dashboard_buf_printf(b, "</td><td><a href=\"/cases/%s\">%s</a></td></tr>", it->ref,
                             it->proposed && it->party
                                 ? "Proposed by this agency: waiting on the other parties"
                             : it->proposed ? "Proposed by this agency: waiting on the parties"
                             : it->party    ? "Acknowledged: waiting on the other parties"
                                            : "Waiting on the parties to acknowledge");
    else if (it->party)
        dashboard_buf_printf(b,
                             "</td><td><a href=\"/cases/%s/forms/escalation_response?about="
                             "%s\">Respond</a></td></tr>",
                             it->ref, it->idhex);
    else
        dashboard_buf_printf(b,
                             "</td><td><a href=\"/cases/%s/forms/escalation_resolved?about="
                             "%s\">Resolve as lead</a></td></tr>",
                             it->ref, it->idhex);
}

void dashboard_web_inbox(dashboard_web_t *w)
{
    agency_t *self = w->agency;
    dashboard_buf_t *b = &w->body;
    char actor[48];
    dashboard_web_actor(w->user, actor, sizeof(actor));
    /* Only the cases with an open escalation are read (case_index.h keeps which they are);
     * ?case= keeps one case's rows, which live updates fetch to patch the table. */
    const char *only = dashboard_kv_get(w->query, "case");
    const Tacnet__ListCasesReply *list = NULL;
    int rc = dashboard_index_cases(w->index, self, &list);
    const dashboard_index_esc_t *esc = rc == 0 ? dashboard_index_escalations(w->index, self) : NULL;
    if (rc == 0)
        rc = dashboard_web_audit(self, actor, "inbox.read", "", 0);
    uint64_t now = clock_now_ms();
    char live[64];
    s_live_now(self, live, sizeof(live));
    dashboard_web_head(w, "Escalations inbox", live);
    dashboard_buf_printf(b,
                         "<h1>Escalations inbox</h1><p>Every open escalation %s is a party to or "
                         "leads, soonest deadline first. Those waiting on a %s%s are marked "
                         "<strong>yours</strong>.</p>",
                         agency_profile(self)->title, dashboard_web_role(w->user->role),
                         w->user->role == TACNET__ROLE__LEAD_PROFESSIONAL
                             ? " (or on your agency's practitioner)"
                             : "");
    dashboard_buf_puts(b,
                       "<div class=\"scroll\" tabindex=\"0\"><table data-rows=\"case\"><thead><tr>"
                       "<th scope=\"col\">Case</th>"
                       "<th scope=\"col\">Topic</th><th scope=\"col\">Urgency</th>"
                       "<th scope=\"col\">Stage</th><th scope=\"col\">Who must act</th>"
                       "<th scope=\"col\">Deadline</th><th scope=\"col\">Time left</th>"
                       "<th scope=\"col\">Answer</th></tr></thead><tbody>");
    item_t items[128];
    size_t n = 0;
    for (size_t i = 0; rc == 0 && i < list->n_cases; i++) {
        const Tacnet__CaseSummary *s = list->cases[i];
        if (!esc[i].open || !dashboard_web_member(self, s) ||
            (only && *only &&
             (s->case_ref.len != strlen(only) || memcmp(s->case_ref.data, only, s->case_ref.len))))
            continue;
        Tacnet__ShowCaseReply sc = TACNET__SHOW_CASE_REPLY__INIT;
        if (agency_view_show(self, s->case_ref.data, s->case_ref.len, &sc) != 0)
            continue;
        uint32_t me = agency_profile(self)->agency;
        uint32_t lead = s->has_lead ? (uint32_t)s->lead : 0;
        for (size_t e = 0; sc.state && e < sc.state->n_escalations && n < N_OF(items); e++) {
            /* Every open escalation this agency is a party to, raised, or leads the case of. */
            const Tacnet__EscalationView *ev = sc.state->escalations[e];
            escalation_rights_t rights = escalation_rights_of(ev, me, lead);
            if (!ev->has_state || !rights.open || !rights.involved)
                continue;
            item_t it = { .stage = ev->has_stage ? ev->stage : 1, .party = rights.party };
            snprintf(it.ref, sizeof(it.ref), "%.*s", (int)s->case_ref.len,
                     (const char *)s->case_ref.data);
            it.audience = ev->has_audience ? ev->audience : 0;
            it.deadline = ev->has_deadline_ms ? ev->deadline_ms : 0;
            it.id = ev->escalation_id;
            it.urgent = ev->has_urgent && ev->urgent;
            it.resolved = rights.resolving;
            it.unheld = rights.unheld;
            it.ack = rights.acknowledge;
            it.proposed = rights.proposed;
            it.breached = casestate_escalation_breached(ev, now);
            if (labels_escalation_about(ev))
                snprintf(it.topic, sizeof(it.topic), "%s", labels_escalation_about(ev));
            for (size_t p = 0; p < ev->n_parties && it.n_parties < N_OF(it.parties); p++)
                it.parties[it.n_parties++] = ev->parties[p];
            for (size_t k = 0; k < it.id.len && k < 16; k++)
                snprintf(it.idhex + 2 * k, 3, "%02x", it.id.data[k]);
            it.id.data = NULL;
            items[n++] = it;
        }
        Tacnet__ApiReply wrap = TACNET__API_REPLY__INIT;
        wrap.result_case = TACNET__API_REPLY__RESULT_SHOW_CASE;
        wrap.show_case = xcalloc(1, sizeof(sc));
        *wrap.show_case = sc;
        agency_reply_free(&wrap);
    }
    for (size_t i = 1; i < n; i++) /* few items: insertion sort by deadline */
        for (size_t k = i; k > 0; k--) {
            uint64_t a = items[k - 1].deadline ? items[k - 1].deadline : UINT64_MAX;
            uint64_t c = items[k].deadline ? items[k].deadline : UINT64_MAX;
            if (a <= c)
                break;
            item_t t = items[k];
            items[k] = items[k - 1];
            items[k - 1] = t;
        }
    size_t yours = 0;
    for (size_t i = 0; i < n; i++) {
        int mine = s_mine(&items[i], w->user->role);
        yours += mine;
        s_inbox_row(b, &items[i], mine, now);
    }
    dashboard_buf_puts(b, "</tbody></table></div>");
    if (!n)
        dashboard_buf_printf(b, "<p>No open escalation involves %s.</p>",
                             agency_profile(self)->title);
    else
        dashboard_buf_printf(b, "<p>%zu open, %zu waiting on you (%s%s).</p>", n, yours,
                             dashboard_web_role(w->user->role),
                             w->user->role == TACNET__ROLE__LEAD_PROFESSIONAL
                                 ? ", and your agency's practitioner"
                                 : "");
    dashboard_web_foot(w);
}

/* One outbox row: where the event stands, in words, and why when it was refused. */
static void s_outbox_row(dashboard_buf_t *b, const Tacnet__EventStatus *e, const char *csrf)
{
    char hex[33];
    wire_msgid_hex(e->msg_id.data, e->msg_id.len, hex);
    const char *state = e->state == TACNET__PUBLISH_STATE__PUBLISH_REFUSED
                            ? "<strong>Refused</strong>: nobody received it"
                        : e->state == TACNET__PUBLISH_STATE__PUBLISH_SENT
                            ? "Sent, the broker has not answered yet"
                            : "Waiting to be sent (the broker is not reachable)";
    dashboard_buf_printf(b, "<tr><td>%s</td><td>", state);
    dashboard_web_cap(b, e->has_kind ? labels_kind((uint32_t)e->kind) : "—");
    dashboard_buf_puts(b, "</td><td>");
    /* Refused as not a member: this agency has no page for that case, and no correction of the
     * event changes who the team are. */
    int outsider =
        e->state == TACNET__PUBLISH_STATE__PUBLISH_REFUSED && e->code == TACNET_ENOTMEMBER;
    if (e->case_ref.len && !outsider)
        dashboard_buf_printf(b, "<a href=\"/cases/%.*s\">%.*s</a>", (int)e->case_ref.len,
                             (const char *)e->case_ref.data, (int)e->case_ref.len,
                             (const char *)e->case_ref.data);
    else if (e->case_ref.len)
        dashboard_buf_html(b, (const char *)e->case_ref.data, e->case_ref.len);
    else
        dashboard_buf_puts(b, "—");
    dashboard_buf_printf(b, "</td><td><code>%.8s</code></td><td>", hex + 12);
    if (e->state == TACNET__PUBLISH_STATE__PUBLISH_REFUSED) {
        dashboard_buf_printf(b, "<code>%s</code> ", tacnet_errname(e->code));
        dashboard_buf_html(b, e->reason ? e->reason : "", e->reason ? strlen(e->reason) : 0);
    }
    dashboard_buf_puts(b, "</td><td>");
    if (outsider)
        dashboard_buf_puts(b, "This agency is not in this case's team: its lead professional "
                              "adds an agency (send it again once added). ");
    if (e->state == TACNET__PUBLISH_STATE__PUBLISH_REFUSED && !outsider)
        dashboard_buf_printf(b,
                             "<a href=\"/outbox/%s/correct\">Correct and send again</a>"
                             "<form method=\"post\" action=\"/outbox/%s/withdraw\" "
                             "class=\"inline\"><input type=\"hidden\" name=\"csrf\" "
                             "value=\"%s\"><button type=\"submit\">Withdraw</button></form>",
                             hex, hex, csrf);
    else if (outsider)
        dashboard_buf_printf(b,
                             "<form method=\"post\" action=\"/outbox/%s/withdraw\" "
                             "class=\"inline\"><input type=\"hidden\" name=\"csrf\" "
                             "value=\"%s\"><button type=\"submit\">Withdraw</button></form>",
                             hex, csrf);
    dashboard_buf_puts(b, "</td></tr>");
}

/* Accepted events some recipient has not applied in time: who has, and who not yet. */
static void s_unapplied_section(dashboard_buf_t *b, const Tacnet__OutboxReply *o)
{
    dashboard_buf_printf(b,
                         "<section aria-labelledby=\"unapplied\"><h2 id=\"unapplied\">Accepted, "
                         "not yet applied by every recipient after %llu min</h2>",
                         (unsigned long long)(o->unapplied_after_ms / 60000));
    if (!o->n_unapplied) {
        dashboard_buf_puts(b, "<p class=\"ok\">None: every recipient has applied what it was "
                              "sent in time.</p></section>");
        return;
    }
    dashboard_buf_puts(
        b, "<div class=\"scroll\" tabindex=\"0\"><table><thead><tr><th scope=\"col\">Event</th>"
           "<th scope=\"col\">Case</th><th scope=\"col\">Id</th>"
           "<th scope=\"col\">Not applied yet by</th>"
           "<th scope=\"col\">Applied by</th></tr></thead><tbody>");
    for (size_t i = 0; i < o->n_unapplied; i++) {
        const Tacnet__EventStatus *e = o->unapplied[i];
        char hex[33];
        wire_msgid_hex(e->msg_id.data, e->msg_id.len, hex);
        dashboard_buf_puts(b, "<tr><td>");
        dashboard_web_cap(b, e->has_kind ? labels_kind((uint32_t)e->kind) : "—");
        dashboard_buf_puts(b, "</td><td>");
        if (e->case_ref.len)
            dashboard_buf_html(b, (const char *)e->case_ref.data, e->case_ref.len);
        dashboard_buf_printf(b, "</td><td><code>%.8s</code></td><td>", hex + 12);
        for (int pass = 0; pass < 2; pass++) {
            int n = 0;
            for (size_t r = 0; r < e->n_recipients; r++) {
                int applied = 0;
                for (size_t k = 0; k < e->n_applied_by; k++)
                    applied |= e->applied_by[k] == e->recipients[r];
                if (applied == pass)
                    dashboard_buf_printf(b, "%s%s", n++ ? ", " : "",
                                         dashboard_web_agency_title((uint32_t)e->recipients[r]));
            }
            dashboard_buf_puts(b, n ? "" : "—");
            dashboard_buf_puts(b, pass ? "</td></tr>" : "</td><td>");
        }
    }
    dashboard_buf_puts(b, "</tbody></table></div></section>");
}

/* The running or latest intake import: where it stands, and the broker's answers so far. */
static void s_import_section(dashboard_web_t *w)
{
    agency_import_progress_t p;
    if (agency_import_progress(w->agency, &p) != 0)
        return;
    dashboard_buf_t *b = &w->body;
    int failed = p.phase == TACNET__IMPORT_PHASE__IMPORT_FAILED;
    int done = p.phase == TACNET__IMPORT_PHASE__IMPORT_DONE;
    dashboard_buf_printf(b,
                         "<section aria-labelledby=\"import\"><h2 id=\"import\">Import job %llu: "
                         "%s</h2><p role=\"status\">",
                         (unsigned long long)p.job, p.phase_name);
    if (p.rows || p.checked)
        dashboard_buf_printf(b, "%u rows read, %u checked, %u queued, %u imported before. ", p.rows,
                             p.checked, p.queued, p.duplicates);
    if (p.queued || p.duplicates)
        dashboard_buf_printf(b, "The broker accepted %u, refused %u; %u not answered yet. ",
                             p.accepted, p.refused, p.unanswered);
    dashboard_buf_printf(b, "%s %.1f s.</p>", done || failed ? "Took" : "Running for",
                         (double)p.elapsed_ms / 1000.0);
    if (failed) {
        dashboard_buf_printf(b, "<p class=\"refusal\" role=\"alert\">Nothing was imported: %s: ",
                             tacnet_errname(p.code));
        dashboard_web_text(b, p.reason);
        dashboard_buf_puts(b, "</p>");
    }
    dashboard_buf_puts(b, "</section>");
}

void dashboard_web_outbox(dashboard_web_t *w)
{
    dashboard_buf_t *b = &w->body;
    char actor[48];
    dashboard_web_actor(w->user, actor, sizeof(actor));
    Tacnet__OutboxRequest req = TACNET__OUTBOX_REQUEST__INIT;
    Tacnet__ApiReply reply = TACNET__API_REPLY__INIT;
    agency_outcome_outbox_request(w->agency, &req, &reply);
    int rc = reply.code ? reply.code : dashboard_web_audit(w->agency, actor, "outbox.read", "", 0);
    if (rc != 0) {
        agency_reply_free(&reply);
        dashboard_web_error(w, 503, rc, tacnet_strerror(rc));
        return;
    }
    dashboard_web_head(w, "Outbox", NULL);
    dashboard_buf_printf(b,
                         "<h1>Outbox</h1><p>What %s sent that the broker has not accepted: "
                         "events still on their way, and events it refused, which nobody "
                         "received. An accepted event leaves this list.</p>",
                         agency_profile(w->agency)->title);
    const Tacnet__OutboxReply *o = reply.outbox;
    const char *gone = dashboard_kv_get(w->query, "withdrawn");
    if (gone && strlen(gone) == 32 && strspn(gone, "0123456789abcdef") == 32)
        dashboard_buf_printf(b,
                             "<p class=\"ok\" role=\"status\">Withdrawn: event <code>%.8s"
                             "</code> will not be sent, and nobody received it.</p>",
                             gone + 12);
    if (!o || !o->n_events) {
        dashboard_buf_puts(b, "<p class=\"ok\" role=\"status\">Nothing waiting: the broker "
                              "accepted every event this agency sent.</p>");
    } else {
        dashboard_buf_puts(b, "<div class=\"scroll\" tabindex=\"0\"><table><thead><tr>"
                              "<th scope=\"col\">State</th><th scope=\"col\">Event</th>"
                              "<th scope=\"col\">Case</th><th scope=\"col\">Id</th>"
                              "<th scope=\"col\">Why</th><th scope=\"col\">What you can "
                              "do</th></tr></thead><tbody>");
        for (size_t i = 0; i < o->n_events; i++)
            s_outbox_row(b, o->events[i], w->user->csrf);
        dashboard_buf_puts(b, "</tbody></table></div>");
    }
    if (o)
        s_unapplied_section(b, o);
    s_import_section(w);
    dashboard_web_foot(w);
    agency_reply_free(&reply);
}

void dashboard_web_withdraw(dashboard_web_t *w, const char *hex)
{
    char actor[48];
    dashboard_web_actor(w->user, actor, sizeof(actor));
    Tacnet__WithdrawRequest req = TACNET__WITHDRAW_REQUEST__INIT;
    req.msg_id = (char *)hex;
    Tacnet__ApiReply reply = TACNET__API_REPLY__INIT;
    agency_outcome_withdraw_request(w->agency, &req, &reply);
    dashboard_web_audit(w->agency, actor, "publish.withdraw", hex, reply.code);
    if (reply.code != 0) {
        dashboard_web_error(w, reply.code == TACNET_ENOTFOUND ? 404 : 422, reply.code,
                            reply.reason ? reply.reason : tacnet_strerror(reply.code));
    } else {
        w->status = 303;
        snprintf(w->location, sizeof(w->location), "/outbox?withdrawn=%.32s", hex);
    }
    agency_reply_free(&reply);
}
