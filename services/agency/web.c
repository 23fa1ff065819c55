/* web: the dashboard's pages (see web.h). Forms live in forms.c, static files in assets.c. */
#include "web.h"
#include "internal.h"
#include "err.h"
#include "names.h"
#include "pbjson.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

/* ------------------------------------------------------------------ buffers and fields */

void agency_buf_add(agency_buf_t *b, const char *s, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 1024;
        while (cap < b->len + n + 1)
            cap *= 2;
        b->data = xrealloc(b->data, cap);
        b->cap = cap;
    }
    memcpy(b->data + b->len, s, n);
    b->len += n;
    b->data[b->len] = 0;
}

void agency_buf_puts(agency_buf_t *b, const char *s)
{
    agency_buf_add(b, s, strlen(s));
}

void agency_buf_printf(agency_buf_t *b, const char *fmt, ...)
{
    char small[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof(small), fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if ((size_t)n < sizeof(small)) {
        agency_buf_add(b, small, (size_t)n);
        return;
    }
    char *big = xmalloc((size_t)n + 1);
    va_start(ap, fmt);
    vsnprintf(big, (size_t)n + 1, fmt, ap);
    va_end(ap);
    agency_buf_add(b, big, (size_t)n);
    free(big);
}

void agency_buf_html(agency_buf_t *b, const char *s, size_t n)
{
    for (size_t i = 0; s && i < n; i++) {
        switch (s[i]) {
        case '<':
            agency_buf_puts(b, "&lt;");
            break;
        case '>':
            agency_buf_puts(b, "&gt;");
            break;
        case '&':
            agency_buf_puts(b, "&amp;");
            break;
        case '"':
            agency_buf_puts(b, "&quot;");
            break;
        case '\'':
            agency_buf_puts(b, "&#39;");
            break;
        case 0:
            agency_buf_puts(b, "\xef\xbf\xbd"); /* NUL shows as U+FFFD */
            break;
        default:
            agency_buf_add(b, s + i, 1);
        }
    }
}

void agency_buf_free(agency_buf_t *b)
{
    free(b->data);
    memset(b, 0, sizeof(*b));
}

static void s_text(agency_buf_t *b, const char *s)
{
    if (s)
        agency_buf_html(b, s, strlen(s));
}

static void s_bytes(agency_buf_t *b, ProtobufCBinaryData d)
{
    agency_buf_html(b, (const char *)d.data, d.len);
}

const char *agency_kv_get(const agency_kv_t *kv, const char *key)
{
    for (size_t i = 0; kv && i < kv->n; i++)
        if (strcmp(kv->v[i].key, key) == 0)
            return kv->v[i].value;
    return NULL;
}

void agency_kv_add(agency_kv_t *kv, const char *key, const char *value)
{
    if (kv->n >= AGENCY_KV_MAX)
        return;
    kv->v[kv->n].key = xstrdup(key);
    kv->v[kv->n].value = xstrdup(value);
    kv->n++;
}

static int s_unhex(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Percent-decode S[0..N) into a new string; NULL on a malformed escape or an encoded NUL. */
static char *s_urldecode(const char *s, size_t n)
{
    char *out = xmalloc(n + 1), *o = out;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '+') {
            *o++ = ' ';
        } else if (s[i] == '%') {
            int hi = i + 2 < n ? s_unhex(s[i + 1]) : -1, lo = i + 2 < n ? s_unhex(s[i + 2]) : -1;
            if (hi < 0 || lo < 0 || (hi | lo) == 0) { /* %00 would hide text after a NUL */
                free(out);
                return NULL;
            }
            *o++ = (char)(hi << 4 | lo);
            i += 2;
        } else {
            *o++ = s[i];
        }
    }
    *o = 0;
    return out;
}

int agency_kv_parse(agency_kv_t *kv, const char *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        size_t j = i;
        while (j < n && s[j] != '&')
            j++;
        const char *eq = memchr(s + i, '=', j - i);
        size_t kl = eq ? (size_t)(eq - (s + i)) : j - i;
        char *k = s_urldecode(s + i, kl);
        char *v = eq ? s_urldecode(eq + 1, (size_t)(s + j - eq - 1)) : xstrdup("");
        if (!k || !v) {
            free(k), free(v);
            return TACNET_EBADMSG;
        }
        if (kl && kv->n < AGENCY_KV_MAX) {
            kv->v[kv->n].key = k;
            kv->v[kv->n].value = v;
            kv->n++;
        } else {
            free(k), free(v);
        }
        i = j + 1;
    }
    return 0;
}

void agency_kv_clear(agency_kv_t *kv)
{
    for (size_t i = 0; i < kv->n; i++) {
        free(kv->v[i].key);
        free(kv->v[i].value);
    }
    kv->n = 0;
}

/* ------------------------------------------------------------------ reads and audit */

void agency_web_actor(const agency_session_t *s, char *out, size_t cap)
{
    const char *role = agency_role_name(s->role);
    snprintf(out, cap, "web/%s:%s", s->initials, role ? role : "?");
}

typedef struct {
    agency_t *self;
    const char *actor, *action, *object;
    int code;
} audit_arg_t;

static int s_audit_write(MDB_txn *txn, void *arg)
{
    audit_arg_t *a = arg;
    return agency_audit(a->self, txn, a->actor, a->action, a->object, a->code ? "refused" : "ok",
                        a->code);
}

int agency_web_audit(agency_t *self, const char *actor, const char *action, const char *object,
                     int code)
{
    char obj[72];
    /* Objects are identifiers; anything else (a mistyped URL) is cut to printable ASCII. */
    size_t i = 0;
    for (; object && object[i] && i < sizeof(obj) - 1; i++)
        obj[i] = object[i] >= 0x20 && object[i] < 0x7f ? object[i] : '?';
    obj[i] = 0;
    audit_arg_t a = { self, actor, action, obj, code };
    return store_write(self->store, s_audit_write, &a);
}

static int s_is_member(const agency_t *self, const Tacnet__CaseSummary *c)
{
    for (size_t i = 0; c && i < c->n_members; i++)
        if ((uint32_t)c->members[i] == self->profile->agency)
            return 1;
    return 0;
}

int agency_web_case_read(agency_t *self, const char *actor, const char *ref,
                         Tacnet__ApiReply *reply)
{
    int rc = policy_case_ref_check((const uint8_t *)ref, strlen(ref)) == 0 ? 0 : TACNET_ENOTFOUND;
    if (rc == 0) {
        reply->show_case = xcalloc(1, sizeof(*reply->show_case));
        tacnet__show_case_reply__init(reply->show_case);
        reply->result_case = TACNET__API_REPLY__RESULT_SHOW_CASE;
        rc = agency_view_show(self, (const uint8_t *)ref, strlen(ref), reply->show_case);
        if (rc == 0 && !s_is_member(self, reply->show_case->summary))
            rc = TACNET_ENOTFOUND; /* a case it left reads like one it never held */
        if (rc != 0) {
            agency_view_reply_free(reply);
            memset(reply, 0, sizeof(*reply));
            tacnet__api_reply__init(reply);
        }
    }
    int arc = agency_web_audit(self, actor, "case.read", ref, rc);
    if (rc == 0 && arc != 0) {
        /* No read without its audit record. */
        agency_view_reply_free(reply);
        memset(reply, 0, sizeof(*reply));
        tacnet__api_reply__init(reply);
        rc = arc;
    }
    reply->code = rc;
    return rc;
}

/* ------------------------------------------------------------------ formatting */

static void s_date(agency_buf_t *b, uint32_t d)
{
    if (d)
        agency_buf_printf(b, "%04u-%02u-%02u", d / 10000, d / 100 % 100, d % 100);
    else
        agency_buf_puts(b, "—");
}

