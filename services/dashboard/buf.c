/* buf: the dashboard's growing buffers and decoded form fields (see buf.h). */
#include "buf.h"
#include "err.h"

#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void dashboard_buf_add(dashboard_buf_t *b, const char *s, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 1024;
        while (cap < b->len + n + 1)
            cap *= 2;
        /* Not realloc: the old block is wiped before it is freed. */
        char *data = xmalloc(cap);
        if (b->data) {
            memcpy(data, b->data, b->len + 1);
            sodium_memzero(b->data, b->cap);
            free(b->data);
        }
        b->data = data;
        b->cap = cap;
    }
    memcpy(b->data + b->len, s, n);
    b->len += n;
    b->data[b->len] = 0;
}

void dashboard_buf_puts(dashboard_buf_t *b, const char *s)
{
    dashboard_buf_add(b, s, strlen(s));
}

void dashboard_buf_printf(dashboard_buf_t *b, const char *fmt, ...)
{
    char small[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof(small), fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if ((size_t)n < sizeof(small)) {
        dashboard_buf_add(b, small, (size_t)n);
        return;
    }
    char *big = xmalloc((size_t)n + 1);
    va_start(ap, fmt);
    vsnprintf(big, (size_t)n + 1, fmt, ap);
    va_end(ap);
    dashboard_buf_add(b, big, (size_t)n);
    free(big);
}

void dashboard_buf_html(dashboard_buf_t *b, const char *s, size_t n)
{
    for (size_t i = 0; s && i < n; i++) {
        switch (s[i]) {
        case '<':
            dashboard_buf_puts(b, "&lt;");
            break;
        case '>':
            dashboard_buf_puts(b, "&gt;");
            break;
        case '&':
            dashboard_buf_puts(b, "&amp;");
            break;
        case '"':
            dashboard_buf_puts(b, "&quot;");
            break;
        case '\'':
            dashboard_buf_puts(b, "&#39;");
            break;
        case 0:
            dashboard_buf_puts(b, "\xef\xbf\xbd"); /* NUL shows as U+FFFD */
            break;
        default:
            dashboard_buf_add(b, s + i, 1);
        }
    }
}

void dashboard_buf_free(dashboard_buf_t *b)
{
    if (b->data)
        sodium_memzero(b->data, b->cap);
    free(b->data);
    memset(b, 0, sizeof(*b));
}

const char *dashboard_kv_get(const dashboard_kv_t *kv, const char *key)
{
    for (size_t i = 0; kv && i < kv->n; i++)
        if (strcmp(kv->v[i].key, key) == 0)
            return kv->v[i].value;
    return NULL;
}

void dashboard_kv_add(dashboard_kv_t *kv, const char *key, const char *value)
{
    if (kv->n >= DASHBOARD_KV_MAX)
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
                sodium_memzero(out, n + 1);
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

/* Free a field's copy, wiped first (it may be a password). */
static void s_field_free(char *f)
{
    if (f) {
        sodium_memzero(f, strlen(f));
        free(f);
    }
}

int dashboard_kv_parse(dashboard_kv_t *kv, const char *s, size_t n)
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
            s_field_free(k), s_field_free(v);
            return TACNET_EBADMSG;
        }
        if (kl && kv->n < DASHBOARD_KV_MAX) {
            kv->v[kv->n].key = k;
            kv->v[kv->n].value = v;
            kv->n++;
        } else {
            s_field_free(k), s_field_free(v);
        }
        i = j + 1;
    }
    return 0;
}

void dashboard_kv_clear(dashboard_kv_t *kv)
{
    for (size_t i = 0; i < kv->n; i++) {
        s_field_free(kv->v[i].key);
        s_field_free(kv->v[i].value);
    }
    kv->n = 0;
}
