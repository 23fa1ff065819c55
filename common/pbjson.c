/* pbjson: descriptor-driven protobuf-c <-> JSON (conventions in pbjson.h). */
#include "pbjson.h"
#include "err.h"
#include "names.h"
#include "wire.pb-c.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PBJSON_PATH_MAX 256

#define MEMBER(type, msg, off) (*(type *)(void *)((char *)(msg) + (off)))

/* The JSON path of the value being converted, grown and shrunk as the walk descends. */
typedef struct {
    char s[PBJSON_PATH_MAX];
    size_t n;
} path_t;

static size_t s_path_add(path_t *p, int w)
{
    size_t old = p->n;
    if (w > 0)
        p->n = p->n + (size_t)w < sizeof(p->s) ? p->n + (size_t)w : sizeof(p->s) - 1;
    return old;
}

static size_t s_path_key(path_t *p, const char *name)
{
    return s_path_add(p, snprintf(p->s + p->n, sizeof(p->s) - p->n, "%s%s", p->n ? "." : "", name));
}

static size_t s_path_index(path_t *p, size_t index)
{
    return s_path_add(p, snprintf(p->s + p->n, sizeof(p->s) - p->n, "[%zu]", index));
}

static void s_path_pop(path_t *p, size_t old)
{
    p->n = old;
    p->s[old] = 0;
}

__attribute__((format(printf, 4, 5))) static int s_fail(char *why, size_t whylen, const path_t *p,
                                                        const char *fmt, ...)
{
    if (why && whylen) {
        char msg[256];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        snprintf(why, whylen, "%s: %s", p->n ? p->s : "(top level)", msg);
    }
    return TACNET_EINVAL;
}

static int s_ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && strcmp(s + n - k, suffix) == 0;
}

/* Identifiers are random bytes, so only hex shows them faithfully; the other bytes fields are
 * bytes only so that a NUL cannot hide text, and read best as text. */
static int s_bytes_is_hex(const ProtobufCFieldDescriptor *f)
{
    return strcmp(f->name, "msg_id") == 0 || strcmp(f->name, "refers_to") == 0 ||
           s_ends_with(f->name, "_id") || s_ends_with(f->name, "_ids");
}

static int s_is_date(const ProtobufCFieldDescriptor *f)
{
    return f->type == PROTOBUF_C_TYPE_UINT32 && s_ends_with(f->name, "_date");
}

static int s_date_valid(unsigned y, unsigned m, unsigned d)
{
    static const unsigned days[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    if (y < 1 || y > 9999 || m < 1 || m > 12 || d < 1)
        return 0;
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return d <= days[m - 1] + (m == 2 && leap);
}

/* Durations that end in _ms like the times do: every other uint64 *_ms is a time. */
static const char *const s_durations[] = { "elapsed_ms", "stage_took_ms", "unapplied_after_ms" };

int pbjson_field_time(const ProtobufCFieldDescriptor *f)
{
    if (f->type != PROTOBUF_C_TYPE_UINT64 || !s_ends_with(f->name, "_ms"))
        return 0;
    for (size_t i = 0; i < sizeof(s_durations) / sizeof(s_durations[0]); i++)
        if (strcmp(f->name, s_durations[i]) == 0)
            return 0;
    return 1;
}

int pbjson_field_by_agency(const ProtobufCFieldDescriptor *f)
{
    return f->type == PROTOBUF_C_TYPE_UINT32 && f->label == PROTOBUF_C_LABEL_REPEATED &&
           strcmp(f->name, "level_of_need") == 0;
}

const char *pbjson_field_key(const ProtobufCFieldDescriptor *f, char *buf, size_t cap)
{
    if (!pbjson_field_time(f))
        return f->name;
    snprintf(buf, cap, "%.*s", (int)(strlen(f->name) - 3), f->name);
    return buf;
}

/* The one mapping between an agency's number and its JSON key: names.h's name, so an agency
 * the roster names maps the same way everywhere; a number with no name yet keeps its digits. */
const char *pbjson_agency_key(uint32_t a, char *buf, size_t cap)
{
    const char *n = names_enum(&tacnet__agency__descriptor, (int)a);
    if (n)
        return n;
    snprintf(buf, cap, "%u", a);
    return buf;
}

int pbjson_agency_parse(const char *key, uint32_t *a)
{
    int v;
    if (names_enum_parse(&tacnet__agency__descriptor, key, &v) == 0 && v > 0) {
        *a = (uint32_t)v;
        return 0;
    }
    char *end = NULL;
    errno = 0;
    unsigned long u = isdigit((unsigned char)key[0]) ? strtoul(key, &end, 10) : 0;
    if (!u || *end || errno == ERANGE || u >= 1024)
        return TACNET_EENUM;
    *a = (uint32_t)u;
    return 0;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil), so
 * times convert without the process's time zone or timegm. */
static int64_t s_days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

static void s_civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int64_t)yoe + era * 400 + (*m <= 2);
}

