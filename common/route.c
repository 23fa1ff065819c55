/* route: membership and sharing decisions from clear headers. */
#include "route.h"
#include "agencies.h"
#include "bytes.h"
#include "err.h"

#include <string.h>

_Static_assert(AGENCIES_EXTRA_LAST < ROUTE_COVER_AGENCIES &&
                   AGENCIES_EXTRA_LAST < TACNET__AGENCY__BROKER,
               "every roster-defined agency has a consent slot in the stored case");

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

/* Facts about the team itself: its consent, who joins, leaves or leads, and its closing. */
static int s_team_fact(Tacnet__EventKind k)
{
    return k == TACNET__EVENT_KIND__CONSENT_RECORDED || k == TACNET__EVENT_KIND__MEMBER_JOINED ||
           k == TACNET__EVENT_KIND__MEMBER_LEFT || k == TACNET__EVENT_KIND__LEAD_HANDOVER ||
           k == TACNET__EVENT_KIND__LEAD_ACCEPTED || k == TACNET__EVENT_KIND__CASE_CLOSED;
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

int route_consent_covers(const route_case_t *c, uint32_t agency, uint32_t sensitivity)
{
    return c && ROUTE_COVER_SLOT(agency) && sensitivity < 8 &&
           (c->cover[agency] & ROUTE_CLASS_BIT(sensitivity)) != 0;
}

int route_consent_objected(const route_case_t *c, uint32_t agency, uint32_t sensitivity)
{
    return c && ROUTE_COVER_SLOT(agency) && sensitivity < 4 &&
           (c->cover[agency] & ROUTE_OBJECT_BIT(sensitivity)) != 0;
}

/* May agency A receive class K from SENDER on BASIS? Its no-consent list, the consent in force
 * for it, or the basis's own list (direct care only between agencies that give it, and not past
 * the family's objection). */
static int s_may_receive(const route_case_t *c, unsigned a, uint32_t sender, uint32_t k,
                         uint32_t basis, const roster_t *roster)
{
    if (roster_may_see(roster, a, k, route_consent_covers(c, a, k)))
        return 1;
    if (basis == TACNET__LAWFUL_BASIS__LEGAL_DUTY)
        return roster_may_see_on(roster, a, k, basis);
    if (basis == TACNET__LAWFUL_BASIS__DIRECT_CARE)
        return roster_gives_direct_care(roster, sender) && !route_consent_objected(c, a, k) &&
               roster_may_see_on(roster, a, k, basis);
    return 0;
}

uint32_t route_reach(const route_case_t *c, uint32_t members, uint32_t sender, uint32_t sensitivity,
                     uint32_t basis, const roster_t *roster)
{
    uint32_t m = sender < ROUTE_MAX_AGENCY ? BIT(sender) : 0;
    for (unsigned a = 1; a < ROUTE_MAX_AGENCY; a++)
        if ((members & BIT(a)) && s_may_receive(c, a, sender, sensitivity, basis, roster))
            m |= BIT(a);
    return m;
}

int route_basis_choose(const route_case_t *c, const Tacnet__Header *h, uint32_t want,
                       int legal_duty_ok, const roster_t *roster)
{
    /* Team facts go to the team whatever the consent covers, and a referral made with consent
     * records it: consent is their basis. */
    if (s_team_fact(h->kind) || (h->kind == TACNET__EVENT_KIND__REFERRAL && h->has_consent &&
                                 h->consent == TACNET__CONSENT_STATE__GIVEN &&
                                 (!c || c->consent == TACNET__CONSENT_STATE__CONSENT_UNKNOWN)))
        return TACNET__LAWFUL_BASIS__CONSENT;
    uint32_t members = s_members_after(c, h), k = h->sensitivity, from = h->sender;
    int widest = want == 0;
    if (h->kind == TACNET__EVENT_KIND__REFERRAL || h->kind == TACNET__EVENT_KIND__MEMBER_JOINED)
        want |= BIT(h->subject_agency); /* the newcomer must receive what brings it in */
    uint32_t consent = route_reach(c, members, from, k, TACNET__LAWFUL_BASIS__CONSENT, roster);
    uint32_t care =
        roster_gives_direct_care(roster, from)
            ? route_reach(c, members, from, k, TACNET__LAWFUL_BASIS__DIRECT_CARE, roster)
            : 0;
    uint32_t duty = route_reach(c, members, from, k, TACNET__LAWFUL_BASIS__LEGAL_DUTY, roster);
    if (widest && (care & ~consent) && (want & ~care) == 0)
        return TACNET__LAWFUL_BASIS__DIRECT_CARE;
    if ((want & ~consent) == 0)
        return TACNET__LAWFUL_BASIS__CONSENT;
    if (care && (want & ~care) == 0)
        return TACNET__LAWFUL_BASIS__DIRECT_CARE;
    if (legal_duty_ok && (want & ~duty) == 0)
        return TACNET__LAWFUL_BASIS__LEGAL_DUTY;
    return TACNET_ECONSENT;
}

/* The consent in force a REFERRAL or MEMBER_JOINED header tells its newcomer: its cover list,
 * or, without one, everything when the consent is given (a referral made with the family's
 * consent, or a sender from before consent had a scope) and nothing otherwise. */
static void s_header_cover(const Tacnet__Header *h, uint8_t cover[ROUTE_COVER_AGENCIES])
{
    memset(cover, 0, ROUTE_COVER_AGENCIES);
    if (h->n_consent_cover == 0) {
        if (h->consent == TACNET__CONSENT_STATE__GIVEN)
            for (unsigned a = 1; a < ROUTE_COVER_AGENCIES; a++)
                cover[a] = ROUTE_COVER_SLOT(a) && agencies_known(a) ? ROUTE_CLASSES_ALL : 0;
        return;
    }
    for (size_t i = 0; i < h->n_consent_cover; i++) {
        const Tacnet__ConsentCover *cc = h->consent_cover[i];
        if (!ROUTE_COVER_SLOT((unsigned)cc->agency))
            continue;
        for (size_t j = 0; j < cc->n_classes; j++)
            if ((unsigned)cc->classes[j] < 4)
                cover[cc->agency] |= ROUTE_CLASS_BIT(cc->classes[j]);
        for (size_t j = 0; j < cc->n_objected; j++)
            if ((unsigned)cc->objected[j] < 4)
                cover[cc->agency] |= ROUTE_OBJECT_BIT(cc->objected[j]);
    }
}

/* The consent fields a header may carry for its kind: a scope on a consent record only, a cover
 * list on a referral or a join only, and the state on those three. */
static int s_consent_fields(const Tacnet__Header *h)
{
    int record = h->kind == TACNET__EVENT_KIND__CONSENT_RECORDED;
    int newcomer =
        h->kind == TACNET__EVENT_KIND__REFERRAL || h->kind == TACNET__EVENT_KIND__MEMBER_JOINED;
    if (record && (!h->has_consent || h->consent == TACNET__CONSENT_STATE__CONSENT_UNKNOWN))
        return TACNET_EFIELD;
    if ((h->n_consent_scope || h->n_consent_agencies) && !record)
        return TACNET_EFIELD;
    if (h->n_consent_cover && !(newcomer && h->has_consent))
        return TACNET_EFIELD;
    if (h->has_consent && !record && !newcomer)
        return TACNET_EFIELD;
    return 0;
}

/* Which kinds need which header fields, and the consent fields by kind. */
static int s_fields(const Tacnet__Header *h)
{
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
    default:
        break;
    }
    return s_consent_fields(h);
}

