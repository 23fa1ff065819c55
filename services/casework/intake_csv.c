/* intake_csv: the RFC 4180 reader behind the intake adapters (dialect in intake.h). Split from
 * intake.c so the byte-level parsing sits apart from the field checks and builders. */
#include "casework/intake.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "err.h"

/* How much of a bad header cell is quoted back in a message. */
#define INTAKE_CSV_ECHO 16

/* A growable byte buffer for one field. */
typedef struct s_buf {
    char *p;
    size_t len, cap;
} s_buf_t;

static void s_buf_push(s_buf_t *b, char c)
{
    if (b->len + 1 >= b->cap) {
        b->cap = b->cap ? b->cap * 2 : 64;
        b->p = xrealloc(b->p, b->cap);
    }
    b->p[b->len++] = c;
    b->p[b->len] = '\0';
}

/* One parsed record: fields (malloc'd strings) and whether each was quoted. */
typedef struct s_record {
    char **fields;
    bool *quoted;
    size_t n;
    unsigned line;
    bool bad; /* a structural problem was already reported */
} s_record_t;

static void s_record_reset(s_record_t *rec)
{
    for (size_t i = 0; i < rec->n; i++)
        free(rec->fields[i]);
    free(rec->fields);
    free(rec->quoted);
    memset(rec, 0, sizeof(*rec));
}

static void s_record_push(s_record_t *rec, s_buf_t *b, bool quoted)
{
    char *s = b->p ? b->p : xstrdup("");
    if (!quoted) {
        /* Trim spaces and tabs: spreadsheets pad cells, and no field value starts with one. */
        size_t len = strlen(s), start = 0;
        while (start < len && (s[start] == ' ' || s[start] == '\t'))
            start++;
        while (len > start && (s[len - 1] == ' ' || s[len - 1] == '\t'))
            len--;
        memmove(s, s + start, len - start);
        s[len - start] = '\0';
    }
    rec->fields = xrealloc(rec->fields, (rec->n + 1) * sizeof(*rec->fields));
    rec->quoted = xrealloc(rec->quoted, (rec->n + 1) * sizeof(*rec->quoted));
    rec->fields[rec->n] = s;
    rec->quoted[rec->n] = quoted;
    rec->n++;
    memset(b, 0, sizeof(*b));
}

typedef struct s_reader {
    const char *text;
    size_t len, pos;
    unsigned line; /* line of text[pos] */
    intake_result_t *out;
} s_reader_t;

static bool s_at_eol(const s_reader_t *rd)
{
    return rd->pos >= rd->len || rd->text[rd->pos] == '\n' ||
           (rd->text[rd->pos] == '\r' && (rd->pos + 1 >= rd->len || rd->text[rd->pos + 1] == '\n'));
}

static void s_skip_eol(s_reader_t *rd)
{
    if (rd->pos < rd->len && rd->text[rd->pos] == '\r')
        rd->pos++;
    if (rd->pos < rd->len && rd->text[rd->pos] == '\n') {
        rd->pos++;
        rd->line++;
    }
}

static void s_skip_line(s_reader_t *rd)
{
    while (!s_at_eol(rd))
        rd->pos++;
    s_skip_eol(rd);
}

/* Read one record starting at rd->pos. Returns false at the end of the text. A record with a
 * structural problem is reported once and marked bad; reading resumes at the next line. */
static bool s_read_record(s_reader_t *rd, s_record_t *rec)
{
    memset(rec, 0, sizeof(*rec));
    if (rd->pos >= rd->len)
        return false;
    rec->line = rd->line;
    s_buf_t b = { 0 };
    for (;;) {
        bool quoted = false;
        if (rd->pos < rd->len && rd->text[rd->pos] == '"') {
            quoted = true;
            rd->pos++;
            for (;;) {
                if (rd->pos >= rd->len) {
                    intake_result_error(rd->out, rec->line, TACNET_EIMPORT,
                                        "field %zu has an opening quote that is never closed",
                                        rec->n + 1);
                    free(b.p);
                    rec->bad = true;
                    return true;
                }
                char c = rd->text[rd->pos++];
                if (c == '"') {
                    if (rd->pos < rd->len && rd->text[rd->pos] == '"') {
                        s_buf_push(&b, '"');
                        rd->pos++;
                        continue;
                    }
                    break;
                }
                if (c == '\r' && rd->pos < rd->len && rd->text[rd->pos] == '\n')
                    continue; /* a CRLF inside a quoted field is a line break, kept as LF */
                if (c == '\n')
                    rd->line++;
                s_buf_push(&b, c);
            }
            while (rd->pos < rd->len && (rd->text[rd->pos] == ' ' || rd->text[rd->pos] == '\t'))
                rd->pos++;
            if (!s_at_eol(rd) && rd->text[rd->pos] != ',') {
                intake_result_error(rd->out, rec->line, TACNET_EIMPORT,
                                    "field %zu has text after its closing quote", rec->n + 1);
                rec->bad = true;
            }
        } else {
            while (!s_at_eol(rd) && rd->text[rd->pos] != ',') {
                char c = rd->text[rd->pos++];
                if (c == '"' && !rec->bad) {
                    intake_result_error(rd->out, rec->line, TACNET_EIMPORT,
                                        "field %zu has a quote inside an unquoted value",
                                        rec->n + 1);
                    rec->bad = true;
                }
                s_buf_push(&b, c);
            }
        }
        if (rec->bad) {
            free(b.p);
            s_skip_line(rd);
            return true;
        }
        s_record_push(rec, &b, quoted);
        if (rec->n > INTAKE_MAX_COLUMNS) {
            intake_result_error(rd->out, rec->line, TACNET_EIMPORT, "more than %d fields",
                                INTAKE_MAX_COLUMNS);
            rec->bad = true;
            s_skip_line(rd);
            return true;
        }
        if (s_at_eol(rd)) {
            s_skip_eol(rd);
            return true;
        }
        rd->pos++; /* the comma */
    }
}