static json_t *s_time_to_json(uint64_t ms)
{
    int64_t days = (int64_t)(ms / 86400000u), y;
    unsigned m, d, in_day = (unsigned)(ms % 86400000u);
    s_civil_from_days(days, &y, &m, &d);
    char t[40];
    int n = snprintf(t, sizeof(t), "%04lld-%02u-%02uT%02u:%02u:%02u", (long long)y, m, d,
                     in_day / 3600000u, in_day / 60000u % 60, in_day / 1000u % 60);
    if (in_day % 1000)
        snprintf(t + n, sizeof(t) - (size_t)n, ".%03uZ", in_day % 1000);
    else
        snprintf(t + n, sizeof(t) - (size_t)n, "Z");
    return json_string(t);
}

static size_t s_elem_size(ProtobufCType t)
{
    switch (t) {
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64:
    case PROTOBUF_C_TYPE_DOUBLE:
        return 8;
    case PROTOBUF_C_TYPE_BOOL:
        return sizeof(protobuf_c_boolean);
    case PROTOBUF_C_TYPE_STRING:
        return sizeof(char *);
    case PROTOBUF_C_TYPE_BYTES:
        return sizeof(ProtobufCBinaryData);
    case PROTOBUF_C_TYPE_MESSAGE:
        return sizeof(ProtobufCMessage *);
    default:
        return 4;
    }
}

/* ---- message -> JSON ------------------------------------------------------------------- */

static json_t *s_text(const char *s, size_t n)
{
    json_t *j = json_stringn(s, n);
    if (j)
        return j;
    /* Not UTF-8: jansson refuses it, so show what can be shown rather than lose the field. */
    char *copy = xmalloc(n + 1);
    for (size_t i = 0; i < n; i++)
        copy[i] = (unsigned char)s[i] < 0x80 ? s[i] : '?';
    j = json_stringn(copy, n);
    free(copy);
    return j;
}