/* A referral or a join tells the new member the consent in force, so its own view can apply the
 * sharing policy; it must match what the case holds, except that a referral made with the
 * family's consent, on a case with none recorded yet, records it (consent to refer is consent to
 * share with the team): *REFERRAL_CONSENT says so. */
static int s_newcomer_consent(const route_case_t *c, const Tacnet__Header *h, int *referral_consent,
                              route_verdict_t *v)
{
    *referral_consent = 0;
    if (!h->has_consent || h->kind == TACNET__EVENT_KIND__CONSENT_RECORDED)
        return 0;
    uint8_t known = c ? c->consent : TACNET__CONSENT_STATE__CONSENT_UNKNOWN;
    if (h->kind == TACNET__EVENT_KIND__REFERRAL && h->consent == TACNET__CONSENT_STATE__GIVEN &&
        known == TACNET__CONSENT_STATE__CONSENT_UNKNOWN) {
        *referral_consent = 1;
        return 0;
    }
    uint8_t told[ROUTE_COVER_AGENCIES];
    s_header_cover(h, told);
    if (h->consent != known || !c || memcmp(told + 1, c->cover + 1, ROUTE_COVER_AGENCIES - 1)) {
        v->why = "the consent a newcomer is told differs from the consent in force on the case";
        return TACNET_ECONSENT;
    }
    return 0;
}

