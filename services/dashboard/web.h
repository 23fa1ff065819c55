/* web: the lead professional's dashboard, rendered as HTML on the server (pages work without
 * JavaScript; a small script only adds live updates). http.c routes a request here with the
 * logged-in user, its query and form fields, and sends what the page wrote.
 *
 * Every page is escaped as it is written (agency_buf_html), carries no inline script or style
 * (the Content-Security-Policy forbids both), and shows only cases this agency is a member of;
 * every read of a case is an audit record naming the user by initials and role.
 */
#ifndef TACNET_DASHBOARD_WEB_H
#define TACNET_DASHBOARD_WEB_H

#include <stddef.h>
#include <stdint.h>

#include "api.pb-c.h"
#include "users.h"

/* A growing byte buffer; out of memory aborts. */
typedef struct agency_buf {
    char *data;
    size_t len, cap;
} agency_buf_t;

void agency_buf_add(agency_buf_t *b, const char *s, size_t n);
void agency_buf_puts(agency_buf_t *b, const char *s);
void agency_buf_printf(agency_buf_t *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Append S (N bytes) escaped for HTML text and attribute values. */
void agency_buf_html(agency_buf_t *b, const char *s, size_t n);
void agency_buf_free(agency_buf_t *b);

/* Decoded query or form fields, in order (a key may repeat). */
#define AGENCY_KV_MAX 96
typedef struct agency_kv {
    size_t n;
    struct {
        char *key, *value;
    } v[AGENCY_KV_MAX];
} agency_kv_t;

/* The first value of KEY, or NULL. */
const char *agency_kv_get(const agency_kv_t *kv, const char *key);
/* Add a copy of KEY and VALUE (ignored past AGENCY_KV_MAX). */
void agency_kv_add(agency_kv_t *kv, const char *key, const char *value);
/* Parse an application/x-www-form-urlencoded body. Returns 0 or TACNET_EBADMSG. */
int agency_kv_parse(agency_kv_t *kv, const char *s, size_t n);
void agency_kv_clear(agency_kv_t *kv);

/* One page request and its answer. */
typedef struct agency_web {
    agency_t *agency;
    const agency_session_t *user; /* NULL on the log-in page */
    const agency_kv_t *query;
    const agency_kv_t *form; /* POST fields, or NULL */
    int status;              /* out: HTTP status (200 unless set) */
    char location[512];      /* out: redirect target, when status is 303 */
    agency_buf_t body;       /* out: the page */
} agency_web_t;

/* The audit actor for a session: "web/AB:dsl". */
void agency_web_actor(const agency_session_t *s, char *out, size_t cap);

/* Read a case for ACTOR, refusing one this agency is not a member of exactly like one it does
 * not hold (TACNET_ENOTFOUND), and record the read (or its refusal) in the audit chain. Returns
 * 0 with reply->show_case set (free REPLY with agency_view_reply_free), or the code. */
int agency_web_case_read(agency_t *self, const char *actor, const char *ref,
                         Tacnet__ApiReply *reply);

/* Record one audit entry in its own transaction. Returns 0 or a storage error. */
int agency_web_audit(agency_t *self, const char *actor, const char *action, const char *object,
                     int code);

/* Pages. LOGIN_CSRF is the token the log-in form must echo (bound to a cookie by http.c);
 * CODE the refusal of a previous attempt (0: none). */
void agency_web_login(agency_web_t *w, const char *login_csrf, int code);
void agency_web_cases(agency_web_t *w);
void agency_web_case(agency_web_t *w, const char *ref);
void agency_web_inbox(agency_web_t *w);
/* GET shows the form NAME for case REF; POST (w->form set) publishes it, redirecting to the
 * case on success or showing the refusal (code, reason, each offending span) with the values
 * kept. An unknown form is a 404. */
void agency_web_form(agency_web_t *w, const char *ref, const char *name);
/* An error page with STATUS, the code's name and REASON. */
void agency_web_error(agency_web_t *w, int status, int code, const char *reason);

/* Static files: the stylesheet, the live-update script and the icon. Returns 0 with the bytes
 * and their type, or TACNET_ENOTFOUND. */
int agency_web_asset(const char *path, const char **data, size_t *len, const char **type);

#endif
