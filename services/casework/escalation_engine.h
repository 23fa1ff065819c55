/* escalation_engine: the professional-disagreement escalation engine the broker runs (the
 * procedure is in docs/DOMAIN.md, "Escalation of professional disagreements").
 *
 * The broker sees clear headers only, so everything here is driven by header facts: a
 * DISAGREEMENT opens an escalation (its msg_id becomes the escalation id); the latest
 * ASSESSMENT level of need of each member agency can open one automatically; ESCALATION_RESOLVED
 * and ESCALATION_ACK move it to closure. An unresolved stage past its deadline advances by
 * itself: stage 1 practitioners, 2 line managers, 3 designated safeguarding leads, 4 the
 * partnership (audiences come from the policy). Deadlines count working days (weekends and bank
 * holidays skipped), hours on the urgent track, or seconds in test policies.
 *
 * Each function returns the notices to send as plain structs; the caller seals and delivers
 * them and persists the records they name. No I/O, no sockets, no LMDB: the time is always a
 * parameter. Records serialise to a small versioned fixed layout so a restarted broker resumes
 * its timers: a deadline that passed while it was down fires on the first escalation_engine_due call,
 * once.
 */
#ifndef TACNET_CASEWORK_ESCALATION_ENGINE_H
#define TACNET_CASEWORK_ESCALATION_ENGINE_H

#include <stddef.h>
#include <stdint.h>

#include "clock.h"
#include "roster.pb-c.h"

#define ESCALATE_ID_LEN      16
#define ESCALATE_MAX_STAGES  4
#define ESCALATE_MAX_PARTIES 6
#define ESCALATE_CASEREF_MAX 31
/* parties + lead + partnership */
#define ESCALATE_MAX_RECIPIENTS (ESCALATE_MAX_PARTIES + 2)
/* Serialised record: fixed size in layout version 2 (version 1, 188 bytes, still decodes). */
#define ESCALATE_RECORD_BYTES 196

typedef struct escalation_engine escalation_engine_t;

typedef struct escalation_engine_stage_policy {
    uint32_t audience;     /* Tacnet__Role */
    uint32_t working_days; /* standard track */
    uint32_t urgent_hours; /* urgent track (0: use working days) */
    uint32_t seconds;      /* test policies: overrides both when non-zero */
} escalation_engine_stage_policy_t;

/* Mirrors roster.proto EscalationPolicy. stages[i] is stage i + 1. */
typedef struct escalation_engine_policy {
    escalation_engine_stage_policy_t stages[ESCALATE_MAX_STAGES];
    unsigned n_stages;
    uint32_t level_gap;            /* auto-open when two levels differ by at least this */
    uint32_t non_response_hours;   /* carried for the broker's non-response alerts */
    uint32_t non_response_seconds; /* test policies */
} escalation_engine_policy_t;

enum escalation_engine_state { ESCALATE_OPEN = 1, ESCALATE_RESOLVING = 2, ESCALATE_CLOSED = 3 };

/* One escalation. Plain data: copied out by escalation_engine_get, in by escalation_engine_restore. */
typedef struct escalation_engine_record {
    uint8_t id[ESCALATE_ID_LEN];
    uint8_t refers_to[ESCALATE_ID_LEN]; /* the challenged event (all zero when none) */
    uint8_t has_refers_to;
    uint8_t urgent;
    uint8_t automatic; /* opened by the level-of-need trigger */
    uint8_t breached;  /* the last stage's deadline passed unresolved (dashboard red flag) */
    char case_ref[ESCALATE_CASEREF_MAX + 1];
    uint32_t parties[ESCALATE_MAX_PARTIES]; /* Tacnet__Agency, raiser first */
    unsigned n_parties;
    uint32_t lead_agency; /* the case's lead professional's agency (0 = unknown) */
    uint32_t state;       /* enum escalation_engine_state */
    uint32_t stage;       /* 1..n_stages */
    uint64_t opened_ms;
    uint64_t stage_started_ms;
    uint64_t deadline_ms; /* 0: the stage has no timer */
    uint64_t resolved_ms;
    uint64_t closed_ms;
    uint64_t stage_took_ms[ESCALATE_MAX_STAGES]; /* time spent in each stage, once left */
    uint32_t acked;                              /* bit i: parties[i] acknowledged */
    uint32_t resolved_by;                        /* agency that proposed the resolution */
    /* Non-response, per phase (the current stage while open, the resolution while resolving):
     * bit i: parties[i] answered this stage / was already told it has not. */
    uint32_t responded;
    uint32_t nr_sent;
} escalation_engine_record_t;