/* The case as H's routing sees it. Team facts (a consent record, who joins, leaves or leads)
 * reach every member whose role may see their class with consent, whatever the consent covers:
 * the team must know what the family agreed to and withdrew, and who is in it, to share by the
 * same rules. A referral recording consent shares as consent for everything. */
static void s_effective(const route_case_t *c, const Tacnet__Header *h, int referral_consent,
                        route_case_t *eff)
{
    memset(eff, 0, sizeof(*eff));
    if (c)
        *eff = *c;
    if (s_team_fact(h->kind) || referral_consent)
        for (unsigned a = 1; a < ROUTE_COVER_AGENCIES; a++)
            eff->cover[a] = ROUTE_COVER_SLOT(a) ? ROUTE_CLASSES_ALL : 0;
}

int route_may_receive(const route_case_t *c, const Tacnet__Header *h, uint32_t agency,
                      const roster_t *roster)
{
    if (agency == 0 || agency >= ROUTE_MAX_AGENCY || agency == TACNET__AGENCY__BROKER)
        return 0;
    if (h->lawful_basis == TACNET__LAWFUL_BASIS__SAFEGUARDING_OVERRIDE)
        return 1;
    route_case_t eff;
    s_effective(c, h, 0, &eff);
    return (route_reach(&eff, BIT(agency), h->sender, h->sensitivity, h->lawful_basis, roster) &
            BIT(agency)) != 0;
}

/* Who the event must go to (with *V's flags), or a refusal. */
static int s_required(const route_case_t *c, const Tacnet__Header *h, const roster_t *roster,
                      int referral_consent, route_verdict_t *v)
{
    /* A member whose keys are all revoked (or lapsed) can be sealed nothing: it is left out, so
     * that the rest of the team goes on sharing (the lead takes it out of the team). */
    uint32_t lapsed = roster_lapsed_mask(roster, h->created_at_ms) & ~BIT(h->sender);
    uint32_t members = s_members_after(c, h) & ~lapsed;
    if ((h->kind == TACNET__EVENT_KIND__REFERRAL || h->kind == TACNET__EVENT_KIND__MEMBER_JOINED) &&
        (lapsed & BIT(h->subject_agency))) {
        v->why = "the agency brought in has no valid key in the roster (revoked or expired)";
        return TACNET_ECONSENT;
    }
    if (h->lawful_basis == TACNET__LAWFUL_BASIS__SAFEGUARDING_OVERRIDE) {
        if (!h->has_override_reason || h->override_reason == TACNET__OVERRIDE_REASON__OVERRIDE_NONE)
            return TACNET_EOVERRIDE;
        v->required = members;
        v->override_used = 1;
        return 0;
    }
    if (h->lawful_basis == TACNET__LAWFUL_BASIS__DIRECT_CARE &&
        !roster_gives_direct_care(roster, h->sender)) {
        v->why = "the sharing policy names no direct care for the sender";
        return TACNET_ECONSENT;
    }
    route_case_t eff;
    s_effective(c, h, referral_consent, &eff);
    v->required = route_reach(&eff, members, h->sender, h->sensitivity, h->lawful_basis, roster);
    /* The agency a referral is addressed to, or a joining member, must receive it: a policy
     * that withholds it from them is a refusal, not a silent drop. */
    if ((h->kind == TACNET__EVENT_KIND__REFERRAL || h->kind == TACNET__EVENT_KIND__MEMBER_JOINED) &&
        !(v->required & BIT(h->subject_agency))) {
        v->why = "the agency brought in may not receive this class on this lawful basis";
        return TACNET_ECONSENT;
    }
    return 0;
}

