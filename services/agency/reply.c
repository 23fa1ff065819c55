/* reply: building and freeing local API replies (see reply.h). */
#include "agency/reply.h"

#include "agency/agency.h"
#include "agency/outcome.h"
#include "agency/tokens.h"
#include "err.h"

#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void agency_reply_error(Tacnet__ApiReply *reply, int code, const char *fmt, ...)
{
    char buf[640]; /* a reason names what to do, and may name a field path and agencies */
    va_list ap;
    reply->code = code;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    free(reply->reason);
    reply->reason = xstrdup(buf);
}

void agency_reply_finding(Tacnet__ApiReply *reply, const char *kind, uint32_t start, uint32_t end,
                          const char *field)
{
    if (reply->n_findings >= AGENCY_MAX_FINDINGS)
        return;
    if (!reply->findings)
        reply->findings = xcalloc(AGENCY_MAX_FINDINGS, sizeof(*reply->findings));
    Tacnet__Finding *f = xcalloc(1, sizeof(*f));
    tacnet__finding__init(f);
    f->kind = xstrdup(kind);
    f->start = start;
    f->end = end;
    f->field = xstrdup(field);
    reply->findings[reply->n_findings++] = f;
}

static void s_summary_free(Tacnet__CaseSummary *s)
{
    if (!s)
        return;
    free(s->case_ref.data);
    free(s->initials.data);
    free(s->members);
    free(s->level_of_need);
    free(s->history_pending);
    free(s);
}

void agency_reply_timeline_free(Tacnet__TimelineEntry **e, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        tacnet__header__free_unpacked(e[i]->header, NULL);
        if (e[i]->body)
            tacnet__body__free_unpacked(e[i]->body, NULL);
        free(e[i]);
    }
    free(e);
}

static void s_cases_free(Tacnet__ListCasesReply *c)
{
    for (size_t i = 0; i < c->n_cases; i++)
        s_summary_free(c->cases[i]);
    free(c->cases);
    free(c);
}

static void s_show_case_free(Tacnet__ShowCaseReply *sc)
{
    s_summary_free(sc->summary);
    agency_reply_timeline_free(sc->timeline, sc->n_timeline);
    for (size_t i = 0; i < sc->n_due; i++)
        tacnet__due_item__free_unpacked(sc->due[i], NULL);
    free(sc->due);
    if (sc->state)
        tacnet__case_state__free_unpacked(sc->state, NULL);
    free(sc);
}

static void s_imported_free(Tacnet__ImportReply *im)
{
    for (size_t i = 0; i < im->n_msg_ids; i++)
        free(im->msg_ids[i].data);
    free(im->msg_ids);
    for (size_t i = 0; i < im->n_errors; i++)
        free(im->errors[i]);
    free(im->errors);
    free(im);
}

static void s_import_status_free(Tacnet__ImportStatus *st)
{
    for (size_t i = 0; i < st->n_errors; i++)
        free(st->errors[i]);
    free(st->errors);
    for (size_t i = 0; i < st->n_refusals; i++) {
        agency_outcome_status_free(st->refusals[i]->status);
        free(st->refusals[i]->status);
        free(st->refusals[i]);
    }
    free(st->refusals);
    free(st->reason);
    free(st);
}

static void s_token_free(Tacnet__AddTokenReply *t)
{
    if (t->token) {
        sodium_memzero(t->token, strlen(t->token));
        free(t->token);
    }
    free(t->system);
    free(t->id);
    free(t);
}

static void s_holds_free(Tacnet__HoldReply *h)
{
    for (size_t i = 0; i < h->n_holds; i++) {
        free(h->holds[i]->case_ref.data);
        free(h->holds[i]);
    }
    free(h->holds);
    free(h);
}

void agency_reply_retention_clear(Tacnet__RetentionRunReply *out)
{
    for (size_t i = 0; i < out->n_cases; i++) {
        free(out->cases[i]->case_ref.data);
        free(out->cases[i]->verdict);
        free(out->cases[i]->kept_because);
        free(out->cases[i]);
    }
    free(out->cases);
    out->cases = NULL;
    out->n_cases = 0;
    out->shredded = out->held = 0;
}