static bool s_record_blank(const s_record_t *rec)
{
    for (size_t i = 0; i < rec->n; i++)
        if (rec->quoted[i] || rec->fields[i][0])
            return false;
    return true;
}

/* How well HEADER matches FORMAT: the number of format columns present. */
static size_t s_format_score(const s_record_t *header, const intake_format_t *f)
{
    size_t score = 0;
    for (size_t c = 0; c < f->n_columns; c++)
        for (size_t i = 0; i < header->n; i++)
            if (strcasecmp(header->fields[i], f->columns[c]) == 0) {
                score++;
                break;
            }
    return score;
}

/* The format's case_ref column, or SIZE_MAX: only a format with one takes the name columns. */
static size_t s_case_col(const intake_format_t *f)
{
    for (size_t c = 0; c < f->n_columns; c++)
        if (strcasecmp(f->columns[c], "case_ref") == 0)
            return c;
    return SIZE_MAX;
}

/* Map each header field to a format column (MAP[i] = column index; the optional name columns
 * follow the format's, at n_columns + k). Reports unknown, repeated and missing columns; returns
 * false if there were any. */
static bool s_header_map(const s_record_t *header, const intake_format_t *f, size_t *map,
                         intake_result_t *out)
{
    bool ok = true;
    bool seen[INTAKE_MAX_COLUMNS + INTAKE_NAMES_COLUMNS] = { false };
    bool names = s_case_col(f) != SIZE_MAX;
    for (size_t i = 0; i < header->n; i++) {
        map[i] = SIZE_MAX;
        for (size_t c = 0; c < f->n_columns; c++)
            if (strcasecmp(header->fields[i], f->columns[c]) == 0)
                map[i] = c;
        for (size_t k = 0; names && k < INTAKE_NAMES_COLUMNS; k++)
            if (strcasecmp(header->fields[i], intake_names_columns[k]) == 0)
                map[i] = f->n_columns + k;
        if (map[i] == SIZE_MAX) {
            /* A header cell is a column name, not case data, so it may be quoted back. */
            intake_result_error(out, header->line, TACNET_EIMPORT,
                                "column %zu \"%.*s\" is not a %s column", i + 1, INTAKE_CSV_ECHO,
                                header->fields[i], f->name);
            ok = false;
        } else if (seen[map[i]]) {
            intake_result_error(out, header->line, TACNET_EIMPORT, "column %s appears twice",
                                map[i] < f->n_columns
                                    ? f->columns[map[i]]
                                    : intake_names_columns[map[i] - f->n_columns]);
            ok = false;
        } else {
            seen[map[i]] = true;
        }
    }
    for (size_t c = 0; c < f->n_columns; c++)
        if (!seen[c]) {
            intake_result_error(out, header->line, TACNET_EIMPORT, "column %s is missing",
                                f->columns[c]);
            ok = false;
        }
    return ok;
}

static bool s_has_nul(const char *text, size_t len, s_reader_t *rd)
{
    const char *nul = memchr(text, '\0', len);
    if (!nul)
        return false;
    unsigned line = 1;
    for (const char *p = text; p < nul; p++)
        if (*p == '\n')
            line++;
    intake_result_error(rd->out, line, TACNET_EIMPORT, "contains a NUL byte");
    return true;
}