/* What only the lead professional's agency may do for the team: offer the lead to another
 * member, close the case, record the family's consent given (widening what the team shares),
 * and take another agency out of the team. An agency leaves by itself, and any member records
 * a refusal or withdrawal of consent (narrowing is always safe). While a case has no lead (its
 * lead left), any member may do these, so the team can hand the lead on. */
static int s_authority(const route_case_t *c, const Tacnet__Header *h, route_verdict_t *v)
{
    if (!c || c->lead == 0 || c->lead == (uint8_t)h->sender)
        return 0;
    switch (h->kind) {
    case TACNET__EVENT_KIND__LEAD_HANDOVER:
        v->why = "only the lead professional's agency offers the lead to another member";
        return TACNET_EFORBIDDEN;
    case TACNET__EVENT_KIND__CASE_CLOSED:
        v->why = "only the lead professional's agency closes the case";
        return TACNET_EFORBIDDEN;
    case TACNET__EVENT_KIND__MEMBER_LEFT:
        if (h->subject_agency == h->sender)
            return 0;
        v->why = "an agency leaves the team itself; only the lead professional's agency takes "
                 "another agency out";
        return TACNET_EFORBIDDEN;
    case TACNET__EVENT_KIND__REFERRAL: /* one that records the family's consent (none yet) */
    case TACNET__EVENT_KIND__CONSENT_RECORDED:
        if (h->has_consent && h->consent == TACNET__CONSENT_STATE__GIVEN &&
            (h->kind == TACNET__EVENT_KIND__CONSENT_RECORDED ||
             c->consent == TACNET__CONSENT_STATE__CONSENT_UNKNOWN)) {
            v->why = "consent given is recorded by the lead professional's agency; any member "
                     "records a refusal or withdrawal";
            return TACNET_EFORBIDDEN;
        }
        return 0;
    default:
        return 0;
    }
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
    /* A closed case takes nothing more, except the acknowledgements of a resolution proposed
     * before it closed: without them its escalation could never finish. */
    if (c && c->closed && h->kind != TACNET__EVENT_KIND__ESCALATION_ACK)
        return TACNET_ECLOSED;
    int rc = s_fields(h);
    int referral_consent = 0;
    if (rc == 0)
        rc = s_newcomer_consent(c, h, &referral_consent, v);
    if (rc != 0)
        return rc;
    if ((h->kind == TACNET__EVENT_KIND__MEMBER_LEFT ||
         h->kind == TACNET__EVENT_KIND__LEAD_HANDOVER) &&
        !(c && (c->members & BIT(h->subject_agency)))) {
        v->why = h->kind == TACNET__EVENT_KIND__LEAD_HANDOVER
                     ? "the agency the lead is handed to is not a member of the team: add it first"
                     : "the agency named is not a member of the team";
        return TACNET_ENOTMEMBER;
    }
    if (h->kind == TACNET__EVENT_KIND__LEAD_HANDOVER && c && c->lead &&
        c->lead == (uint8_t)h->subject_agency) {
        v->why = "the agency named already holds the lead: hand it to another member";
        return TACNET_EFIELD;
    }
    if (h->kind == TACNET__EVENT_KIND__LEAD_ACCEPTED && !(c && c->pending_lead == h->sender))
        return TACNET_EKIND;
    /* A lead's agency whose keys are all revoked can do nothing more: any member takes it out,
     * and the case is then without a lead until one is handed on. */
    int lead_gone = h->kind == TACNET__EVENT_KIND__MEMBER_LEFT && c &&
                    c->lead == (uint8_t)h->subject_agency &&
                    (roster_lapsed_mask(roster, h->created_at_ms) & BIT(h->subject_agency));
    if (!lead_gone && (rc = s_authority(c, h, v)) != 0)
        return rc;
    /* The lead's agency hands the lead over before it leaves a team that goes on: a case left
     * without a lead has nobody to record its consent, close it or take the chair. */
    if (!lead_gone && h->kind == TACNET__EVENT_KIND__MEMBER_LEFT && c &&
        c->lead == (uint8_t)h->subject_agency && (c->members & ~BIT(h->subject_agency))) {
        v->why = "the lead professional's agency hands the lead over to another member before it "
                 "leaves the team";
        return TACNET_EFORBIDDEN;
    }
    if ((rc = s_required(c, h, roster, referral_consent, v)) != 0)
        return rc;
    uint32_t named = route_recipient_mask(h);
    /* A member named beyond what consent and the lawful basis allow is a consent refusal, so the
     * sender learns why; a missing member, or a stranger, is a wrong recipient list. */
    if (named & ~v->required & s_members_after(c, h)) {
        v->why = "a recipient is outside the consent in force and the event's lawful basis";
        return TACNET_ECONSENT;
    }
    if (named != v->required)
        return TACNET_ERECIPIENTS;
    return 0;
}

