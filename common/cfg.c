/* cfg: INI files checked against a table of options.
 *
 * inih does the tokenising. Its handler is not told the line number (Debian builds it without
 * INI_HANDLER_LINENO) and it does not report section headers, so the file is fed to it through
 * our own line reader: the reader counts lines, keeps a copy of the raw line for the checks
 * inih cannot make (indentation, trailing comments), and checks section headers itself.
 */
#include "cfg.h"
#include "err.h"

#include <assert.h>
#include <errno.h>
#include <ini.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct cfg_entry {
    char *value; /* owned; resolved for CFG_PATH; NULL when absent with no default */
    long num;    /* CFG_INT, CFG_BOOL, CFG_DURATION (ms) */
    int line;    /* line that set it, 0 for the default */
};

struct cfg {
    const cfg_option_t *table;
    size_t n;
    struct cfg_entry *entries;
};

struct s_section_seen {
    char *name;
    int line;
};

/* One parse in progress. */
typedef struct {
    cfg_t *cfg;
    const char *name; /* file name for reasons */
    char *dir;        /* base for relative paths, NULL to leave them as written */
    FILE *file;       /* the source: a file ... */
    const char *text; /* ... or text in memory */
    char *raw;        /* current line as read, owned */
    size_t rawcap;
    int lineno;
    int io_error;
    struct s_section_seen *sections;
    size_t nsections;
    int err_line; /* first refused line; -1 for a reason without a line */
    int failed;
    char *why;
    size_t whylen;
} s_parse_t;

static void s_fail(s_parse_t *p, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Keep the first reason only: later ones are often consequences of the first. */
static void s_fail(s_parse_t *p, int line, const char *fmt, ...)
{
    if (p->failed)
        return;
    p->failed = 1;
    p->err_line = line;
    if (!p->why || p->whylen == 0)
        return;
    int off = line > 0 ? snprintf(p->why, p->whylen, "%s:%d: ", p->name, line)
                       : snprintf(p->why, p->whylen, "%s: ", p->name);
    if (off < 0 || (size_t)off >= p->whylen)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(p->why + off, p->whylen - (size_t)off, fmt, ap);
    va_end(ap);
}

/* " in [broker]" or " before any [section]", for reasons. */
static void s_where(const char *section, char *out, size_t cap)
{
    if (*section)
        snprintf(out, cap, "in [%s]", section);
    else
        snprintf(out, cap, "before any [section]");
}

static size_t s_find(const cfg_option_t *table, size_t n, const char *section, const char *key)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(table[i].section, section) == 0 && strcmp(table[i].key, key) == 0)
            return i;
    return n;
}

static int s_section_known(const cfg_option_t *table, size_t n, const char *section)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(table[i].section, section) == 0)
            return 1;
    return 0;
}

static char *s_join(const char *dir, const char *rel)
{
    size_t a = strlen(dir), b = strlen(rel);
    char *out = xmalloc(a + b + 2);
    memcpy(out, dir, a);
    out[a] = '/';
    memcpy(out + a + 1, rel, b + 1);
    return out;
}

static int s_in_range(const cfg_option_t *opt, long v)
{
    return (opt->min == 0 && opt->max == 0) || (v >= opt->min && v <= opt->max);
}

