/* jschema: the JSON Schema subset the OpenAPI document uses (see jschema.h). */
#include "jschema.h"

#include <regex.h>
#include <stdio.h>
#include <string.h>

static int s_fail(char *why, size_t whylen, const char *path, const char *what)
{
    snprintf(why, whylen, "%s: %s", *path ? path : "(root)", what);
    return -1;
}

/* "#/components/schemas/tacnet.Header" in DOC. */
static json_t *s_resolve(json_t *doc, const char *ref)
{
    if (strncmp(ref, "#/", 2) != 0)
        return NULL;
    json_t *cur = doc;
    char seg[128];
    for (const char *p = ref + 2; cur && *p;) {
        size_t n = strcspn(p, "/");
        snprintf(seg, sizeof(seg), "%.*s", (int)n, p);
        cur = json_object_get(cur, seg);
        p += n + (p[n] == '/');
    }
    return cur;
}

static int s_type_is(json_t *v, const char *t)
{
    if (strcmp(t, "object") == 0)
        return json_is_object(v);
    if (strcmp(t, "array") == 0)
        return json_is_array(v);
    if (strcmp(t, "string") == 0)
        return json_is_string(v);
    if (strcmp(t, "integer") == 0)
        return json_is_integer(v);
    if (strcmp(t, "number") == 0)
        return json_is_number(v);
    if (strcmp(t, "boolean") == 0)
        return json_is_boolean(v);
    if (strcmp(t, "null") == 0)
        return json_is_null(v);
    return 0;
}

static int s_check(json_t *doc, json_t *s, json_t *v, char *why, size_t whylen, const char *path);

static int s_type(json_t *t, json_t *v, char *why, size_t whylen, const char *path)
{
    if (json_is_string(t))
        return s_type_is(v, json_string_value(t)) ? 0 : s_fail(why, whylen, path, "wrong type");
    size_t i;
    json_t *e;
    json_array_foreach(t, i, e) if (s_type_is(v, json_string_value(e))) return 0;
    return s_fail(why, whylen, path, "wrong type");
}

static int s_object(json_t *doc, json_t *s, json_t *v, char *why, size_t whylen, const char *path)
{
    json_t *props = json_object_get(s, "properties"),
           *extra = json_object_get(s, "additionalProperties");
    json_t *req = json_object_get(s, "required");
    size_t i;
    json_t *e;
    json_array_foreach(req, i, e) if (!json_object_get(v, json_string_value(e)))
    {
        char what[160];
        snprintf(what, sizeof(what), "\"%s\" is required", json_string_value(e));
        return s_fail(why, whylen, path, what);
    }
    const char *k;
    json_object_foreach(v, k, e)
    {
        char sub[512];
        snprintf(sub, sizeof(sub), "%s.%s", path, k);
        json_t *ps = props ? json_object_get(props, k) : NULL;
        if (!ps && json_is_false(extra))
            return s_fail(why, whylen, sub, "not in the schema");
        if (!ps && json_is_object(extra))
            ps = extra; /* a map's values: one schema for every key */
        if (ps && s_check(doc, ps, e, why, whylen, sub) != 0)
            return -1;
    }
    return 0;
}

static int s_date(const char *d)
{
    unsigned y, m, day;
    char tail;
    return strlen(d) == 10 && sscanf(d, "%4u-%2u-%2u%c", &y, &m, &day, &tail) == 3 && m >= 1 &&
           m <= 12 && day >= 1 && day <= 31;
}

/* RFC 3339 as pbjson writes it: UTC, "Z", milliseconds optional. */
static int s_date_time(const char *t)
{
    unsigned h, mi, sec, ms;
    int used = 0;
    char date[11];
    if (strlen(t) < 20 || t[10] != 'T')
        return 0;
    memcpy(date, t, 10);
    date[10] = 0;
    if (!s_date(date) || sscanf(t + 11, "%2u:%2u:%2u%n", &h, &mi, &sec, &used) != 3 || used != 8)
        return 0;
    const char *rest = t + 19;
    if (*rest == '.' && sscanf(rest + 1, "%3u%n", &ms, &used) == 1 && used == 3)
        rest += 4;
    return strcmp(rest, "Z") == 0 && h < 24 && mi < 60 && sec < 60;
}

