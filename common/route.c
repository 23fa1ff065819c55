/* route: membership and sharing decisions from clear headers. */
#include "route.h"
#include "bytes.h"
#include "err.h"

#include <string.h>

#define BIT(a) (1u << (a))

uint32_t route_recipient_mask(const Tacnet__Header *h)
{
    uint32_t m = 0;
    for (size_t i = 0; i < h->n_recipients; i++)
        if ((unsigned)h->recipients[i] < ROUTE_MAX_AGENCY)
            m |= BIT(h->recipients[i]);
    return m;
}

/* Kinds that may open a case: the first thing an agency knows about a child. */
static int s_opens_case(Tacnet__EventKind k)
{
    return k == TACNET__EVENT_KIND__REFERRAL || k == TACNET__EVENT_KIND__CONCERN ||
           k == TACNET__EVENT_KIND__ASSESSMENT;
}

/* Broker notices are made by the broker, never accepted from an agency. */
static int s_is_broker_kind(Tacnet__EventKind k)
{
    return k >= TACNET__EVENT_KIND__ESCALATION_NOTICE;
}

/* The agencies that are members once H is applied: a referral brings in the agency referred
 * to, a join brings in its subject. They must receive the event that brought them in. */
static uint32_t s_members_after(const route_case_t *c, const Tacnet__Header *h)
{
    uint32_t m = c ? c->members : 0;
    m |= BIT(h->sender);
    if (h->has_subject_agency &&
        (h->kind == TACNET__EVENT_KIND__REFERRAL || h->kind == TACNET__EVENT_KIND__MEMBER_JOINED))
        m |= BIT(h->subject_agency);
    return m;
}

int route_check(const route_case_t *c, const Tacnet__Header *h, const roster_t *roster,
                route_verdict_t *v)
{
    memset(v, 0, sizeof(*v));
    if ((unsigned)h->sender >= ROUTE_MAX_AGENCY || s_is_broker_kind(h->kind))
        return TACNET_EKIND;
    if (!c || !(c->members & BIT(h->sender))) {
        /* Anyone may open a case (its first referral, concern or assessment); nobody else may
         * write to a case they are not a member of. */
        if (c || !s_opens_case(h->kind))
            return TACNET_ENOTMEMBER;
    }
    if (c && c->closed)
        return TACNET_ECLOSED;

    switch (h->kind) {
    case TACNET__EVENT_KIND__REFERRAL:
    case TACNET__EVENT_KIND__MEMBER_JOINED:
    case TACNET__EVENT_KIND__MEMBER_LEFT:
    case TACNET__EVENT_KIND__LEAD_HANDOVER:
        if (!h->has_subject_agency || h->subject_agency == TACNET__AGENCY__AGENCY_UNKNOWN ||
            (unsigned)h->subject_agency >= ROUTE_MAX_AGENCY ||
            h->subject_agency == TACNET__AGENCY__BROKER)
            return TACNET_EFIELD;
        break;
    case TACNET__EVENT_KIND__ASSESSMENT:
        if (!h->has_level_of_need)
            return TACNET_EFIELD;
        break;
    case TACNET__EVENT_KIND__CONSENT_RECORDED:
        if (!h->has_consent || h->consent == TACNET__CONSENT_STATE__CONSENT_UNKNOWN)
            return TACNET_EFIELD;
        break;
    default:
        break;
    }
    /* A referral or a join tells the new member the consent already recorded, so its own view
     * can apply the sharing policy; it must match what the case holds. */
    if (h->has_consent && h->kind != TACNET__EVENT_KIND__CONSENT_RECORDED &&
        (h->kind != TACNET__EVENT_KIND__REFERRAL && h->kind != TACNET__EVENT_KIND__MEMBER_JOINED))
        return TACNET_EFIELD;
    uint8_t known = c ? c->consent : TACNET__CONSENT_STATE__CONSENT_UNKNOWN;
    /* ... except that a referral made with the family's consent, on a case with none recorded
     * yet, records it (consent to refer is consent to share with the team). */
    int referral_consent = h->kind == TACNET__EVENT_KIND__REFERRAL && h->has_consent &&
                           h->consent == TACNET__CONSENT_STATE__GIVEN &&
                           known == TACNET__CONSENT_STATE__CONSENT_UNKNOWN;
    if (h->has_consent && h->kind != TACNET__EVENT_KIND__CONSENT_RECORDED && h->consent != known &&
        !referral_consent)
        return TACNET_ECONSENT;
    if ((h->kind == TACNET__EVENT_KIND__MEMBER_LEFT ||
         h->kind == TACNET__EVENT_KIND__LEAD_HANDOVER) &&
        !(c && (c->members & BIT(h->subject_agency))))
        return TACNET_ENOTMEMBER;
    if (h->kind == TACNET__EVENT_KIND__LEAD_ACCEPTED && !(c && c->pending_lead == h->sender))
        return TACNET_EKIND;

    uint32_t members = s_members_after(c, h);
    uint32_t required = BIT(h->sender);
    if (h->lawful_basis == TACNET__LAWFUL_BASIS__SAFEGUARDING_OVERRIDE) {
        if (!h->has_override_reason || h->override_reason == TACNET__OVERRIDE_REASON__OVERRIDE_NONE)
            return TACNET_EOVERRIDE;
        required = members;
        v->override_used = 1;
    } else {
        /* Consent, or a legal duty to share, opens the "with consent" column of the policy. */
        int consent = (c && c->consent == TACNET__CONSENT_STATE__GIVEN) ||
                      h->lawful_basis == TACNET__LAWFUL_BASIS__LEGAL_DUTY ||
                      ((h->kind == TACNET__EVENT_KIND__CONSENT_RECORDED || referral_consent) &&
                       h->consent == TACNET__CONSENT_STATE__GIVEN);
        for (unsigned a = 1; a < ROUTE_MAX_AGENCY; a++)
            if ((members & BIT(a)) && roster_may_see(roster, a, h->sensitivity, consent))
                required |= BIT(a);
        /* The agency a referral is addressed to, or a joining member, must receive it: a
         * policy that withholds it from them is a refusal, not a silent drop. */
        if ((h->kind == TACNET__EVENT_KIND__REFERRAL ||
             h->kind == TACNET__EVENT_KIND__MEMBER_JOINED) &&
            !(required & BIT(h->subject_agency)))
            return TACNET_ECONSENT;
    }
    v->required = required;
    if (route_recipient_mask(h) != required)
        return TACNET_ERECIPIENTS;
    return 0;
}

