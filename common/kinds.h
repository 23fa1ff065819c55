/* kinds: the one C list of event kinds.
 *
 * proto/wire.proto's EventKind is the schema; KINDS_AGENCY and KINDS_BROKER are the one place C
 * lists its members, as X-macros, and every array, count or mapping over the kinds derives from
 * them (casework's agency_kinds_all, kinds_body_member). An entry X(NAME) stands for both
 * TACNET__EVENT_KIND__NAME and the sealed Body's member TACNET__BODY__EVENT_NAME (events.proto's
 * `oneof event` names each member after its kind), so a misspelt entry does not compile, and
 * tests/unit/test_kinds.c checks the lists against the generated descriptors, so a kind added
 * to the proto but not here fails a test instead of being silently left out.
 *
 * KINDS_AGENCY: what agencies originate (1..39). KINDS_BROKER: the broker's signed notices
 * (40..63); no agency may send them.
 */
#ifndef TACNET_KINDS_H
#define TACNET_KINDS_H

#include <stdint.h>

#include "events.pb-c.h"
#include "wire.pb-c.h"

#define KINDS_AGENCY(X)    \
    X(REFERRAL)            \
    X(CONCERN)             \
    X(ASSESSMENT)          \
    X(DECISION)            \
    X(DISAGREEMENT)        \
    X(MEETING_REQUESTED)   \
    X(MEETING_SCHEDULED)   \
    X(MEETING_OUTCOME)     \
    X(CARE_PLAN)           \
    X(OUTCOME_MEASURE)     \
    X(COMMUNICATION_PLAN)  \
    X(CONTACT_LOGGED)      \
    X(CONSENT_RECORDED)    \
    X(PARTNERSHIP_RATING)  \
    X(CASE_CLOSED)         \
    X(MEMBER_JOINED)       \
    X(MEMBER_LEFT)         \
    X(LEAD_HANDOVER)       \
    X(LEAD_ACCEPTED)       \
    X(ESCALATION_RESPONSE) \
    X(ESCALATION_RESOLVED) \
    X(ESCALATION_ACK)      \
    X(ACTION_UPDATE)       \
    X(INVOLVEMENT_PREFERENCES)

#define KINDS_BROKER(X)   \
    X(ESCALATION_NOTICE)  \
    X(SAFEGUARDING_ALERT) \
    X(NON_DELIVERY)       \
    X(NON_RESPONSE)       \
    X(DELIVERY_REPORT)

/* Building blocks for the lists: the kind's enum value, and +1 for counting. */
#define KINDS_VALUE(name) TACNET__EVENT_KIND__##name,
#define KINDS_ONE(name)   +1

/* How many kinds each list holds (constant expressions: usable as array sizes). */
#define KINDS_AGENCY_N (0 KINDS_AGENCY(KINDS_ONE))
#define KINDS_BROKER_N (0 KINDS_BROKER(KINDS_ONE))

/* The Body member an event of KIND must carry, into *MEMBER. Returns 0, or TACNET_EKIND for
 * KIND_UNKNOWN or a value that is not a kind. */
int kinds_body_member(uint32_t kind, Tacnet__Body__EventCase *member);

/* Whether BODY carries the event of header kind KIND (a `concern` header with an `assessment`
 * body does not): what a recipient checks after opening, since the broker never sees the body
 * and a sender's own daemon refuses such a publish before sealing it. Returns 0, or
 * TACNET_EBODYMISMATCH (another member, none, or KIND not a kind); TACNET_EINVAL for NULL. */
int kinds_body_matches(uint32_t kind, const Tacnet__Body *body);

#endif