/* Parse VALUE for OPT into *OUT. Returns 0, or -1 with a reason fragment in MSG. */
static int s_parse_value(const cfg_option_t *opt, const char *value, const char *dir,
                         struct cfg_entry *out, char *msg, size_t msgcap)
{
    char where[128];
    s_where(opt->section, where, sizeof(where));
    long num = 0;
    char *end = NULL;
    switch (opt->type) {
    case CFG_STRING:
        out->value = xstrdup(value);
        return 0;
    case CFG_PATH:
        if (!*value) {
            snprintf(msg, msgcap, "empty path for \"%s\" %s", opt->key, where);
            return -1;
        }
        if (strncmp(value, CFG_CREDENTIAL_PREFIX, strlen(CFG_CREDENTIAL_PREFIX)) == 0) {
            /* systemd LoadCredential= hands secrets over in a private, read-only directory
             * named by CREDENTIALS_DIRECTORY; the config names the credential, not a path. */
            const char *name = value + strlen(CFG_CREDENTIAL_PREFIX);
            const char *cd = getenv("CREDENTIALS_DIRECTORY");
            if (!*name || strchr(name, '/')) {
                snprintf(msg, msgcap, "\"%s\" %s: credential name \"%.40s\" is empty or has a /",
                         opt->key, where, name);
                return -1;
            }
            if (!cd || cd[0] != '/') {
                snprintf(msg, msgcap,
                         "\"%s\" %s names a credential, but CREDENTIALS_DIRECTORY is not set "
                         "(run under systemd with LoadCredential=)",
                         opt->key, where);
                return -1;
            }
            out->value = s_join(cd, name);
            return 0;
        }
        out->value = dir && value[0] != '/' ? s_join(dir, value) : xstrdup(value);
        return 0;
    case CFG_BOOL:
        if (!strcasecmp(value, "yes") || !strcasecmp(value, "true") || !strcasecmp(value, "on") ||
            !strcmp(value, "1"))
            num = 1;
        else if (!strcasecmp(value, "no") || !strcasecmp(value, "false") ||
                 !strcasecmp(value, "off") || !strcmp(value, "0"))
            num = 0;
        else {
            snprintf(msg, msgcap, "\"%s\" %s must be yes or no, not \"%.40s\"", opt->key, where,
                     value);
            return -1;
        }
        break;
    case CFG_INT:
        errno = 0;
        num = strtol(value, &end, 10);
        if (!*value || *end || errno == ERANGE) {
            snprintf(msg, msgcap, "\"%s\" %s must be an integer, not \"%.40s\"", opt->key, where,
                     value);
            return -1;
        }
        break;
    case CFG_DURATION: {
        static const struct {
            const char *unit;
            long ms;
        } units[] = {
            { "ms", 1 }, { "s", 1000 }, { "m", 60000 }, { "h", 3600000 }, { "d", 86400000 }
        };
        errno = 0;
        num = strtol(value, &end, 10);
        int ok = *value >= '0' && *value <= '9' && errno != ERANGE;
        size_t u = 0;
        while (ok && u < sizeof(units) / sizeof(units[0]) && strcmp(end, units[u].unit) != 0)
            u++;
        if (!ok || u == sizeof(units) / sizeof(units[0]) || num > LONG_MAX / units[u].ms) {
            snprintf(msg, msgcap,
                     "\"%s\" %s must be a duration such as 250ms, 30s, 5m, 2h or 10d, "
                     "not \"%.40s\"",
                     opt->key, where, value);
            return -1;
        }
        num *= units[u].ms;
        break;
    }
    default:
        assert(!"unknown cfg_type");
        return -1;
    }
    if (!s_in_range(opt, num)) {
        snprintf(msg, msgcap, "\"%s\" %s is %.40s, outside %ld..%ld%s", opt->key, where, value,
                 opt->min, opt->max, opt->type == CFG_DURATION ? " ms" : "");
        return -1;
    }
    out->num = num;
    out->value = xstrdup(value);
    return 0;
}

/* Section headers are checked here, as each line is read, because inih never reports them:
 * an unknown or repeated section is refused at its own line even when it holds no keys. */
static void s_check_section_line(s_parse_t *p)
{
    const char *s = p->raw;
    if (p->lineno == 1 && strncmp(s, "\xEF\xBB\xBF", 3) == 0)
        s += 3;
    while (*s == ' ' || *s == '\t')
        s++;
    if (*s != '[')
        return;
    s++;
    const char *close = strchr(s, ']');
    if (!close)
        return; /* inih reports the syntax error */
    /* inih ignores whatever follows ']'; a stray word there is more likely a mistake. */
    const char *after = close + 1;
    while (*after == ' ' || *after == '\t')
        after++;
    if (*after && *after != '\r' && *after != '\n') {
        s_fail(p, p->lineno, "text after the section header (comments go on their own line)");
        return;
    }
    while (s < close && (*s == ' ' || *s == '\t'))
        s++;
    const char *e = close;
    while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
        e--;
    size_t len = (size_t)(e - s);
    char *name = xmalloc(len + 1);
    memcpy(name, s, len);
    name[len] = '\0';
    for (size_t i = 0; i < p->nsections; i++) {
        if (strcmp(p->sections[i].name, name) == 0) {
            s_fail(p, p->lineno, "section [%s] appears twice (first on line %d)", name,
                   p->sections[i].line);
            free(name);
            return;
        }
    }
    if (!s_section_known(p->cfg->table, p->cfg->n, name))
        s_fail(p, p->lineno, "unknown section [%s]", name);
    p->sections = xrealloc(p->sections, (p->nsections + 1) * sizeof(p->sections[0]));
    p->sections[p->nsections].name = name;
    p->sections[p->nsections].line = p->lineno;
    p->nsections++;
}

