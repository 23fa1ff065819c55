/* intake: field checks, results and request builders for the agency intake adapters (the CSV
 * reader itself is intake_csv.c). */
#include "casework/intake.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "clock.h"
#include "err.h"

/* How much of a bad value is quoted back in a message. */
#define INTAKE_ECHO 16

void intake_result_clear(intake_result_t *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->n_requests; i++)
        protobuf_c_message_free_unpacked(&r->requests[i]->base, NULL);
    free(r->requests);
    free(r->lines);
    free(r->errors);
    intake_names_clear(r);
    memset(r, 0, sizeof(*r));
}

static void s_result_verror(intake_result_t *r, unsigned line, int code, const char *fmt,
                            va_list ap) __attribute__((format(printf, 4, 0)));

static void s_result_verror(intake_result_t *r, unsigned line, int code, const char *fmt,
                            va_list ap)
{
    if (r->n_errors > INTAKE_MAX_ERRORS)
        return;
    r->errors = xrealloc(r->errors, (r->n_errors + 1) * sizeof(*r->errors));
    intake_error_t *e = &r->errors[r->n_errors++];
    memset(e, 0, sizeof(*e));
    e->line = line;
    e->code = code;
    if (r->n_errors > INTAKE_MAX_ERRORS)
        snprintf(e->message, sizeof(e->message), "more than %d errors; the rest are not listed",
                 INTAKE_MAX_ERRORS);
    else
        vsnprintf(e->message, sizeof(e->message), fmt, ap);
}

void intake_result_error(intake_result_t *r, unsigned line, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    s_result_verror(r, line, code, fmt, ap);
    va_end(ap);
}

void intake_result_add(intake_result_t *r, Tacnet__PublishRequest *req)
{
    r->requests = xrealloc(r->requests, (r->n_requests + 1) * sizeof(*r->requests));
    r->requests[r->n_requests++] = req;
}

/* ---- pure checks ---- */

static bool s_upper(char c)
{
    return c >= 'A' && c <= 'Z';
}

static bool s_digit(char c)
{
    return c >= '0' && c <= '9';
}

bool intake_case_ref_valid(const char *s)
{
    if (!s || !s_upper(s[0]))
        return false;
    size_t area = 1;
    while (s_upper(s[area]) || s_digit(s[area]))
        area++;
    if (area < 2 || area > 5 || s[area] != '-')
        return false;
    const char *p = s + area + 1;
    if (p[0] != '2' || p[1] != '0' || !s_digit(p[2]) || !s_digit(p[3]) || p[4] != '-')
        return false;
    p += 5;
    for (int i = 0; i < 6; i++)
        if (!s_digit(p[i]))
            return false;
    return p[6] == '\0';
}

bool intake_initials_valid(const char *s)
{
    if (!s)
        return false;
    size_t n = 0;
    while (s_upper(s[n]))
        n++;
    return s[n] == '\0' && n >= 2 && n <= 4;
}

bool intake_utf8_valid(const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;
    while (i < len) {
        unsigned char c = p[i];
        size_t extra;
        uint32_t cp;
        if (c < 0x80) {
            i++;
            continue;
        } else if (c >= 0xC2 && c <= 0xDF) {
            extra = 1;
            cp = c & 0x1F;
        } else if (c >= 0xE0 && c <= 0xEF) {
            extra = 2;
            cp = c & 0x0F;
        } else if (c >= 0xF0 && c <= 0xF4) {
            extra = 3;
            cp = c & 0x07;
        } else {
            return false;
        }
        if (len - i <= extra)
            return false;
        for (size_t k = 1; k <= extra; k++) {
            if ((p[i + k] & 0xC0) != 0x80)
                return false;
            cp = (cp << 6) | (p[i + k] & 0x3F);
        }
        /* Overlong forms, UTF-16 surrogates and values past U+10FFFF are not UTF-8. */
        if ((extra == 2 && cp < 0x800) || (extra == 3 && cp < 0x10000) || cp > 0x10FFFF ||
            (cp >= 0xD800 && cp <= 0xDFFF))
            return false;
        i += extra + 1;
    }
    return true;
}