static json_t *s_value_to_json(const ProtobufCFieldDescriptor *f, const void *v)
{
    switch (f->type) {
    case PROTOBUF_C_TYPE_INT32:
    case PROTOBUF_C_TYPE_SINT32:
    case PROTOBUF_C_TYPE_SFIXED32:
        return json_integer(*(const int32_t *)v);
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_FIXED32: {
        uint32_t u = *(const uint32_t *)v;
        if (s_is_date(f) && s_date_valid(u / 10000, u / 100 % 100, u % 100)) {
            char d[16];
            snprintf(d, sizeof(d), "%04u-%02u-%02u", u / 10000, u / 100 % 100, u % 100);
            return json_string(d);
        }
        return json_integer(u);
    }
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
        return json_integer(*(const int64_t *)v);
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64: {
        uint64_t u = *(const uint64_t *)v;
        if (pbjson_field_time(f) && u < 253402300800000ull) /* before year 10000 */
            return s_time_to_json(u);
        if (u <= (uint64_t)INT64_MAX)
            return json_integer((json_int_t)u);
        char d[24];
        snprintf(d, sizeof(d), "%" PRIu64, u);
        return json_string(d);
    }
    case PROTOBUF_C_TYPE_FLOAT:
        return json_real(*(const float *)v);
    case PROTOBUF_C_TYPE_DOUBLE:
        return json_real(*(const double *)v);
    case PROTOBUF_C_TYPE_BOOL:
        return json_boolean(*(const protobuf_c_boolean *)v);
    case PROTOBUF_C_TYPE_ENUM: {
        int e = *(const int *)v;
        const char *name = names_enum(f->descriptor, e);
        return name ? json_string(name) : json_integer(e);
    }
    case PROTOBUF_C_TYPE_STRING: {
        const char *s = *(const char *const *)v;
        return s_text(s ? s : "", s ? strlen(s) : 0);
    }
    case PROTOBUF_C_TYPE_BYTES: {
        const ProtobufCBinaryData *b = v;
        if (!s_bytes_is_hex(f))
            return s_text(b->data ? (const char *)b->data : "", b->len);
        static const char digits[] = "0123456789abcdef";
        char *hex = xmalloc(b->len * 2 + 1);
        for (size_t i = 0; i < b->len; i++) {
            hex[2 * i] = digits[b->data[i] >> 4];
            hex[2 * i + 1] = digits[b->data[i] & 15];
        }
        json_t *j = json_stringn(hex, b->len * 2);
        free(hex);
        return j;
    }
    case PROTOBUF_C_TYPE_MESSAGE:
        return pbjson_from_message(*(const ProtobufCMessage *const *)v);
    }
    return json_null();
}

/* Whether F holds a value in M (proto2: has_ flags for scalars, NULL for strings/messages). */
static int s_present(const ProtobufCMessage *m, const ProtobufCFieldDescriptor *f)
{
    if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF)
        return MEMBER(uint32_t, m, f->quantifier_offset) == f->id;
    if (f->label == PROTOBUF_C_LABEL_REPEATED)
        return MEMBER(size_t, m, f->quantifier_offset) > 0;
    if (f->type == PROTOBUF_C_TYPE_STRING || f->type == PROTOBUF_C_TYPE_MESSAGE)
        return MEMBER(void *, m, f->offset) != NULL;
    if (f->label == PROTOBUF_C_LABEL_OPTIONAL)
        return MEMBER(protobuf_c_boolean, m, f->quantifier_offset) != 0;
    return 1;
}

json_t *pbjson_from_message(const ProtobufCMessage *m)
{
    if (!m)
        return NULL;
    const ProtobufCMessageDescriptor *d = m->descriptor;
    json_t *obj = json_object();
    for (unsigned i = 0; i < d->n_fields; i++) {
        const ProtobufCFieldDescriptor *f = &d->fields[i];
        if (!s_present(m, f))
            continue;
        const char *at = (const char *)m + f->offset;
        json_t *v;
        char key[64];
        if (pbjson_field_by_agency(f)) {
            size_t n = MEMBER(size_t, m, f->quantifier_offset);
            const uint32_t *arr = *(const uint32_t *const *)(const void *)at;
            v = json_object();
            for (size_t k = 1; k < n; k++)
                if (arr[k])
                    json_object_set_new(v, pbjson_agency_key((uint32_t)k, key, sizeof(key)),
                                        json_integer(arr[k]));
        } else if (f->label == PROTOBUF_C_LABEL_REPEATED) {
            size_t n = MEMBER(size_t, m, f->quantifier_offset);
            const char *arr = *(const char *const *)(const void *)at;
            size_t sz = s_elem_size(f->type);
            v = json_array();
            for (size_t k = 0; k < n; k++)
                json_array_append_new(v, s_value_to_json(f, arr + k * sz));
        } else {
            v = s_value_to_json(f, at);
        }
        json_object_set_new(obj, pbjson_field_key(f, key, sizeof(key)), v ? v : json_null());
    }
    return obj;
}

/* ---- JSON -> message ------------------------------------------------------------------- */

typedef struct {
    char *why;
    size_t whylen;
    path_t path;
} ctx_t;

static int s_message_fill(ctx_t *c, const ProtobufCMessageDescriptor *d, json_t *j,
                          ProtobufCMessage **out);

