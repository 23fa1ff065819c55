/* route: who may publish what on a case, and who must receive it (pure logic, no I/O).
 *
 * The broker keeps a small state per case, built only from clear headers: the member agencies,
 * the lead professional's agency (and a pending hand-over), the recorded consent, the latest
 * level of need per agency, and whether the case is closed. route_check decides whether a
 * publish is allowed and which recipients it must name: exactly the sender plus every member
 * whose role may see the event's sensitivity class under the case's consent (docs/DOMAIN.md,
 * "Consent and sharing"). A safeguarding override lets every member see it, and is flagged so
 * the broker can alert the lead professional. route_apply then folds the event into the state.
 */
#ifndef TACNET_ROUTE_H
#define TACNET_ROUTE_H

#include <stddef.h>
#include <stdint.h>

#include "roster.h"
#include "wire.pb-c.h"

#define ROUTE_MAX_AGENCY 16
#define ROUTE_CASE_BYTES 32

typedef struct route_case {
    uint32_t members;                /* bit (1 << agency) per member agency */
    uint8_t lead;                    /* lead professional's agency, 0 = none yet */
    uint8_t pending_lead;            /* hand-over offered to, 0 = none */
    uint8_t consent;                 /* Tacnet__ConsentState */
    uint8_t closed;                  /* 1 after CASE_CLOSED */
    uint8_t level[ROUTE_MAX_AGENCY]; /* latest level of need per agency, 0 = none */
} route_case_t;

/* The verdict on one publish. */
typedef struct route_verdict {
    uint32_t required; /* recipients the header must name exactly (bitmask) */
    int override_used; /* a safeguarding override: alert the lead professional */
} route_verdict_t;

/* Decide whether header H may be published on case C (NULL when the case is new) under ROSTER's
 * sharing policy. Returns 0 with *V filled, or TACNET_ENOTMEMBER, TACNET_ECLOSED,
 * TACNET_EOVERRIDE, TACNET_ECONSENT, TACNET_EKIND or TACNET_ERECIPIENTS. */
int route_check(const route_case_t *c, const Tacnet__Header *h, const roster_t *roster,
                route_verdict_t *v);

/* History on joining: may GRANTEE, a member of case C (as it stands now), be given the body key
 * of the earlier event with header H? The same sharing policy as a publish, under the consent
 * in force now. Returns 0, TACNET_EKIND (a broker notice: never granted), TACNET_ENOTMEMBER (not
 * a member), TACNET_EEXISTS (already a recipient) or TACNET_ECONSENT (its class is withheld from
 * the grantee). The broker and the granting daemon both decide with this. */
int route_grant_check(const route_case_t *c, const Tacnet__Header *h, uint32_t grantee,
                      const roster_t *roster);

/* Fold accepted header H into case C (a new case starts zeroed). */
void route_apply(route_case_t *c, const Tacnet__Header *h);

/* Fixed, versioned byte layout for LMDB. route_case_decode returns 0 or TACNET_ECORRUPT. */
void route_case_encode(const route_case_t *c, uint8_t out[ROUTE_CASE_BYTES]);
int route_case_decode(const uint8_t *in, size_t len, route_case_t *c);

/* Bitmask of the recipients named in H (duplicates and unknown agencies already refused by
 * wire_header_unpack). */
uint32_t route_recipient_mask(const Tacnet__Header *h);

#endif