int intake_date_parse(const char *s, uint32_t *out)
{
    static const unsigned mdays[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    if (!s || strlen(s) != 10 || s[4] != '-' || s[7] != '-')
        return TACNET_EINVAL;
    for (int i = 0; i < 10; i++)
        if (i != 4 && i != 7 && !s_digit(s[i]))
            return TACNET_EINVAL;
    unsigned y = (unsigned)(s[0] - '0') * 1000 + (unsigned)(s[1] - '0') * 100 +
                 (unsigned)(s[2] - '0') * 10 + (unsigned)(s[3] - '0');
    unsigned m = (unsigned)(s[5] - '0') * 10 + (unsigned)(s[6] - '0');
    unsigned d = (unsigned)(s[8] - '0') * 10 + (unsigned)(s[9] - '0');
    if (y < 2000 || y > 2099 || m < 1 || m > 12 || d < 1)
        return TACNET_EINVAL;
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    unsigned last = mdays[m - 1] + (m == 2 && leap ? 1 : 0);
    if (d > last)
        return TACNET_EINVAL;
    *out = y * 10000 + m * 100 + d;
    return 0;
}

/* ---- field readers ---- */

void intake_row_error(intake_row_t *row, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    s_result_verror(row->result, row->line, code, fmt, ap);
    va_end(ap);
}

bool intake_row_has(const intake_row_t *row, size_t col)
{
    return row->fields[col][0] != '\0';
}

/* Quote a bad value back only if it is short and printable; else say nothing about it. */
static const char *s_echo(const char *v, char buf[INTAKE_ECHO + 4])
{
    size_t i = 0;
    for (; v[i] && i < INTAKE_ECHO; i++)
        buf[i] = isprint((unsigned char)v[i]) ? v[i] : '?';
    if (v[i]) {
        memcpy(buf + i, "...", 4);
    } else {
        buf[i] = '\0';
    }
    return buf;
}

static bool s_missing(intake_row_t *row, size_t col, bool required)
{
    if (intake_row_has(row, col))
        return false;
    if (required)
        intake_row_error(row, TACNET_EFIELD, "%s is empty", row->columns[col]);
    return true;
}

bool intake_row_case_ref(intake_row_t *row, size_t col, const char **out)
{
    if (s_missing(row, col, true))
        return false;
    if (!intake_case_ref_valid(row->fields[col])) {
        intake_row_error(row, TACNET_ECASEREF, "%s does not match AAA-YYYY-NNNNNN",
                         row->columns[col]);
        return false;
    }
    *out = row->fields[col];
    return true;
}

bool intake_row_initials(intake_row_t *row, size_t col, const char **out)
{
    if (s_missing(row, col, true))
        return false;
    if (!intake_initials_valid(row->fields[col])) {
        intake_row_error(row, TACNET_EINITIALS, "%s must be 2 to 4 capital letters",
                         row->columns[col]);
        return false;
    }
    *out = row->fields[col];
    return true;
}

bool intake_row_text(intake_row_t *row, size_t col, bool required, const char **out)
{
    *out = NULL;
    if (s_missing(row, col, required))
        return !required;
    const char *v = row->fields[col];
    size_t len = strlen(v);
    if (len > INTAKE_MAX_TEXT) {
        intake_row_error(row, TACNET_EFIELD, "%s is longer than %d bytes", row->columns[col],
                         INTAKE_MAX_TEXT);
        return false;
    }
    if (!intake_utf8_valid(v, len)) {
        intake_row_error(row, TACNET_EFIELD, "%s is not valid UTF-8", row->columns[col]);
        return false;
    }
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)v[i];
        if ((c < 0x20 && c != '\n' && c != '\t') || c == 0x7F) {
            intake_row_error(row, TACNET_EFIELD, "%s contains a control character",
                             row->columns[col]);
            return false;
        }
    }
    *out = v;
    return true;
}

bool intake_row_date(intake_row_t *row, size_t col, bool required, uint32_t *out)
{
    char echo[INTAKE_ECHO + 4];
    *out = 0;
    if (s_missing(row, col, required))
        return !required;
    if (intake_date_parse(row->fields[col], out) != 0) {
        intake_row_error(row, TACNET_EFIELD, "%s \"%s\" is not a date (yyyy-mm-dd)",
                         row->columns[col], s_echo(row->fields[col], echo));
        return false;
    }
    return true;
}

