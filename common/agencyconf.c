/* agencyconf: deploy/agencies.conf through inih, read by inireader, which counts lines
 * (Debian's inih gives handlers none), so every reason names one. */
#include "agencyconf.h"

#include <errno.h>
#include <ini.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agencies.h"
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
    unsigned *lines; /* the section line of each entry, for the checks after parsing */
} ctx_t;

static int s_fail(ctx_t *c, unsigned line, const char *section, const char *what)
{
    snprintf(c->why, c->whylen, "%s:%u: [%s] %s", c->file, line, section, what);
    c->failed = 1;
    return 0;
}

static Tacnet__AgencyEntry *s_entry(ctx_t *c, const char *section, int *dup)
{
    Tacnet__Roster *r = c->r;
    *dup = 0;
    for (size_t i = 0; i < r->n_agencies; i++) {
        if (strcmp(r->agencies[i]->name, section) != 0)
            continue;
        /* inih hands a repeated section's keys over just as it does the first one's. */
        *dup = c->lines[i] != c->rd->section_line;
        return r->agencies[i];
    }
    if (r->n_agencies >= AGENCIES_MAX)
        return NULL;
    Tacnet__AgencyEntry *e = xcalloc(1, sizeof(*e));
    tacnet__agency_entry__init(e);
    e->name = xstrdup(section);
    e->title = xstrdup("");
    r->agencies = xrealloc(r->agencies, (r->n_agencies + 1) * sizeof(*r->agencies));
    c->lines = xrealloc(c->lines, (r->n_agencies + 1) * sizeof(*c->lines));
    c->lines[r->n_agencies] = c->rd->section_line;
    r->agencies[r->n_agencies++] = e;
    return e;
}

static int s_classes(Tacnet__AgencyEntry *e, const char *value, char *bad, size_t badlen)
{
    char buf[256];
    snprintf(buf, sizeof(buf), "%s", value);
    free(e->classes);
    e->classes = xcalloc(4, sizeof(*e->classes));
    e->n_classes = 0;
    for (char *save = NULL, *w = strtok_r(buf, ", \t", &save); w;
         w = strtok_r(NULL, ", \t", &save)) {
        int v;
        if (names_enum_parse(&tacnet__sensitivity__descriptor, w, &v) != 0 || v == 0 ||
            e->n_classes >= 3) {
            snprintf(bad, badlen, "%s", w);
            return -1;
        }
        e->classes[e->n_classes++] = (Tacnet__Sensitivity)v;
    }
    return 0;
}

static int s_on_key(void *user, const char *section, const char *key, const char *value)
{
    ctx_t *c = user;
    unsigned line = c->rd->line;
    int dup;
    Tacnet__AgencyEntry *e = s_entry(c, section, &dup);
    if (!e)
        return s_fail(c, line, section, "more agencies than a roster holds (16)");
    if (dup)
        return s_fail(c, c->rd->section_line, section, "the agency is given twice");
    if (strcmp(key, "id") == 0) {
        char *end = NULL;
        errno = 0;
        long v = strtol(value, &end, 10);
        if (!*value || *end || errno || v < 1 || v > 255)
            return s_fail(c, line, section, "id: not a whole number from 1 to 255");
        e->id = (uint32_t)v;
    } else if (strcmp(key, "title") == 0) {
        free(e->title);
        e->title = xstrdup(value);
    } else if (strcmp(key, "classes") == 0) {
        char bad[64], what[128];
        if (s_classes(e, value, bad, sizeof(bad)) != 0) {
            snprintf(what, sizeof(what), "classes: \"%s\" is not routine, health or safeguarding",
                     bad);
            return s_fail(c, line, section, what);
        }
    } else if (strcmp(key, "profile") == 0) {
        free(e->profile);
        e->profile = xstrdup(value);
    } else {
        char what[128];
        snprintf(what, sizeof(what), "%s: unknown key (id, title, classes, profile)", key);
        return s_fail(c, line, section, what);
    }
    return 1;
}

