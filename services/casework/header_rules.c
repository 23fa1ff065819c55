/* header_rules: the clear header of an agency's publish, from its request (see header_rules.h). */
#include "casework/header_rules.h"

#include <string.h>

#include "err.h"
#include "kinds.h"
#include "labels.h"
#include "names.h"
#include "wire.h"

#include <stdio.h>
#include <string.h>

/* Is KIND one an agency may publish (common/kinds.h, the one list of kinds)? */
static int s_agency_kind(uint32_t kind)
{
    switch (kind) {
#define X(name) case TACNET__EVENT_KIND__##name:
        KINDS_AGENCY(X)
#undef X
        return 1;
    default:
        return 0;
    }
}

int header_rules_body_member(uint32_t kind, Tacnet__Body__EventCase *member)
{
    return s_agency_kind(kind) ? kinds_body_member(kind, member) : TACNET_EKIND;
}

int header_rules_kind_check(const agency_profile_t *profile, uint32_t kind, char *why, size_t cap)
{
    Tacnet__Body__EventCase member;
    if (header_rules_body_member(kind, &member) != 0) {
        snprintf(why, cap, "agencies cannot publish %s events", names_kind(kind));
        return TACNET_EKIND;
    }
    if (!agency_profile_originates(profile, kind)) {
        /* Said as people say it: forms are offered only for kinds the agency sends, so this is
         * met from the command line, the API or an old link. */
        const char *what = labels_kind(kind);
        snprintf(why, cap,
                 "%s does not record a%s %s: the agencies whose role it is do (ask the lead "
                 "professional's agency); %s sends no %s events",
                 labels_agency(profile->agency), strchr("aeiou", what[0]) ? "n" : "", what,
                 profile->name, names_kind(kind));
        return TACNET_EKIND;
    }
    return 0;
}

int header_rules_body_check(const Tacnet__PublishRequest *req, char *why, size_t cap)
{
    Tacnet__Body__EventCase member;
    if (header_rules_body_member(req->kind, &member) != 0) {
        snprintf(why, cap, "agencies cannot publish %s events", names_kind(req->kind));
        return TACNET_EKIND;
    }
    if (!req->body || req->body->event_case != member) {
        snprintf(why, cap, "a %s event needs its body in the \"%s\" field", names_kind(req->kind),
                 names_kind(req->kind));
        return TACNET_EFIELD;
    }
    return header_rules_facts_check(req, why, cap);
}

int header_rules_facts_check(const Tacnet__PublishRequest *req, char *why, size_t cap)
{
    const Tacnet__Body *b = req->body;
    if (!b)
        return 0;
    /* The header is what the broker routes and escalates by and what the recipients are shown;
     * the body is the record. A fact in both must be one fact. */
    const Tacnet__Assessment *as = b->assessment;
    if (req->kind == TACNET__EVENT_KIND__ASSESSMENT && as && as->has_level_of_need &&
        req->has_level_of_need && req->level_of_need != as->level_of_need) {
        snprintf(why, cap,
                 "level_of_need: the request says %u, the assessment's body (assessment."
                 "level_of_need) says %u; give one level of need (or leave the request's out: it "
                 "is taken from the body)",
                 req->level_of_need, as->level_of_need);
        return TACNET_EFIELD;
    }
    const Tacnet__Referral *rf = b->referral;
    if (req->kind == TACNET__EVENT_KIND__REFERRAL && rf && rf->has_to_agency &&
        req->has_subject_agency && req->subject_agency != rf->to_agency) {
        snprintf(why, cap,
                 "subject_agency: the request says %s, the referral's body (referral.to_agency) "
                 "says %s; give one agency (or leave subject_agency out: it is taken from the "
                 "body)",
                 names_agency(req->subject_agency), names_agency(rf->to_agency));
        return TACNET_EFIELD;
    }
    const Tacnet__PartnershipRating *pr = b->partnership_rating;
    if (req->kind == TACNET__EVENT_KIND__PARTNERSHIP_RATING && pr && pr->has_about &&
        req->has_subject_agency && req->subject_agency != pr->about) {
        snprintf(why, cap,
                 "subject_agency: the request says %s, the rating's body "
                 "(partnership_rating.about) says %s; give one agency (or leave subject_agency "
                 "out: it is taken from the body)",
                 names_agency(req->subject_agency), names_agency(pr->about));
        return TACNET_EFIELD;
    }
    return 0;
}