bool intake_row_uint(intake_row_t *row, size_t col, bool required, uint32_t min, uint32_t max,
                     uint32_t *out, bool *present)
{
    char echo[INTAKE_ECHO + 4];
    *out = 0;
    if (present)
        *present = false;
    if (s_missing(row, col, required))
        return !required;
    const char *v = row->fields[col];
    uint64_t n = 0;
    size_t i = 0;
    for (; s_digit(v[i]) && i < 18; i++)
        n = n * 10 + (uint64_t)(v[i] - '0');
    if (v[i] != '\0') {
        intake_row_error(row, TACNET_EFIELD, "%s \"%s\" is not a number", row->columns[col],
                         s_echo(v, echo));
        return false;
    }
    if (n < min || n > max) {
        intake_row_error(row, TACNET_EFIELD, "%s %s is not between %u and %u", row->columns[col],
                         s_echo(v, echo), min, max);
        return false;
    }
    *out = (uint32_t)n;
    if (present)
        *present = true;
    return true;
}

bool intake_row_bool(intake_row_t *row, size_t col, bool required, bool *out)
{
    static const intake_name_t yes_no[] = { { "no", 0 }, { "yes", 1 } };
    uint32_t v = 0;
    bool ok = intake_row_enum(row, col, required, yes_no, 2, &v);
    *out = v == 1;
    return ok;
}

bool intake_row_enum(intake_row_t *row, size_t col, bool required, const intake_name_t *names,
                     size_t n_names, uint32_t *out)
{
    char echo[INTAKE_ECHO + 4];
    *out = 0;
    if (s_missing(row, col, required))
        return !required;
    for (size_t i = 0; i < n_names; i++)
        if (strcasecmp(row->fields[col], names[i].name) == 0) {
            *out = names[i].value;
            return true;
        }
    /* List the allowed values when they fit: the person fixing the file needs them. */
    char allowed[120] = "";
    size_t used = 0;
    for (size_t i = 0; i < n_names; i++) {
        int w =
            snprintf(allowed + used, sizeof(allowed) - used, "%s%s", i ? ", " : "", names[i].name);
        if (w < 0 || (size_t)w >= sizeof(allowed) - used) {
            snprintf(allowed, sizeof(allowed), "see the README");
            break;
        }
        used += (size_t)w;
    }
    intake_row_error(row, TACNET_EENUM, "%s \"%s\" is not one of: %s", row->columns[col],
                     s_echo(row->fields[col], echo), allowed);
    return false;
}

void intake_list_free(char **list, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(list[i]);
    free(list);
}

bool intake_row_list(intake_row_t *row, size_t col, size_t max, char ***out, size_t *n)
{
    *out = NULL;
    *n = 0;
    const char *text;
    if (!intake_row_text(row, col, false, &text))
        return false;
    if (!text)
        return true;
    char **list = NULL;
    size_t count = 0;
    const char *p = text;
    for (;;) {
        const char *end = strchr(p, ';');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        while (len && (*p == ' ' || *p == '\t')) {
            p++;
            len--;
        }
        while (len && (p[len - 1] == ' ' || p[len - 1] == '\t'))
            len--;
        if (len == 0) {
            intake_row_error(row, TACNET_EFIELD, "%s has an empty item", row->columns[col]);
            goto fail;
        }
        if (count == max) {
            intake_row_error(row, TACNET_EFIELD, "%s has more than %zu items", row->columns[col],
                             max);
            goto fail;
        }
        list = xrealloc(list, (count + 1) * sizeof(*list));
        list[count] = xmalloc(len + 1);
        memcpy(list[count], p, len);
        list[count][len] = '\0';
        count++;
        if (!end)
            break;
        p = end + 1;
    }
    *out = list;
    *n = count;
    return true;
fail:
    intake_list_free(list, count);
    return false;
}

bool intake_row_unused(intake_row_t *row, size_t col, const char *what)
{
    if (!intake_row_has(row, col))
        return true;
    intake_row_error(row, TACNET_EFIELD, "%s does not apply to %s", row->columns[col], what);
    return false;
}

/* ---- shared vocabulary ---- */

const intake_name_t intake_concern_categories[] = {
    { "attendance", TACNET__CONCERN_CATEGORY__ATTENDANCE },
    { "neglect", TACNET__CONCERN_CATEGORY__NEGLECT },
    { "emotional_wellbeing", TACNET__CONCERN_CATEGORY__EMOTIONAL_WELLBEING },
    { "physical_harm", TACNET__CONCERN_CATEGORY__PHYSICAL_HARM },
    { "self_harm", TACNET__CONCERN_CATEGORY__SELF_HARM },
    { "domestic_abuse", TACNET__CONCERN_CATEGORY__DOMESTIC_ABUSE },
    { "development", TACNET__CONCERN_CATEGORY__DEVELOPMENT },
    { "sexual_harm", TACNET__CONCERN_CATEGORY__SEXUAL_HARM },
    { "other", TACNET__CONCERN_CATEGORY__OTHER_CONCERN },
};
const size_t intake_n_concern_categories =
    sizeof(intake_concern_categories) / sizeof(intake_concern_categories[0]);

