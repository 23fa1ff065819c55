/* escalation_rights: who may do what on an escalation, one rule for every surface.
 *
 * The broker refuses an answer to an escalation from an agency that may not give it
 * (E_NOTMEMBER); the daemon refuses the same before anything is sent, the dashboard offers only
 * the actions an agency may take, and the inbox of the dashboard and of `tacnet inbox` lists the
 * escalations an agency is involved in. All four ask this module, so they cannot drift apart:
 *
 *   - an escalation is open until every party has acknowledged its resolution (ESC_CLOSED); a
 *     proposed resolution (ESC_RESOLVED) still waits on the parties' acknowledgements;
 *   - a party responds at each stage and acknowledges a proposed resolution, unless it proposed
 *     it: proposing a resolution is accepting it (it counts as acknowledged, and its own
 *     acknowledgement, accepting or not, is refused E_FORBIDDEN);
 *   - a party acknowledges only a resolution its view holds: told by the broker's notice that
 *     one is proposed without having received it (it went at a class this agency does not
 *     receive, or the agency joined after it was sent), it has nothing to accept, and its
 *     acknowledgement is refused E_KIND by the sending daemon (the broker, blind to bodies,
 *     cannot tell);
 *   - a party, or the lead professional's agency, proposes a resolution;
 *   - an agency is involved (its inbox lists the escalation) when it is a party, raised it, or
 *     leads the case.
 *
 * The broker's escalation engine (casework/escalation_engine.c) applies the same rules to its
 * own records; tests/unit/test_escalation_rights.c holds both to them.
 *
 * Pure: no I/O, no allocation.
 */
#ifndef TACNET_CASEWORK_ESCALATION_RIGHTS_H
#define TACNET_CASEWORK_ESCALATION_RIGHTS_H

#include <stdint.h>

#include "api.pb-c.h"

typedef struct escalation_rights {
    int open;         /* not yet closed by every party's acknowledgement */
    int party;        /* the agency is a party */
    int involved;     /* a party, its raiser, or the case's lead: the inbox lists it */
    int respond;      /* may publish an escalation_response */
    int resolve;      /* may publish an escalation_resolved */
    int acknowledged; /* a party that has acknowledged the resolution proposed, or proposed it */
    int acknowledge;  /* asked to acknowledge: a party, a resolution proposed, not yet done */
    int proposed;     /* the agency proposed the resolution (so counts as having accepted it) */
    int resolving;    /* open with a resolution proposed, its text held here or not: the answer
                         owed is each party's acknowledgement, not a response or another one */
    int unheld;       /* the broker says a resolution is proposed, but its text never reached
                         this view: nothing to acknowledge, respond to or resolve here */
} escalation_rights_t;

/* Why the proposer of a resolution may not acknowledge it, in plain words (daemon and broker). */
#define ESCALATION_RIGHTS_OWN_RESOLUTION                                                         \
    "this agency proposed the resolution, which counts as accepting it: only the other parties " \
    "acknowledge it"

/* Why a party may not acknowledge a resolution its view does not hold, in plain words. */
#define ESCALATION_RIGHTS_UNHELD                                                                  \
    "this agency has not received the resolution proposed (the broker's notice says one is, but " \
    "its text never reached this agency's view), so there is nothing here to accept: ask the "    \
    "agency that proposed it to send it again at a class of information this agency receives"

/* What AGENCY may do on escalation E of a case led by LEAD (0: no lead known). AGENCY 0 asks
 * only whether E is open. */
escalation_rights_t escalation_rights_of(const Tacnet__EscalationView *e, uint32_t agency,
                                         uint32_t lead);

/* 1 if KIND (a Tacnet__EventKind) is an answer to an escalation (response, resolution,
 * acknowledgement), else 0. */
int escalation_rights_is_answer(uint32_t kind);

/* The parties of an escalation (PARTIES, a bitmask of agency ids) that an answer from SENDER
 * wrapped for RECIPIENTS (a bitmask) would not reach, among the case's MEMBERS (a party that
 * left the team cannot block an answer): a bitmask, 0 when it reaches every one. An answer that
 * misses a party leaves that party unable to accept a resolution it never saw, and the
 * escalation open for good; the sending daemon refuses it, and the broker too, from the clear
 * header. */
uint32_t escalation_rights_unreached(uint32_t parties, uint32_t sender, uint32_t members,
                                     uint32_t recipients);

/* Whether AGENCY may publish the answer KIND on E (case led by LEAD), by the broker's own rules:
 * 0, TACNET_ENOTMEMBER (not a party; for a resolution, nor the lead), TACNET_EKIND (an
 * acknowledgement before any resolution was proposed, or of one E does not hold: the daemon's
 * own check, as the broker cannot read bodies) or TACNET_EFORBIDDEN (an acknowledgement
 * of the resolution this agency proposed; any answer on a closed escalation, and a response or a
 * second resolution while one is proposed), with *WHY a
 * sentence saying so. The broker takes an answer to a closed escalation as nothing new; the
 * sending daemon refuses it, so nobody's record says a party answered what was settled. */
int escalation_rights_check(uint32_t kind, const Tacnet__EscalationView *e, uint32_t agency,
                            uint32_t lead, const char **why);

#endif