void agency_reply_free(Tacnet__ApiReply *r)
{
    if (!r)
        return;
    switch (r->result_case) {
    case TACNET__API_REPLY__RESULT_CASES:
        s_cases_free(r->cases);
        break;
    case TACNET__API_REPLY__RESULT_SHOW_CASE:
        s_show_case_free(r->show_case);
        break;
    case TACNET__API_REPLY__RESULT_FOLLOW:
        agency_reply_timeline_free(r->follow->entries, r->follow->n_entries);
        free(r->follow);
        break;
    case TACNET__API_REPLY__RESULT_IMPORTED:
        s_imported_free(r->imported);
        break;
    case TACNET__API_REPLY__RESULT_PUBLISHED:
        free(r->published->msg_id.data);
        free(r->published->recipients);
        free(r->published);
        break;
    case TACNET__API_REPLY__RESULT_TOKEN:
        if (r->token)
            s_token_free(r->token);
        break;
    case TACNET__API_REPLY__RESULT_TOKENS:
        agency_token_list_clear(r->tokens);
        free(r->tokens);
        break;
    case TACNET__API_REPLY__RESULT_USERS:
        agency_user_list_clear(r->users);
        free(r->users);
        break;
    case TACNET__API_REPLY__RESULT_HOLDS:
        if (r->holds)
            s_holds_free(r->holds);
        break;
    case TACNET__API_REPLY__RESULT_RETENTION:
        if (r->retention) {
            agency_reply_retention_clear(r->retention);
            free(r->retention);
        }
        break;
    case TACNET__API_REPLY__RESULT_IMPORT_STATUS:
        s_import_status_free(r->import_status);
        break;
    case TACNET__API_REPLY__RESULT_STATUS:
        agency_outcome_status_free(r->status);
        free(r->status);
        break;
    case TACNET__API_REPLY__RESULT_OUTBOX:
        for (size_t i = 0; r->outbox && i < r->outbox->n_events; i++) {
            agency_outcome_status_free(r->outbox->events[i]);
            free(r->outbox->events[i]);
        }
        for (size_t i = 0; r->outbox && i < r->outbox->n_unapplied; i++) {
            agency_outcome_status_free(r->outbox->unapplied[i]);
            free(r->outbox->unapplied[i]);
        }
        if (r->outbox) {
            free(r->outbox->events);
            free(r->outbox->unapplied);
        }
        free(r->outbox);
        break;
    case TACNET__API_REPLY__RESULT_DRAFT:
        if (r->draft)
            tacnet__publish_request__free_unpacked(r->draft, NULL);
        break;
    default:
        break;
    }
    r->result_case = TACNET__API_REPLY__RESULT__NOT_SET;
    for (size_t i = 0; i < r->n_findings; i++) {
        free(r->findings[i]->kind);
        free(r->findings[i]->field);
        free(r->findings[i]);
    }
    free(r->findings);
    free(r->reason);
    r->findings = NULL;
    r->n_findings = 0;
    r->reason = NULL;
}

void agency_reply_duplicate_recipients(agency_t *self, Tacnet__ApiReply *reply)
{
    Tacnet__PublishReply *pr = reply ? reply->published : NULL;
    if (!pr || pr->msg_id.len != 16 || pr->n_recipients)
        return;
    /* The first publish's recipients, as its outcome records them (queued: its clear header;
     * settled: the recipients the broker took it for), the sender left out as at first. */
    Tacnet__EventStatus st = TACNET__EVENT_STATUS__INIT;
    if (agency_outcome_read(self, pr->msg_id.data, &st) == 0 &&
        st.state != TACNET__PUBLISH_STATE__PUBLISH_REFUSED) {
        free(pr->recipients);
        pr->recipients = st.recipients;
        pr->n_recipients = st.n_recipients;
        st.recipients = NULL;
        st.n_recipients = 0;
    }
    agency_outcome_status_free(&st);
}
