/* buf: what the dashboard writes into and reads from — a growing byte buffer for pages, request
 * bodies and streams, and the decoded fields of a query string or posted form. Both hold
 * secrets at times (a log-in form's password, a page's CSRF token), so both wipe what they free.
 */
#ifndef TACNET_DASHBOARD_BUF_H
#define TACNET_DASHBOARD_BUF_H

#include <stddef.h>

/* A growing byte buffer, zero-initialised ({ 0 }) and owned by whoever declared it; DATA is
 * NUL-terminated once anything was added. Out of memory aborts. Its bytes are wiped
 * (sodium_memzero) when it grows out of a block and when it is freed: request bodies may hold a
 * password and pages carry the session's CSRF token, and wiping every buffer costs little next
 * to drawing a page. */
typedef struct dashboard_buf {
    char *data;
    size_t len, cap;
} dashboard_buf_t;

void dashboard_buf_add(dashboard_buf_t *b, const char *s, size_t n);
void dashboard_buf_puts(dashboard_buf_t *b, const char *s);
void dashboard_buf_printf(dashboard_buf_t *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Append S (N bytes) escaped for HTML text and attribute values. */
void dashboard_buf_html(dashboard_buf_t *b, const char *s, size_t n);
/* Wipe and free the bytes; B is empty again (and may be reused). */
void dashboard_buf_free(dashboard_buf_t *b);

/* Decoded query or form fields, in order (a key may repeat), zero-initialised; the copies are
 * the set's own until dashboard_kv_clear, which wipes them (a value may be a password). */
#define DASHBOARD_KV_MAX 96
typedef struct dashboard_kv {
    size_t n;
    struct {
        char *key, *value;
    } v[DASHBOARD_KV_MAX];
} dashboard_kv_t;

/* The first value of KEY (valid until the set is cleared), or NULL. */
const char *dashboard_kv_get(const dashboard_kv_t *kv, const char *key);
/* Add a copy of KEY and VALUE (ignored past DASHBOARD_KV_MAX). */
void dashboard_kv_add(dashboard_kv_t *kv, const char *key, const char *value);
/* Add the fields of an application/x-www-form-urlencoded body S (N bytes). Returns 0, or
 * TACNET_EBADMSG (a malformed escape or an encoded NUL) with the fields before it added: clear
 * the set either way. */
int dashboard_kv_parse(dashboard_kv_t *kv, const char *s, size_t n);
/* Wipe and free every field; KV is empty again. */
void dashboard_kv_clear(dashboard_kv_t *kv);

#endif