static int s_check(json_t *doc, json_t *s, json_t *v, char *why, size_t whylen, const char *path)
{
    static const char *const known[] = {
        "$ref",     "type",       "properties", "additionalProperties",
        "required", "items",      "enum",       "anyOf",
        "minimum",  "maximum",    "pattern",    "format",
        "title",    "description"
    };
    const char *k;
    json_t *kv;
    json_object_foreach(s, k, kv)
    {
        int ok = 0;
        for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
            ok |= strcmp(k, known[i]) == 0;
        if (!ok) {
            char what[160];
            snprintf(what, sizeof(what), "keyword \"%s\" is outside the validator's subset", k);
            return s_fail(why, whylen, path, what);
        }
    }
    json_t *ref = json_object_get(s, "$ref");
    if (ref) {
        json_t *target = s_resolve(doc, json_string_value(ref));
        if (!target)
            return s_fail(why, whylen, path, "a $ref to nothing");
        if (s_check(doc, target, v, why, whylen, path) != 0)
            return -1;
    }
    json_t *t = json_object_get(s, "type");
    if (t && s_type(t, v, why, whylen, path) != 0)
        return -1;
    json_t *any = json_object_get(s, "anyOf");
    if (any) {
        size_t i;
        json_t *e;
        int ok = 0;
        char sub[256];
        json_array_foreach(any, i, e) ok |= s_check(doc, e, v, sub, sizeof(sub), path) == 0;
        if (!ok)
            return s_fail(why, whylen, path, "matches none of anyOf");
    }
    json_t *en = json_object_get(s, "enum");
    if (en) {
        size_t i;
        json_t *e;
        int ok = 0;
        json_array_foreach(en, i, e) ok |= json_equal(e, v);
        if (!ok)
            return s_fail(why, whylen, path, "not one of the enum's values");
    }
    if (json_is_number(v)) {
        json_t *mn = json_object_get(s, "minimum"), *mx = json_object_get(s, "maximum");
        if ((mn && json_number_value(v) < json_number_value(mn)) ||
            (mx && json_number_value(v) > json_number_value(mx)))
            return s_fail(why, whylen, path, "out of range");
    }
    if (json_is_string(v)) {
        json_t *pat = json_object_get(s, "pattern"), *fmt = json_object_get(s, "format");
        if (pat) {
            regex_t re;
            if (regcomp(&re, json_string_value(pat), REG_EXTENDED | REG_NOSUB) != 0)
                return s_fail(why, whylen, path, "a pattern POSIX cannot compile");
            int m = regexec(&re, json_string_value(v), 0, NULL, 0);
            regfree(&re);
            if (m != 0)
                return s_fail(why, whylen, path, "does not match the pattern");
        }
        if (fmt && strcmp(json_string_value(fmt), "date") == 0 && !s_date(json_string_value(v)))
            return s_fail(why, whylen, path, "not a date");
        if (fmt && strcmp(json_string_value(fmt), "date-time") == 0 &&
            !s_date_time(json_string_value(v)))
            return s_fail(why, whylen, path, "not an ISO 8601 UTC date-time");
    }
    if (json_is_object(v) && (json_object_get(s, "properties") || json_object_get(s, "required") ||
                              json_object_get(s, "additionalProperties")))
        return s_object(doc, s, v, why, whylen, path);
    json_t *items = json_object_get(s, "items");
    if (json_is_array(v) && items) {
        size_t i;
        json_t *e;
        json_array_foreach(v, i, e)
        {
            char sub[512];
            snprintf(sub, sizeof(sub), "%s[%zu]", path, i);
            if (s_check(doc, items, e, why, whylen, sub) != 0)
                return -1;
        }
    }
    return 0;
}

int jschema_validate(json_t *doc, json_t *schema, json_t *value, char *why, size_t whylen)
{
    return s_check(doc, schema, value, why, whylen, "");
}
