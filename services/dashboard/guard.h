/* guard: what the dashboard checks about a request before it looks at what is asked — the Host
 * it was sent to (an allowlist, against DNS rebinding), the Origin of a POST (a page elsewhere
 * must not post here: refused with 403, whatever cookies it carries), the log-in form's token
 * (bound to this daemon by a keyed MAC over a time and a random value, so a token an attacker
 * made up, or planted in a victim's cookie jar, is not accepted) — and how the daemon listens:
 * TLS with [http] cert and key (then cookies are Secure), and no plain HTTP beyond loopback
 * unless [http] behind_tls_proxy says a proxy terminates TLS in front of it.
 *
 * The MAC key is drawn when the daemon starts (sodium_malloc, wiped at exit), so a restart
 * makes open log-in forms stale; sessions are the core's and survive.
 */
#ifndef TACNET_DASHBOARD_GUARD_H
#define TACNET_DASHBOARD_GUARD_H

#include <stddef.h>
#include <stdint.h>

#include "dashboard.h"

typedef struct dashboard_guard dashboard_guard_t;

/* How long a log-in form's token is accepted. */
#define DASHBOARD_LOGIN_TOKEN_MS (30u * 60 * 1000)

/* The guard for CFG: its host allowlist, its TLS certificate and key read from their files.
 * Returns an owned object, or NULL with *ERR TACNET_ECONFIG (cert without key, a host list
 * entry that is not a host, plain HTTP on an address beyond loopback), TACNET_EPERM (the key
 * file readable by others) or TACNET_EIO (a file that cannot be read) and WHY naming it. */
dashboard_guard_t *dashboard_guard_new(const dashboard_config_t *cfg, int *err, char *why,
                                       size_t whylen);
void dashboard_guard_destroy(dashboard_guard_t **self_p);

/* The PEM certificate chain and key for libmicrohttpd, or NULL when TLS is off. Valid until
 * dashboard_guard_destroy. */
const char *dashboard_guard_cert(const dashboard_guard_t *self);
const char *dashboard_guard_key(const dashboard_guard_t *self);
/* 1 when browsers reach the dashboard over HTTPS (TLS here, or a TLS proxy in front): cookies
 * are then Secure and a POST's Origin must be https. */
int dashboard_guard_secure(const dashboard_guard_t *self);

/* Is HOST (the Host header: "name", "name:port", "[v6]:port") in the allowlist? Returns 0, or
 * TACNET_EFORBIDDEN (also for no Host at all). */
int dashboard_guard_host(const dashboard_guard_t *self, const char *host);

/* May a POST with these headers (each may be NULL) be served? A request with an Origin must come
 * from this very origin (scheme, host and port of HOST); one without must not be marked as
 * cross-site by the browser (Sec-Fetch-Site). Returns 0, or TACNET_EFORBIDDEN with WHY. */
int dashboard_guard_origin(const dashboard_guard_t *self, const char *origin, const char *host,
                           const char *fetch_site, char *why, size_t whylen);

/* A fresh log-in form token for NOW_MS (monotonic): 64 hex characters and a NUL into OUT. */
void dashboard_guard_login_token(dashboard_guard_t *self, uint64_t now_ms, char out[65]);
/* Did this daemon make TOKEN less than DASHBOARD_LOGIN_TOKEN_MS before NOW_MS? Returns 0, or
 * TACNET_ECSRF. */
int dashboard_guard_login_check(const dashboard_guard_t *self, const char *token, uint64_t now_ms);

#endif