/* Fold a consent record into the consent in force: given widens it for the agencies and
 * classes in scope (and lifts an objection); refused or withdrawn narrows it for them and
 * records the family's objection. */
static void s_consent_apply(route_case_t *c, const Tacnet__Header *h)
{
    uint8_t classes = 0, objects = 0;
    for (size_t i = 0; i < h->n_consent_scope; i++)
        if ((unsigned)h->consent_scope[i] < 4)
            classes |= ROUTE_CLASS_BIT(h->consent_scope[i]);
    if (h->n_consent_scope == 0)
        classes = ROUTE_CLASSES_ALL;
    for (uint32_t k = TACNET__SENSITIVITY__ROUTINE; k <= TACNET__SENSITIVITY__SAFEGUARDING; k++)
        if (classes & ROUTE_CLASS_BIT(k))
            objects |= ROUTE_OBJECT_BIT(k);
    for (unsigned a = 1; a < ROUTE_COVER_AGENCIES; a++) {
        /* A consent naming no agency is for every agency of the partnership as the roster has
         * it now: an id no agency holds yet is not covered (nor told to a newcomer). */
        int listed = h->n_consent_agencies == 0 && agencies_known(a);
        for (size_t i = 0; i < h->n_consent_agencies; i++)
            listed |= (unsigned)h->consent_agencies[i] == a;
        if (!listed || !ROUTE_COVER_SLOT(a))
            continue;
        if (h->consent == TACNET__CONSENT_STATE__GIVEN)
            c->cover[a] = (uint8_t)((c->cover[a] | classes) & ~objects);
        else
            c->cover[a] = (uint8_t)((c->cover[a] & ~classes) | objects);
    }
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
        if (c->pending_lead == h->subject_agency)
            c->pending_lead = 0; /* an offer to an agency that left lapses */
        break;
    case TACNET__EVENT_KIND__LEAD_HANDOVER:
        c->pending_lead = (uint8_t)h->subject_agency;
        break;
    case TACNET__EVENT_KIND__LEAD_ACCEPTED:
        c->lead = (uint8_t)h->sender;
        c->pending_lead = 0;
        break;
    case TACNET__EVENT_KIND__CONSENT_RECORDED:
        if (h->has_consent) {
            c->consent = (uint8_t)h->consent;
            s_consent_apply(c, h);
        }
        break;
    case TACNET__EVENT_KIND__REFERRAL:
    case TACNET__EVENT_KIND__MEMBER_JOINED:
        if (h->has_consent) {
            c->consent = (uint8_t)h->consent;
            s_header_cover(h, c->cover);
        }
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
    /* The same rule as a publish today: its class, its recorded lawful basis, the consent in
     * force now per agency and class and any objection (an override reaches everyone). */
    return route_may_receive(c, h, grantee, roster) ? 0 : TACNET_ECONSENT;
}