/* "EventKind" -> "an event kind": enum descriptor names read as nouns in refusals. */
static void s_enum_noun(const ProtobufCEnumDescriptor *e, char *out, size_t len)
{
    const char *n = e->short_name;
    int vowel = strchr("AEIOUaeiou", n[0]) != NULL;
    size_t k = (size_t)snprintf(out, len, "%s", vowel ? "an " : "a ");
    for (size_t i = 0; n[i] && k + 2 < len; i++) {
        if (i && isupper((unsigned char)n[i]))
            out[k++] = ' ';
        out[k++] = (char)tolower((unsigned char)n[i]);
    }
    out[k < len ? k : len - 1] = 0;
}

static int s_int_in(ctx_t *c, json_t *j, long long lo, long long hi, long long *v)
{
    if (!json_is_integer(j))
        return s_fail(c->why, c->whylen, &c->path, "expected an integer");
    *v = json_integer_value(j);
    if (*v < lo || *v > hi)
        return s_fail(c->why, c->whylen, &c->path, "%lld is out of range [%lld, %lld]", *v, lo, hi);
    return 0;
}

static int s_uint64_from(ctx_t *c, json_t *j, uint64_t *v)
{
    if (json_is_string(j)) {
        const char *s = json_string_value(j);
        char *end = NULL;
        if (!isdigit((unsigned char)s[0]))
            return s_fail(c->why, c->whylen, &c->path, "\"%s\" is not an unsigned integer", s);
        errno = 0;
        unsigned long long u = strtoull(s, &end, 10);
        if (*end || errno == ERANGE)
            return s_fail(c->why, c->whylen, &c->path, "\"%s\" is not an unsigned integer", s);
        *v = u;
        return 0;
    }
    long long i;
    int rc = s_int_in(c, j, 0, INT64_MAX, &i);
    *v = (uint64_t)i;
    return rc;
}

static int s_date_from(ctx_t *c, json_t *j, uint32_t *v)
{
    if (json_is_string(j)) {
        const char *s = json_string_value(j);
        unsigned y, m, d;
        int used = 0;
        if (strlen(s) != 10 || sscanf(s, "%4u-%2u-%2u%n", &y, &m, &d, &used) != 3 || used != 10 ||
            !s_date_valid(y, m, d))
            return s_fail(c->why, c->whylen, &c->path, "\"%s\" is not a YYYY-MM-DD date", s);
        *v = y * 10000 + m * 100 + d;
        return 0;
    }
    long long i;
    int rc = s_int_in(c, j, 0, UINT32_MAX, &i);
    if (rc == 0 &&
        !s_date_valid((unsigned)(i / 10000), (unsigned)(i / 100 % 100), (unsigned)(i % 100)))
        return s_fail(c->why, c->whylen, &c->path,
                      "%lld is not a date (YYYYMMDD or \"YYYY-MM-DD\")", i);
    *v = (uint32_t)i;
    return rc;
}

/* "YYYY-MM-DDTHH:MM:SS[.fff]Z" (UTC only: a time zone offset is refused rather than guessed). */
static int s_time_from(ctx_t *c, json_t *j, uint64_t *v)
{
    if (!json_is_string(j))
        return s_fail(c->why, c->whylen, &c->path,
                      "expected an ISO 8601 UTC time, \"2026-11-02T09:30:00Z\"");
    const char *s = json_string_value(j);
    unsigned y, mo, d, h, mi, sec, ms = 0;
    int used = 0, frac = 0;
    size_t len = strlen(s);
    int digits = len >= 20; /* sscanf alone would take a sign or a space for a digit */
    for (size_t i = 0; digits && i < 19; i++)
        digits = i == 4 || i == 7     ? s[i] == '-'
                 : i == 10            ? s[i] == 'T'
                 : i == 13 || i == 16 ? s[i] == ':'
                                      : isdigit((unsigned char)s[i]) != 0;
    int ok = digits &&
             sscanf(s, "%4u-%2u-%2uT%2u:%2u:%2u%n", &y, &mo, &d, &h, &mi, &sec, &used) == 6 &&
             used == 19;
    if (ok && s[19] == '.') {
        ok = sscanf(s + 20, "%3u%n", &ms, &frac) == 1 && frac == 3 && isdigit((unsigned char)s[20]);
        used = 20 + frac;
    }
    ok = ok && strcmp(s + used, "Z") == 0 && s_date_valid(y, mo, d) && h < 24 && mi < 60 &&
         sec < 60 && y >= 1970;
    if (!ok)
        return s_fail(c->why, c->whylen, &c->path,
                      "\"%s\" is not an ISO 8601 UTC time (2026-11-02T09:30:00Z)", s);
    *v = (uint64_t)s_days_from_civil(y, mo, d) * 86400000u + h * 3600000u + mi * 60000u +
         sec * 1000u + ms;
    return 0;
}

