/* policyfile: sharing.conf and escalation.conf into the roster's policy messages (see
 * policyfile.h). The files go to inih through inireader, which counts lines (Debian's inih
 * gives handlers none), so every reason names the line, as agencies.conf's do. */
#include "policyfile.h"

#include <errno.h>
#include <ini.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "inireader.h"
#include "names.h"

typedef struct {
    Tacnet__Roster *r;
    inireader_t *rd;
    const char *file;
    char *why;
    size_t whylen;
    int failed;
    uint32_t legal_duty_listed; /* bit per agency section with a legal_duty key */
} parse_ctx_t;

/* The reason names the file, the line inih is on, the section and the key. */
static int s_fail(parse_ctx_t *p, const char *section, const char *key, const char *what)
{
    snprintf(p->why, p->whylen, "%s:%u: [%s] %s: %s", p->file, p->rd->line, section, key, what);
    p->failed = 1;
    return 0; /* stop inih */
}

/* More than any partnership has; a longer list is a mistake in the file. */
#define POLICYFILE_AREA_CODES_MAX 64

static void s_area_codes_free(Tacnet__Roster *r)
{
    for (size_t i = 0; i < r->n_area_codes; i++)
        free(r->area_codes[i]);
    free(r->area_codes);
    r->area_codes = NULL;
    r->n_area_codes = 0;
}

static Tacnet__SharingRule *s_rule(Tacnet__Roster *r, Tacnet__Agency a)
{
    Tacnet__SharingPolicy *sp = r->sharing;
    for (size_t i = 0; i < sp->n_rules; i++)
        if (sp->rules[i]->agency == a)
            return sp->rules[i];
    sp->rules = xrealloc(sp->rules, (sp->n_rules + 1) * sizeof(*sp->rules));
    Tacnet__SharingRule *rule = xcalloc(1, sizeof(*rule));
    tacnet__sharing_rule__init(rule);
    rule->agency = a;
    sp->rules[sp->n_rules++] = rule;
    return rule;
}

/* "routine, health" -> enum list. Returns 0 or -1 naming the bad word in BAD. */
static int s_classes(const char *value, Tacnet__Sensitivity **out, size_t *n, char *bad,
                     size_t badlen)
{
    char buf[256];
    snprintf(buf, sizeof(buf), "%s", value);
    *n = 0;
    *out = xcalloc(4, sizeof(**out));
    for (char *save = NULL, *w = strtok_r(buf, ", \t", &save); w;
         w = strtok_r(NULL, ", \t", &save)) {
        int v;
        if (names_enum_parse(&tacnet__sensitivity__descriptor, w, &v) != 0 || v == 0 || *n >= 4) {
            snprintf(bad, badlen, "%s", w);
            return -1;
        }
        (*out)[(*n)++] = (Tacnet__Sensitivity)v;
    }
    return 0;
}

/* An area code: a capital letter, then 1 to 4 capitals or digits (policy_case_ref_check's
 * prefix). */
static int s_area_code_ok(const char *w)
{
    size_t n = strlen(w);
    if (n < 2 || n > 5 || w[0] < 'A' || w[0] > 'Z')
        return 0;
    for (size_t i = 1; i < n; i++)
        if (!((w[i] >= 'A' && w[i] <= 'Z') || (w[i] >= '0' && w[i] <= '9')))
            return 0;
    return 1;
}

/* "LA7, LA9" -> R->area_codes (replacing a list given before). */
static int s_area_codes(parse_ctx_t *p, Tacnet__Roster *r, const char *section, const char *key,
                        const char *value)
{
    char *buf = xstrdup(value);
    s_area_codes_free(r);
    for (char *save = NULL, *w = strtok_r(buf, ", \t", &save); w;
         w = strtok_r(NULL, ", \t", &save)) {
        if (!s_area_code_ok(w) || r->n_area_codes >= POLICYFILE_AREA_CODES_MAX) {
            free(buf);
            return s_fail(p, section, key,
                          "area codes are 2-5 capitals or digits starting with a capital, at most "
                          "64 of them");
        }
        r->area_codes = xrealloc(r->area_codes, (r->n_area_codes + 1) * sizeof(*r->area_codes));
        r->area_codes[r->n_area_codes++] = xstrdup(w);
    }
    free(buf);
    return 1;
}