int header_rules_refers_to_used(uint32_t kind)
{
    switch (kind) {
    case TACNET__EVENT_KIND__DISAGREEMENT:
    case TACNET__EVENT_KIND__ESCALATION_RESPONSE:
    case TACNET__EVENT_KIND__ESCALATION_RESOLVED:
    case TACNET__EVENT_KIND__ESCALATION_ACK:
        return 1;
    default:
        return 0;
    }
}

int header_rules_msgid_check(const uint8_t *id, size_t len, uint64_t now_ms, uint64_t created_at_ms,
                             uint64_t ahead_ms, uint64_t behind_ms, char *why, size_t cap)
{
    if (!id || len != 16) {
        snprintf(why, cap, "msg_id is %zu bytes, not 16", id ? len : 0);
        return TACNET_EMSGID;
    }
    uint64_t t = wire_msgid_time(id);
    if (t > now_ms && t - now_ms > ahead_ms) {
        snprintf(why, cap, "msg_id's creation time is ahead of the clock window");
        return TACNET_EMSGID;
    }
    if (t < now_ms && now_ms - t > behind_ms) {
        snprintf(why, cap, "msg_id's creation time is behind the clock window");
        return TACNET_EMSGID;
    }
    /* Made with its header: an id of another time would be that many more free bits. */
    if ((t > created_at_ms && t - created_at_ms > HEADER_RULES_MSGID_AFTER_MS) ||
        (t < created_at_ms && created_at_ms - t > ahead_ms)) {
        snprintf(why, cap, "msg_id's creation time is not its header's created_at_ms");
        return TACNET_EMSGID;
    }
    return 0;
}

int header_rules_refers_to_check(const Tacnet__PublishRequest *req, char *why, size_t cap)
{
    int has = req->has_refers_to && req->refers_to.len == 16;
    if (req->has_refers_to && !header_rules_refers_to_used(req->kind)) {
        snprintf(why, cap, "a %s event names no other event: refers_to is not allowed",
                 names_kind(req->kind));
        return TACNET_EREFERSTO;
    }
    switch (req->kind) {
    case TACNET__EVENT_KIND__DISAGREEMENT:
        if (has)
            return 0;
        snprintf(why, cap, "a disagreement names the challenged event in refers_to (16 bytes)");
        return TACNET_EFIELD;
    case TACNET__EVENT_KIND__ESCALATION_RESPONSE:
    case TACNET__EVENT_KIND__ESCALATION_RESOLVED:
    case TACNET__EVENT_KIND__ESCALATION_ACK:
        if (has)
            return 0;
        snprintf(why, cap, "%s names the escalation it answers in refers_to (16 bytes)",
                 names_kind(req->kind));
        return TACNET_EFIELD;
    default:
        return 0;
    }
}

/* Consent: what a consent_recorded body records; for a referral or a new member what the case
 * holds; for a referral to a case with none, "given" when the referral says it was obtained. */
static void s_consent(Tacnet__Header *h, const Tacnet__PublishRequest *req,
                      const route_case_t *known)
{
    const Tacnet__Body *body = req->body;
    int case_consent = known && known->consent != TACNET__CONSENT_STATE__CONSENT_UNKNOWN;
    if (req->kind == TACNET__EVENT_KIND__CONSENT_RECORDED && body && body->consent_recorded &&
        body->consent_recorded->has_state) {
        h->has_consent = 1;
        h->consent = (Tacnet__ConsentState)body->consent_recorded->state;
        /* The scope travels in the clear so the broker routes by it; the body keeps it too,
         * with the child's wishes, for the people reading the case. */
        h->consent_scope = body->consent_recorded->scope;
        h->n_consent_scope = body->consent_recorded->n_scope;
        h->consent_agencies = body->consent_recorded->agencies;
        h->n_consent_agencies = body->consent_recorded->n_agencies;
    }
    if ((req->kind == TACNET__EVENT_KIND__REFERRAL ||
         req->kind == TACNET__EVENT_KIND__MEMBER_JOINED) &&
        case_consent) {
        h->has_consent = 1;
        h->consent = (Tacnet__ConsentState)known->consent;
    }
    if (req->kind == TACNET__EVENT_KIND__REFERRAL && !h->has_consent && body && body->referral &&
        body->referral->has_consent_obtained && body->referral->consent_obtained && !case_consent) {
        h->has_consent = 1;
        h->consent = TACNET__CONSENT_STATE__GIVEN;
    }
}

