/* dashboard: the agency daemon's HTTP server — the lead professional's dashboard (web.c,
 * web_case.c, forms.c) and the HTTP/JSON API under /api/v1 — built only on the agency core's
 * public interface (agency/agency.h) and run by libmicrohttpd inside the daemon's one poll loop
 * (one thread, one loop). The core does not know the dashboard: the composition root
 * (services/agencyd/daemon.c) creates it for an agency and hands the agency's loop its poll
 * source; a form posted here goes to agency_publish, one way.
 *
 * libmicrohttpd runs without a thread of its own, in epoll mode: its one epoll descriptor is the
 * poll source's descriptor, the wait is bounded by MHD_get_timeout, and MHD_run does the work.
 * Live updates are server-sent events: a stream with nothing new suspends its connection, and
 * the poll source resumes every stream when the view applies new events (or every 15 s for a
 * keep-alive comment, which is also how a closed browser tab is noticed).
 *
 * Authentication: dashboard pages need a session cookie (HttpOnly, SameSite=Strict, Path=/,
 * Secure over HTTPS) from the log-in form, and every POST a CSRF token bound to the session and
 * an Origin of this dashboard (guard.h: also the Host allowlist, the log-in form's token, TLS);
 * /api/v1 needs `Authorization: Bearer <token>` from `tacnet token add`. The credentials are the
 * core's (agency/accounts.h), checked through agency/auth.h: failures are throttled per source
 * in memory and cost nothing durable. Slow clients are bounded per source and by a read
 * deadline (conns.h). Every response carries the security headers (a CSP without inline script
 * or style, X-Frame-Options DENY, nosniff, no referrer to other sites).
 */
#ifndef TACNET_DASHBOARD_H
#define TACNET_DASHBOARD_H

#include <stddef.h>

#include "agency/agency.h"

typedef struct dashboard dashboard_t;

typedef struct dashboard_config {
    const char *listen; /* [http] listen: an IPv4 or IPv6 address (its default is the table's) */
    unsigned port;      /* [http] port, 1-65535 */
    /* [http] hosts: the Host names served (NULL or "": the listen address, localhost,
     * 127.0.0.1 and ::1) */
    const char *hosts;
    const char *cert;      /* [http] cert: PEM certificate chain; with KEY, serve HTTPS */
    const char *key;       /* [http] key: PEM private key (not readable by others) */
    int behind_tls_proxy;  /* [http] behind_tls_proxy: a proxy in front terminates TLS */
    const char *time_zone; /* [http] time_zone: the zone times are shown in (zone.h) */
} dashboard_config_t;

/* Serve the dashboard and the HTTP/JSON API of AGENCY (borrowed: it must outlive the
 * dashboard) on CFG's address. Returns an owned object, or NULL with *ERR TACNET_ECONFIG (bad
 * listen address, no port) or TACNET_EIO (cannot listen) and WHY naming the problem. Nothing is
 * served until the poll source runs. */
dashboard_t *dashboard_new(agency_t *agency, const dashboard_config_t *cfg, int *err, char *why,
                           size_t whylen);

/* The poll source to hand to agency_poll_add: the server's epoll descriptor, its timeout and
 * its run function, with SELF as the argument (valid until dashboard_destroy). */
agency_poll_source_t dashboard_poll_source(dashboard_t *self);

/* Stop the server, ending live streams, and free it. Null-safe; sets *SELF_P to NULL. Remove
 * the poll source from the agency first (agency_poll_remove), and destroy the dashboard before
 * the agency. */
void dashboard_destroy(dashboard_t **self_p);

#endif