/* Read one whole line into p->raw. Returns its length, or -1 at the end of the input. */
static ssize_t s_read_raw(s_parse_t *p)
{
    if (p->file) {
        ssize_t len = getline(&p->raw, &p->rawcap, p->file);
        if (len < 0 && ferror(p->file))
            p->io_error = 1;
        return len;
    }
    if (!*p->text)
        return -1;
    const char *nl = strchr(p->text, '\n');
    size_t len = nl ? (size_t)(nl - p->text) + 1 : strlen(p->text);
    if (len + 1 > p->rawcap) {
        p->rawcap = len + 1;
        p->raw = xrealloc(p->raw, p->rawcap);
    }
    memcpy(p->raw, p->text, len);
    p->raw[len] = '\0';
    p->text += len;
    return (ssize_t)len;
}

static char *s_reader(char *str, int num, void *stream)
{
    s_parse_t *p = stream;
    ssize_t len = s_read_raw(p);
    if (len < 0)
        return NULL;
    p->lineno++;
    if (len >= num || len >= CFG_MAX_LINE) {
        s_fail(p, p->lineno, "line longer than %d bytes", CFG_MAX_LINE - 1);
        return NULL;
    }
    s_check_section_line(p);
    memcpy(str, p->raw, (size_t)len + 1);
    return str;
}

/* A comment after a value would otherwise become part of a string or path, or (for ';') be
 * stripped silently by inih; either way the file would not say what it seems to say. */
static int s_has_trailing_comment(const char *raw)
{
    const char *v = strpbrk(raw, "=:");
    for (; v && *v; v++)
        if ((*v == ' ' || *v == '\t') && (v[1] == '#' || v[1] == ';'))
            return 1;
    return 0;
}

static int s_handler(void *user, const char *section, const char *key, const char *value)
{
    s_parse_t *p = user;
    cfg_t *cfg = p->cfg;
    char where[128];
    s_where(section, where, sizeof(where));
    if (p->raw[0] == ' ' || p->raw[0] == '\t') {
        s_fail(p, p->lineno, "indented line %s (continuation lines are not allowed)", where);
        return 0;
    }
    size_t i = s_find(cfg->table, cfg->n, section, key);
    if (i == cfg->n) {
        s_fail(p, p->lineno, "unknown key \"%s\" %s", key, where);
        return 0;
    }
    struct cfg_entry *entry = &cfg->entries[i];
    if (entry->line) {
        s_fail(p, p->lineno, "duplicate key \"%s\" %s (first set on line %d)", key, where,
               entry->line);
        return 0;
    }
    if (s_has_trailing_comment(p->raw)) {
        s_fail(p, p->lineno, "comment after the value of \"%s\" %s: put it on its own line", key,
               where);
        return 0;
    }
    struct cfg_entry parsed = { 0 };
    char msg[256];
    if (s_parse_value(&cfg->table[i], value, p->dir, &parsed, msg, sizeof(msg)) < 0) {
        s_fail(p, p->lineno, "%s", msg);
        return 0;
    }
    free(entry->value);
    *entry = parsed;
    entry->line = p->lineno;
    return 1;
}

void cfg_destroy(cfg_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    cfg_t *self = *self_p;
    for (size_t i = 0; i < self->n; i++)
        free(self->entries[i].value);
    free(self->entries);
    free(self);
    *self_p = NULL;
}

static long s_scale(const cfg_option_t *opt)
{
    return opt->scale ? opt->scale : 1;
}