/* Each entry whole: an id was given, and agencies_check's rules, named by the section's line. */
static int s_entries_check(ctx_t *c)
{
    Tacnet__Roster *r = c->r;
    for (size_t i = 0; i < r->n_agencies; i++) {
        char why[256];
        if (r->agencies[i]->id == 0)
            return s_fail(c, c->lines[i], r->agencies[i]->name, "id is required");
        if (agencies_check(r->agencies, i + 1, why, sizeof(why)) != 0)
            return s_fail(c, c->lines[i], r->agencies[i]->name, why);
    }
    return 1;
}

int agencyconf_parse(const char *text, const char *name, Tacnet__Roster *r, char *why,
                     size_t whylen)
{
    inireader_t rd = inireader_text(text);
    ctx_t c = { .r = r, .rd = &rd, .file = name, .why = why, .whylen = whylen };
    int rc = ini_parse_stream(inireader_read, &rd, s_on_key, &c);
    if (rc == -2)
        abort(); /* inih's out of memory: abort like xmalloc */
    if (!c.failed && rc > 0) {
        snprintf(why, whylen, "%s:%d: not a key = value line", name, rc);
        c.failed = 1;
    }
    if (!c.failed && r->n_agencies == 0) {
        snprintf(why, whylen, "%s: no agency sections", name);
        c.failed = 1;
    }
    if (!c.failed)
        s_entries_check(&c);
    free(c.lines);
    return c.failed ? TACNET_ECONFIG : 0;
}

int agencyconf_load(const char *path, Tacnet__Roster *r, char *why, size_t whylen)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(why, whylen, "%s: cannot open: %s", path, strerror(errno));
        return TACNET_ENOTFOUND;
    }
    char *text = NULL;
    size_t len = 0, cap = 0, got;
    char buf[4096];
    while ((got = fread(buf, 1, sizeof(buf), f)) > 0) {
        if (len + got + 1 > cap) {
            cap = (len + got + 1) * 2;
            text = xrealloc(text, cap);
        }
        memcpy(text + len, buf, got);
        len += got;
    }
    int bad = ferror(f);
    fclose(f);
    if (bad) {
        free(text);
        snprintf(why, whylen, "%s: cannot read", path);
        return TACNET_EIO;
    }
    if (!text)
        text = xcalloc(1, 1);
    text[len] = 0;
    int rc = agencyconf_parse(text, path, r, why, whylen);
    free(text);
    return rc;
}

static int s_has(const Tacnet__AgencyEntry *e, Tacnet__Sensitivity k)
{
    for (size_t i = 0; i < e->n_classes; i++)
        if (e->classes[i] == k)
            return 1;
    return 0;
}

/* The first class of LIST (N long) that E may not receive, or 0. */
static Tacnet__Sensitivity s_beyond(const Tacnet__AgencyEntry *e, const Tacnet__Sensitivity *list,
                                    size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!s_has(e, list[i]))
            return list[i];
    return 0;
}

int agencyconf_sharing_check(const Tacnet__Roster *r, char *why, size_t whylen)
{
    for (size_t i = 0; r->sharing && i < r->sharing->n_rules; i++) {
        const Tacnet__SharingRule *rule = r->sharing->rules[i];
        const Tacnet__AgencyEntry *e = NULL;
        for (size_t j = 0; j < r->n_agencies; j++)
            if (r->agencies[j]->id == (uint32_t)rule->agency)
                e = r->agencies[j];
        if (!e)
            continue; /* the partnership contact: no entry of its own */
        Tacnet__Sensitivity k = s_beyond(e, rule->with_consent, rule->n_with_consent);
        if (!k)
            k = s_beyond(e, rule->without_consent, rule->n_without_consent);
        if (!k)
            k = s_beyond(e, rule->legal_duty, rule->n_legal_duty);
        if (!k)
            k = s_beyond(e, rule->direct_care, rule->n_direct_care);
        if (k) {
            snprintf(why, whylen,
                     "the sharing policy gives %s the class %s, which agencies.conf does not "
                     "list among its classes",
                     e->name, names_sensitivity(k));
            return TACNET_ECONFIG;
        }
    }
    return 0;
}

void agencyconf_free(Tacnet__Roster *r)
{
    for (size_t i = 0; i < r->n_agencies; i++) {
        Tacnet__AgencyEntry *e = r->agencies[i];
        free(e->name);
        free(e->title);
        free(e->classes);
        free(e->profile);
        free(e);
    }
    free(r->agencies);
    r->agencies = NULL;
    r->n_agencies = 0;
}