typedef struct escalation_engine_notice {
    uint8_t escalation_id[ESCALATE_ID_LEN];
    char case_ref[ESCALATE_CASEREF_MAX + 1];
    uint32_t event;    /* Tacnet__EscalationEvent: OPENED, ADVANCED, RESOLVED, CLOSED */
    uint32_t stage;    /* the stage now current */
    uint32_t audience; /* Tacnet__Role that must act at this stage */
    uint64_t deadline_ms;
    uint8_t automatic;
    uint8_t urgent;
    uint32_t parties[ESCALATE_MAX_PARTIES];
    unsigned n_parties;
    /* parties, the lead agency, and PARTNERSHIP at the last stage; each once */
    uint32_t recipients[ESCALATE_MAX_RECIPIENTS];
    unsigned n_recipients;
    uint64_t stage_took_ms[ESCALATE_MAX_STAGES]; /* CLOSED: how long each stage took */
    /* Non-zero: this is a NON_RESPONSE notice about that party (event is 0, audience
     * LINE_MANAGER, recipients the party and the lead agency), overdue since OVERDUE_SINCE_MS. */
    uint32_t non_responder;
    uint64_t overdue_since_ms;
    /* Set on the notice telling the parties that a later disagreement (JOINED, raised by
     * JOINED_BY, now a party) joined this escalation. */
    uint8_t has_joined;
    uint8_t joined[ESCALATE_ID_LEN];
    uint32_t joined_by;
} escalation_engine_notice_t;

/* A growable list of notices the caller owns; free with escalation_engine_notices_clear. */
typedef struct escalation_engine_notices {
    escalation_engine_notice_t *items;
    size_t n;
    size_t cap;
} escalation_engine_notices_t;

void escalation_engine_notices_clear(escalation_engine_notices_t *list);

/* An explicit disagreement, from its clear header. */
typedef struct escalation_engine_request {
    const uint8_t *msg_id;    /* 16 bytes: becomes the escalation id */
    const uint8_t *refers_to; /* 16 bytes or NULL: the challenged event */
    const char *case_ref;
    uint32_t raiser;      /* header sender */
    uint32_t other;       /* the challenged agency (sender of refers_to) */
    uint32_t lead_agency; /* the case's lead (0 = unknown) */
    int urgent;
} escalation_engine_request_t;

/* A member agency's latest level of need for a case (0 = not assessed). */
typedef struct escalation_engine_level {
    uint32_t agency;
    uint32_t level;
} escalation_engine_level_t;

/* An escalation as the join rule sees it: its id, the event it challenges (NULL when none), its
 * parties and whether it is closed. */
typedef struct escalation_engine_join_candidate {
    const uint8_t *id;        /* 16 bytes */
    const uint8_t *refers_to; /* 16 bytes or NULL */
    const uint32_t *parties;
    unsigned n_parties;
    int closed;
} escalation_engine_join_candidate_t;

enum {
    ESCALATE_JOIN_NONE = 0,
    ESCALATE_JOIN_PAIR = 1,      /* same two agencies, not closed */
    ESCALATE_JOIN_REFERS_TO = 2, /* same challenged event, not closed */
    ESCALATE_JOIN_SAME_ID = 3    /* a retry of the disagreement that opened it (any state) */
};

/* The one rule for "exactly one escalation per dispute", used by the broker's engine and by
 * each agency's case-state fold (casestate.c): how strongly the disagreement MSG_ID (16 bytes)
 * challenging REFERS_TO (16 bytes or NULL), raised by RAISER against OTHER, joins candidate C
 * (an ESCALATE_JOIN_* value; among several candidates the highest wins, the first on a tie).
 * The case is the caller's to match. */
int escalation_engine_join_rank(const escalation_engine_join_candidate_t *c, const uint8_t *msg_id,
                                const uint8_t *refers_to, uint32_t raiser, uint32_t other);

/* The built-in default procedure (a synthesis of published ones, configurable per partnership):
 * stage 1 practitioners 3 working days (Sefton's respond), 2 line managers 5, 3 DSLs 5 (SHSCB,
 * West Yorkshire), 4 partnership 14 (West Yorkshire step 6); urgent track 24 hours a stage,
 * 48 at the partnership; level gap 2. */
void escalation_engine_policy_default(escalation_engine_policy_t *out);

/* Copy a roster policy. Returns 0, or TACNET_ECONFIG when stages are not exactly 1..n (n <= 4)
 * each once with a known audience, or when level_gap is 0. */
int escalation_engine_policy_from_proto(const Tacnet__EscalationPolicy *pb,
                                        escalation_engine_policy_t *out);

