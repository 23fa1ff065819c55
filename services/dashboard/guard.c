/* guard: Host allowlist, Origin check, the log-in form's token and the TLS material (see
 * guard.h). */
#include "guard.h"
#include "err.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#define S_MAX_HOSTS 16
#define S_HOST_LEN  254
#define S_PEM_MAX   (64 * 1024)

struct dashboard_guard {
    char hosts[S_MAX_HOSTS][S_HOST_LEN];
    size_t n_hosts;
    int tls, proxy;
    char *cert;         /* PEM, malloc'd */
    char *key;          /* PEM, sodium_malloc'd: a secret */
    unsigned char *mac; /* crypto_auth key, sodium_malloc'd */
};

/* ------------------------------------------------------------------ set-up */

static int s_loopback(const char *listen)
{
    struct in_addr a4;
    struct in6_addr a6;
    if (inet_pton(AF_INET, listen, &a4) == 1)
        return (ntohl(a4.s_addr) >> 24) == 127;
    return inet_pton(AF_INET6, listen, &a6) == 1 && IN6_IS_ADDR_LOOPBACK(&a6);
}

static int s_host_add(dashboard_guard_t *self, const char *h, size_t n)
{
    if (n && h[0] == '[' && h[n - 1] == ']')
        h++, n -= 2;
    if (n == 0 || n >= S_HOST_LEN || self->n_hosts == S_MAX_HOSTS)
        return -1;
    for (size_t i = 0; i < n; i++)
        if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-:", h[i]))
            return -1;
    snprintf(self->hosts[self->n_hosts++], S_HOST_LEN, "%.*s", (int)n, h);
    return 0;
}

static int s_hosts(dashboard_guard_t *self, const dashboard_config_t *cfg, char *why, size_t whylen)
{
    const char *list = cfg->hosts ? cfg->hosts : "";
    if (!list[strspn(list, ", \t")]) {
        static const char *const local[] = { "localhost", "127.0.0.1", "::1" };
        const char *l = cfg->listen ? cfg->listen : "";
        if (strcmp(l, "0.0.0.0") != 0 && strcmp(l, "::") != 0 && *l)
            s_host_add(self, l, strlen(l));
        for (size_t i = 0; i < 3; i++)
            s_host_add(self, local[i], strlen(local[i]));
        return 0;
    }
    for (const char *p = list; *p;) {
        p += strspn(p, ", \t");
        size_t n = strcspn(p, ", \t");
        if (n && s_host_add(self, p, n) != 0) {
            snprintf(why, whylen,
                     "[http] hosts: '%.*s' is not a host name or address (at most %d of them)",
                     (int)(n < 64 ? n : 64), p, S_MAX_HOSTS);
            return TACNET_ECONFIG;
        }
        p += n;
    }
    return 0;
}

/* Read PATH whole into a buffer from ALLOC (NUL-terminated). SECRET: refuse a file others may
 * read. */
static int s_read_pem(const char *path, int secret, char **out, char *why, size_t whylen)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    int rc = 0;
    char *buf = NULL;
    if (fd < 0 || fstat(fd, &st) != 0 || st.st_size <= 0 || st.st_size >= S_PEM_MAX) {
        snprintf(why, whylen, "[http] %s = %s cannot be read (missing, empty or over 64 KiB)",
                 secret ? "key" : "cert", path);
        rc = TACNET_EIO;
        goto fail;
    }
    if (secret && (st.st_mode & 007)) {
        snprintf(why, whylen, "[http] key = %s is readable by others: chmod 0600 (or 0640)", path);
        rc = TACNET_EPERM;
        goto fail;
    }
    buf = secret ? sodium_malloc((size_t)st.st_size + 1) : malloc((size_t)st.st_size + 1);
    if (!buf || read(fd, buf, (size_t)st.st_size) != st.st_size) {
        snprintf(why, whylen, "[http] %s = %s: short read", secret ? "key" : "cert", path);
        rc = TACNET_EIO;
        goto fail;
    }
    buf[st.st_size] = 0;
    close(fd);
    *out = buf;
    return 0;
fail:
    if (buf && secret)
        sodium_free(buf);
    else
        free(buf);
    if (fd >= 0)
        close(fd);
    return rc;
}

static int s_tls(dashboard_guard_t *self, const dashboard_config_t *cfg, char *why, size_t whylen)
{
    int has_cert = cfg->cert && *cfg->cert, has_key = cfg->key && *cfg->key;
    if (has_cert != has_key) {
        snprintf(why, whylen, "[http] cert and key go together: set both for HTTPS, or neither");
        return TACNET_ECONFIG;
    }
    if (has_cert && MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES) {
        snprintf(why, whylen, "[http] cert and key: this libmicrohttpd was built without HTTPS");
        return TACNET_ECONFIG;
    }
    int rc = 0;
    if (has_cert && (rc = s_read_pem(cfg->cert, 0, &self->cert, why, whylen)) == 0)
        rc = s_read_pem(cfg->key, 1, &self->key, why, whylen);
    self->tls = has_cert && rc == 0;
    self->proxy = cfg->behind_tls_proxy != 0;
    if (rc == 0 && !self->tls && !self->proxy && !s_loopback(cfg->listen ? cfg->listen : "")) {
        snprintf(why, whylen,
                 "[http] listen = %s is beyond loopback without TLS: set [http] cert and key, or "
                 "behind_tls_proxy = true when a proxy in front terminates TLS",
                 cfg->listen ? cfg->listen : "");
        rc = TACNET_ECONFIG;
    }
    return rc;
}

