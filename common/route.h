/* route: who may publish what on a case, and who must receive it (pure logic, no I/O).
 *
 * The broker keeps a small state per case, built only from clear headers: the member agencies,
 * the lead professional's agency (and a pending hand-over), the consent in force (per agency,
 * the classes it covers, from each recorded consent's scope), the latest level of need per
 * agency, and whether the case is closed. route_check decides whether a publish is allowed and
 * which recipients it must name: exactly the sender plus every member whose role may see the
 * event's sensitivity class without consent, or under the consent in force for that agency and
 * class, or on the lawful basis the header names (a statutory duty, or direct care between the
 * agencies the policy names, unless the family objected for that agency and class)
 * (docs/DOMAIN.md, "Consent and sharing"). A consent record itself
 * goes to every member whose role may see its class with consent: the team must know what the
 * family agreed to, and withdrew. A safeguarding override lets every member see an event, and is
 * flagged so the broker can alert the lead professional. route_apply then folds the event into
 * the state.
 */
#ifndef TACNET_ROUTE_H
#define TACNET_ROUTE_H

#include <stddef.h>
#include <stdint.h>

#include "roster.h"
#include "wire.pb-c.h"

#define ROUTE_MAX_AGENCY 16
/* The stored case record (route_case_encode), by its first byte, the version:
 *   2  ROUTE_CASE_BYTES (48): what route_case_encode writes. A cover byte for every agency id
 *      1 to 15, so every extra id a roster may declare (agencies.h) keeps its consent in force
 *   1  ROUTE_CASE_BYTES_V1 (32): written before roster agencies beyond ids 6 and 7; read still,
 *      rewritten as version 2 by the next write of the case
 * Neither size is the other's with a trailer the broker's journal keeps (8 or 9 bytes). */
#define ROUTE_CASE_BYTES    48
#define ROUTE_CASE_BYTES_V1 32
/* Consent in force is kept for the agency values below this but the partnership's and the
 * broker's (the partnership contact and the broker are never sent case events by consent). */
#define ROUTE_COVER_AGENCIES ROUTE_MAX_AGENCY
/* 1 when AGENCY has a consent slot in route_case_t's cover. */
#define ROUTE_COVER_SLOT(a)                                                          \
    ((a) >= 1 && (a) < ROUTE_COVER_AGENCIES && (a) != TACNET__AGENCY__PARTNERSHIP && \
     (a) != TACNET__AGENCY__BROKER)
/* Class bit in a cover byte: 1 << sensitivity (routine 2, health 4, safeguarding 8) where
 * consent covers it; the same shifted by 4 where the family refused or withdrew it. */
#define ROUTE_CLASS_BIT(s)  ((uint8_t)(1u << (s)))
#define ROUTE_OBJECT_BIT(s) ((uint8_t)(1u << ((s) + 4)))
#define ROUTE_CLASSES_ALL                            \
    (ROUTE_CLASS_BIT(TACNET__SENSITIVITY__ROUTINE) | \
     ROUTE_CLASS_BIT(TACNET__SENSITIVITY__HEALTH) |  \
     ROUTE_CLASS_BIT(TACNET__SENSITIVITY__SAFEGUARDING))

typedef struct route_case {
    uint32_t members;                    /* bit (1 << agency) per member agency */
    uint8_t lead;                        /* lead professional's agency, 0 = none yet */
    uint8_t pending_lead;                /* hand-over offered to, 0 = none */
    uint8_t consent;                     /* Tacnet__ConsentState last recorded */
    uint8_t cover[ROUTE_COVER_AGENCIES]; /* consent in force and objections, per agency */
    uint8_t closed;                      /* 1 after CASE_CLOSED */
    uint8_t level[ROUTE_MAX_AGENCY];     /* latest level of need per agency, 0 = none */
} route_case_t;

/* The verdict on one publish. */
typedef struct route_verdict {
    uint32_t required; /* recipients the header must name exactly (bitmask) */
    int override_used; /* a safeguarding override: alert the lead professional */
    const char *why;   /* a refusal's reason beyond its code, or NULL (static storage) */
} route_verdict_t;

