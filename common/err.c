/* err: the code table, and the allocation wrappers that abort on out-of-memory. */
#include "err.h"

#include <errno.h>
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

int tacnet_err_from_errno(int errnum)
{
    if (errnum <= 0)
        return errnum;
    switch (errnum) {
    case EAGAIN:
#if EWOULDBLOCK != EAGAIN
    case EWOULDBLOCK:
#endif
        return TACNET_EAGAIN;
    case EINTR:
        return TACNET_EINTR;
    case EHOSTUNREACH:
        return TACNET_EHOSTUNREACH;
    case ENOMEM:
        return TACNET_ENOMEM;
    case EINVAL:
        return TACNET_EINVAL;
    case ENOENT:
        return TACNET_ENOTFOUND;
    case EEXIST:
        return TACNET_EEXISTS;
    case ENOSPC:
    case EDQUOT:
        return TACNET_EDISKFULL;
    case ETIMEDOUT:
        return TACNET_ETIMEOUT;
    default:
        return TACNET_EIO;
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