static void s_time(agency_buf_t *b, uint64_t ms)
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    char out[32];
    if (!ms || !gmtime_r(&t, &tm)) {
        agency_buf_puts(b, "—");
        return;
    }
    strftime(out, sizeof(out), "%Y-%m-%d %H:%M UTC", &tm);
    agency_buf_printf(b, "<time datetime=\"%lld\">%s</time>", (long long)ms, out);
}

/* "2 days 3 h left" / "overdue by 5 h", for deadlines. */
static void s_left(agency_buf_t *b, uint64_t deadline_ms, uint64_t now)
{
    if (!deadline_ms) {
        agency_buf_puts(b, "no deadline");
        return;
    }
    int over = deadline_ms < now;
    uint64_t d = over ? now - deadline_ms : deadline_ms - now;
    uint64_t h = d / 3600000, m = d / 60000 % 60;
    agency_buf_printf(b, "<span class=\"%s\" data-deadline=\"%llu\">", over ? "overdue" : "left",
                      (unsigned long long)deadline_ms);
    if (over)
        agency_buf_puts(b, "overdue by ");
    if (h >= 24)
        agency_buf_printf(b, "%llu days %llu h", (unsigned long long)(h / 24),
                          (unsigned long long)(h % 24));
    else
        agency_buf_printf(b, "%llu h %llu min", (unsigned long long)h, (unsigned long long)m);
    agency_buf_puts(b, over ? "</span>" : " left</span>");
}

static const char *s_enum(const ProtobufCEnumDescriptor *d, int v)
{
    const char *n = names_enum(d, v);
    return n ? n : "unknown";
}

static const char *s_role(uint32_t r)
{
    return s_enum(&tacnet__role__descriptor, (int)r);
}

static const char *s_agency_title(uint32_t a)
{
    switch (a) {
    case TACNET__AGENCY__CAMHS:
        return "CAMHS";
    case TACNET__AGENCY__SCHOOL:
        return "School";
    case TACNET__AGENCY__HEALTH_VISITING:
        return "Health visiting";
    case TACNET__AGENCY__SOCIAL_CARE:
        return "Social care";
    case TACNET__AGENCY__PARTNERSHIP:
        return "Partnership";
    case TACNET__AGENCY__BROKER:
        return "Broker";
    default:
        return "Unknown agency";
    }
}

static void s_prof(agency_buf_t *b, const Tacnet__Professional *p)
{
    if (!p) {
        agency_buf_puts(b, "—");
        return;
    }
    agency_buf_puts(b, "<strong>");
    s_bytes(b, p->initials);
    agency_buf_puts(b, "</strong>");
    if (p->has_role)
        agency_buf_printf(b, " (%s)", s_role(p->role));
    if (p->job_title) {
        agency_buf_puts(b, ", ");
        s_text(b, p->job_title);
    }
    if (p->has_agency)
        agency_buf_printf(b, ", %s", s_agency_title(p->agency));
}

static const char *s_need_name(uint32_t level)
{
    static const char *const n[] = { "—", "1 universal", "2 early help", "3 child in need",
                                     "4 child protection" };
    return level < N_OF(n) ? n[level] : "?";
}

/* A JSON value from pbjson, as text for people. */
static void s_json_value(agency_buf_t *b, json_t *v)
{
    if (json_is_string(v)) {
        agency_buf_html(b, json_string_value(v), json_string_length(v));
    } else if (json_is_array(v)) {
        size_t i;
        json_t *e;
        agency_buf_puts(b, "<ul class=\"inline\">");
        json_array_foreach(v, i, e)
        {
            agency_buf_puts(b, "<li>");
            s_json_value(b, e);
            agency_buf_puts(b, "</li>");
        }
        agency_buf_puts(b, "</ul>");
    } else if (json_is_object(v)) {
        const char *k;
        json_t *e;
        json_object_foreach(v, k, e)
        {
            agency_buf_printf(b, "<span class=\"k\">%s</span> ", k);
            s_json_value(b, e);
            agency_buf_puts(b, " ");
        }
    } else {
        char *s = json_dumps(v, JSON_ENCODE_ANY);
        if (s)
            s_text(b, s);
        free(s);
    }
}

/* Every field of an event's body, labelled. */
static void s_body_fields(agency_buf_t *b, const Tacnet__Body *body)
{
    if (!body)
        return;
    json_t *j = pbjson_from_message(&body->base);
    const char *k;
    json_t *v;
    json_object_foreach(j, k, v)
    {
        if (!json_is_object(v))
            continue;
        const char *fk;
        json_t *fv;
        agency_buf_puts(b, "<dl class=\"fields\">");
        json_object_foreach(v, fk, fv)
        {
            agency_buf_printf(b, "<dt>%s</dt><dd>", fk);
            s_json_value(b, fv);
            agency_buf_puts(b, "</dd>");
        }
        agency_buf_puts(b, "</dl>");
    }
    json_decref(j);
}

/* ------------------------------------------------------------------ layout */

static void s_head(agency_web_t *w, const char *title, const char *live)
{
    agency_buf_t *b = &w->body;
    agency_buf_printf(b,
                      "<!doctype html>\n<html lang=\"en-GB\"><head><meta charset=\"utf-8\">"
                      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
                      "<title>%s · tacnet %s</title>"
                      "<link rel=\"stylesheet\" href=\"/static/app.css\">"
                      "<link rel=\"icon\" href=\"/static/icon.svg\" type=\"image/svg+xml\">"
                      "<script src=\"/static/live.js\" defer></script></head><body>"
                      "<a class=\"skip\" href=\"#main\">Skip to content</a>"
                      "<header><p class=\"brand\">tacnet · <strong>%s</strong></p>",
                      title, w->agency->profile->title, w->agency->profile->title);
    if (w->user) {
        agency_buf_printf(b,
                          "<nav aria-label=\"Main\"><a href=\"/\">My cases</a> "
                          "<a href=\"/inbox\">Escalations inbox</a></nav>"
                          "<form class=\"who\" method=\"post\" action=\"/logout\">"
                          "<span>%s (%s)</span>"
                          "<input type=\"hidden\" name=\"csrf\" value=\"%s\">"
                          "<button type=\"submit\">Log out</button></form>",
                          w->user->initials,
                          agency_role_name(w->user->role) ? agency_role_name(w->user->role) : "?",
                          w->user->csrf);
    }
    agency_buf_puts(b, "</header>");
    if (live)
        agency_buf_printf(b,
                          "<p id=\"live-status\" class=\"live\" role=\"status\" "
                          "aria-live=\"polite\"></p><main id=\"main\" data-live=\"%s\">",
                          live);
    else
        agency_buf_puts(b, "<main id=\"main\">");
}

static void s_foot(agency_web_t *w)
{
    agency_buf_puts(&w->body, "</main></body></html>\n");
}

void agency_web_error(agency_web_t *w, int status, int code, const char *reason)
{
    w->status = status;
    s_head(w, "Refused", NULL);
    agency_buf_printf(&w->body,
                      "<h1>Refused</h1><div class=\"refusal\" role=\"alert\">"
                      "<p><code>%s</code> ",
                      tacnet_errname(code));
    s_text(&w->body, reason);
    agency_buf_puts(&w->body, "</p></div><p><a href=\"/\">Back to my cases</a></p>");
    s_foot(w);
}

