/* http: the agency daemon's HTTP server — the dashboard (web.c, forms.c) and the HTTP/JSON API
 * under /api/v1 — run by libmicrohttpd inside the daemon's one poll loop (no thread of its own).
 *
 * libmicrohttpd runs without a thread of its own, in epoll mode: its one epoll descriptor joins
 * the loop's zmq_poll set, the wait is bounded by MHD_get_timeout, and MHD_run does the work.
 * Live updates are server-sent events: a stream with nothing new suspends its connection, and
 * the loop resumes every stream when the view applies new events (or every 15 s for a
 * keep-alive comment, which is also how a closed browser tab is noticed).
 *
 * Authentication: dashboard pages need a session cookie (HttpOnly, SameSite=Strict, Path=/) from
 * the log-in form, and every POST a CSRF token bound to the session; /api/v1 needs
 * `Authorization: Bearer <token>` from `tacnet token add`. Every response carries the security
 * headers (a CSP without inline script or style, X-Frame-Options DENY, nosniff, no referrer).
 */
#ifndef TACNET_DASHBOARD_HTTP_H
#define TACNET_DASHBOARD_HTTP_H

#include <stddef.h>

typedef struct agency agency_t;

/* Start the server when the config names a port (else do nothing). Returns 0, or
 * TACNET_ECONFIG (bad listen address) / TACNET_EIO (cannot listen) with WHY. */
int agency_http_start(agency_t *self, char *why, size_t whylen);

/* Stop the server, closing live streams. Null-safe (does nothing when not started). */
void agency_http_stop(agency_t *self);

/* The descriptor to poll for input, or -1 when there is no server. */
int agency_http_fd(agency_t *self);

/* The poll timeout in ms: MAX_MS, or less if the server has work due sooner. */
long agency_http_timeout(agency_t *self, long max_ms);

/* Serve whatever is ready; resume live streams when the view has moved on. */
void agency_http_run(agency_t *self);

#endif