/* The deadline of STAGE (1-based) started at START_MS: the stage's seconds when non-zero, else
 * its urgent hours on the urgent track (when non-zero), else its working days via
 * clock_add_working_days. Returns 0 when the stage has no timer or does not exist. */
uint64_t escalation_engine_deadline(const escalation_engine_policy_t *policy,
                                    const holidays_t *holidays, unsigned stage, int urgent,
                                    uint64_t start_ms);

/* A new engine. POLICY is copied; HOLIDAYS is borrowed and must outlive the engine (NULL:
 * weekends only). Returns an owned engine, or NULL for an invalid policy. */
escalation_engine_t *escalation_engine_new(const escalation_engine_policy_t *policy,
                                           const holidays_t *holidays);
void escalation_engine_destroy(escalation_engine_t **self_p);

/* Open an escalation for an explicit disagreement. Exactly one escalation per dispute
 * (escalation_engine_join_rank): a retry of the same msg_id (in any state) returns
 * TACNET_EEXISTS with ID_OUT set and no notice; a disagreement about the same refers_to, or
 * between the same pair of parties (either way round), while one of the case is not closed
 * joins it: TACNET_EEXISTS with ID_OUT set to the existing escalation, the raiser (and the
 * challenged agency) made parties when they were not (up to ESCALATE_MAX_PARTIES), the raiser
 * counted as having answered the current stage, and, when that made a new party, one notice for
 * the current state (OPENED at stage 1, ADVANCED after, RESOLVED while resolving) carrying the
 * joined disagreement, so the joiner and every party hear of it. An urgent request joining an open escalation on the working-day
 * track also moves it to the urgent track (its stage deadline comes forward to the urgent hours
 * from NOW_MS, never later) and that notice is an ADVANCED one carrying the new deadline.
 * Otherwise returns 0, appends an OPENED notice to OUT and sets ID_OUT (may be NULL).
 * TACNET_EINVAL for missing fields, identical parties or a case ref longer than 31 bytes. */
int escalation_engine_open(escalation_engine_t *self, const escalation_engine_request_t *req,
                           uint64_t now_ms, escalation_engine_notices_t *out,
                           uint8_t id_out[ESCALATE_ID_LEN]);

/* The level-of-need trigger: LEVELS holds each member agency's latest level for CASE_REF. Every
 * pair whose levels differ by at least the policy's level_gap opens one automatic escalation
 * (id = escalation_engine_auto_id(case, pair)), unless that pair already has one (the automatic one in
 * any state, or an explicit one not closed). Returns the number opened (>= 0; OPENED notices in
 * OUT) or TACNET_EINVAL. */
int escalation_engine_levels(escalation_engine_t *self, const char *case_ref,
                             const escalation_engine_level_t *levels, size_t n_levels,
                             uint32_t lead_agency, uint64_t now_ms,
                             escalation_engine_notices_t *out);

/* The deterministic id of the automatic escalation for CASE_REF between agencies A and B
 * (order does not matter): BLAKE2b-128 of a domain tag, the case ref and the sorted pair. */
void escalation_engine_auto_id(const char *case_ref, uint32_t a, uint32_t b,
                               uint8_t id_out[ESCALATE_ID_LEN]);

/* Advance every open escalation whose deadline is at or before NOW_MS by one stage, starting
 * the next stage at the missed deadline (a broker that was down does not grant extra time), and
 * append an ADVANCED notice for each. A stage several deadlines late moves one stage per call,
 * so every stage's notice is produced exactly once; call again until it returns 0. At the last
 * stage an overdue escalation stays with the partnership and is marked breached (no notice).
 * Returns the number of notices appended. */
int escalation_engine_due(escalation_engine_t *self, uint64_t now_ms,
                          escalation_engine_notices_t *out);

/* The earliest pending stage deadline, or 0 when none. */
uint64_t escalation_engine_next_deadline(const escalation_engine_t *self);

/* The non-response limit of the policy in ms (seconds when set, else hours), 0 for none. */
uint64_t escalation_engine_non_response_ms(const escalation_engine_t *self);

/* Party BY answers the current stage of ID (an ESCALATION_RESPONSE). Returns 0 (a repeat, or a
 * response once resolving or closed, changes nothing), TACNET_ENOTFOUND or TACNET_ENOTMEMBER. */
int escalation_engine_respond(escalation_engine_t *self, const uint8_t id[ESCALATE_ID_LEN],
                              uint32_t by, uint64_t now_ms);

