/* publish: the publish path every front end shares (local API, intake import, dashboard forms,
 * HTTP/JSON API), as named stages run in this order, each refusing with a stable code and a
 * reason in the reply and nothing queued:
 *
 *   validate      the kind is one this agency originates; a request key is 1-64 bytes
 *   msg_id        from the request key (a keyed retry already queued is answered here with its
 *                 first msg_id; one the broker refused may be sent again), else time + random
 *   header rules  the body is in the member its kind needs, and a disagreement or an answer to
 *                 an escalation names what it is about in refers_to (casework/header_rules.h)
 *   workflow      what the body must hold for the workflow (casework/workflow.h)
 *   identifiers   case reference and initials formats, free text against the identifier
 *                 policy and the case's identity register (findings in the reply)
 *   case          the case as it will be (the view plus this agency's queued events) and the
 *                 next sender_seq
 *   escalation    an answer to an escalation comes from a party (a resolution: or the lead
 *                 professional's agency), by the escalation as this agency's view holds it
 *   header        the clear header (casework/header_rules.h)
 *   route         the broker's own sharing rule against the case decides the recipients
 *   seal          the body sealed for the recipients' current keys, the header signed
 *   outbox write  queued durably (agency/outbox.h) and audited in one transaction, then sent
 *
 * Not for use outside services/agency and the dashboard.
 */
#ifndef TACNET_AGENCY_PUBLISH_H
#define TACNET_AGENCY_PUBLISH_H

#include "agency.h"
#include "api.pb-c.h"
#include "policy.h"

/* Validate REQ, seal it and queue it (and try to send it). Returns 0 with reply->published,
 * or the code with the reason and findings in REPLY; either way the caller frees REPLY with
 * agency_reply_free. REQ's body is borrowed and left as it was. */
int agency_publish(agency_t *self, Tacnet__PublishRequest *req, Tacnet__ApiReply *reply);

/* Run the profile's intake adapter on IR's file and publish every row, or none: malformed rows
 * are reported with their line numbers, and a row the publish path would refuse stops the
 * import before anything is queued. Fills reply->imported (the queued msg_ids) or the code
 * and reason. */
void agency_publish_import(agency_t *self, Tacnet__ImportRequest *ir, Tacnet__ApiReply *reply);

/* Check every free-text field of BODY against the identifier policy and REG (the case's
 * identity register, may be NULL). Returns 0, or TACNET_ETEXT with the findings (field paths
 * such as "decision.rationale") added to REPLY. Also re-checks delivered events (agency.c). */
int agency_publish_text_check(agency_t *self, const policy_register_t *reg,
                              const ProtobufCMessage *body, Tacnet__ApiReply *reply);

#endif