/* {"school": 4, ...} into the array indexed by agency value F is (zeroed slots elsewhere). */
static int s_by_agency_from(ctx_t *c, ProtobufCMessage *m, const ProtobufCFieldDescriptor *f,
                            json_t *j)
{
    if (!json_is_object(j))
        return s_fail(c->why, c->whylen, &c->path,
                      "expected an object keyed by agency, {\"school\": 4}");
    uint32_t max = 0, a;
    const char *key;
    json_t *v;
    json_object_foreach(j, key, v)
    {
        if (pbjson_agency_parse(key, &a) != 0) {
            size_t old = s_path_key(&c->path, key);
            int rc = s_fail(c->why, c->whylen, &c->path, "\"%s\" is not an agency", key);
            s_path_pop(&c->path, old);
            return rc;
        }
        max = a > max ? a : max;
    }
    uint32_t *arr = xcalloc(max + 1, sizeof(*arr));
    MEMBER(void *, m, f->offset) = arr;
    MEMBER(size_t, m, f->quantifier_offset) = json_object_size(j) ? max + 1 : 0;
    json_object_foreach(j, key, v)
    {
        long long i;
        size_t old = s_path_key(&c->path, key);
        pbjson_agency_parse(key, &a);
        int rc = s_int_in(c, v, 0, UINT32_MAX, &i);
        if (rc)
            return rc;
        arr[a] = (uint32_t)i;
        s_path_pop(&c->path, old);
    }
    return 0;
}

static int s_hex_from(ctx_t *c, const char *s, size_t n, ProtobufCBinaryData *b)
{
    if (n % 2)
        return s_fail(c->why, c->whylen, &c->path, "\"%s\" is not hex (odd length)", s);
    b->data = xmalloc(n / 2 + 1);
    b->len = n / 2;
    for (size_t i = 0; i < n; i++) {
        int x = tolower((unsigned char)s[i]);
        int nib = isdigit(x) ? x - '0' : (x >= 'a' && x <= 'f') ? x - 'a' + 10 : -1;
        if (nib < 0)
            return s_fail(c->why, c->whylen, &c->path, "\"%s\" is not hex", s);
        b->data[i / 2] = (uint8_t)(i % 2 ? (b->data[i / 2] | nib) : nib << 4);
    }
    return 0;
}

/* Store J, the JSON for one value of F, at V (zeroed storage of F's element type). Memory it
 * allocates is reachable from V even on failure, so the caller's free_unpacked reclaims it. */
