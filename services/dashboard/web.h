/* web: the lead professional's dashboard, rendered as HTML on the server (pages work without
 * JavaScript; a small script only adds live updates). dashboard.c routes a request here with the
 * logged-in user, its query and form fields, and sends what the page wrote.
 *
 * Every page is escaped as it is written (dashboard_buf_html), carries no inline script or style
 * (the Content-Security-Policy forbids both), and shows only cases this agency is a member of;
 * every read of a case is an audit record naming the user by initials and role.
 */
#ifndef TACNET_DASHBOARD_WEB_H
#define TACNET_DASHBOARD_WEB_H

#include <stddef.h>
#include <stdint.h>

#include "agency/agency.h"
#include "api.pb-c.h"
#include "buf.h"

/* One page request and its answer. */
typedef struct dashboard_web {
    agency_t *agency;
    struct dashboard_index *index; /* the case summaries My cases lists (case_index.h) */
    const agency_session_t *user;  /* NULL on the log-in page */
    const dashboard_kv_t *query;
    const dashboard_kv_t *form; /* POST fields, or NULL */
    int status;                 /* out: HTTP status (200 unless set) */
    char location[512];         /* out: redirect target, when status is 303 */
    int hold;                   /* out: redirect only once the broker settles HOLD_MSG_ID */
    uint8_t hold_msg_id[16];
    dashboard_buf_t body; /* out: the page */
} dashboard_web_t;

/* 1 if AGENCY is among the members of case summary C (NULL: 0), else 0. A case the agency has
 * left is still in its view, but the dashboard shows only its own. */
int dashboard_web_member(const agency_t *agency, const Tacnet__CaseSummary *c);
/* Whether AGENCY is a member of the case REF as its view holds it now (0 for a case it does not
 * hold): what the event lists and the live stream show an event by. */
int dashboard_web_case_member(agency_t *agency, ProtobufCBinaryData ref);

/* The audit actor for a session: "web/AB:dsl". */
void dashboard_web_actor(const agency_session_t *s, char *out, size_t cap);

/* Read a case for ACTOR, refusing one this agency is not a member of exactly like one it does
 * not hold (TACNET_ENOTFOUND), and record the read (or its refusal) in the audit chain. Returns
 * 0 with reply->show_case set (free REPLY with agency_reply_free), or the code. */
int dashboard_web_case_read(agency_t *self, const char *actor, const char *ref,
                            Tacnet__ApiReply *reply);

/* Record one audit entry in its own transaction (agency_audit_record), OBJECT cut to 71
 * printable ASCII characters (a mistyped URL may be anything). Returns 0 or a storage error. */
int dashboard_web_audit(agency_t *self, const char *actor, const char *action, const char *object,
                        int code);

/* Pages. LOGIN_CSRF is the token the log-in form must echo (bound to a cookie by dashboard.c);
 * CODE the refusal of a previous attempt (0: none). */
/* NEXT: the page to go back to once logged in (dashboard_web_next_ok), or NULL; WHY: "expired"
 * (the session ended) or "sent" (it ended before a form was sent: nothing was sent), or NULL. */
void dashboard_web_login(dashboard_web_t *w, const char *login_csrf, int code, const char *next,
                         const char *why);
/* Whether PATH is a page of this dashboard to send a browser back to after logging in: a local
 * path of plain characters, not the log-in page itself. */
int dashboard_web_next_ok(const char *path);
void dashboard_web_cases(dashboard_web_t *w);
void dashboard_web_case(dashboard_web_t *w, const char *ref);
void dashboard_web_inbox(dashboard_web_t *w);

/* The outbox: this agency's events not yet accepted by the broker, and those it refused, with
 * the broker's reason. */
void dashboard_web_outbox(dashboard_web_t *w);
/* GET shows the form NAME for case REF; POST (w->form set) publishes it, redirecting to the
 * case on success or showing the refusal (code, reason, each offending span) with the values
 * kept. An unknown form is a 404. */
void dashboard_web_form(dashboard_web_t *w, const char *ref, const char *name);
/* A refused event of this agency's (HEX: its msg_id) corrected and sent again: GET shows the
 * kind's form filled in with what was refused (or, for a kind with no form, its content as JSON
 * to edit); the POST publishes it with `replaces`, so the refused one leaves the outbox. */
void dashboard_web_correct(dashboard_web_t *w, const char *hex);
/* POST: withdraw the refused event HEX (it leaves the outbox), then back to the outbox. */
void dashboard_web_withdraw(dashboard_web_t *w, const char *hex);
/* The case page's "Family names" section for case REF: how many names its identity register
 * holds (never the names), a prompt when none, and a form to add some. POST: register the
 * form's names (one per line) for REF and go back to the case. */
void dashboard_web_identity_section(dashboard_web_t *w, const char *ref);
void dashboard_web_identity_post(dashboard_web_t *w, const char *ref);
/* An error page with STATUS, the code's name and REASON. */
void dashboard_web_error(dashboard_web_t *w, int status, int code, const char *reason);

/* Static files: the stylesheet, the live-update script and the icon. Returns 0 with the bytes
 * and their type, or TACNET_ENOTFOUND. */
int dashboard_web_asset(const char *path, const char **data, size_t *len, const char **type);

#endif