static int s_on_sharing(void *user, const char *section, const char *key, const char *value)
{
    parse_ctx_t *p = user;
    Tacnet__Roster *r = p->r;
    if (strcmp(section, "policy") == 0 && strcmp(key, "area_codes") == 0)
        return s_area_codes(p, r, section, key, value);
    if (strcmp(section, "policy") == 0) {
        char *end;
        long v = strtol(value, &end, 10);
        if (*value == 0 || *end || v < 0 || v > 1000000)
            return s_fail(p, section, key, "not a whole number");
        if (strcmp(key, "version") == 0) {
            r->policy_version = (uint32_t)v;
            r->has_policy_version = 1;
        } else if (strcmp(key, "expiry_hours") == 0) {
            r->sharing->expiry_hours = (uint32_t)v;
            r->sharing->has_expiry_hours = 1;
        } else if (strcmp(key, "expiry_seconds") == 0) {
            r->sharing->expiry_seconds = (uint32_t)v;
            r->sharing->has_expiry_seconds = 1;
        } else {
            return s_fail(p, section, key, "unknown key");
        }
        return 1;
    }
    int a;
    if (names_enum_parse(&tacnet__agency__descriptor, section, &a) != 0 || a == 0 ||
        a == TACNET__AGENCY__BROKER)
        return s_fail(p, section, key, "unknown agency section");
    Tacnet__SharingRule *rule = s_rule(r, (Tacnet__Agency)a);
    char bad[64];
    int rc;
    if (strcmp(key, "with_consent") == 0) {
        free(rule->with_consent);
        rc = s_classes(value, &rule->with_consent, &rule->n_with_consent, bad, sizeof(bad));
    } else if (strcmp(key, "without_consent") == 0) {
        free(rule->without_consent);
        rc = s_classes(value, &rule->without_consent, &rule->n_without_consent, bad, sizeof(bad));
    } else if (strcmp(key, "legal_duty") == 0) {
        free(rule->legal_duty);
        rc = s_classes(value, &rule->legal_duty, &rule->n_legal_duty, bad, sizeof(bad));
        p->legal_duty_listed |= 1u << a;
    } else if (strcmp(key, "direct_care") == 0) {
        free(rule->direct_care);
        rc = s_classes(value, &rule->direct_care, &rule->n_direct_care, bad, sizeof(bad));
    } else {
        return s_fail(p, section, key, "unknown key");
    }
    if (rc != 0)
        return s_fail(p, section, key, "classes are routine, health, safeguarding");
    return 1;
}

static Tacnet__EscalationStage *s_stage(Tacnet__EscalationPolicy *e, uint32_t n)
{
    for (size_t i = 0; i < e->n_stages; i++)
        if (e->stages[i]->stage == n)
            return e->stages[i];
    e->stages = xrealloc(e->stages, (e->n_stages + 1) * sizeof(*e->stages));
    Tacnet__EscalationStage *s = xcalloc(1, sizeof(*s));
    tacnet__escalation_stage__init(s);
    s->stage = n;
    e->stages[e->n_stages++] = s;
    return s;
}

static int s_on_escalation(void *user, const char *section, const char *key, const char *value)
{
    parse_ctx_t *p = user;
    Tacnet__EscalationPolicy *e = p->r->escalation;
    if (strncmp(section, "stage", 5) == 0 && section[5] >= '1' && section[5] <= '4' &&
        section[6] == 0) {
        Tacnet__EscalationStage *s = s_stage(e, (uint32_t)(section[5] - '0'));
        if (strcmp(key, "audience") == 0) {
            int v;
            if (names_enum_parse(&tacnet__role__descriptor, value, &v) != 0 || v == 0)
                return s_fail(p, section, key,
                              "not a role (practitioner, line_manager, dsl, partnership_lead)");
            s->audience = (Tacnet__Role)v;
            return 1;
        }
        char *end;
        long v = strtol(value, &end, 10);
        if (*value == 0 || *end || v < 0 || v > 100000)
            return s_fail(p, section, key, "not a whole number");
        if (strcmp(key, "working_days") == 0) {
            s->working_days = (uint32_t)v;
            s->has_working_days = 1;
        } else if (strcmp(key, "urgent_hours") == 0) {
            s->urgent_hours = (uint32_t)v;
            s->has_urgent_hours = 1;
        } else if (strcmp(key, "seconds") == 0) {
            s->seconds = (uint32_t)v;
            s->has_seconds = 1;
        } else {
            return s_fail(p, section, key, "unknown key");
        }
        return 1;
    }
    if (strcmp(section, "escalation") != 0)
        return s_fail(p, section, key, "unknown section");
    char *end;
    long v = strtol(value, &end, 10);
    if (*value == 0 || *end || v < 0 || v > 1000000)
        return s_fail(p, section, key, "not a whole number");
    if (strcmp(key, "level_gap") == 0) {
        e->level_gap = (uint32_t)v;
        e->has_level_gap = 1;
    } else if (strcmp(key, "non_response_hours") == 0) {
        e->non_response_hours = (uint32_t)v;
        e->has_non_response_hours = 1;
    } else if (strcmp(key, "non_response_seconds") == 0) {
        e->non_response_seconds = (uint32_t)v;
        e->has_non_response_seconds = 1;
    } else {
        return s_fail(p, section, key, "unknown key");
    }
    return 1;
}