static int s_value_from(ctx_t *c, const ProtobufCFieldDescriptor *f, json_t *j, void *v)
{
    long long i;
    int rc = 0;
    switch (f->type) {
    case PROTOBUF_C_TYPE_INT32:
    case PROTOBUF_C_TYPE_SINT32:
    case PROTOBUF_C_TYPE_SFIXED32:
        rc = s_int_in(c, j, INT32_MIN, INT32_MAX, &i);
        *(int32_t *)v = (int32_t)i;
        return rc;
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_FIXED32:
        if (s_is_date(f))
            return s_date_from(c, j, v);
        rc = s_int_in(c, j, 0, UINT32_MAX, &i);
        *(uint32_t *)v = (uint32_t)i;
        return rc;
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
        rc = s_int_in(c, j, INT64_MIN, INT64_MAX, &i);
        *(int64_t *)v = i;
        return rc;
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64:
        return s_uint64_from(c, j, v);
    case PROTOBUF_C_TYPE_FLOAT:
    case PROTOBUF_C_TYPE_DOUBLE:
        if (!json_is_number(j))
            return s_fail(c->why, c->whylen, &c->path, "expected a number");
        if (f->type == PROTOBUF_C_TYPE_FLOAT)
            *(float *)v = (float)json_number_value(j);
        else
            *(double *)v = json_number_value(j);
        return 0;
    case PROTOBUF_C_TYPE_BOOL:
        if (!json_is_boolean(j))
            return s_fail(c->why, c->whylen, &c->path, "expected true or false");
        *(protobuf_c_boolean *)v = json_is_true(j);
        return 0;
    case PROTOBUF_C_TYPE_ENUM: {
        int e;
        if (!json_is_string(j))
            return s_fail(c->why, c->whylen, &c->path, "expected a name (string)");
        if (names_enum_parse(f->descriptor, json_string_value(j), &e) != 0) {
            char noun[64];
            s_enum_noun(f->descriptor, noun, sizeof(noun));
            return s_fail(c->why, c->whylen, &c->path, "\"%s\" is not %s", json_string_value(j),
                          noun);
        }
        *(int *)v = e;
        return 0;
    }
    case PROTOBUF_C_TYPE_STRING:
        if (!json_is_string(j))
            return s_fail(c->why, c->whylen, &c->path, "expected a string");
        if (memchr(json_string_value(j), 0, json_string_length(j)))
            return s_fail(c->why, c->whylen, &c->path, "string contains a NUL");
        *(char **)v = xstrdup(json_string_value(j));
        return 0;
    case PROTOBUF_C_TYPE_BYTES: {
        if (!json_is_string(j))
            return s_fail(c->why, c->whylen, &c->path, "expected a string");
        const char *s = json_string_value(j);
        size_t n = json_string_length(j);
        ProtobufCBinaryData *b = v;
        if (s_bytes_is_hex(f))
            return s_hex_from(c, s, n, b);
        b->data = xmalloc(n + 1);
        memcpy(b->data, s, n);
        b->len = n;
        return 0;
    }
    case PROTOBUF_C_TYPE_MESSAGE:
        return s_message_fill(c, f->descriptor, j, (ProtobufCMessage **)v);
    }
    return s_fail(c->why, c->whylen, &c->path, "unsupported field type");
}

static int s_one_from(ctx_t *c, const ProtobufCFieldDescriptor *f, const char *key, json_t *j,
                      void *at)
{
    if (pbjson_field_time(f) && (strcmp(key, f->name) != 0 || json_is_string(j)))
        return s_time_from(c, j, at);
    return s_value_from(c, f, j, at);
}

/* J is the value of F under KEY: a time under its new key must be ISO 8601; under its .proto
 * name (the old shape) an integer is accepted too. */
static int s_field_from(ctx_t *c, ProtobufCMessage *m, const ProtobufCFieldDescriptor *f,
                        const char *key, json_t *j)
{
    void *at = (char *)m + f->offset;
    if (pbjson_field_by_agency(f) && !json_is_array(j))
        return s_by_agency_from(c, m, f, j);
    if (f->label != PROTOBUF_C_LABEL_REPEATED) {
        int rc = s_one_from(c, f, key, j, at);
        if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF)
            MEMBER(uint32_t, m, f->quantifier_offset) = f->id;
        else if (f->label == PROTOBUF_C_LABEL_OPTIONAL && f->type != PROTOBUF_C_TYPE_STRING &&
                 f->type != PROTOBUF_C_TYPE_MESSAGE)
            MEMBER(protobuf_c_boolean, m, f->quantifier_offset) = 1;
        return rc;
    }
    if (!json_is_array(j))
        return s_fail(c->why, c->whylen, &c->path, "expected an array");
    size_t n = json_array_size(j), sz = s_elem_size(f->type);
    char *arr = xcalloc(n ? n : 1, sz);
    MEMBER(void *, m, f->offset) = arr;
    MEMBER(size_t, m, f->quantifier_offset) = n;
    for (size_t k = 0; k < n; k++) {
        size_t old = s_path_index(&c->path, k);
        json_t *e = json_array_get(j, k);
        int rc = json_is_null(e) ? s_fail(c->why, c->whylen, &c->path, "null in an array")
                                 : s_one_from(c, f, key, e, arr + k * sz);
        if (rc)
            return rc;
        s_path_pop(&c->path, old);
    }
    return 0;
}

