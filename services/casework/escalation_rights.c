/* escalation_rights: who may do what on an escalation (see escalation_rights.h). */
#include "casework/escalation_rights.h"

#include "err.h"

#include <stddef.h>

/* Whether AGENCY proposed E's current resolution (or, with none held, the last one). */
static int s_proposed(const Tacnet__EscalationView *e, uint32_t agency)
{
    return e->has_resolved_by && (uint32_t)e->resolved_by == agency;
}

escalation_rights_t escalation_rights_of(const Tacnet__EscalationView *e, uint32_t agency,
                                         uint32_t lead)
{
    escalation_rights_t r = { 0 };
    if (!e)
        return r;
    r.open = !e->has_state || e->state != TACNET__ESCALATION_EVENT__ESC_CLOSED;
    r.resolving = r.open && (e->resolution != NULL ||
                             (e->has_state && e->state == TACNET__ESCALATION_EVENT__ESC_RESOLVED));
    if (!agency)
        return r;
    for (size_t i = 0; i < e->n_parties; i++)
        r.party |= (uint32_t)e->parties[i] == agency;
    int leads = lead != 0 && lead == agency;
    int raised = e->has_raised_by && (uint32_t)e->raised_by == agency;
    r.involved = r.party || leads || raised;
    r.respond = r.open && r.party;
    r.resolve = r.open && (r.party || leads);
    for (size_t i = 0; r.party && e->resolution && i < e->n_acknowledged; i++)
        r.acknowledged |= (uint32_t)e->acknowledged[i] == agency;
    r.proposed = e->resolution != NULL && s_proposed(e, agency);
    r.acknowledged |= r.party && r.proposed;
    r.acknowledge = r.open && r.party && e->resolution != NULL && !r.acknowledged;
    /* Only a party is asked to accept a resolution, so only a party lacks one it should hold
     * (a lead that is no party may never have been sent the escalation's opening). */
    r.unheld = r.open && r.party && e->resolution == NULL && e->has_state &&
               e->state == TACNET__ESCALATION_EVENT__ESC_RESOLVED && !s_proposed(e, agency);
    return r;
}

uint32_t escalation_rights_unreached(uint32_t parties, uint32_t sender, uint32_t members,
                                     uint32_t recipients)
{
    uint32_t self = sender < 32 ? 1u << sender : 0;
    return parties & members & ~self & ~1u & ~recipients;
}

int escalation_rights_is_answer(uint32_t kind)
{
    return kind == TACNET__EVENT_KIND__ESCALATION_RESPONSE ||
           kind == TACNET__EVENT_KIND__ESCALATION_RESOLVED ||
           kind == TACNET__EVENT_KIND__ESCALATION_ACK;
}

int escalation_rights_check(uint32_t kind, const Tacnet__EscalationView *e, uint32_t agency,
                            uint32_t lead, const char **why)
{
    escalation_rights_t r = escalation_rights_of(e, agency, lead);
    *why = NULL;
    if (!escalation_rights_is_answer(kind))
        return 0;
    int leads = lead != 0 && lead == agency;
    if (kind == TACNET__EVENT_KIND__ESCALATION_RESPONSE && !r.party)
        *why = "only a party to the escalation answers it";
    else if (kind == TACNET__EVENT_KIND__ESCALATION_RESOLVED && !r.party && !leads)
        *why = "only a party or the lead professional resolves an escalation";
    else if (kind == TACNET__EVENT_KIND__ESCALATION_ACK && !r.party)
        *why = "only a party acknowledges a resolution";
    if (*why)
        return TACNET_ENOTMEMBER;
    if (!r.open) {
        *why = "this escalation is closed: every party accepted its resolution, and nothing more "
               "is taken on it; if the matter is not settled, raise a new disagreement";
        return TACNET_EKIND;
    }
    /* Open from here on (a closed one is refused above), so "proposed" is r.resolving. */
    if (r.resolving && (kind == TACNET__EVENT_KIND__ESCALATION_RESPONSE ||
                        kind == TACNET__EVENT_KIND__ESCALATION_RESOLVED)) {
        /* The broker takes either as nothing new: the stage's answer now is each party's
         * acknowledgement. */
        *why = "a resolution is already proposed: its parties acknowledge it, and one not "
               "accepted moves the escalation to its next stage, where a new one may be proposed";
        return TACNET_EKIND;
    }
    if (kind == TACNET__EVENT_KIND__ESCALATION_ACK && !r.resolving) {
        *why = "no resolution has been proposed yet to acknowledge";
        return TACNET_EKIND;
    }
    if (kind == TACNET__EVENT_KIND__ESCALATION_ACK && s_proposed(e, agency)) {
        *why = ESCALATION_RIGHTS_OWN_RESOLUTION;
        return TACNET_EFORBIDDEN;
    }
    if (kind == TACNET__EVENT_KIND__ESCALATION_ACK && !e->resolution) {
        *why = ESCALATION_RIGHTS_UNHELD;
        return TACNET_EKIND;
    }
    return 0;
}