void route_apply(route_case_t *c, const Tacnet__Header *h)
{
    if (c->members == 0 && c->lead == 0)
        c->lead = (uint8_t)h->sender; /* whoever opens the case leads until a hand-over */
    /* Every recipient of an accepted event is a member: a newcomer learns the team from the
     * events it receives, not only from the join that brought it in. */
    c->members =
        s_members_after(c, h) | (route_recipient_mask(h) & ~(1u << TACNET__AGENCY__BROKER));
    switch (h->kind) {
    case TACNET__EVENT_KIND__MEMBER_LEFT:
        c->members &= ~BIT(h->subject_agency);
        if (c->lead == h->subject_agency)
            c->lead = 0;
        break;
    case TACNET__EVENT_KIND__LEAD_HANDOVER:
        c->pending_lead = (uint8_t)h->subject_agency;
        break;
    case TACNET__EVENT_KIND__LEAD_ACCEPTED:
        c->lead = (uint8_t)h->sender;
        c->pending_lead = 0;
        break;
    case TACNET__EVENT_KIND__CONSENT_RECORDED:
    case TACNET__EVENT_KIND__REFERRAL:
    case TACNET__EVENT_KIND__MEMBER_JOINED:
        if (h->has_consent)
            c->consent = (uint8_t)h->consent;
        break;
    case TACNET__EVENT_KIND__ASSESSMENT:
        if (h->has_level_of_need && h->level_of_need <= 4)
            c->level[h->sender] = (uint8_t)h->level_of_need;
        break;
    case TACNET__EVENT_KIND__CASE_CLOSED:
        c->closed = 1;
        break;
    default:
        break;
    }
}

int route_grant_check(const route_case_t *c, const Tacnet__Header *h, uint32_t grantee,
                      const roster_t *roster)
{
    if (s_is_broker_kind(h->kind) || (unsigned)h->sender >= ROUTE_MAX_AGENCY ||
        h->sender == TACNET__AGENCY__BROKER)
        return TACNET_EKIND;
    if (!c || grantee == 0 || grantee >= ROUTE_MAX_AGENCY || grantee == TACNET__AGENCY__BROKER ||
        !(c->members & BIT(grantee)))
        return TACNET_ENOTMEMBER;
    if (route_recipient_mask(h) & BIT(grantee))
        return TACNET_EEXISTS;
    /* An override let every member of the day see it; a member joining later is one of them. */
    if (h->lawful_basis == TACNET__LAWFUL_BASIS__SAFEGUARDING_OVERRIDE)
        return 0;
    /* The consent in force now decides, as it would for the same event published today. */
    int consent = c->consent == TACNET__CONSENT_STATE__GIVEN ||
                  h->lawful_basis == TACNET__LAWFUL_BASIS__LEGAL_DUTY;
    return roster_may_see(roster, grantee, h->sensitivity, consent) ? 0 : TACNET_ECONSENT;
}

#define ROUTE_CASE_VERSION 1

void route_case_encode(const route_case_t *c, uint8_t out[ROUTE_CASE_BYTES])
{
    memset(out, 0, ROUTE_CASE_BYTES);
    out[0] = ROUTE_CASE_VERSION;
    bytes_be32_put(out + 1, c->members);
    out[5] = c->lead;
    out[6] = c->pending_lead;
    out[7] = c->consent;
    out[8] = c->closed;
    memcpy(out + 9, c->level, ROUTE_MAX_AGENCY);
}

int route_case_decode(const uint8_t *in, size_t len, route_case_t *c)
{
    if (len != ROUTE_CASE_BYTES || in[0] != ROUTE_CASE_VERSION)
        return TACNET_ECORRUPT;
    memset(c, 0, sizeof(*c));
    c->members = bytes_be32_get(in + 1);
    c->lead = in[5];
    c->pending_lead = in[6];
    c->consent = in[7];
    c->closed = in[8];
    memcpy(c->level, in + 9, ROUTE_MAX_AGENCY);
    return 0;
}