void agency_web_login(agency_web_t *w, const char *login_csrf, int code)
{
    agency_buf_t *b = &w->body;
    s_head(w, "Log in", NULL);
    agency_buf_printf(b, "<h1>Log in to %s</h1>", w->agency->profile->title);
    if (code == TACNET_ELOCKED)
        agency_buf_printf(b,
                          "<div class=\"refusal\" role=\"alert\"><p><code>E_LOCKED</code> This "
                          "account is locked for %llu minutes after %d failed log-ins. Ask your "
                          "administrator if you cannot wait.</p></div>",
                          (unsigned long long)(AGENCY_LOCK_MS / 60000), AGENCY_LOCK_FAILS);
    else if (code)
        agency_buf_printf(b,
                          "<div class=\"refusal\" role=\"alert\"><p><code>%s</code> Initials or "
                          "password not recognised. After %d failures in %llu minutes the "
                          "account is locked.</p></div>",
                          tacnet_errname(code), AGENCY_LOCK_FAILS,
                          (unsigned long long)(AGENCY_LOCK_MS / 60000));
    agency_buf_printf(b,
                      "<form method=\"post\" action=\"/login\" class=\"card narrow\">"
                      "<input type=\"hidden\" name=\"csrf\" value=\"%s\">"
                      "<label for=\"initials\">Initials</label>"
                      "<input id=\"initials\" name=\"initials\" autocomplete=\"username\" "
                      "required pattern=\"[A-Z]{2,4}\" maxlength=\"4\">"
                      "<label for=\"password\">Password</label>"
                      "<input id=\"password\" name=\"password\" type=\"password\" "
                      "autocomplete=\"current-password\" required>"
                      "<button type=\"submit\">Log in</button></form>",
                      login_csrf);
    s_foot(w);
}

/* ------------------------------------------------------------------ case data helpers */

static void s_reply_clear(Tacnet__ApiReply *r)
{
    agency_view_reply_free(r);
    memset(r, 0, sizeof(*r));
    tacnet__api_reply__init(r);
}

static int s_escalation_open(const Tacnet__EscalationView *e)
{
    return !e->has_state || (e->state != TACNET__ESCALATION_EVENT__ESC_RESOLVED &&
                             e->state != TACNET__ESCALATION_EVENT__ESC_CLOSED);
}

static void s_hex(agency_buf_t *b, ProtobufCBinaryData d)
{
    for (size_t i = 0; i < d.len; i++)
        agency_buf_printf(b, "%02x", d.data[i]);
}

/* ------------------------------------------------------------------ My cases */

typedef struct {
    Tacnet__ApiReply show;
    const Tacnet__CaseSummary *s;
    uint32_t max_need;
    size_t open_esc, overdue;
    uint64_t next_deadline;
} row_t;

static int s_cmp_activity(const void *a, const void *b)
{
    const row_t *x = a, *y = b;
    uint64_t p = x->s->last_activity_ms, q = y->s->last_activity_ms;
    return p < q ? 1 : p > q ? -1 : 0;
}

static int s_cmp_ref(const void *a, const void *b)
{
    const row_t *x = a, *y = b;
    size_t n = x->s->case_ref.len < y->s->case_ref.len ? x->s->case_ref.len : y->s->case_ref.len;
    int c = memcmp(x->s->case_ref.data, y->s->case_ref.data, n);
    return c ? c : (int)x->s->case_ref.len - (int)y->s->case_ref.len;
}

static int s_cmp_need(const void *a, const void *b)
{
    const row_t *x = a, *y = b;
    return (int)y->max_need - (int)x->max_need;
}

static int s_cmp_deadline(const void *a, const void *b)
{
    const row_t *x = a, *y = b;
    uint64_t p = x->next_deadline ? x->next_deadline : UINT64_MAX;
    uint64_t q = y->next_deadline ? y->next_deadline : UINT64_MAX;
    return p < q ? -1 : p > q ? 1 : 0;
}