/* The field KEY names in D: its .proto name, or, for a time, that name without "_ms". */
static const ProtobufCFieldDescriptor *s_field_by_key(const ProtobufCMessageDescriptor *d,
                                                      const char *key)
{
    const ProtobufCFieldDescriptor *f = protobuf_c_message_descriptor_get_field_by_name(d, key);
    if (f)
        return f;
    char name[80];
    if (snprintf(name, sizeof(name), "%s_ms", key) >= (int)sizeof(name))
        return NULL;
    f = protobuf_c_message_descriptor_get_field_by_name(d, name);
    return f && pbjson_field_time(f) ? f : NULL;
}

static int s_message_fill(ctx_t *c, const ProtobufCMessageDescriptor *d, json_t *j,
                          ProtobufCMessage **out)
{
    if (!json_is_object(j))
        return s_fail(c->why, c->whylen, &c->path, "expected an object");
    ProtobufCMessage *m = xcalloc(1, d->sizeof_message);
    protobuf_c_message_init(d, m);
    *out = m;
    unsigned char seen[256] = { 0 };
    const char *key;
    json_t *v;
    json_object_foreach(j, key, v)
    {
        size_t old = s_path_key(&c->path, key);
        const ProtobufCFieldDescriptor *f = s_field_by_key(d, key);
        if (!f)
            return s_fail(c->why, c->whylen, &c->path, "unknown field");
        size_t idx = (size_t)(f - d->fields);
        if (idx < sizeof(seen) && seen[idx]) {
            /* A time is named with or without "_ms": say both spellings that were given. */
            char other[64];
            size_t n = strlen(f->name);
            if (strcmp(key, f->name) == 0 && n > 3 && strcmp(f->name + n - 3, "_ms") == 0)
                snprintf(other, sizeof(other), "%.*s", (int)(n - 3), f->name);
            else
                snprintf(other, sizeof(other), "%s", f->name);
            return s_fail(c->why, c->whylen, &c->path, "given twice (as \"%s\" and \"%s\")", other,
                          key);
        }
        if (json_is_null(v)) {
            s_path_pop(&c->path, old);
            continue;
        }
        if ((f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) &&
            MEMBER(uint32_t, m, f->quantifier_offset) != 0) {
            const ProtobufCFieldDescriptor *other = protobuf_c_message_descriptor_get_field(
                d, MEMBER(uint32_t, m, f->quantifier_offset));
            return s_fail(c->why, c->whylen, &c->path, "only one of \"%s\" and \"%s\" may be set",
                          other ? other->name : "?", key);
        }
        int rc = s_field_from(c, m, f, key, v);
        if (rc)
            return rc;
        if (idx < sizeof(seen))
            seen[idx] = 1;
        s_path_pop(&c->path, old);
    }
    for (unsigned i = 0; i < d->n_fields && i < sizeof(seen); i++) {
        if (d->fields[i].label == PROTOBUF_C_LABEL_REQUIRED && !seen[i]) {
            size_t old = s_path_key(&c->path, d->fields[i].name);
            int rc = s_fail(c->why, c->whylen, &c->path, "required field missing");
            s_path_pop(&c->path, old);
            return rc;
        }
    }
    return 0;
}

ProtobufCMessage *pbjson_to_message(const ProtobufCMessageDescriptor *d, json_t *j, char *why,
                                    size_t whylen)
{
    ctx_t c = { .why = why, .whylen = whylen };
    ProtobufCMessage *m = NULL;
    if (why && whylen)
        why[0] = 0;
    if (s_message_fill(&c, d, j, &m) != 0) {
        if (m)
            protobuf_c_message_free_unpacked(m, NULL);
        return NULL;
    }
    return m;
}