void header_rules_fill(Tacnet__Header *h, const Tacnet__PublishRequest *req,
                       uint32_t default_sensitivity, const route_case_t *known)
{
    const Tacnet__Body *body = req->body;
    h->kind = req->kind;
    h->case_ref = req->case_ref;
    h->initials = req->initials;
    h->sensitivity =
        req->has_sensitivity ? req->sensitivity : (Tacnet__Sensitivity)default_sensitivity;
    h->lawful_basis = req->has_lawful_basis ? req->lawful_basis : TACNET__LAWFUL_BASIS__CONSENT;
    h->has_refers_to = req->has_refers_to;
    h->refers_to = req->refers_to;
    h->has_subject_agency = req->has_subject_agency;
    h->subject_agency = req->subject_agency;
    h->has_level_of_need = req->has_level_of_need;
    h->level_of_need = req->level_of_need;
    h->has_urgent = req->has_urgent;
    h->urgent = req->urgent;
    h->has_override_reason = req->has_override_reason;
    h->override_reason = req->override_reason;
    /* A referral names the agency it goes to in its body; the header must say so too, since
     * that is what makes the referred-to agency a member. */
    if (req->kind == TACNET__EVENT_KIND__REFERRAL && !h->has_subject_agency && body &&
        body->referral && body->referral->has_to_agency) {
        h->has_subject_agency = 1;
        h->subject_agency = body->referral->to_agency;
    }
    s_consent(h, req, known);
    /* The body's level of need is the assessment's: the header carries that one (a request
     * naming another is refused by header_rules_facts_check). */
    if (req->kind == TACNET__EVENT_KIND__ASSESSMENT && body && body->assessment &&
        body->assessment->has_level_of_need) {
        h->has_level_of_need = 1;
        h->level_of_need = body->assessment->level_of_need;
    }
    /* Whether a party accepts a proposed resolution: the broker takes a refusal to the next
     * stage. */
    if (req->kind == TACNET__EVENT_KIND__ESCALATION_ACK && body && body->escalation_ack) {
        h->has_resolution_accepted = 1;
        h->resolution_accepted =
            !body->escalation_ack->has_accepted || body->escalation_ack->accepted;
    }
    /* A rating's rung, who gave it and whom it rates travel in the clear for the partnership
     * report; the comment stays sealed. */
    const Tacnet__PartnershipRating *pr = body ? body->partnership_rating : NULL;
    if (req->kind == TACNET__EVENT_KIND__PARTNERSHIP_RATING && pr && pr->has_rung) {
        h->has_ladder_rung = 1;
        h->ladder_rung = pr->rung;
        h->has_rated_by_family = pr->has_by_family;
        h->rated_by_family = pr->has_by_family;
        if (pr->has_about && !h->has_subject_agency) {
            h->has_subject_agency = 1;
            h->subject_agency = pr->about;
        }
    }
}

void header_rules_cover_fill(Tacnet__Header *h, const route_case_t *known,
                             header_rules_cover_t *store)
{
    int newcomer =
        h->kind == TACNET__EVENT_KIND__REFERRAL || h->kind == TACNET__EVENT_KIND__MEMBER_JOINED;
    h->n_consent_cover = 0;
    h->consent_cover = store->ptr;
    if (!newcomer || !h->has_consent || !known ||
        known->consent == TACNET__CONSENT_STATE__CONSENT_UNKNOWN)
        return;
    for (unsigned a = 1; a < ROUTE_COVER_AGENCIES; a++) {
        if (!known->cover[a])
            continue;
        Tacnet__ConsentCover *cc = &store->cover[h->n_consent_cover];
        tacnet__consent_cover__init(cc);
        cc->agency = (Tacnet__Agency)a;
        cc->classes = store->classes[h->n_consent_cover];
        cc->objected = store->objected[h->n_consent_cover];
        for (uint32_t k = TACNET__SENSITIVITY__ROUTINE; k <= TACNET__SENSITIVITY__SAFEGUARDING;
             k++) {
            if (known->cover[a] & ROUTE_CLASS_BIT(k))
                cc->classes[cc->n_classes++] = (Tacnet__Sensitivity)k;
            if (known->cover[a] & ROUTE_OBJECT_BIT(k))
                cc->objected[cc->n_objected++] = (Tacnet__Sensitivity)k;
        }
        store->ptr[h->n_consent_cover++] = cc;
    }
}