static void s_option(agency_buf_t *b, const char *value, const char *label, const char *current)
{
    agency_buf_printf(b, "<option value=\"%s\"%s>%s</option>", value,
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

void agency_web_cases(agency_web_t *w)
{
    agency_t *self = w->agency;
    agency_buf_t *b = &w->body;
    char actor[48];
    agency_web_actor(w->user, actor, sizeof(actor));
    Tacnet__ListCasesReply list = TACNET__LIST_CASES_REPLY__INIT;
    int rc = agency_view_list(self, &list, 0);
    if (rc == 0)
        rc = agency_web_audit(self, actor, "cases.list", "", 0);
    const char *q = agency_kv_get(w->query, "q"), *member = agency_kv_get(w->query, "member");
    const char *sort = agency_kv_get(w->query, "sort"), *esc = agency_kv_get(w->query, "esc");
    const char *need = agency_kv_get(w->query, "need");
    uint32_t min_need = need ? (uint32_t)atoi(need) : 0;
    uint64_t now = clock_now_ms();
    row_t *rows = xcalloc(list.n_cases ? list.n_cases : 1, sizeof(*rows));
    size_t n = 0;
    for (size_t i = 0; rc == 0 && i < list.n_cases; i++) {
        const Tacnet__CaseSummary *s = list.cases[i];
        if (!s_is_member(self, s))
            continue;
        if (q && *q && !s_contains(s->case_ref, q) && !s_contains(s->initials, q))
            continue;
        if (member && *member) {
            int found = 0;
            for (size_t m = 0; m < s->n_members; m++)
                found |= strcmp(names_agency(s->members[m]), member) == 0;
            if (!found)
                continue;
        }
        row_t *r = &rows[n];
        tacnet__api_reply__init(&r->show);
        r->show.show_case = xcalloc(1, sizeof(*r->show.show_case));
        tacnet__show_case_reply__init(r->show.show_case);
        r->show.result_case = TACNET__API_REPLY__RESULT_SHOW_CASE;
        if (agency_view_show(self, s->case_ref.data, s->case_ref.len, r->show.show_case) != 0) {
            s_reply_clear(&r->show);
            continue;
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
            if (ev->has_state && s_escalation_open(ev) && ev->has_deadline_ms &&
                (!r->next_deadline || ev->deadline_ms < r->next_deadline))
                r->next_deadline = ev->deadline_ms;
        }
        if (r->max_need < min_need || (esc && *esc && !r->open_esc)) {
            s_reply_clear(&r->show);
            continue;
        }
        n++;
    }
    int (*cmp)(const void *, const void *) = s_cmp_activity;
    if (sort && strcmp(sort, "ref") == 0)
        cmp = s_cmp_ref;
    else if (sort && strcmp(sort, "need") == 0)
        cmp = s_cmp_need;
    else if (sort && strcmp(sort, "deadline") == 0)
        cmp = s_cmp_deadline;
    qsort(rows, n, sizeof(*rows), cmp);

    s_head(w, "My cases", "/events");
    agency_buf_puts(b, "<h1>My cases</h1>"
                       "<form method=\"get\" action=\"/\" class=\"filters\" role=\"search\">"
                       "<div><label for=\"q\">Reference or initials</label>"
                       "<input id=\"q\" name=\"q\" value=\"");
    s_text(b, q);
    agency_buf_puts(b, "\"></div><div><label for=\"member\">Member agency</label>"
                       "<select id=\"member\" name=\"member\">");
    s_option(b, "", "any", member);
    s_option(b, "camhs", "CAMHS", member);
    s_option(b, "school", "School", member);
    s_option(b, "health_visiting", "Health visiting", member);
    s_option(b, "social_care", "Social care", member);
    agency_buf_puts(b, "</select></div><div><label for=\"need\">Level of need at least</label>"
                       "<select id=\"need\" name=\"need\">");
    s_option(b, "0", "any", need);
    s_option(b, "2", "2 early help", need);
    s_option(b, "3", "3 child in need", need);
    s_option(b, "4", "4 child protection", need);
    agency_buf_puts(b, "</select></div><div><label for=\"sort\">Sort by</label>"
                       "<select id=\"sort\" name=\"sort\">");
    s_option(b, "activity", "last activity", sort);
    s_option(b, "deadline", "nearest escalation deadline", sort);
    s_option(b, "need", "highest level of need", sort);
    s_option(b, "ref", "case reference", sort);
    agency_buf_printf(b,
                      "</select></div><div class=\"check\"><input type=\"checkbox\" id=\"esc\" "
                      "name=\"esc\" value=\"1\"%s><label for=\"esc\">Only with open "
                      "escalations</label></div><button type=\"submit\">Apply</button></form>",
                      esc && *esc ? " checked" : "");
    if (rc != 0)
        agency_buf_printf(b, "<p class=\"refusal\">%s</p>", tacnet_errname(rc));
    agency_buf_printf(b, "<p>%zu case%s.</p>", n, n == 1 ? "" : "s");
    agency_buf_puts(b, "<div class=\"scroll\"><table class=\"cases\"><thead><tr>"
                       "<th scope=\"col\">Initials</th><th scope=\"col\">Case</th>"
                       "<th scope=\"col\">Lead professional</th>"
                       "<th scope=\"col\">Team and named contacts</th>"
                       "<th scope=\"col\">Level of need</th>"
                       "<th scope=\"col\">Open escalations</th><th scope=\"col\">Overdue</th>"
                       "<th scope=\"col\">Last activity</th></tr></thead><tbody>");
    for (size_t i = 0; i < n; i++) {
        const row_t *r = &rows[i];
        const Tacnet__ShowCaseReply *sc = r->show.show_case;
        const Tacnet__CaseState *st = sc->state;
        agency_buf_puts(b, "<tr><td>");
        s_bytes(b, r->s->initials);
        agency_buf_puts(b, "</td><td><a href=\"/cases/");
        s_bytes(b, r->s->case_ref);
        agency_buf_puts(b, "\">");
        s_bytes(b, r->s->case_ref);
        agency_buf_puts(b, "</a></td><td>");
        if (st && st->lead)
            s_prof(b, st->lead);
        else if (r->s->has_lead)
            agency_buf_puts(b, s_agency_title(r->s->lead));
        else
            agency_buf_puts(b, "none yet");
        agency_buf_puts(b, "</td><td><ul class=\"plain\">");
        for (size_t m = 0; m < r->s->n_members; m++) {
            uint32_t a = r->s->members[m];
            agency_buf_printf(b, "<li>%s", s_agency_title(a));
            for (size_t t = 0; st && t < st->n_team; t++) {
                if ((uint32_t)st->team[t]->agency == a && st->team[t]->named_contact) {
                    agency_buf_puts(b, ": ");
                    s_bytes(b, st->team[t]->named_contact->initials);
                }
            }
            agency_buf_puts(b, "</li>");
        }
        agency_buf_puts(b, "</ul></td><td><ul class=\"plain\">");
        for (size_t l = 1; l < r->s->n_level_of_need; l++)
            if (r->s->level_of_need[l])
                agency_buf_printf(b, "<li>%s: %s</li>", s_agency_title((uint32_t)l),
                                  s_need_name(r->s->level_of_need[l]));
        agency_buf_printf(b, "</ul></td><td>%zu", r->open_esc);
        if (r->next_deadline) {
            agency_buf_puts(b, "<br>");
            s_left(b, r->next_deadline, now);
        }
        agency_buf_printf(b, "</td><td>%s%zu%s</td><td>", r->overdue ? "<strong>" : "", r->overdue,
                          r->overdue ? "</strong>" : "");
        s_time(b, r->s->last_activity_ms);
        agency_buf_puts(b, "</td></tr>");
    }
    agency_buf_puts(b, "</tbody></table></div>");
    s_foot(w);
    for (size_t i = 0; i < n; i++)
        s_reply_clear(&rows[i].show);
    free(rows);
    Tacnet__ApiReply lw = TACNET__API_REPLY__INIT;
    lw.result_case = TACNET__API_REPLY__RESULT_CASES;
    lw.cases = xcalloc(1, sizeof(list));
    *lw.cases = list;
    agency_view_reply_free(&lw);
}

/* ------------------------------------------------------------------ the case page */

/* Outcome scores over time, one line per GBO goal, drawn on the server (no script needed). */
static void s_chart(agency_buf_t *b, const Tacnet__ShowCaseReply *sc)
{
    enum { W = 640, H = 240, L = 40, R = 20, T = 16, B = 40, MAXP = 64 };
    struct {
        uint32_t goal, n;
        uint32_t date[MAXP], score[MAXP];
    } g[3];
    memset(g, 0, sizeof(g));
    uint32_t dmin = UINT32_MAX, dmax = 0;
    for (size_t i = 0; i < sc->n_timeline; i++) {
        const Tacnet__Body *body = sc->timeline[i]->body;
        if (!body || body->event_case != TACNET__BODY__EVENT_OUTCOME_MEASURE)
            continue;
        const Tacnet__OutcomeMeasure *m = body->outcome_measure;
        if (!m->has_tool || m->tool != TACNET__MEASURE_TOOL__GBO || !m->measured_date)
            continue;
        for (size_t k = 0; k < m->n_values; k++) {
            uint32_t goal = k < m->n_goal_ids ? m->goal_ids[k] : (uint32_t)k + 1;
            if (goal < 1 || goal > 3 || g[goal - 1].n == MAXP || m->values[k] > 10)
                continue;
            g[goal - 1].goal = goal;
            g[goal - 1].date[g[goal - 1].n] = m->measured_date;
            g[goal - 1].score[g[goal - 1].n++] = m->values[k];
            if (m->measured_date < dmin)
                dmin = m->measured_date;
            if (m->measured_date > dmax)
                dmax = m->measured_date;
        }
    }
    if (dmax == 0) {
        agency_buf_puts(b, "<p>No goal-based outcome scores this agency may see yet.</p>");
        return;
    }
    uint64_t t0 = clock_date_to_ms(dmin), t1 = clock_date_to_ms(dmax);
    uint64_t span = t1 > t0 ? t1 - t0 : 1;
    agency_buf_printf(b,
                      "<figure><svg class=\"chart\" viewBox=\"0 0 %d %d\" role=\"img\" "
                      "aria-labelledby=\"chart-title\"><title id=\"chart-title\">Goal-based "
                      "outcome scores (0-10) over time</title>",
                      W, H);
    for (int s = 0; s <= 10; s += 2) {
        int y = T + (H - T - B) * (10 - s) / 10;
        agency_buf_printf(b,
                          "<line x1=\"%d\" x2=\"%d\" y1=\"%d\" y2=\"%d\" class=\"grid\"/>"
                          "<text x=\"%d\" y=\"%d\" class=\"axis\">%d</text>",
                          L, W - R, y, y, 8, y + 4, s);
    }
    static const char *const cls[] = { "g1", "g2", "g3" };
    for (int k = 0; k < 3; k++) {
        if (!g[k].n)
            continue;
        agency_buf_printf(b, "<polyline class=\"%s\" points=\"", cls[k]);
        for (uint32_t p = 0; p < g[k].n; p++) {
            uint64_t t = clock_date_to_ms(g[k].date[p]);
            int x =
                t1 > t0 ? L + (int)((t - t0) * (uint64_t)(W - L - R) / span) : L + (W - L - R) / 2;
            int y = T + (H - T - B) * (10 - (int)g[k].score[p]) / 10;
            agency_buf_printf(b, "%d,%d ", x, y);
        }
        agency_buf_puts(b, "\"/>");
        for (uint32_t p = 0; p < g[k].n; p++) {
            uint64_t t = clock_date_to_ms(g[k].date[p]);
            int x =
                t1 > t0 ? L + (int)((t - t0) * (uint64_t)(W - L - R) / span) : L + (W - L - R) / 2;
            int y = T + (H - T - B) * (10 - (int)g[k].score[p]) / 10;
            agency_buf_printf(b,
                              "<circle class=\"%s\" cx=\"%d\" cy=\"%d\" r=\"4\"><title>goal %u: "
                              "%u on ",
                              cls[k], x, y, g[k].goal, g[k].score[p]);
            s_date(b, g[k].date[p]);
            agency_buf_puts(b, "</title></circle>");
        }
    }
    agency_buf_printf(b, "<text x=\"%d\" y=\"%d\" class=\"axis\">", L, H - 12);
    s_date(b, dmin);
    agency_buf_printf(b, "</text><text x=\"%d\" y=\"%d\" class=\"axis end\">", W - R, H - 12);
    s_date(b, dmax);
    agency_buf_puts(b, "</text></svg><figcaption>");
    for (int k = 0; k < 3; k++)
        if (g[k].n)
            agency_buf_printf(b, "<span class=\"key %s\">Goal %u (%u scores)</span> ", cls[k],
                              g[k].goal, g[k].n);
    agency_buf_puts(b, "</figcaption></figure>");
}

static void s_section(agency_buf_t *b, const char *id, const char *title)
{
    agency_buf_printf(b, "<section id=\"%s\" aria-labelledby=\"%s-h\"><h2 id=\"%s-h\">%s</h2>", id,
                      id, id, title);
}

static void s_form_link(agency_buf_t *b, const char *ref, const char *form, const char *label,
                        ProtobufCBinaryData about)
{
    agency_buf_printf(b, "<a class=\"button\" href=\"/cases/%s/forms/%s", ref, form);
    if (about.len) {
        agency_buf_puts(b, "?about=");
        s_hex(b, about);
    }
    agency_buf_printf(b, "\">%s</a> ", label);
}

static void s_escalations(agency_buf_t *b, const char *ref, const Tacnet__ShowCaseReply *sc,
                          uint64_t now)
{
    const Tacnet__CaseState *st = sc->state;
    s_section(b, "escalations", "Escalations");
    size_t shown = 0;
    for (size_t i = 0; st && i < st->n_escalations; i++) {
        const Tacnet__EscalationView *e = st->escalations[i];
        int open = s_escalation_open(e);
        shown++;
        agency_buf_printf(
            b, "<article class=\"escalation%s\"><h3>Stage %u%s%s — %s</h3>", open ? " open" : "",
            e->has_stage ? e->stage : 1, e->has_urgent && e->urgent ? " (urgent)" : "",
            e->has_automatic && e->automatic ? " (automatic)" : "",
            e->has_state ? s_enum(&tacnet__escalation_event__descriptor, e->state) : "raised");
        agency_buf_puts(b, "<dl class=\"fields\"><dt>Deadline</dt><dd>");
        if (e->has_deadline_ms) {
            s_time(b, e->deadline_ms);
            agency_buf_puts(b, " — ");
            s_left(b, e->deadline_ms, now);
        } else {
            agency_buf_puts(b, "awaiting the broker's notice");
        }
        agency_buf_printf(b, "</dd><dt>Needs a response from</dt><dd>%s</dd>",
                          e->has_audience ? s_role(e->audience) : "—");
        if (e->has_raised_by)
            agency_buf_printf(b, "<dt>Raised by</dt><dd>%s</dd>", s_agency_title(e->raised_by));
        agency_buf_puts(b, "<dt>Parties</dt><dd>");
        for (size_t p = 0; p < e->n_parties; p++)
            agency_buf_printf(b, "%s%s", p ? ", " : "", s_agency_title(e->parties[p]));
        agency_buf_puts(b, "</dd></dl>");
        if (e->disagreement) {
            Tacnet__Body body = TACNET__BODY__INIT;
            body.event_case = TACNET__BODY__EVENT_DISAGREEMENT;
            body.disagreement = e->disagreement;
            s_body_fields(b, &body);
        }
        if (e->n_history) {
            agency_buf_puts(b, "<h4>History</h4><ol class=\"history\">");
            for (size_t h = 0; h < e->n_history; h++) {
                const Tacnet__EscalationNotice *n = e->history[h];
                agency_buf_printf(b, "<li>%s, stage %u, for %s, deadline ",
                                  s_enum(&tacnet__escalation_event__descriptor, n->event), n->stage,
                                  s_role(n->audience));
                s_time(b, n->deadline_ms);
                agency_buf_puts(b, "</li>");
            }
            agency_buf_puts(b, "</ol>");
        }
        for (size_t r = 0; r < e->n_responses; r++) {
            agency_buf_printf(
                b, "<p>Response at stage %u: %s. ", e->responses[r]->stage,
                s_enum(&tacnet__stage_position__descriptor, e->responses[r]->position));
            s_text(b, e->responses[r]->comment);
            agency_buf_puts(b, "</p>");
        }
        if (e->resolution) {
            agency_buf_puts(b, "<p><strong>Resolution:</strong> ");
            s_text(b, e->resolution->outcome);
            agency_buf_puts(b, " <strong>Child's safety:</strong> ");
            s_text(b, e->resolution->child_safety);
            agency_buf_puts(b, "</p>");
        }
        if (e->n_acknowledged) {
            agency_buf_puts(b, "<p>Acknowledged by ");
            for (size_t a = 0; a < e->n_acknowledged; a++)
                agency_buf_printf(b, "%s%s", a ? ", " : "", s_agency_title(e->acknowledged[a]));
            agency_buf_puts(b, "</p>");
        }
        agency_buf_puts(b, "<p>");
        s_form_link(b, ref, "escalation_response", "Respond", e->escalation_id);
        s_form_link(b, ref, "escalation_resolved", "Resolve", e->escalation_id);
        s_form_link(b, ref, "escalation_ack", "Acknowledge", e->escalation_id);
        agency_buf_puts(b, "</p></article>");
    }
    if (!shown)
        agency_buf_puts(b, "<p>No escalations.</p>");
    agency_buf_puts(b, "</section>");
}

static void s_team(agency_buf_t *b, const Tacnet__ShowCaseReply *sc)
{
    const Tacnet__CaseState *st = sc->state;
    s_section(b, "team", "Team around the child");
    if (st && st->n_team) {
        agency_buf_puts(b, "<div class=\"scroll\"><table><thead><tr><th scope=\"col\">Agency</th>"
                           "<th scope=\"col\">Named contact</th><th scope=\"col\">Team</th>"
                           "<th scope=\"col\">How to reach</th><th scope=\"col\">Level of need"
                           "</th></tr></thead><tbody>");
        for (size_t i = 0; i < st->n_team; i++) {
            const Tacnet__TeamMember *t = st->team[i];
            agency_buf_printf(b, "<tr><td>%s</td><td>", s_agency_title(t->agency));
            s_prof(b, t->named_contact);
            agency_buf_puts(b, "</td><td>");
            s_text(b, t->team);
            agency_buf_puts(b, "</td><td>");
            s_text(b, t->how_to_reach);
            agency_buf_printf(b, "</td><td>%s</td></tr>",
                              s_need_name(t->has_level_of_need ? t->level_of_need : 0));
        }
        agency_buf_puts(b, "</tbody></table></div>");
    } else {
        const Tacnet__CaseSummary *s = sc->summary;
        agency_buf_puts(b, "<ul>");
        for (size_t m = 0; m < s->n_members; m++)
            agency_buf_printf(b, "<li>%s — level of need %s</li>", s_agency_title(s->members[m]),
                              s_need_name((uint32_t)s->members[m] < s->n_level_of_need
                                              ? s->level_of_need[s->members[m]]
                                              : 0));
        agency_buf_puts(b, "</ul>");
    }
    if (st && st->pending_handover) {
        agency_buf_printf(b, "<p>Lead hand-over offered by %s to ",
                          s_agency_title(st->pending_handover->from_agency));
        s_prof(b, st->pending_handover->new_lead);
        agency_buf_printf(b, "%s.</p>",
                          st->pending_handover->has_overdue && st->pending_handover->overdue
                              ? " (not accepted in time)"
                              : "");
    }
    agency_buf_puts(b, "</section>");
}

static void s_plan(agency_buf_t *b, const Tacnet__ShowCaseReply *sc)
{
    const Tacnet__CaseState *st = sc->state;
    s_section(b, "plan", "Plan and progress");
    if (st && st->plan) {
        const Tacnet__PlanView *p = st->plan;
        agency_buf_printf(b, "<p>%s plan by %s, started ",
                          s_enum(&tacnet__plan_type__descriptor, p->plan->type),
                          s_agency_title(p->by));
        s_date(b, p->plan->start_date);
        agency_buf_printf(b, "; reviewed every %u days; last review ",
                          p->plan->review_interval_days);
        s_date(b, p->has_last_review_date ? p->last_review_date : 0);
        agency_buf_puts(b, ".</p>");
        if (p->plan->summary) {
            agency_buf_puts(b, "<p>");
            s_text(b, p->plan->summary);
            agency_buf_puts(b, "</p>");
        }
        agency_buf_puts(b, "<div class=\"scroll\"><table><thead><tr><th scope=\"col\">Goal</th>"
                           "<th scope=\"col\">Baseline</th><th scope=\"col\">Latest</th>"
                           "<th scope=\"col\">Change</th></tr></thead><tbody>");
        for (size_t i = 0; i < p->n_progress; i++) {
            const Tacnet__GoalProgress *g = p->progress[i];
            agency_buf_printf(b, "<tr><td>%u. ", g->goal_id);
            s_text(b, g->description);
            agency_buf_printf(b, "</td><td>%s%u</td><td>%s%u</td><td>%+d</td></tr>", "",
                              g->baseline_score, "", g->latest_score, g->change);
        }
        agency_buf_puts(b, "</tbody></table></div>");
    } else {
        agency_buf_puts(b, "<p>No plan this agency may see.</p>");
    }
    s_chart(b, sc);
    if (st && st->n_measures) {
        agency_buf_puts(b, "<h3>Outcome measures</h3><ul>");
        for (size_t i = 0; i < st->n_measures; i++) {
            const Tacnet__MeasureView *m = st->measures[i];
            agency_buf_printf(
                b, "<li>%s by %s (%s), ", s_enum(&tacnet__measure_tool__descriptor, m->tool),
                s_agency_title(m->by),
                m->has_informant ? s_enum(&tacnet__informant__descriptor, m->informant)
                                 : "informant not given");
            s_date(b, m->has_measured_date ? m->measured_date : 0);
            if (m->has_total)
                agency_buf_printf(b, ": total %u", m->total);
            if (m->band) {
                agency_buf_puts(b, " (");
                s_text(b, m->band);
                agency_buf_puts(b, ")");
            }
            for (size_t k = 0; k < m->n_goal_scores; k++)
                agency_buf_printf(b, "%s goal %u: %u", k ? "," : ":",
                                  k < m->n_goal_ids ? m->goal_ids[k] : (uint32_t)k + 1,
                                  m->goal_scores[k]);
            agency_buf_printf(b, "%s</li>", m->has_baseline && m->baseline ? " (baseline)" : "");
        }
        agency_buf_puts(b, "</ul>");
    }
    agency_buf_puts(b, "</section>");
}

static void s_action(agency_buf_t *b, const Tacnet__Action *a, int overdue)
{
    agency_buf_puts(b, "<li>");
    s_text(b, a->description);
    agency_buf_printf(b, " — %s ", a->has_owner_agency ? s_agency_title(a->owner_agency) : "");
    s_bytes(b, a->owner_initials);
    agency_buf_puts(b, ", due ");
    s_date(b, a->due_date);
    agency_buf_printf(b, ", %s%s</li>",
                      a->has_status ? s_enum(&tacnet__action_status__descriptor, a->status)
                                    : "open",
                      overdue ? " <strong class=\"overdue\">overdue</strong>" : "");
}

static void s_meetings(agency_buf_t *b, const char *ref, const Tacnet__ShowCaseReply *sc)
{
    const Tacnet__CaseState *st = sc->state;
    s_section(b, "meetings", "Meetings and actions");
    for (size_t i = 0; st && i < st->n_meetings; i++) {
        const Tacnet__MeetingView *m = st->meetings[i];
        agency_buf_puts(b, "<article class=\"meeting\"><h3>");
        if (m->requested && m->requested->purpose)
            s_text(b, m->requested->purpose);
        else
            agency_buf_puts(b, "Network meeting");
        agency_buf_puts(b, "</h3><dl class=\"fields\">");
        if (m->has_requested_by)
            agency_buf_printf(b, "<dt>Requested by</dt><dd>%s</dd>",
                              s_agency_title(m->requested_by));
        if (m->chair && !m->outcome) {
            agency_buf_puts(b, "<dt>Chair</dt><dd>");
            s_prof(b, m->chair);
            agency_buf_puts(b, "</dd>");
        }
        if (m->scheduled) {
            agency_buf_puts(b, "<dt>Scheduled</dt><dd>");
            s_time(b, m->scheduled->starts_at_ms);
            agency_buf_printf(b, ", %s</dd>",
                              s_enum(&tacnet__meeting_mode__descriptor, m->scheduled->mode));
        }
        if (m->outcome) {
            const Tacnet__MeetingOutcome *o = m->outcome;
            agency_buf_puts(b, "<dt>Held</dt><dd>");
            s_date(b, o->held_date);
            agency_buf_puts(b, ", chaired by ");
            s_prof(b, o->chair);
            agency_buf_puts(b, "</dd><dt>Attended</dt><dd>");
            for (size_t a = 0; a < o->n_attendees; a++) {
                agency_buf_puts(b, a ? "; " : "");
                s_prof(b, o->attendees[a]);
            }
            agency_buf_puts(b, "</dd>");
            for (size_t f = 0; f < o->n_family; f++) {
                agency_buf_printf(b, "<dt>%s%s</dt><dd>",
                                  s_enum(&tacnet__family_role__descriptor, o->family[f]->role),
                                  o->family[f]->has_attended && o->family[f]->attended
                                      ? " (attended)"
                                      : " (did not attend)");
                s_text(b, o->family[f]->view);
                agency_buf_puts(b, "</dd>");
            }
            for (size_t d = 0; d < o->n_decisions; d++) {
                agency_buf_puts(b, "<dt>Decision</dt><dd>");
                s_text(b, o->decisions[d]);
                agency_buf_puts(b, "</dd>");
            }
            agency_buf_puts(b, "<dt>Next meeting</dt><dd>");
            s_date(b, o->next_meeting_date);
            agency_buf_puts(b, "</dd>");
        }
        agency_buf_puts(b, "</dl>");
        if (m->outcome && m->outcome->n_actions) {
            agency_buf_puts(b, "<h4>Actions</h4><ul>");
            for (size_t a = 0; a < m->outcome->n_actions; a++)
                s_action(b, m->outcome->actions[a], 0);
            agency_buf_puts(b, "</ul>");
        }
        if (!m->outcome) {
            agency_buf_puts(b, "<p>");
            s_form_link(b, ref, "meeting_outcome", "Record the outcome", m->meeting_id);
            agency_buf_puts(b, "</p>");
        }
        agency_buf_puts(b, "</article>");
    }
    if (st && st->n_actions) {
        agency_buf_puts(b, "<h3>All actions</h3><ul>");
        for (size_t a = 0; a < st->n_actions; a++)
            s_action(b, st->actions[a]->action,
                     st->actions[a]->has_overdue && st->actions[a]->overdue);
        agency_buf_puts(b, "</ul>");
    }
    if (!st || !st->n_meetings)
        agency_buf_puts(b, "<p>No meetings in this agency's view of the case state yet (see the "
                           "timeline).</p>");
    agency_buf_puts(b, "</section>");
}

static void s_decision(agency_buf_t *b, const Tacnet__Decision *d, uint32_t by)
{
    agency_buf_puts(b, "<article class=\"decision\"><h3>");
    s_text(b, d->topic ? d->topic : "Decision");
    agency_buf_printf(b, "</h3><p>By %s on ", s_agency_title(by));
    s_date(b, d->decided_date);
    agency_buf_puts(b, ".</p><dl class=\"fields\"><dt>Chosen</dt><dd>");
    s_text(b, d->chosen);
    agency_buf_puts(b, "</dd><dt>Options considered</dt><dd><ul class=\"inline\">");
    for (size_t o = 0; o < d->n_options_considered; o++) {
        agency_buf_puts(b, "<li>");
        s_text(b, d->options_considered[o]);
        agency_buf_puts(b, "</li>");
    }
    agency_buf_puts(b, "</ul></dd><dt>Rationale</dt><dd>");
    s_text(b, d->rationale);
    agency_buf_puts(b, "</dd><dt>Who took part</dt><dd><ul class=\"plain\">");
    for (size_t p = 0; p < d->n_participants; p++) {
        const Tacnet__Participant *pt = d->participants[p];
        agency_buf_puts(b, "<li>");
        s_prof(b, pt->who);
        agency_buf_printf(
            b, " — %s: ", pt->has_agreed ? (pt->agreed ? "agreed" : "disagreed") : "view");
        s_text(b, pt->view);
        agency_buf_puts(b, "</li>");
    }
    agency_buf_puts(b, "</ul></dd><dt>The child's view</dt><dd>");
    s_text(b, d->child_view);
    agency_buf_puts(b, "</dd><dt>The family's view</dt><dd>");
    s_text(b, d->family_view);
    agency_buf_puts(b, "</dd></dl></article>");
}

static void s_decisions(agency_buf_t *b, const Tacnet__ShowCaseReply *sc)
{
    s_section(b, "decisions", "Decisions");
    size_t n = 0;
    if (sc->state) {
        for (size_t i = 0; i < sc->state->n_decisions; i++, n++)
            s_decision(b, sc->state->decisions[i]->decision, sc->state->decisions[i]->by);
    } else {
        for (size_t i = 0; i < sc->n_timeline; i++) {
            const Tacnet__Body *body = sc->timeline[i]->body;
            if (body && body->event_case == TACNET__BODY__EVENT_DECISION) {
                s_decision(b, body->decision, sc->timeline[i]->header->sender);
                n++;
            }
        }
    }
    if (!n)
        agency_buf_puts(b, "<p>No decisions recorded.</p>");
    agency_buf_puts(b, "</section>");
}

static void s_consent(agency_buf_t *b, const Tacnet__ShowCaseReply *sc)
{
    const Tacnet__CaseState *st = sc->state;
    const Tacnet__ConsentRecorded *c = st ? st->consent : NULL;
    s_section(b, "consent", "Consent and communication");
    if (c) {
        agency_buf_printf(b, "<p>Consent <strong>%s</strong>",
                          s_enum(&tacnet__consent_state__descriptor, c->state));
        if (c->has_given_by)
            agency_buf_printf(b, " by %s", s_enum(&tacnet__family_role__descriptor, c->given_by));
        agency_buf_puts(b, " on ");
        s_date(b, c->recorded_date);
        agency_buf_puts(b, ", covering ");
        for (size_t s = 0; s < c->n_scope; s++)
            agency_buf_printf(b, "%s%s", s ? ", " : "", names_sensitivity(c->scope[s]));
        agency_buf_printf(b, "%s.</p><p>The child's wishes: ", c->n_scope ? "" : "nothing listed");
        s_text(b, c->child_wishes);
        agency_buf_printf(
            b, " %s</p>",
            c->has_child_competent && c->child_competent ? "(judged competent to consent)" : "");
    } else {
        agency_buf_puts(b, "<p>No consent recorded in this agency's view.</p>");
    }
    const Tacnet__CommunicationPlan *cp = st ? st->communication_plan : NULL;
    if (cp) {
        agency_buf_puts(b, "<h3>Communication plan with the family</h3><p>Named contact ");
        s_prof(b, cp->named_contact);
        agency_buf_printf(b, "; every %u days by %s; parents %s; starting ", cp->every_days,
                          s_enum(&tacnet__contact_method__descriptor, cp->method),
                          cp->has_parents_agreed && cp->parents_agreed ? "agreed" : "not agreed");
        s_date(b, cp->start_date);
        agency_buf_puts(b, ". Last planned contact ");
        s_date(b, st->has_last_planned_contact_date ? st->last_planned_contact_date : 0);
        agency_buf_puts(b, ".</p>");
        if (cp->notes) {
            agency_buf_puts(b, "<p>");
            s_text(b, cp->notes);
            agency_buf_puts(b, "</p>");
        }
    } else {
        agency_buf_puts(b, "<p>No communication plan recorded.</p>");
    }
    agency_buf_puts(b, "</section>");
}

static void s_due(agency_buf_t *b, const Tacnet__ShowCaseReply *sc, uint64_t now)
{
    s_section(b, "due", "Due and overdue");
    if (!sc->n_due)
        agency_buf_puts(b, "<p>Nothing due.</p>");
    agency_buf_puts(b, "<ul>");
    for (size_t i = 0; i < sc->n_due; i++) {
        const Tacnet__DueItem *d = sc->due[i];
        agency_buf_puts(b, "<li>");
        s_text(b, d->what);
        if (d->label) {
            agency_buf_puts(b, ": ");
            s_text(b, d->label);
        }
        if (d->has_owner)
            agency_buf_printf(b, " (%s)", s_agency_title(d->owner));
        agency_buf_puts(b, " — ");
        s_left(b, d->due_ms, now);
        agency_buf_puts(b, "</li>");
    }
    agency_buf_puts(b, "</ul>");
    const Tacnet__CaseState *st = sc->state;
    for (size_t i = 0; st && i < st->n_alerts; i++)
        agency_buf_printf(b, "<p class=\"refusal\">Safeguarding override used by %s (%s).</p>",
                          s_agency_title(st->alerts[i]->by_agency),
                          s_enum(&tacnet__override_reason__descriptor, st->alerts[i]->reason));
    for (size_t i = 0; st && i < st->n_non_responses; i++)
        agency_buf_printf(b, "<p class=\"refusal\">No response from %s at stage %u.</p>",
                          s_agency_title(st->non_responses[i]->agency),
                          st->non_responses[i]->stage);
    for (size_t i = 0; st && i < st->n_ratings; i++) {
        agency_buf_printf(b, "<p>Partnership rating by %s: rung %u of 9. ",
                          s_agency_title(st->ratings[i]->by), st->ratings[i]->rating->rung);
        s_text(b, st->ratings[i]->rating->comment);
        agency_buf_puts(b, "</p>");
    }
    if (st && st->closed) {
        agency_buf_puts(b, "<p><strong>Case closed</strong> ");
        s_date(b, st->closed->closed_date);
        agency_buf_puts(b, "</p>");
    }
    agency_buf_puts(b, "</section>");
}

static void s_timeline(agency_buf_t *b, const Tacnet__ShowCaseReply *sc)
{
    s_section(b, "timeline", "Timeline");
    agency_buf_puts(b, "<ol class=\"timeline\" reversed>");
    for (size_t k = sc->n_timeline; k > 0; k--) {
        const Tacnet__TimelineEntry *e = sc->timeline[k - 1];
        agency_buf_printf(b,
                          "<li class=\"event kind-%s\"><p class=\"meta\"><strong>%s</strong> "
                          "from %s · ",
                          names_kind(e->header->kind), names_kind(e->header->kind),
                          s_agency_title(e->header->sender));
        s_time(b, e->header->created_at_ms);
        agency_buf_printf(b, " · %s%s</p>", names_sensitivity(e->header->sensitivity),
                          e->header->has_urgent && e->header->urgent ? " · urgent" : "");
        s_body_fields(b, e->body);
        agency_buf_puts(b, "</li>");
    }
    agency_buf_puts(b, "</ol></section>");
}

void agency_web_case(agency_web_t *w, const char *ref)
{
    char actor[48];
    agency_web_actor(w->user, actor, sizeof(actor));
    Tacnet__ApiReply reply = TACNET__API_REPLY__INIT;
    int rc = agency_web_case_read(w->agency, actor, ref, &reply);
    if (rc != 0) {
        agency_web_error(w, rc == TACNET_ENOTFOUND ? 404 : 503, rc,
                         rc == TACNET_ENOTFOUND ? "this agency holds no case with that reference"
                                                : tacnet_strerror(rc));
        return;
    }
    const Tacnet__ShowCaseReply *sc = reply.show_case;
    const Tacnet__CaseSummary *s = sc->summary;
    uint64_t now = clock_now_ms();
    agency_buf_t *b = &w->body;
    char live[96], cref[40];
    snprintf(cref, sizeof(cref), "%.*s", (int)s->case_ref.len, (const char *)s->case_ref.data);
    uint64_t last = 0;
    for (size_t i = 0; i < sc->n_timeline; i++)
        if (sc->timeline[i]->local_seq > last)
            last = sc->timeline[i]->local_seq;
    snprintf(live, sizeof(live), "/events?case=%s&amp;after=%llu", cref, (unsigned long long)last);
    s_head(w, cref, live);
    agency_buf_printf(b, "<h1>%s ", cref);
    s_bytes(b, s->initials);
    agency_buf_puts(b, "</h1><p class=\"lead\">Lead professional: ");
    if (sc->state && sc->state->lead)
        s_prof(b, sc->state->lead);
    else
        agency_buf_puts(b, s->has_lead ? s_agency_title(s->lead) : "none yet");
    agency_buf_puts(b, "</p><nav class=\"actions\" aria-label=\"Record\">");
    ProtobufCBinaryData none = { 0, NULL };
    s_form_link(b, cref, "decision", "Record a decision", none);
    s_form_link(b, cref, "disagreement", "Raise a disagreement", none);
    s_form_link(b, cref, "meeting_requested", "Request a meeting", none);
    s_form_link(b, cref, "meeting_outcome", "Record a meeting", none);
    s_form_link(b, cref, "outcome_measure", "Record an outcome measure", none);
    s_form_link(b, cref, "contact_logged", "Log a contact", none);
    agency_buf_puts(b, "</nav>");
    const char *published = agency_kv_get(w->query, "published");
    if (published && strspn(published, "0123456789abcdef") == strlen(published))
        agency_buf_printf(b,
                          "<p class=\"ok\" role=\"status\">Sent: event %s is queued for the "
                          "team.</p>",
                          published);
    s_escalations(b, cref, sc, now);
    s_team(b, sc);
    s_decisions(b, sc);
    s_plan(b, sc);
    s_meetings(b, cref, sc);
    s_consent(b, sc);
    s_due(b, sc, now);
    s_timeline(b, sc);
    s_foot(w);
    agency_view_reply_free(&reply);
}

/* ------------------------------------------------------------------ inbox */

void agency_web_inbox(agency_web_t *w)
{
    agency_t *self = w->agency;
    agency_buf_t *b = &w->body;
    char actor[48];
    agency_web_actor(w->user, actor, sizeof(actor));
    Tacnet__ListCasesReply list = TACNET__LIST_CASES_REPLY__INIT;
    int rc = agency_view_list(self, &list, 0);
    if (rc == 0)
        rc = agency_web_audit(self, actor, "inbox.read", "", 0);
    uint64_t now = clock_now_ms();
    int lead = w->user->role == TACNET__ROLE__LEAD_PROFESSIONAL;
    s_head(w, "Escalations inbox", "/events");
    agency_buf_printf(b,
                      "<h1>Escalations inbox</h1><p>Open escalations in %s cases that need a "
                      "response from a %s%s, soonest deadline first.</p>",
                      self->profile->title, agency_role_name(w->user->role),
                      lead ? " (as lead professional you see every stage)" : "");
    agency_buf_puts(b, "<div class=\"scroll\"><table><thead><tr><th scope=\"col\">Case</th>"
                       "<th scope=\"col\">Stage</th><th scope=\"col\">For</th>"
                       "<th scope=\"col\">Deadline</th><th scope=\"col\">Time left</th>"
                       "<th scope=\"col\">Respond</th></tr></thead><tbody>");
    typedef struct {
        char ref[32];
        uint32_t stage, audience;
        uint64_t deadline;
        ProtobufCBinaryData id;
        char idhex[33];
    } item_t;
    item_t items[128];
    size_t n = 0;
    for (size_t i = 0; rc == 0 && i < list.n_cases; i++) {
        const Tacnet__CaseSummary *s = list.cases[i];
        if (!s_is_member(self, s))
            continue;
        Tacnet__ShowCaseReply sc = TACNET__SHOW_CASE_REPLY__INIT;
        if (agency_view_show(self, s->case_ref.data, s->case_ref.len, &sc) != 0)
            continue;
        for (size_t e = 0; sc.state && e < sc.state->n_escalations && n < N_OF(items); e++) {
            /* Only escalations this agency has a notice for wait on its roles. */
            const Tacnet__EscalationView *ev = sc.state->escalations[e];
            if (!ev->has_state || !s_escalation_open(ev))
                continue;
            item_t it = { .stage = ev->has_stage ? ev->stage : 1 };
            snprintf(it.ref, sizeof(it.ref), "%.*s", (int)s->case_ref.len,
                     (const char *)s->case_ref.data);
            it.audience = ev->has_audience ? ev->audience : 0;
            it.deadline = ev->has_deadline_ms ? ev->deadline_ms : 0;
            it.id = ev->escalation_id;
            if (!lead && it.audience && it.audience != w->user->role)
                continue;
            for (size_t k = 0; k < it.id.len && k < 16; k++)
                snprintf(it.idhex + 2 * k, 3, "%02x", it.id.data[k]);
            it.id.data = NULL;
            items[n++] = it;
        }
        Tacnet__ApiReply wrap = TACNET__API_REPLY__INIT;
        wrap.result_case = TACNET__API_REPLY__RESULT_SHOW_CASE;
        wrap.show_case = xcalloc(1, sizeof(sc));
        *wrap.show_case = sc;
        agency_view_reply_free(&wrap);
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
    for (size_t i = 0; i < n; i++) {
        agency_buf_printf(b, "<tr><td><a href=\"/cases/%s\">%s</a></td><td>%u</td><td>%s</td><td>",
                          items[i].ref, items[i].ref, items[i].stage,
                          items[i].audience ? s_role(items[i].audience) : "—");
        s_time(b, items[i].deadline);
        agency_buf_puts(b, "</td><td>");
        s_left(b, items[i].deadline, now);
        agency_buf_printf(b,
                          "</td><td><a href=\"/cases/%s/forms/escalation_response?about=%s\">"
                          "Respond</a></td></tr>",
                          items[i].ref, items[i].idhex);
    }
    agency_buf_puts(b, "</tbody></table></div>");
    if (!n)
        agency_buf_puts(b, "<p>Nothing needs your response.</p>");
    s_foot(w);
    Tacnet__ApiReply lw = TACNET__API_REPLY__INIT;
    lw.result_case = TACNET__API_REPLY__RESULT_CASES;
    lw.cases = xcalloc(1, sizeof(list));
    *lw.cases = list;
    agency_view_reply_free(&lw);
}