int intake_csv_parse(const char *text, size_t len, const intake_format_t *formats, size_t n_formats,
                     void *arg, intake_result_t *out)
{
    memset(out, 0, sizeof(*out));
    s_reader_t rd = { .text = text, .len = len, .pos = 0, .line = 1, .out = out };
    s_record_t rec = { 0 };
    const intake_format_t *f = NULL;
    size_t map[INTAKE_MAX_COLUMNS];
    const char *columns[INTAKE_MAX_COLUMNS + INTAKE_NAMES_COLUMNS]; /* the format's, then names */
    size_t n_header = 0;

    if (len > INTAKE_MAX_FILE) {
        intake_result_error(out, 0, TACNET_EIMPORT, "file is larger than %u bytes",
                            INTAKE_MAX_FILE);
        goto fail;
    }
    /* Field values are C strings; a NUL would silently cut one short. */
    if (s_has_nul(text, len, &rd))
        goto fail;
    if (len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0)
        rd.pos = 3;

    for (;;) {
        /* A comment is a whole line, even if it holds quotes or commas. */
        while (rd.pos < rd.len && rd.text[rd.pos] == '#')
            s_skip_line(&rd);
        if (!s_read_record(&rd, &rec))
            break;
        if (rec.bad && !f)
            goto fail; /* without a header no row can be read */
        if (rec.bad || s_record_blank(&rec)) {
            s_record_reset(&rec);
            continue;
        }
        if (!f) {
            size_t best = 0;
            f = &formats[0];
            for (size_t i = 0; i < n_formats; i++) {
                size_t score = s_format_score(&rec, &formats[i]);
                if (score > best) {
                    best = score;
                    f = &formats[i];
                }
            }
            if (rec.n > INTAKE_MAX_COLUMNS || f->n_columns > INTAKE_MAX_COLUMNS ||
                !s_header_map(&rec, f, map, out))
                goto fail;
            for (size_t c = 0; c < f->n_columns; c++)
                columns[c] = f->columns[c];
            for (size_t k = 0; k < INTAKE_NAMES_COLUMNS; k++)
                columns[f->n_columns + k] = intake_names_columns[k];
            n_header = rec.n;
            s_record_reset(&rec);
            continue;
        }
        if (rec.n != n_header) {
            intake_result_error(out, rec.line, TACNET_EIMPORT, "has %zu fields; the header has %zu",
                                rec.n, n_header);
            s_record_reset(&rec);
            continue;
        }
        const char *fields[INTAKE_MAX_COLUMNS + INTAKE_NAMES_COLUMNS];
        for (size_t k = 0; k < INTAKE_NAMES_COLUMNS; k++)
            fields[f->n_columns + k] = ""; /* name columns the file does not have */
        for (size_t i = 0; i < rec.n; i++)
            fields[map[i]] = rec.fields[i];
        intake_row_t row = { .line = rec.line,
                             .fields = fields,
                             .columns = columns,
                             .n_columns = f->n_columns,
                             .result = out };
        size_t before = out->n_requests, errors = out->n_errors;
        f->on_row(&row, arg);
        if (s_case_col(f) != SIZE_MAX && out->n_errors == errors)
            intake_names_row(&row, s_case_col(f), f->n_columns);
        if (out->n_requests > before) {
            /* So that a row the daemon refuses later is named by its line too. */
            out->lines = xrealloc(out->lines, out->n_requests * sizeof(*out->lines));
            for (size_t i = before; i < out->n_requests; i++)
                out->lines[i] = rec.line;
        }
        s_record_reset(&rec);
    }
    if (!f && out->n_errors == 0)
        intake_result_error(out, 1, TACNET_EIMPORT, "no header row (expected %s columns)",
                            formats[0].name);
    if (out->n_errors == 0)
        return 0;
fail:
    s_record_reset(&rec);
    /* Nothing half-imported: one bad row voids the whole file. */
    for (size_t i = 0; i < out->n_requests; i++)
        protobuf_c_message_free_unpacked(&out->requests[i]->base, NULL);
    free(out->requests);
    free(out->lines);
    out->requests = NULL;
    out->lines = NULL;
    out->n_requests = 0;
    intake_names_clear(out);
    return TACNET_EIMPORT;
}

int intake_csv_read(const char *path, const intake_format_t *formats, size_t n_formats, void *arg,
                    intake_result_t *out)
{
    memset(out, 0, sizeof(*out));
    int rc = 0;
    char *text = NULL;
    size_t len = 0;
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return errno == ENOENT ? TACNET_ENOTFOUND : TACNET_EIO;
    /* Read at most one byte past the limit, so an oversized file is reported as such. */
    size_t cap = 0;
    while (len <= INTAKE_MAX_FILE) {
        if (len == cap) {
            cap = cap ? cap * 2 : 64 * 1024;
            if (cap > INTAKE_MAX_FILE + 1)
                cap = INTAKE_MAX_FILE + 1;
            text = xrealloc(text, cap);
        }
        size_t got = fread(text + len, 1, cap - len, fp);
        len += got;
        if (got == 0)
            break;
    }
    if (ferror(fp)) {
        rc = TACNET_EIO;
        goto fail;
    }
    rc = intake_csv_parse(text, len, formats, n_formats, arg, out);
fail:
    free(text);
    fclose(fp);
    return rc;
}