/* A binding must hold every value its row accepts: checked once per table, not per value. */
static void s_check_binding(const cfg_option_t *opt)
{
    if (!opt->size)
        return;
    if (opt->type == CFG_STRING || opt->type == CFG_PATH) {
        assert(opt->size == sizeof(const char *) && "a string row binds a const char *");
        assert(s_scale(opt) == 1 && "a string row has no scale");
        return;
    }
    assert((opt->size == 1 || opt->size == 2 || opt->size == 4 || opt->size == 8) &&
           "a number row binds an integer field");
    if (opt->type == CFG_BOOL)
        return;
    long scale = s_scale(opt);
    assert(scale > 0 && "scale must be positive");
    int bounded = opt->min != 0 || opt->max != 0;
    assert((bounded || (scale == 1 && opt->size == sizeof(long))) &&
           "an unbounded row binds a long-sized field, unscaled");
    assert((!bounded || (opt->max <= LONG_MAX / scale && opt->min >= LONG_MIN / scale)) &&
           "the scaled range overflows a long");
    if (bounded && opt->size < sizeof(long)) {
        long bits = (long)opt->size * 8;
        assert(opt->max * scale <= (1L << bits) - 1 && opt->min * scale >= -(1L << (bits - 1)) &&
               "the scaled range does not fit the field");
        (void)bits;
    }
    (void)scale;
    (void)bounded;
}

static void s_check_table(const cfg_option_t *table, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        assert(table[i].section && table[i].key);
        assert(s_find(table, i, table[i].section, table[i].key) == i && "key listed twice");
        s_check_binding(&table[i]);
    }
}

static cfg_t *s_new_with_defaults(const cfg_option_t *table, size_t n, const char *dir)
{
    s_check_table(table, n);
    cfg_t *self = xcalloc(1, sizeof(cfg_t));
    self->table = table;
    self->n = n;
    self->entries = xcalloc(n, sizeof(struct cfg_entry));
    for (size_t i = 0; i < n; i++) {
        if (!table[i].default_value)
            continue;
        char msg[256];
        int rc = s_parse_value(&table[i], table[i].default_value, dir, &self->entries[i], msg,
                               sizeof(msg));
        assert(rc == 0 && "invalid default in cfg table");
        (void)rc;
        self->entries[i].line = 0;
    }
    return self;
}

static cfg_t *s_load(s_parse_t *p, const cfg_option_t *table, size_t n, int *err)
{
    int rc = 0;
    p->cfg = s_new_with_defaults(table, n, p->dir);
    int ret = ini_parse_stream(s_reader, p, s_handler, p);
    if (p->io_error) {
        rc = TACNET_EIO;
        p->failed = 0;
        s_fail(p, p->lineno + 1, "read error");
        goto fail;
    }
    if (ret == -2)
        abort(); /* inih's out of memory: abort like xmalloc */
    if (ret > 0 && (!p->failed || ret < p->err_line)) {
        p->failed = 0;
        s_fail(p, ret, "expected \"key = value\", \"[section]\" or a comment");
    }
    if (!p->failed) {
        for (size_t i = 0; i < n; i++) {
            if (table[i].required && !p->cfg->entries[i].line) {
                char where[128];
                s_where(table[i].section, where, sizeof(where));
                s_fail(p, 0, "missing required key \"%s\" %s", table[i].key, where);
                break;
            }
        }
    }
    if (p->failed)
        rc = TACNET_ECONFIG;
fail:
    for (size_t i = 0; i < p->nsections; i++)
        free(p->sections[i].name);
    free(p->sections);
    free(p->raw);
    free(p->dir);
    if (rc)
        cfg_destroy(&p->cfg);
    else if (p->why && p->whylen)
        p->why[0] = '\0';
    if (err)
        *err = rc;
    return p->cfg;
}

static char *s_dir_of(const char *path)
{
    const char *slash = strrchr(path, '/');
    if (!slash)
        return NULL;
    size_t len = (size_t)(slash - path);
    char *dir = xmalloc(len + 1);
    memcpy(dir, path, len);
    dir[len] = '\0';
    return dir;
}

cfg_t *cfg_load(const char *path, const cfg_option_t *table, size_t n, int *err, char *why,
                size_t whylen)
{
    s_parse_t p = { .name = path, .why = why, .whylen = whylen };
    p.file = fopen(path, "r");
    if (!p.file) {
        int rc = errno == ENOENT ? TACNET_ENOTFOUND : TACNET_EIO;
        s_fail(&p, 0, "cannot open: %s", strerror(errno));
        if (err)
            *err = rc;
        return NULL;
    }
    p.dir = s_dir_of(path);
    cfg_t *self = s_load(&p, table, n, err);
    fclose(p.file);
    return self;
}