/* Parse one file: TEXT when given, else the file at NAME. */
static int s_parse(const char *name, const char *text, ini_handler fn, parse_ctx_t *p)
{
    inireader_t rd = text ? inireader_text(text) : inireader_file(fopen(name, "r"));
    if (!text && !rd.fp) {
        snprintf(p->why, p->whylen, "%s: cannot open: %s", name, strerror(errno));
        return TACNET_ENOTFOUND;
    }
    p->file = name;
    p->rd = &rd;
    int rc = ini_parse_stream(inireader_read, &rd, fn, p);
    if (rd.fp)
        fclose(rd.fp);
    p->rd = NULL;
    if (rc == -2)
        abort(); /* inih's out of memory: abort like xmalloc */
    if (p->failed)
        return TACNET_ECONFIG;
    if (rc > 0) {
        snprintf(p->why, p->whylen, "%s:%d: not a key = value line", name, rc);
        return TACNET_ECONFIG;
    }
    return 0;
}

/* A section without a legal_duty key shares under a statutory duty what it shares with consent
 * (the rule before the key existed), so an older sharing.conf keeps its meaning. */
static void s_legal_duty_default(Tacnet__SharingPolicy *sp, uint32_t listed)
{
    for (size_t i = 0; i < sp->n_rules; i++) {
        Tacnet__SharingRule *rule = sp->rules[i];
        if (listed & (1u << rule->agency))
            continue;
        free(rule->legal_duty);
        rule->n_legal_duty = rule->n_with_consent;
        rule->legal_duty = xcalloc(rule->n_with_consent + 1, sizeof(*rule->legal_duty));
        memcpy(rule->legal_duty, rule->with_consent,
               rule->n_with_consent * sizeof(*rule->legal_duty));
    }
}

/* Both files, then the check that needs all of escalation.conf: every stage has an audience. */
static int s_parse_both(const char *sharing_name, const char *sharing, const char *escalation_name,
                        const char *escalation, Tacnet__Roster *r, char *why, size_t whylen)
{
    r->sharing = xcalloc(1, sizeof(*r->sharing));
    tacnet__sharing_policy__init(r->sharing);
    r->escalation = xcalloc(1, sizeof(*r->escalation));
    tacnet__escalation_policy__init(r->escalation);
    parse_ctx_t p = { .r = r, .why = why, .whylen = whylen };
    int rc = s_parse(sharing_name, sharing, s_on_sharing, &p);
    if (rc == 0)
        s_legal_duty_default(r->sharing, p.legal_duty_listed);
    if (rc == 0)
        rc = s_parse(escalation_name, escalation, s_on_escalation, &p);
    if (rc != 0)
        return rc;
    Tacnet__EscalationPolicy *e = r->escalation;
    for (uint32_t n = 1; n <= 4; n++) {
        size_t i = 0;
        while (i < e->n_stages && e->stages[i]->stage != n)
            i++;
        if (i == e->n_stages || !e->stages[i]->audience) {
            snprintf(why, whylen, "%s: [stage%u] with an audience is required", escalation_name, n);
            return TACNET_ECONFIG;
        }
    }
    return 0;
}

int policyfile_load(const char *sharing_path, const char *escalation_path, Tacnet__Roster *r,
                    char *why, size_t whylen)
{
    return s_parse_both(sharing_path, NULL, escalation_path, NULL, r, why, whylen);
}

int policyfile_parse(const char *sharing, const char *sharing_name, const char *escalation,
                     const char *escalation_name, Tacnet__Roster *r, char *why, size_t whylen)
{
    return s_parse_both(sharing_name, sharing, escalation_name, escalation, r, why, whylen);
}

void policyfile_free(Tacnet__Roster *r)
{
    s_area_codes_free(r);
    if (r->sharing) {
        for (size_t i = 0; i < r->sharing->n_rules; i++) {
            free(r->sharing->rules[i]->with_consent);
            free(r->sharing->rules[i]->without_consent);
            free(r->sharing->rules[i]->legal_duty);
            free(r->sharing->rules[i]->direct_care);
            free(r->sharing->rules[i]);
        }
        free(r->sharing->rules);
        free(r->sharing);
        r->sharing = NULL;
    }
    if (r->escalation) {
        for (size_t i = 0; i < r->escalation->n_stages; i++)
            free(r->escalation->stages[i]);
        free(r->escalation->stages);
        free(r->escalation);
        r->escalation = NULL;
    }
}