/* Non-response: every party of an open escalation that has not answered its current stage within
 * the policy's non-response limit of the stage's start (of the resolution, while resolving:
 * not acknowledged it) gets one NON_RESPONSE notice per stage (and one for the resolution).
 * The raiser of an explicit disagreement has answered stage 1 by raising it. Returns the number
 * of notices appended (0 when the policy has no limit). */
int escalation_engine_non_response(escalation_engine_t *self, uint64_t now_ms,
                                   escalation_engine_notices_t *out);

/* The earliest time escalation_engine_due or escalation_engine_non_response has something to do, or 0. */
uint64_t escalation_engine_next_timer(const escalation_engine_t *self);

/* The lead professional of CASE_REF is now LEAD (0: none): later notices of its escalations
 * that are not closed go to the new lead. Returns the number of records changed. */
int escalation_engine_lead_set(escalation_engine_t *self, const char *case_ref, uint32_t lead);

/* A deep copy (the holidays stay borrowed), so a caller can try changes inside a transaction
 * that may be retried or aborted and keep them only once it commits. Returns an owned engine. */
escalation_engine_t *escalation_engine_clone(const escalation_engine_t *self);

/* The records changed since they were added by escalation_engine_restore or last taken (opened, advanced,
 * answered, resolved, acknowledged, closed, breached, lead changed), copied into a malloc'd
 * array in *OUT (caller frees; NULL when none); their changed marks are cleared. Returns the
 * count. */
size_t escalation_engine_changed_take(escalation_engine_t *self, escalation_engine_record_t **out);

/* A party or the lead agency BY proposes a resolution of ID: the stage timer stops, the
 * current stage's duration is recorded and a RESOLVED notice is appended. A party proposing it
 * accepts it by doing so: it counts as acknowledged and is not asked again. Returns 0 (also for
 * a retry while already resolving or closed: no notice), TACNET_ENOTFOUND, or
 * TACNET_ENOTMEMBER when BY is neither a party nor the lead. */
int escalation_engine_resolve(escalation_engine_t *self, const uint8_t id[ESCALATE_ID_LEN],
                              uint32_t by, uint64_t now_ms, escalation_engine_notices_t *out);

/* Party BY acknowledges the resolution of ID (it recorded the outcome on its own file). When
 * every party has acknowledged, the escalation closes and a CLOSED notice (with each stage's
 * duration) is appended. A party that does not ACCEPT the resolution takes the escalation to
 * the next stage, open again with that stage's deadline (an ADVANCED notice; the
 * acknowledgements so far are void); at the last stage (the partnership's decision is final)
 * its refusal is recorded by its event and counts as an acknowledgement. Returns 0 (a repeated
 * acknowledgement is a no-op), TACNET_ENOTFOUND, TACNET_ENOTMEMBER when BY is not a party,
 * TACNET_EKIND when nothing was resolved yet, or TACNET_EFORBIDDEN when BY proposed the
 * resolution (it accepted it by proposing it; it cannot refuse it either). */
int escalation_engine_ack(escalation_engine_t *self, const uint8_t id[ESCALATE_ID_LEN], uint32_t by,
                          int accept, uint64_t now_ms, escalation_engine_notices_t *out);

/* Copy the record ID into OUT. Returns 0 or TACNET_ENOTFOUND. */
int escalation_engine_get(const escalation_engine_t *self, const uint8_t id[ESCALATE_ID_LEN],
                          escalation_engine_record_t *out);

/* Number of records held (any state). */
size_t escalation_engine_count(const escalation_engine_t *self);

/* Copy the I-th record held (0 <= I < escalation_engine_count) into OUT. Returns 0 or TACNET_ENOTFOUND. */
int escalation_engine_at(const escalation_engine_t *self, size_t i,
                         escalation_engine_record_t *out);

/* Add a record read back from storage (after a restart). Returns 0, TACNET_EEXISTS when the id
 * is already held, or TACNET_ECORRUPT for an inconsistent record. */
int escalation_engine_restore(escalation_engine_t *self, const escalation_engine_record_t *rec);

/* Serialise REC into BUF (at least ESCALATE_RECORD_BYTES). Returns the length written, or
 * TACNET_EINVAL when CAP is too small. */
int escalation_engine_record_encode(const escalation_engine_record_t *rec, uint8_t *buf,
                                    size_t cap);

/* Parse LEN bytes into OUT (layout version 2, or version 1 written before non-response was
 * tracked). Returns 0, TACNET_EVERSION for an unknown layout version, or TACNET_ECORRUPT for a
 * bad magic, length or value. */
int escalation_engine_record_decode(const uint8_t *buf, size_t len,
                                    escalation_engine_record_t *out);

#endif