cfg_t *cfg_load_string(const char *text, const char *name, const cfg_option_t *table, size_t n,
                       int *err, char *why, size_t whylen)
{
    s_parse_t p = { .name = name ? name : "<string>", .text = text, .why = why, .whylen = whylen };
    p.dir = name ? s_dir_of(name) : NULL;
    return s_load(&p, table, n, err);
}

static const struct cfg_entry *s_entry(const cfg_t *self, const char *section, const char *key,
                                       enum cfg_type type)
{
    (void)type; /* only the assert below reads it; NDEBUG builds (make bench) must still build */
    assert(self);
    size_t i = s_find(self->table, self->n, section, key);
    assert(i < self->n && "key not in the cfg table");
    if (i >= self->n)
        abort();
    assert(
        (self->table[i].type == type || (type == CFG_STRING && self->table[i].type == CFG_PATH)) &&
        "wrong getter for this key's type");
    return &self->entries[i];
}

const char *cfg_str(const cfg_t *self, const char *section, const char *key)
{
    return s_entry(self, section, key, CFG_STRING)->value;
}

long cfg_int(const cfg_t *self, const char *section, const char *key)
{
    return s_entry(self, section, key, CFG_INT)->num;
}

int cfg_bool(const cfg_t *self, const char *section, const char *key)
{
    return (int)s_entry(self, section, key, CFG_BOOL)->num;
}

long cfg_duration_ms(const cfg_t *self, const char *section, const char *key)
{
    return s_entry(self, section, key, CFG_DURATION)->num;
}

int cfg_line(const cfg_t *self, const char *section, const char *key)
{
    assert(self);
    size_t i = s_find(self->table, self->n, section, key);
    assert(i < self->n && "key not in the cfg table");
    if (i >= self->n)
        abort();
    return self->entries[i].line;
}

/* Store NUM (already scaled) in the SIZE-byte integer at FIELD. The range checks made sure it
 * fits; the two's-complement truncation serves signed and unsigned fields alike. */
static void s_store_num(void *field, size_t size, long num)
{
    uint64_t v = (uint64_t)num;
    switch (size) {
    case 1: {
        uint8_t x = (uint8_t)v;
        memcpy(field, &x, sizeof(x));
        break;
    }
    case 2: {
        uint16_t x = (uint16_t)v;
        memcpy(field, &x, sizeof(x));
        break;
    }
    case 4: {
        uint32_t x = (uint32_t)v;
        memcpy(field, &x, sizeof(x));
        break;
    }
    default:
        memcpy(field, &v, sizeof(v));
        break;
    }
}

static void s_store(const cfg_option_t *opt, void *base, const char *str, long num)
{
    void *field = (char *)base + opt->offset;
    if (opt->type == CFG_STRING || opt->type == CFG_PATH)
        memcpy(field, &str, sizeof(str));
    else if (opt->type == CFG_BOOL)
        s_store_num(field, opt->size, num);
    else
        s_store_num(field, opt->size, num * s_scale(opt));
}

void cfg_fill(const cfg_t *self, void *base)
{
    assert(self && base);
    for (size_t i = 0; i < self->n; i++)
        if (self->table[i].size)
            s_store(&self->table[i], base, self->entries[i].value, self->entries[i].num);
}

void cfg_defaults_fill(const cfg_option_t *table, size_t n, void *base)
{
    assert(base);
    s_check_table(table, n);
    for (size_t i = 0; i < n; i++) {
        const cfg_option_t *opt = &table[i];
        if (!opt->size)
            continue;
        struct cfg_entry e = { 0 };
        if (opt->default_value && opt->type != CFG_STRING && opt->type != CFG_PATH) {
            char msg[256];
            int rc = s_parse_value(opt, opt->default_value, NULL, &e, msg, sizeof(msg));
            assert(rc == 0 && "invalid default in cfg table");
            (void)rc;
            free(e.value);
        }
        s_store(opt, base, opt->default_value, e.num);
    }
}