/* ---- request builders ---- */

static ProtobufCBinaryData s_bytes(const char *s)
{
    ProtobufCBinaryData b = { .len = strlen(s), .data = (uint8_t *)xstrdup(s) };
    return b;
}

Tacnet__PublishRequest *intake_request_new(Tacnet__EventKind kind, const char *case_ref,
                                           const char *initials, Tacnet__Sensitivity sensitivity)
{
    Tacnet__PublishRequest *req = xmalloc(sizeof(*req));
    tacnet__publish_request__init(req);
    req->kind = kind;
    req->case_ref = s_bytes(case_ref);
    req->initials = s_bytes(initials);
    if (sensitivity != TACNET__SENSITIVITY__SENSITIVITY_UNKNOWN) {
        req->has_sensitivity = true;
        req->sensitivity = sensitivity;
    }
    Tacnet__Body *body = xmalloc(sizeof(*body));
    tacnet__body__init(body);
    req->body = body;
    switch (kind) {
    case TACNET__EVENT_KIND__REFERRAL:
        body->event_case = TACNET__BODY__EVENT_REFERRAL;
        body->referral = xmalloc(sizeof(*body->referral));
        tacnet__referral__init(body->referral);
        break;
    case TACNET__EVENT_KIND__CONCERN:
        body->event_case = TACNET__BODY__EVENT_CONCERN;
        body->concern = xmalloc(sizeof(*body->concern));
        tacnet__concern__init(body->concern);
        break;
    case TACNET__EVENT_KIND__ASSESSMENT:
        body->event_case = TACNET__BODY__EVENT_ASSESSMENT;
        body->assessment = xmalloc(sizeof(*body->assessment));
        tacnet__assessment__init(body->assessment);
        break;
    case TACNET__EVENT_KIND__CARE_PLAN:
        body->event_case = TACNET__BODY__EVENT_CARE_PLAN;
        body->care_plan = xmalloc(sizeof(*body->care_plan));
        tacnet__care_plan__init(body->care_plan);
        break;
    case TACNET__EVENT_KIND__OUTCOME_MEASURE:
        body->event_case = TACNET__BODY__EVENT_OUTCOME_MEASURE;
        body->outcome_measure = xmalloc(sizeof(*body->outcome_measure));
        tacnet__outcome_measure__init(body->outcome_measure);
        break;
    default:
        /* A programmer error: the adapters only build the kinds above. */
        abort();
    }
    return req;
}

void intake_plan_add_goal(Tacnet__CarePlan *plan, uint32_t goal_id, const char *description,
                          uint32_t target_date)
{
    Tacnet__Goal *g = xmalloc(sizeof(*g));
    tacnet__goal__init(g);
    g->has_goal_id = true;
    g->goal_id = goal_id;
    if (description)
        g->description = xstrdup(description);
    if (target_date) {
        g->has_target_date = true;
        g->target_date = target_date;
    }
    plan->goals = xrealloc(plan->goals, (plan->n_goals + 1) * sizeof(*plan->goals));
    plan->goals[plan->n_goals++] = g;
}

static Tacnet__ViewAbsent *s_not_yet_asked(uint32_t ask_by)
{
    Tacnet__ViewAbsent *a = xmalloc(sizeof(*a));
    tacnet__view_absent__init(a);
    a->has_reason = true;
    a->reason = TACNET__VIEW_ABSENCE__NOT_YET_ASKED;
    a->has_ask_by_date = true;
    a->ask_by_date = ask_by;
    return a;
}

void intake_plan_views_to_seek(Tacnet__CarePlan *plan, uint32_t from_date)
{
    uint64_t from = clock_date_to_ms(from_date);
    uint32_t ask_by = clock_ms_to_date(from + (uint64_t)INTAKE_VIEWS_ASK_DAYS * 86400000u);
    plan->child_view_absent = s_not_yet_asked(ask_by);
    plan->family_view_absent = s_not_yet_asked(ask_by);
}