/* Decide whether header H may be published on case C (NULL when the case is new) under ROSTER's
 * sharing policy. Returns 0 with *V filled, or TACNET_ENOTMEMBER, TACNET_ECLOSED,
 * TACNET_EOVERRIDE, TACNET_ECONSENT, TACNET_EKIND, TACNET_ERECIPIENTS or TACNET_EFORBIDDEN (what
 * only the lead professional's agency may do: hand over, close, take another agency out, record
 * consent given; V->why says which). */
int route_check(const route_case_t *c, const Tacnet__Header *h, const roster_t *roster,
                route_verdict_t *v);

/* The narrowest lawful basis on which header H's sender may share its event (class, kind) on
 * case C (NULL: a new case) with every agency in WANT (a bitmask; 0: as widely as the policy
 * allows without an override; a referral's or a join's newcomer is always wanted): CONSENT when
 * the consent in force (or a role's no-consent list) reaches them all, else DIRECT_CARE when
 * the sender gives direct care and that basis reaches them, else LEGAL_DUTY when LEGAL_DUTY_OK
 * (a statutory duty is the sender's decision, never chosen for it) and it reaches them. With
 * WANT 0, DIRECT_CARE is chosen only when it reaches a member consent does not. A consent
 * record, and a referral recording consent, rest on consent. H's lawful basis and recipients
 * are not read. Returns the Tacnet__LawfulBasis, or TACNET_ECONSENT when no basis reaches
 * WANT. */
int route_basis_choose(const route_case_t *c, const Tacnet__Header *h, uint32_t want,
                       int legal_duty_ok, const roster_t *roster);

/* The recipients (bitmask, sender included) an event of class SENSITIVITY from SENDER reaches
 * on lawful BASIS among the agencies in MEMBERS of case C (NULL: no consent in force). */
uint32_t route_reach(const route_case_t *c, uint32_t members, uint32_t sender, uint32_t sensitivity,
                     uint32_t basis, const roster_t *roster);

/* May AGENCY receive the event with header H on case C as it stands now (its class, its
 * recorded lawful basis, the consent in force and objections, team facts reaching the whole
 * team; a safeguarding override reaches everyone)? 1 or 0. For judging an earlier event for a
 * member who joined later, by the same rule as a publish today. */
int route_may_receive(const route_case_t *c, const Tacnet__Header *h, uint32_t agency,
                      const roster_t *roster);

/* Does the consent in force on C cover class SENSITIVITY for AGENCY? 1 or 0. */
int route_consent_covers(const route_case_t *c, uint32_t agency, uint32_t sensitivity);

/* Did the family refuse or withdraw consent for class SENSITIVITY and AGENCY on C (and not give
 * it again since)? Direct care does not reach past an objection; a statutory duty or a
 * safeguarding override does. 1 or 0. */
int route_consent_objected(const route_case_t *c, uint32_t agency, uint32_t sensitivity);


/* History on joining: may GRANTEE, a member of case C (as it stands now), be given the body key
 * of the earlier event with header H? The same sharing policy as a publish, under the consent
 * in force now. Returns 0, TACNET_EKIND (a broker notice: never granted), TACNET_ENOTMEMBER (not
 * a member), TACNET_EEXISTS (already a recipient) or TACNET_ECONSENT (its class is withheld from
 * the grantee). The broker and the granting daemon both decide with this. */
int route_grant_check(const route_case_t *c, const Tacnet__Header *h, uint32_t grantee,
                      const roster_t *roster);

/* Fold accepted header H into case C (a new case starts zeroed). */
void route_apply(route_case_t *c, const Tacnet__Header *h);

/* Fixed, versioned byte layout for LMDB (above). route_case_encode writes version 2.
 * route_case_decode reads either version from exactly its size (route_case_len); returns 0 or
 * TACNET_ECORRUPT (an unknown version, the wrong size, reserved bytes not zero). */
void route_case_encode(const route_case_t *c, uint8_t out[ROUTE_CASE_BYTES]);
int route_case_decode(const uint8_t *in, size_t len, route_case_t *c);

/* The size of the case record at the start of IN (LEN bytes, perhaps followed by a caller's own
 * fields), by its version byte: ROUTE_CASE_BYTES or ROUTE_CASE_BYTES_V1, or 0 when the version
 * is unknown or LEN is shorter. */
size_t route_case_len(const uint8_t *in, size_t len);

/* Bitmask of the recipients named in H (duplicates and unknown agencies already refused by
 * wire_header_unpack). */
uint32_t route_recipient_mask(const Tacnet__Header *h);

#endif
