/* err: the code table, and the allocation wrappers that abort on out-of-memory. */
#include "err.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *tacnet_strerror(int err)
{
    if (err == 0)
        return "ok";
    if (err > 0)
        return strerror(err);
    switch (err) {
#define X(name, code, text) \
    case code:              \
        return text;
        TACNET_ERR_MAP(X)
#undef X
    default:
        return "unknown error";
    }
}

const char *tacnet_errname(int err)
{
    if (err == 0)
        return "OK";
    switch (err) {
#define X(name, code, text) \
    case code:              \
        return "E_" #name;
        TACNET_ERR_MAP(X)
#undef X
    default:
        return "E_UNKNOWN";
    }
}

static void s_oom(unsigned long size)
{
    fprintf(stderr, "tacnet: out of memory allocating %lu bytes\n", size);
    abort();
}

void *xmalloc(unsigned long size)
{
    void *p = malloc(size ? size : 1);
    if (!p)
        s_oom(size);
    return p;
}

void *xcalloc(unsigned long n, unsigned long size)
{
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (!p)
        s_oom(n * size);
    return p;
}

void *xrealloc(void *p, unsigned long size)
{
    void *q = realloc(p, size ? size : 1);
    if (!q)
        s_oom(size);
    return q;
}

char *xstrdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *p = xmalloc(n);
    memcpy(p, s, n);
    return p;
}
