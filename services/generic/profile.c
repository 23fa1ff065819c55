/* generic profile: the common kinds for any roster-defined agency, and finding which one a
 * config file names. */
#include "generic/profile.h"

#include <stdio.h>
#include <string.h>

#include "agencies.h"
#include "agency/config.h"
#include "err.h"
#include "roster.h"

/* Early help plans reviewed at team-around-the-family meetings, held every six weeks. */
#define GENERIC_REVIEW_DAYS 42

/* What any member of the team records. Not DECISION: threshold and statutory decisions belong to
 * children's social care. */
static const uint32_t s_kinds[] = {
    TACNET__EVENT_KIND__REFERRAL,
    TACNET__EVENT_KIND__CONCERN,
    TACNET__EVENT_KIND__ASSESSMENT,
    TACNET__EVENT_KIND__DISAGREEMENT,
    TACNET__EVENT_KIND__MEETING_REQUESTED,
    TACNET__EVENT_KIND__MEETING_SCHEDULED,
    TACNET__EVENT_KIND__MEETING_OUTCOME,
    TACNET__EVENT_KIND__CARE_PLAN,
    TACNET__EVENT_KIND__OUTCOME_MEASURE,
    TACNET__EVENT_KIND__COMMUNICATION_PLAN,
    TACNET__EVENT_KIND__CONTACT_LOGGED,
    TACNET__EVENT_KIND__CONSENT_RECORDED,
    TACNET__EVENT_KIND__PARTNERSHIP_RATING,
    TACNET__EVENT_KIND__CASE_CLOSED,
    TACNET__EVENT_KIND__MEMBER_JOINED,
    TACNET__EVENT_KIND__MEMBER_LEFT,
    TACNET__EVENT_KIND__LEAD_HANDOVER,
    TACNET__EVENT_KIND__LEAD_ACCEPTED,
    TACNET__EVENT_KIND__ESCALATION_RESPONSE,
    TACNET__EVENT_KIND__ESCALATION_RESOLVED,
    TACNET__EVENT_KIND__ESCALATION_ACK,
    TACNET__EVENT_KIND__ACTION_UPDATE,
    TACNET__EVENT_KIND__INVOLVEMENT_PREFERENCES,
};

static uint32_t s_default_sensitivity(uint32_t kind)
{
    switch (kind) {
    /* A concern or a referral is a safeguarding matter until the sender says otherwise: routine
     * would send it to everyone who may see routine. */
    case TACNET__EVENT_KIND__CONCERN:
    case TACNET__EVENT_KIND__REFERRAL:
        return TACNET__SENSITIVITY__SAFEGUARDING;
    default:
        return TACNET__SENSITIVITY__ROUTINE;
    }
}

void generic_profile_init(agency_profile_t *out, uint32_t id, const char *name, const char *title)
{
    memset(out, 0, sizeof(*out));
    out->agency = id;
    out->name = name;
    out->title = title;
    out->kinds = s_kinds;
    out->n_kinds = sizeof(s_kinds) / sizeof(s_kinds[0]);
    out->review_days = GENERIC_REVIEW_DAYS;
    out->default_sensitivity = s_default_sensitivity;
    out->intake = NULL;
}

/* The roster entry for ID in ROSTER, or NULL. */
static const Tacnet__AgencyEntry *s_entry(const roster_t *roster, uint32_t id)
{
    const Tacnet__Roster *r = roster_msg(roster);
    for (size_t i = 0; i < r->n_agencies; i++)
        if (r->agencies[i]->id == id)
            return r->agencies[i];
    return NULL;
}

int generic_profile_resolve(const char *path, agency_profile_t *out, char *why, size_t whylen)
{
    static char name[32], title[64];
    agency_config_t ac;
    int rc = 0;
    roster_t *roster = NULL;
    generic_profile_init(out, 0, "agency", "Agency");
    cfg_t *cfg = agency_config_load(path, &ac, out, &rc, why, whylen);
    if (!cfg)
        return rc;
    const char *want = cfg_str(cfg, "agency", "name");
    uint8_t root_pk[SEAL_KEY_BYTES];
    uint32_t id = 0;
    if (!want || !*want) {
        snprintf(why, whylen,
                 "%s: [agency] name is required: the roster's name of the agency "
                 "this daemon serves",
                 path);
        rc = TACNET_ECONFIG;
        goto fail;
    }
    if ((rc = roster_root_load(ac.root_pub_path, root_pk)) != 0 ||
        !(roster = roster_load(ac.roster_path, root_pk, &rc))) {
        snprintf(why, whylen, "%s: cannot load the roster %s: %s", path, ac.roster_path,
                 tacnet_strerror(rc));
        goto fail;
    }
    const Tacnet__AgencyEntry *e = NULL;
    if (agencies_find(want, &id) == 0)
        e = s_entry(roster, id);
    if (!e) {
        snprintf(why, whylen, "%s: [agency] name %s: the roster has no such agency", path, want);
        rc = TACNET_ECONFIG;
    } else if (!e->profile || strcmp(e->profile, "generic") != 0) {
        snprintf(why, whylen,
                 "%s: [agency] name %s: the roster gives it the %s profile; start "
                 "its own daemon",
                 path, want, e->profile ? e->profile : "(none)");
        rc = TACNET_ECONFIG;
    } else {
        snprintf(name, sizeof(name), "%s", e->name);
        snprintf(title, sizeof(title), "%s", e->title);
        generic_profile_init(out, id, name, title);
    }
fail:
    roster_destroy(&roster);
    cfg_destroy(&cfg);
    return rc;
}