dashboard_guard_t *dashboard_guard_new(const dashboard_config_t *cfg, int *err, char *why,
                                       size_t whylen)
{
    dashboard_guard_t *self = xcalloc(1, sizeof(*self));
    if (sodium_init() < 0) { /* the key is read into sodium_malloc'd memory */
        snprintf(why, whylen, "libsodium could not start");
        *err = TACNET_ENOMEM;
        free(self);
        return NULL;
    }
    int rc = s_hosts(self, cfg, why, whylen);
    if (rc == 0)
        rc = s_tls(self, cfg, why, whylen);
    if (rc == 0 && !(self->mac = sodium_malloc(crypto_auth_KEYBYTES))) {
        snprintf(why, whylen, "out of memory for the log-in token key");
        rc = TACNET_ENOMEM;
    }
    if (rc != 0) {
        *err = rc;
        dashboard_guard_destroy(&self);
        return NULL;
    }
    crypto_auth_keygen(self->mac);
    return self;
}

void dashboard_guard_destroy(dashboard_guard_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    dashboard_guard_t *self = *self_p;
    free(self->cert);
    if (self->key)
        sodium_free(self->key); /* wipes it */
    if (self->mac)
        sodium_free(self->mac);
    free(self);
    *self_p = NULL;
}

const char *dashboard_guard_cert(const dashboard_guard_t *self)
{
    return self->tls ? self->cert : NULL;
}

const char *dashboard_guard_key(const dashboard_guard_t *self)
{
    return self->tls ? self->key : NULL;
}

int dashboard_guard_secure(const dashboard_guard_t *self)
{
    return self->tls || self->proxy;
}

/* ------------------------------------------------------------------ Host and Origin */

/* The name part of a Host header ("[::1]:8080" -> "::1") into OUT. Returns 0, or -1. */
static int s_host_name(const char *host, char out[S_HOST_LEN])
{
    size_t n;
    if (host[0] == '[') {
        const char *end = strchr(host, ']');
        if (!end || (end[1] && end[1] != ':'))
            return -1;
        host++;
        n = (size_t)(end - host);
    } else {
        n = strcspn(host, ":");
    }
    if (n == 0 || n >= S_HOST_LEN)
        return -1;
    snprintf(out, S_HOST_LEN, "%.*s", (int)n, host);
    return 0;
}

int dashboard_guard_host(const dashboard_guard_t *self, const char *host)
{
    char name[S_HOST_LEN];
    if (!host || s_host_name(host, name) != 0)
        return TACNET_EFORBIDDEN;
    for (size_t i = 0; i < self->n_hosts; i++)
        if (strcasecmp(self->hosts[i], name) == 0)
            return 0;
    return TACNET_EFORBIDDEN;
}

int dashboard_guard_origin(const dashboard_guard_t *self, const char *origin, const char *host,
                           const char *fetch_site, char *why, size_t whylen)
{
    if (!origin) {
        /* Not a browser, or an old one: a browser that says the request is cross-site is
         * believed; the session's CSRF token still has to match. */
        if (fetch_site && strcmp(fetch_site, "same-origin") != 0 &&
            strcmp(fetch_site, "none") != 0) {
            snprintf(why, whylen, "a form posted from another site (Sec-Fetch-Site: %.20s)",
                     fetch_site);
            return TACNET_EFORBIDDEN;
        }
        return 0;
    }
    /* A browser sends "null" from a page whose referrer policy hides its origin (an attacker's
     * page can do that too); the browser's own word that the request is same-origin
     * (Sec-Fetch-Site, which no page can set) settles it. */
    if (strcmp(origin, "null") == 0 && fetch_site && strcmp(fetch_site, "same-origin") == 0)
        return 0;
    const char *scheme = dashboard_guard_secure(self) ? "https://" : "http://";
    size_t sl = strlen(scheme);
    if (!host || strncasecmp(origin, scheme, sl) != 0 || strcasecmp(origin + sl, host) != 0) {
        snprintf(why, whylen, "a form posted from another origin (%.80s), not from %s%.80s", origin,
                 scheme, host ? host : "?");
        return TACNET_EFORBIDDEN;
    }
    return 0;
}

/* ------------------------------------------------------------------ the log-in form's token */

/* time(8, big-endian) random(8) MAC(16): 32 bytes, shown as 64 hex characters. */
static void s_mac(const dashboard_guard_t *self, const uint8_t msg[16], uint8_t tag[16])
{
    uint8_t full[crypto_auth_BYTES];
    crypto_auth(full, msg, 16, self->mac);
    memcpy(tag, full, 16);
    sodium_memzero(full, sizeof(full));
}

void dashboard_guard_login_token(dashboard_guard_t *self, uint64_t now_ms, char out[65])
{
    uint8_t t[32];
    for (int i = 0; i < 8; i++)
        t[i] = (uint8_t)(now_ms >> (56 - 8 * i));
    randombytes_buf(t + 8, 8);
    s_mac(self, t, t + 16);
    sodium_bin2hex(out, 65, t, sizeof(t));
    sodium_memzero(t, sizeof(t));
}

int dashboard_guard_login_check(const dashboard_guard_t *self, const char *token, uint64_t now_ms)
{
    uint8_t t[32], tag[16];
    size_t n = 0;
    if (!token || strlen(token) != 64 ||
        sodium_hex2bin(t, sizeof(t), token, 64, NULL, &n, NULL) != 0 || n != 32)
        return TACNET_ECSRF;
    s_mac(self, t, tag);
    uint64_t made = 0;
    for (int i = 0; i < 8; i++)
        made = made << 8 | t[i];
    int ok = sodium_memcmp(tag, t + 16, 16) == 0 && made <= now_ms &&
             now_ms - made < DASHBOARD_LOGIN_TOKEN_MS;
    sodium_memzero(t, sizeof(t));
    return ok ? 0 : TACNET_ECSRF;
}