/* Version 1 (ROUTE_CASE_BYTES_V1):
 *   0 version 1, 1..4 members (BE), 5 lead, 6 pending_lead, 7 consent, 8 closed, 9..24 level,
 *   25..28 cover of agencies 1 to 4, 29 and 30 cover of 6 and 7 (zero from before roster
 *   agencies), 31 1 when the cover bytes are present (0: from before consent scopes)
 * Version 2 (ROUTE_CASE_BYTES): 0..24 as version 1 (version 2), 25..39 cover of agencies 1 to
 *   15, 40..47 zero. */
#define ROUTE_CASE_V1       1
#define ROUTE_CASE_V2       2
#define ROUTE_CASE_COVER    25
#define ROUTE_CASE_RESERVED (ROUTE_CASE_COVER + ROUTE_COVER_AGENCIES - 1)

_Static_assert(ROUTE_CASE_RESERVED <= ROUTE_CASE_BYTES, "the cover bytes fit the record");
_Static_assert(ROUTE_CASE_BYTES != ROUTE_CASE_BYTES_V1 + 8 &&
                   ROUTE_CASE_BYTES != ROUTE_CASE_BYTES_V1 + 9 &&
                   ROUTE_CASE_BYTES + 8 != ROUTE_CASE_BYTES_V1 + 9,
               "no record size is the other version's with a journal trailer");

size_t route_case_len(const uint8_t *in, size_t len)
{
    size_t n = 0;
    if (len >= 1 && in[0] == ROUTE_CASE_V1)
        n = ROUTE_CASE_BYTES_V1;
    else if (len >= 1 && in[0] == ROUTE_CASE_V2)
        n = ROUTE_CASE_BYTES;
    return n <= len ? n : 0;
}

void route_case_encode(const route_case_t *c, uint8_t out[ROUTE_CASE_BYTES])
{
    memset(out, 0, ROUTE_CASE_BYTES);
    out[0] = ROUTE_CASE_V2;
    bytes_be32_put(out + 1, c->members);
    out[5] = c->lead;
    out[6] = c->pending_lead;
    out[7] = c->consent;
    out[8] = c->closed;
    memcpy(out + 9, c->level, ROUTE_MAX_AGENCY);
    memcpy(out + ROUTE_CASE_COVER, c->cover + 1, ROUTE_COVER_AGENCIES - 1);
}

int route_case_decode(const uint8_t *in, size_t len, route_case_t *c)
{
    if (len == 0 || route_case_len(in, len) != len)
        return TACNET_ECORRUPT;
    if (in[0] == ROUTE_CASE_V2)
        for (size_t i = ROUTE_CASE_RESERVED; i < ROUTE_CASE_BYTES; i++)
            if (in[i] != 0)
                return TACNET_ECORRUPT;
    memset(c, 0, sizeof(*c));
    c->members = bytes_be32_get(in + 1);
    c->lead = in[5];
    c->pending_lead = in[6];
    c->consent = in[7];
    c->closed = in[8];
    memcpy(c->level, in + 9, ROUTE_MAX_AGENCY);
    if (in[0] == ROUTE_CASE_V2) {
        memcpy(c->cover + 1, in + ROUTE_CASE_COVER, ROUTE_COVER_AGENCIES - 1);
    } else if (in[31] == 1) {
        memcpy(c->cover + 1, in + ROUTE_CASE_COVER, 4);
        c->cover[6] = in[29];
        c->cover[7] = in[30];
    } else if (c->consent == TACNET__CONSENT_STATE__GIVEN) {
        memset(c->cover + 1, ROUTE_CLASSES_ALL, 4); /* before scopes */
    }
    return 0;
}
