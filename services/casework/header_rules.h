/* header_rules: what the clear header of an agency's publish must hold for its kind.
 *
 * The broker routes and polices an event by its clear Header alone, so the publish path
 * (services/agency/publish.c) derives the header from the request, the body and the case as
 * this agency knows it, by these rules: only the kinds an agency may originate, each with its
 * body in the member named after the kind; the sensitivity class the request gives, else the
 * agency profile's default for the kind; the lawful basis given, else consent; refers_to,
 * subject agency, urgency and a safeguarding override's reason as the request gives them; a
 * referral's subject agency from its body when the request names none (that is what makes the
 * referred-to agency a member); the consent a consent_recorded body records, with its scope
 * (classes and agencies) in the clear for the broker to route by; for a referral or
 * a new member the consent the case already holds, else (a referral to a new or
 * consent-unknown case) "given" when the referral says it was obtained; an assessment's level
 * of need from its body when the body gives one. A fact both the request and the body give (an
 * assessment's level of need, a referral's agency, the agency a rating is about) must be the same
 * in both, or the publish is refused: the header is what the broker and the recipients act on.
 * A referral or a join that tells the
 * newcomer the case's consent also tells it the consent in force per agency (the cover).
 *
 * Pure logic: no I/O. The workflow rules on the body itself are casework/workflow.h.
 */
#ifndef TACNET_CASEWORK_HEADER_RULES_H
#define TACNET_CASEWORK_HEADER_RULES_H

#include <stddef.h>
#include <stdint.h>

#include "api.pb-c.h"
#include "casework/profile.h"
#include "route.h"
#include "wire.pb-c.h"

/* The Body member an event of KIND carries. Returns 0 with *MEMBER, or TACNET_EKIND for a kind
 * no agency publishes (the broker's notices, unknown values). */
int header_rules_body_member(uint32_t kind, Tacnet__Body__EventCase *member);

/* May PROFILE publish events of KIND? Returns 0, or TACNET_EKIND with one line in WHY
 * (NUL-terminated, truncated to CAP): no agency publishes it, or PROFILE does not originate it. */
int header_rules_kind_check(const agency_profile_t *profile, uint32_t kind, char *why, size_t cap);

/* Is REQ's body in the member its kind needs, and does it agree with the request
 * (header_rules_facts_check)? Returns 0, TACNET_EFIELD (body missing or in another member, or a
 * fact the request and the body give differently) or TACNET_EKIND (a kind no agency publishes),
 * with one line in WHY. */
int header_rules_body_check(const Tacnet__PublishRequest *req, char *why, size_t cap);

/* Do REQ and its body say the same where both say something the header carries: an assessment's
 * level_of_need and assessment.level_of_need, a referral's subject_agency and
 * referral.to_agency, a partnership rating's subject_agency and partnership_rating.about?
 * Returns 0, or TACNET_EFIELD with one line in WHY naming the field and both values. */
int header_rules_facts_check(const Tacnet__PublishRequest *req, char *why, size_t cap);

/* Does REQ name what its kind is about? A disagreement names the challenged event, and an
 * escalation response, resolution or acknowledgement names the escalation, in refers_to (16
 * bytes); no other kind carries one. The broker refuses them otherwise, so the daemon says so
 * before anything is sent. Returns 0, TACNET_EFIELD (refers_to missing) or TACNET_EREFERSTO
 * (refers_to on a kind that takes none), with the broker's own reason in WHY. */
int header_rules_refers_to_check(const Tacnet__PublishRequest *req, char *why, size_t cap);

/* Does an event of KIND carry refers_to? Only a disagreement (the challenged event) and the
 * answers to an escalation (response, resolution, acknowledgement: the escalation) do; on any
 * other kind its 16 bytes would be free bytes in the clear header. 1 or 0. */
int header_rules_refers_to_used(uint32_t kind);

/* The clock window a msg_id's creation time must fall in, by default: the broker's own
 * max_clock_skew_s and max_event_age_days defaults (a broker configured otherwise checks its
 * own). HEADER_RULES_MSGID_AFTER_MS: how far a msg_id's time may come after its header's
 * created_at_ms (a sender that gives created_at in whole seconds, a clock stepped between the
 * two readings). */
#define HEADER_RULES_MSGID_AHEAD_MS  (300ULL * 1000)
#define HEADER_RULES_MSGID_BEHIND_MS (30ULL * 86400 * 1000)
#define HEADER_RULES_MSGID_AFTER_MS  2000ULL

/* Is ID (LEN bytes) a msg_id as wire_msgid_new makes them: 16 bytes whose first 6 are a
 * creation time no more than AHEAD_MS after NOW_MS and no more than BEHIND_MS before it (the
 * window the broker holds created_at_ms to), made with its header: no more than AHEAD_MS before
 * CREATED_AT_MS and HEADER_RULES_MSGID_AFTER_MS after it? The 10 random bytes after the time
 * cannot be told from any other 10 bytes; the time can, and text in its place ("Jane S" reads as
 * a date thousands of years away) is refused. Returns 0, or TACNET_EMSGID with one line in
 * WHY. */
int header_rules_msgid_check(const uint8_t *id, size_t len, uint64_t now_ms, uint64_t created_at_ms,
                             uint64_t ahead_ms, uint64_t behind_ms, char *why, size_t cap);

/* Fill in H what it takes from REQ (kind, case reference, initials, sensitivity, lawful basis,
 * refers_to, subject agency, level of need, urgency, override reason, consent) by the rules
 * above. DEFAULT_SENSITIVITY is the profile's class for REQ's kind; KNOWN the case as this
 * agency knows it (NULL for a new case). H borrows REQ's bytes (case_ref, initials, refers_to):
 * REQ must outlive it. The sender, sequence, time, keys and recipients are the caller's. */
void header_rules_fill(Tacnet__Header *h, const Tacnet__PublishRequest *req,
                       uint32_t default_sensitivity, const route_case_t *known);

/* Room for the consent cover a header borrows (header_rules_cover_fill). */
typedef struct header_rules_cover {
    Tacnet__ConsentCover cover[ROUTE_COVER_AGENCIES];
    Tacnet__ConsentCover *ptr[ROUTE_COVER_AGENCIES];
    Tacnet__Sensitivity classes[ROUTE_COVER_AGENCIES][3];
    Tacnet__Sensitivity objected[ROUTE_COVER_AGENCIES][3];
} header_rules_cover_t;

/* After header_rules_fill: on a referral or a join carrying the case's consent, set H's consent
 * cover to the consent in force in KNOWN (each agency it covers or the family objected for, with
 * its classes and objections), held in
 * STORE, which must outlive H. Any other header gets an empty cover. */
void header_rules_cover_fill(Tacnet__Header *h, const route_case_t *known,
                             header_rules_cover_t *store);

#endif
