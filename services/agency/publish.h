/* publish: the publish path every front end shares (local API, intake import, dashboard forms,
 * HTTP/JSON API), as twelve named stages run in this order, each refusing with a stable code and a
 * reason in the reply and nothing queued:
 *
 *   validate      the kind is one this agency originates; a request key is 1-64 bytes
 *   msg_id        time + random (a keyed retry already queued is answered here with its first
 *                 msg_id; one the broker refused may be sent again, under a new msg_id)
 *   replaces      the refused event this one corrects (it leaves the outbox once this is queued)
 *   header rules  the body is in the member its kind needs, a disagreement or an answer to an
 *                 escalation names what it is about in refers_to, and no other kind carries one
 *                 (casework/header_rules.h)
 *   workflow      what the body must hold for the workflow (casework/workflow.h)
 *   identifiers   case reference and initials formats, the case reference's prefix one of the
 *                 roster's area codes, every initials field of the body (casework/initials.h),
 *                 free text against the identifier policy and the case's identity register
 *                 (findings in the reply)
 *   case          the case as it will be (the view plus this agency's queued events) and the
 *                 next sender_seq
 *   escalation    an answer to an escalation comes from a party (a resolution: or the lead
 *                 professional's agency), by the escalation as this agency's view holds it
 *   header        the clear header (casework/header_rules.h), with the consent in force a
 *                 referral or join tells its newcomer
 *   basis         the lawful basis the request names, else the narrowest that reaches the
 *                 agencies it names (common/route.h route_basis_choose); E_CONSENT if none
 *   route         the broker's own sharing rule against the case decides the recipients
 *   seal          the body sealed for the recipients' current keys, the header signed
 *   outbox write  queued durably (agency/outbox.h) and audited in one transaction, then sent
 *
 * An intake import (agency/import.h) checks every row first (agency_publish_check) and then
 * queues many rows per write transaction (agency_publish_batch).
 *
 * Not for use outside services/agency and the dashboard.
 */
#ifndef TACNET_AGENCY_PUBLISH_H
#define TACNET_AGENCY_PUBLISH_H

#include <stddef.h>
#include <stdint.h>

#include "agency.h"
#include "api.pb-c.h"
#include "policy.h"

/* Validate REQ, seal it and queue it (and try to send it). Returns 0 with reply->published,
 * or the code with the reason and findings in REPLY; either way the caller frees REPLY with
 * agency_reply_free. REQ's body is borrowed and left as it was. */
int agency_publish(agency_t *self, Tacnet__PublishRequest *req, Tacnet__ApiReply *reply);

/* Intake imports (agency/import.h runs them as jobs) use the stages in three steps. */

/* The case states an import's dry run has reached so far, so a row is checked as it will be
 * once the rows before it are queued (a file may open a case and then write to it). Opaque;
 * agency_publish_cases_new never returns NULL; destroy is null-safe and clears *CASES_P. */
typedef struct agency_publish_cases agency_publish_cases_t;
agency_publish_cases_t *agency_publish_cases_new(void);
void agency_publish_cases_destroy(agency_publish_cases_t **cases_p);

/* Give an intake row REQ its request key (unless it has one): "row:" and the hex of a 16-byte
 * BLAKE2b of the request as the row makes it, so the same row imported twice is queued once. */
void agency_publish_row_key(Tacnet__PublishRequest *req);

/* Dry run REQ through the stages up to the route (nothing sealed, nothing written), against
 * the view, the outbox and CASES, which it updates. Returns 0, or the code with the reason in
 * REPLY (the caller frees REPLY with agency_reply_free). */
int agency_publish_check(agency_t *self, Tacnet__PublishRequest *req, Tacnet__ApiReply *reply,
                         agency_publish_cases_t *cases);

/* At most this many rows go in one batch's write transaction. */
#define AGENCY_PUBLISH_BATCH_MAX 512

/* One row of a batch: its msg_id, and whether it was queued before (a duplicate by its key). */
typedef struct agency_publish_queued {
    uint8_t msg_id[16];
    int duplicate;
} agency_publish_queued_t;

/* Queue rows from REQS (N of them, each with a request key): each row sealed as a single
 * publish is, then every new one written in ONE write transaction (records, indexes, sender_seq
 * order, request keys and an audit entry per event, as a single publish writes them), then
 * sending starts. The batch ends at AGENCY_PUBLISH_BATCH_MAX rows, once BUDGET_US of sealing
 * has passed (one row at least), or before a second row on the same case. Returns the number of
 * rows taken (OUT[0..n) filled), or a negative code with the reason in REPLY, when nothing of
 * this batch was queued. REQS stay the caller's. */
long agency_publish_batch(agency_t *self, Tacnet__PublishRequest **reqs, size_t n,
                          uint64_t budget_us, agency_publish_queued_t *out,
                          Tacnet__ApiReply *reply);

/* Check every free-text field of BODY against the identifier policy and REG (the case's
 * identity register, may be NULL). Returns 0, or TACNET_ETEXT with the findings (field paths
 * such as "decision.rationale") added to REPLY. Also re-checks delivered events (agency.c). */
int agency_publish_text_check(agency_t *self, const policy_register_t *reg,
                              const ProtobufCMessage *body, Tacnet__ApiReply *reply);

#endif
