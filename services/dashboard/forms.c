/* forms: the dashboard's publishing forms. One table describes each form's fields; the same
 * table draws the form and turns the posted fields into the JSON of a PublishRequest (the shape
 * of the local API and `tacnet publish`, read with pbjson), which goes through the one publish
 * path, so a refusal here has the code, reason and findings the command line would print. */
#include "web.h"
#include "web_internal.h"
#include "agencies.h"
#include "bytes.h"
#include "casework/assessment_types.h"
#include "casework/casestate.h"
#include "casework/challenge.h"
#include "casework/escalation_rights.h"
#include "casework/header_rules.h"
#include "clock.h"
#include "err.h"
#include "labels.h"
#include "names.h"
#include "pbjson.h"
#include "wire.h"
#include "zone.h"

#include <ctype.h>
#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

typedef enum {
    FT_TEXT,  /* one line */
    FT_AREA,  /* paragraph */
    FT_LINES, /* one list item per line */
    FT_DATE,  /* YYYY-MM-DD */
    FT_INT,
    FT_INTS,  /* comma-separated */
    FT_ENUM,  /* select from an enum */
    FT_CHECK, /* true when ticked */
    FT_NEWID, /* hidden: 16 random bytes, hex */
    FT_ABOUT, /* select of this case's decisions, escalations, meetings or actions */
    FT_WHEN,  /* a date and time in the dashboard's zone (zone.h), sent as ms since the epoch */
    FT_SELF,  /* hidden: this agency's name */
    FT_YESNO, /* a required choice between YES and NO (no default: not answering is not "no") */
} ftype_t;

typedef enum {
    SRC_NONE,
    SRC_DECISIONS,
    SRC_ESCALATIONS,
    SRC_MEETINGS,
    SRC_ACTIONS,
    SRC_PLANS /* this agency's plans with numbered goals */
} source_t;

typedef struct {
    const char *path; /* in the PublishRequest JSON: "body.decision.topic", "refers_to" */
    const char *label;
    ftype_t type;
    const ProtobufCEnumDescriptor *e; /* FT_ENUM */
    int required;
    source_t source;   /* FT_ABOUT */
    const char *group; /* starts a fieldset with this legend */
} field_t;

/* The two answers of an FT_YESNO field, in words, by its path. */
static const struct {
    const char *path, *yes, *no;
} s_yesno[] = {
    { "body.escalation_ack.accepted",
      "Yes: we accept it (the escalation closes once every party has)",
      "No: we do not accept it (the disagreement goes to the next stage of the procedure)" },
};

typedef struct {
    const char *name; /* URL and event kind */
    const char *title;
    const char *intro;
    const field_t *fields;
    size_t n;
} form_t;

#define AGENCY_E &tacnet__agency__descriptor
#define PARTICIPANT(i, n)                                                                        \
    { "body.decision.participants[" #i "].who.agency",                                           \
      "Agency",                                                                                  \
      FT_ENUM,                                                                                   \
      AGENCY_E,                                                                                  \
      0,                                                                                         \
      0,                                                                                         \
      "Participant " #n },                                                                       \
        { "body.decision.participants[" #i "].who.initials", "Initials", FT_TEXT, 0, 0, 0, 0 },  \
        { "body.decision.participants[" #i "].view", "Their view", FT_TEXT, 0, 0, 0, 0 },        \
    {                                                                                            \
        "body.decision.participants[" #i "].agreed", "Agreed with the decision", FT_CHECK, 0, 0, \
            0, 0                                                                                 \
    }

/* The child's and the family's views, or the coded reason each is absent (family_voice.h). */
#define VIEW_ABSENCE_E &tacnet__view_absence__descriptor
#define VIEWS(k)                                                                                      \
    { "body." k ".child_view", "The child's view, in their words", FT_AREA, 0, 0, 0,                  \
      "Voices of the family" },                                                                       \
        { "body." k ".child_view_absent.reason",                                                      \
          "Or why it is not recorded",                                                                \
          FT_ENUM,                                                                                    \
          VIEW_ABSENCE_E,                                                                             \
          0,                                                                                          \
          0,                                                                                          \
          0 },                                                                                        \
        { "body." k ".child_view_absent.ask_by_date", "Not yet asked: ask by", FT_DATE, 0, 0, 0, 0 }, \
        { "body." k ".family_view", "The family's view, in their words", FT_AREA, 0, 0, 0, 0 },       \
        { "body." k ".family_view_absent.reason",                                                     \
          "Or why it is not recorded",                                                                \
          FT_ENUM,                                                                                    \
          VIEW_ABSENCE_E,                                                                             \
          0,                                                                                          \
          0,                                                                                          \
          0 },                                                                                        \
    {                                                                                                 \
        "body." k ".family_view_absent.ask_by_date", "Not yet asked: ask by", FT_DATE, 0, 0, 0, 0     \
    }

/* A request that someone senior and not directly involved reviews it (casework/challenge.h). */
#define CHALLENGE(k)                                                                    \
    { "body." k ".challenge_request.reviewer_role",                                     \
      "Ask for a review by (someone not directly "                                      \
      "involved)",                                                                      \
      FT_ENUM,                                                                          \
      &tacnet__role__descriptor,                                                        \
      0,                                                                                \
      0,                                                                                \
      "Request for challenge" },                                                        \
        { "body." k ".challenge_request.reviewer.agency",                               \
          "Reviewer's agency",                                                          \
          FT_ENUM,                                                                      \
          AGENCY_E,                                                                     \
          0,                                                                            \
          0,                                                                            \
          0 },                                                                          \
        { "body." k ".challenge_request.reviewer.initials",                             \
          "Reviewer's initials",                                                        \
          FT_TEXT,                                                                      \
          0,                                                                            \
          0,                                                                            \
          0,                                                                            \
          0 },                                                                          \
    {                                                                                   \
        "body." k ".challenge_request.review_by_date", "Review by", FT_DATE, 0, 0, 0, 0 \
    }

static const field_t s_decision[] = {
    { "body.decision.topic", "Topic", FT_TEXT, 0, 1, 0, 0 },
    { "body.decision.options_considered", "Options considered (one per line)", FT_LINES, 0, 0, 0,
      0 },
    { "body.decision.chosen", "What was decided", FT_TEXT, 0, 1, 0, 0 },
    { "body.decision.rationale", "Rationale", FT_AREA, 0, 0, 0, 0 },
    PARTICIPANT(0, 1),
    PARTICIPANT(1, 2),
    PARTICIPANT(2, 3),
    VIEWS("decision"),
    { "body.decision.decided_date", "Date decided", FT_DATE, 0, 0, 0, 0 },
    CHALLENGE("decision"),
};

/* An escalation's class of information, as the API and `tacnet publish` let the sender choose
 * it; drawn with this agency's default for the kind (dashboard_web_form). Every party must
 * receive an answer on an escalation (and the agency challenged, a disagreement): the sending
 * daemon refuses one at a class a party does not receive, naming it. */
#define ESCALATION_CLASS                                                                       \
    {                                                                                          \
        "sensitivity",                                                                         \
            "Class of information (every party to the escalation must receive it: choose one " \
            "they all do)",                                                                    \
            FT_ENUM, &tacnet__sensitivity__descriptor, 0, 0, "Sharing"                         \
    }

static const field_t s_disagreement[] = {
    { "refers_to", "Decision challenged", FT_ABOUT, 0, 0, SRC_DECISIONS, 0 },
    { "urgent", "Urgent (the child may be at risk now)", FT_CHECK, 0, 0, 0, 0 },
    { "body.disagreement.topic", "Topic", FT_TEXT, 0, 1, 0, 0 },
    { "body.disagreement.current_position", "What was decided or assessed", FT_TEXT, 0, 0, 0, 0 },
    { "body.disagreement.proposed_position", "What you propose", FT_TEXT, 0, 1, 0, 0 },
    { "body.disagreement.reason", "Why", FT_AREA, 0, 1, 0, 0 },
    { "body.disagreement.child_safety", "Is the child safe now?", FT_AREA, 0, 1, 0, 0 },
    VIEWS("disagreement"),
    CHALLENGE("disagreement"),
    ESCALATION_CLASS,
};

static const field_t s_response[] = {
    { "refers_to", "Escalation", FT_ABOUT, 0, 1, SRC_ESCALATIONS, 0 },
    { "body.escalation_response.position", "Your position", FT_ENUM,
      &tacnet__stage_position__descriptor, 1, 0, 0 },
    { "body.escalation_response.comment", "Comment", FT_AREA, 0, 0, 0, 0 },
    CHALLENGE("escalation_response"),
    ESCALATION_CLASS,
};

static const field_t s_resolved[] = {
    { "refers_to", "Escalation", FT_ABOUT, 0, 1, SRC_ESCALATIONS, 0 },
    { "body.escalation_resolved.outcome", "Outcome", FT_AREA, 0, 1, 0, 0 },
    { "body.escalation_resolved.child_safety", "The child's current safety", FT_AREA, 0, 1, 0, 0 },
    { "body.escalation_resolved.agreed_level_of_need", "Agreed level of need (1-4)", FT_INT, 0, 0,
      0, 0 },
    VIEWS("escalation_resolved"),
    ESCALATION_CLASS,
};

static const field_t s_ack[] = {
    { "refers_to", "Escalation", FT_ABOUT, 0, 1, SRC_ESCALATIONS, 0 },
    { "body.escalation_ack.accepted", "Do you accept the proposed resolution?", FT_YESNO, 0, 1, 0,
      0 },
};

static const field_t s_meeting_requested[] = {
    { "body.meeting_requested.meeting_id", "Meeting id", FT_NEWID, 0, 0, 0, 0 },
    { "body.meeting_requested.purpose", "Purpose", FT_TEXT, 0, 1, 0, 0 },
    { "body.meeting_requested.wanted_by_date", "Wanted by", FT_DATE, 0, 0, 0, 0 },
};

#define ACTION(i, n)                                                                                 \
    {                                                                                                \
        "body.meeting_outcome.actions[" #i "].description", "Action", FT_TEXT, 0, 0, 0, "Action " #n \
    },                                                                                               \
        { "body.meeting_outcome.actions[" #i "].owner_agency",                                       \
          "Owner agency",                                                                            \
          FT_ENUM,                                                                                   \
          AGENCY_E,                                                                                  \
          0,                                                                                         \
          0,                                                                                         \
          0 },                                                                                       \
        { "body.meeting_outcome.actions[" #i "].owner_initials",                                     \
          "Owner initials",                                                                          \
          FT_TEXT,                                                                                   \
          0,                                                                                         \
          0,                                                                                         \
          0,                                                                                         \
          0 },                                                                                       \
    {                                                                                                \
        "body.meeting_outcome.actions[" #i "].due_date", "Due", FT_DATE, 0, 0, 0, 0                  \
    }
/* A professional who attended: agency, initials and role (a row left blank is not sent). */
#define ATTENDEE(i, n)                                                                             \
    { "body.meeting_outcome.attendees[" #i "].agency",                                             \
      "Agency",                                                                                    \
      FT_ENUM,                                                                                     \
      AGENCY_E,                                                                                    \
      0,                                                                                           \
      0,                                                                                           \
      "Attended " #n },                                                                            \
        { "body.meeting_outcome.attendees[" #i "].initials", "Initials", FT_TEXT, 0, 0, 0, 0 },    \
    {                                                                                              \
        "body.meeting_outcome.attendees[" #i "].role", "Role", FT_ENUM, &tacnet__role__descriptor, \
            0, 0, 0                                                                                \
    }

#define FAMILY(i, n)                                                                          \
    { "body.meeting_outcome.family[" #i "].role",                                             \
      "Family member",                                                                        \
      FT_ENUM,                                                                                \
      &tacnet__family_role__descriptor,                                                       \
      0,                                                                                      \
      0,                                                                                      \
      "Family view " #n },                                                                    \
        { "body.meeting_outcome.family[" #i "].attended", "Attended", FT_CHECK, 0, 0, 0, 0 }, \
    {                                                                                         \
        "body.meeting_outcome.family[" #i "].view", "Their view", FT_TEXT, 0, 0, 0, 0         \
    }

static const field_t s_meeting_outcome[] = {
    { "body.meeting_outcome.meeting_id", "Meeting", FT_ABOUT, 0, 1, SRC_MEETINGS, 0 },
    { "body.meeting_outcome.held_date", "Held on", FT_DATE, 0, 1, 0, 0 },
    { "body.meeting_outcome.chair.agency", "Chair's agency", FT_ENUM, AGENCY_E, 0, 0, 0 },
    { "body.meeting_outcome.chair.initials", "Chair's initials", FT_TEXT, 0, 0, 0, 0 },
    ATTENDEE(0, 1),
    ATTENDEE(1, 2),
    ATTENDEE(2, 3),
    ATTENDEE(3, 4),
    { "body.meeting_outcome.decisions", "Decisions (one per line)", FT_LINES, 0, 0, 0,
      "What was decided" },
    FAMILY(0, 1),
    FAMILY(1, 2),
    VIEWS("meeting_outcome"),
    ACTION(0, 1),
    ACTION(1, 2),
    ACTION(2, 3),
    { "body.meeting_outcome.next_meeting_date", "Next meeting", FT_DATE, 0, 0, 0, "Next" },
    /* As the API and `tacnet publish` let the sender choose it; drawn with this agency's
     * default for minutes (dashboard_web_form), which "—" also keeps. */
    { "sensitivity", "Class of information (the agencies that receive the minutes follow from it)",
      FT_ENUM, &tacnet__sensitivity__descriptor, 0, 0, "Sharing" },
};

static const field_t s_measure[] = {
    { "body.outcome_measure.tool", "Measure", FT_ENUM, &tacnet__measure_tool__descriptor, 1, 0, 0 },
    { "body.outcome_measure.informant", "Informant", FT_ENUM, &tacnet__informant__descriptor, 0, 0,
      0 },
    { "body.outcome_measure.values", "Scores (comma-separated)", FT_INTS, 0, 1, 0, 0 },
    { "body.outcome_measure.goal_ids", "Goal numbers for GBO scores (comma-separated)", FT_INTS, 0,
      0, 0, 0 },
    /* Needed only when two of this agency's plans have the goals scored; else the daemon places
     * the scores on the one plan that has them. */
    { "body.outcome_measure.plan_id", "Plan the GBO scores are for", FT_ABOUT, 0, 0, SRC_PLANS, 0 },
    { "body.outcome_measure.measured_date", "Date", FT_DATE, 0, 1, 0, 0 },
    { "body.outcome_measure.baseline", "Baseline measure", FT_CHECK, 0, 0, 0, 0 },
};

/* A concern: what was observed. The first concern on a reference nobody holds opens the case
 * (the "new" form: /cases/new/forms/concern, which also asks for the reference and initials). */
static const field_t s_concern[] = {
    { "body.concern.category", "What the concern is about", FT_ENUM,
      &tacnet__concern_category__descriptor, 1, 0, 0 },
    { "body.concern.summary", "What was seen or heard", FT_AREA, 0, 1, 0, 0 },
    { "body.concern.observed_date", "When it was seen", FT_DATE, 0, 0, 0, 0 },
    { "body.concern.immediate_risk", "The child may be at risk now", FT_CHECK, 0, 0, 0, 0 },
    { "body.concern.attendance_permille", "Attendance this term, in tenths of a per cent (0-1000)",
      FT_INT, 0, 0, 0, 0 },
};

/* The reference and initials a new case is opened with (the "new" form only). */
static const field_t s_new_case[] = {
    { "case_ref", "Case reference (area code, year, number: LA7-2026-000123)", FT_TEXT, 0, 1, 0,
      0 },
    { "initials", "The child's initials (2 to 4 capital letters; never a name)", FT_TEXT, 0, 1, 0,
      0 },
};

static const field_t s_contact[] = {
    { "body.contact_logged.with", "With", FT_ENUM, &tacnet__family_role__descriptor, 1, 0, 0 },
    { "body.contact_logged.method", "How", FT_ENUM, &tacnet__contact_method__descriptor, 1, 0, 0 },
    { "body.contact_logged.contact_date", "Date", FT_DATE, 0, 1, 0, 0 },
    { "body.contact_logged.planned", "Part of the communication plan", FT_CHECK, 0, 0, 0, 0 },
    { "body.contact_logged.successful", "Contact made", FT_CHECK, 0, 0, 0, 0 },
    { "body.contact_logged.summary", "Summary", FT_AREA, 0, 0, 0, 0 },
};

#define INVOLVEMENT_E &tacnet__involvement__descriptor
#define PERSON(i, n)                                                                                 \
    { "body.involvement_preferences.people[" #i "].who",                                             \
      "Who",                                                                                         \
      FT_ENUM,                                                                                       \
      &tacnet__family_role__descriptor,                                                              \
      0,                                                                                             \
      0,                                                                                             \
      "Person " #n },                                                                                \
        { "body.involvement_preferences.people[" #i "].decisions",                                   \
          "In decisions",                                                                            \
          FT_ENUM,                                                                                   \
          INVOLVEMENT_E,                                                                             \
          0,                                                                                         \
          0,                                                                                         \
          0 },                                                                                       \
        { "body.involvement_preferences.people[" #i "].meetings",                                    \
          "In meetings",                                                                             \
          FT_ENUM,                                                                                   \
          INVOLVEMENT_E,                                                                             \
          0,                                                                                         \
          0,                                                                                         \
          0 },                                                                                       \
        { "body.involvement_preferences.people[" #i "].minutes",                                     \
          "Wants the minutes",                                                                       \
          FT_CHECK,                                                                                  \
          0,                                                                                         \
          0,                                                                                         \
          0,                                                                                         \
          0 },                                                                                       \
        { "body.involvement_preferences.people[" #i "].preferred_contact",                           \
          "Contact by",                                                                              \
          FT_ENUM,                                                                                   \
          &tacnet__contact_method__descriptor,                                                       \
          0,                                                                                         \
          0,                                                                                         \
          0 },                                                                                       \
        { "body.involvement_preferences.people[" #i "].language", "Language", FT_TEXT, 0, 0, 0, 0 }, \
        { "body.involvement_preferences.people[" #i "].interpreter",                                 \
          "Needs an interpreter",                                                                    \
          FT_CHECK,                                                                                  \
          0,                                                                                         \
          0,                                                                                         \
          0,                                                                                         \
          0 },                                                                                       \
    {                                                                                                \
        "body.involvement_preferences.people[" #i "].accessibility", "Accessibility needs",          \
            FT_TEXT, 0, 0, 0, 0                                                                      \
    }

static const field_t s_involvement[] = {
    PERSON(0, 1),
    PERSON(1, 2),
    PERSON(2, 3),
    { "body.involvement_preferences.agreed_date", "Agreed on", FT_DATE, 0, 0, 0, "Review" },
    { "body.involvement_preferences.revisit_by_date", "Revisit by", FT_DATE, 0, 0, 0, 0 },
};

static const field_t s_rating[] = {
    { "body.partnership_rating.about", "About (partnership: the whole team, for the family)",
      FT_ENUM, AGENCY_E, 1, 0, 0 },
    { "body.partnership_rating.by_family", "The family's rating: who in the family", FT_ENUM,
      &tacnet__family_role__descriptor, 0, 0, 0 },
    { "body.partnership_rating.rung",
      "Rung: 1 Conflict, 2 Competition, 3 Co-existence, 4 Compliance, 5 Co-operation, "
      "6 Co-ordination, 7 Collaboration, 8 Co-ownership, 9 Full partnership",
      FT_INT, 0, 1, 0, 0 },
    { "body.partnership_rating.comment", "Comment", FT_AREA, 0, 0, 0, 0 },
    { "body.partnership_rating.rated_date", "Rated on", FT_DATE, 0, 0, 0, 0 },
};

static const field_t s_consent[] = {
    { "body.consent_recorded.state", "Consent", FT_ENUM, &tacnet__consent_state__descriptor, 1, 0,
      0 },
    { "body.consent_recorded.given_by", "Given (or refused) by", FT_ENUM,
      &tacnet__family_role__descriptor, 1, 0, 0 },
    { "body.consent_recorded.recorded_date", "Date", FT_DATE, 0, 1, 0, 0 },
    /* A class is chosen: left blank, a consent covered every class with every agency. */
    { "body.consent_recorded.scope[0]", "Covers", FT_ENUM, &tacnet__sensitivity__descriptor, 1, 0,
      "What it covers" },
    { "body.consent_recorded.scope[1]", "Also covers", FT_ENUM, &tacnet__sensitivity__descriptor, 0,
      0, 0 },
    { "body.consent_recorded.scope[2]", "Also covers", FT_ENUM, &tacnet__sensitivity__descriptor, 0,
      0, 0 },
    { "body.consent_recorded.agencies[0]", "With", FT_ENUM, AGENCY_E, 0, 0,
      "Which agencies it covers (none chosen: every member of the team)" },
    { "body.consent_recorded.agencies[1]", "And with", FT_ENUM, AGENCY_E, 0, 0, 0 },
    { "body.consent_recorded.agencies[2]", "And with", FT_ENUM, AGENCY_E, 0, 0, 0 },
    { "body.consent_recorded.agencies[3]", "And with", FT_ENUM, AGENCY_E, 0, 0, 0 },
    { "body.consent_recorded.agencies[4]", "And with", FT_ENUM, AGENCY_E, 0, 0, 0 },
    { "body.consent_recorded.agencies[5]", "And with", FT_ENUM, AGENCY_E, 0, 0, 0 },
    /* A consent reaches every member of the team (routing needs it): its free text too. */
    { "body.consent_recorded.child_wishes",
      "The child's wishes (every member of the team reads these: write nothing only some of them "
      "may know)",
      FT_AREA, 0, 0, 0, "The child" },
    { "body.consent_recorded.child_competent", "The child is judged competent to consent", FT_CHECK,
      0, 0, 0, 0 },
};

static const field_t s_meeting_scheduled[] = {
    { "body.meeting_scheduled.meeting_id", "Meeting", FT_ABOUT, 0, 1, SRC_MEETINGS, 0 },
    { "body.meeting_scheduled.starts_at_ms", "Starts at", FT_WHEN, 0, 1, 0, 0 },
    { "body.meeting_scheduled.mode", "How", FT_ENUM, &tacnet__meeting_mode__descriptor, 0, 0, 0 },
    { "body.meeting_scheduled.chair.agency", "Chair's agency", FT_ENUM, AGENCY_E, 0, 0, 0 },
    { "body.meeting_scheduled.chair.initials", "Chair's initials", FT_TEXT, 0, 0, 0, 0 },
    { "body.meeting_scheduled.invited[0]", "Agency", FT_ENUM, AGENCY_E, 0, 0, "Who is invited" },
    { "body.meeting_scheduled.invited[1]", "And", FT_ENUM, AGENCY_E, 0, 0, 0 },
    { "body.meeting_scheduled.invited[2]", "And", FT_ENUM, AGENCY_E, 0, 0, 0 },
    { "body.meeting_scheduled.invited[3]", "And", FT_ENUM, AGENCY_E, 0, 0, 0 },
    { "body.meeting_scheduled.invited[4]", "And", FT_ENUM, AGENCY_E, 0, 0, 0 },
    { "body.meeting_scheduled.family_invited[0]", "Family member", FT_ENUM,
      &tacnet__family_role__descriptor, 0, 0, 0 },
    { "body.meeting_scheduled.family_invited[1]", "And", FT_ENUM, &tacnet__family_role__descriptor,
      0, 0, 0 },
    { "body.meeting_scheduled.family_invited[2]", "And", FT_ENUM, &tacnet__family_role__descriptor,
      0, 0, 0 },
};

static const field_t s_action_update[] = {
    { "body.action_update.action_id", "Action", FT_ABOUT, 0, 1, SRC_ACTIONS, 0 },
    { "body.action_update.status", "Now", FT_ENUM, &tacnet__action_status__descriptor, 1, 0, 0 },
    { "body.action_update.note", "Note", FT_AREA, 0, 0, 0, 0 },
};

static const field_t s_lead_handover[] = {
    { "subject_agency", "Hand the lead to", FT_ENUM, AGENCY_E, 1, 0, 0 },
    { "body.lead_handover.new_lead.initials", "New lead professional's initials", FT_TEXT, 0, 0, 0,
      0 },
    { "body.lead_handover.new_lead.job_title", "Their job title", FT_TEXT, 0, 0, 0, 0 },
    { "body.lead_handover.reason", "Why", FT_AREA, 0, 0, 0, 0 },
};

static const field_t s_lead_accepted[] = {
    { "subject_agency", "Agency", FT_SELF, 0, 0, 0, 0 },
    { "body.lead_accepted.lead.initials", "Lead professional's initials", FT_TEXT, 0, 1, 0, 0 },
    { "body.lead_accepted.lead.job_title", "Job title", FT_TEXT, 0, 0, 0, 0 },
};

static const field_t s_member_left[] = {
    { "subject_agency", "Agency leaving", FT_ENUM, AGENCY_E, 1, 0, 0 },
    { "body.member_left.reason", "Why", FT_AREA, 0, 0, 0, 0 },
};

static const field_t s_member_joined[] = {
    { "subject_agency", "Agency joining", FT_ENUM, AGENCY_E, 1, 0, 0 },
    { "body.member_joined.named_contact.initials", "Named contact's initials", FT_TEXT, 0, 0, 0,
      0 },
    { "body.member_joined.named_contact.job_title", "Named contact's job title", FT_TEXT, 0, 0, 0,
      0 },
    { "body.member_joined.team", "Team", FT_TEXT, 0, 0, 0, 0 },
    { "body.member_joined.how_to_reach",
      "How professionals reach them: a route, such as the duty desk or a team's secure inbox (no "
      "phone numbers, which are refused in every text, and never the family's details)",
      FT_TEXT, 0, 0, 0, 0 },
};

#define GOAL(i, n)                                                                        \
    { "body.care_plan.goals[" #i "].description", "Goal", FT_TEXT, 0, 0, 0, "Goal " #n }, \
    {                                                                                     \
        "body.care_plan.goals[" #i "].target_date", "Achieved by", FT_DATE, 0, 0, 0, 0    \
    }

/* A specific worker on a CAPA partnership plan (casework/capa.h). */
#define CAPA_WORKER(i, n)                                                                        \
    { "body.care_plan.specific_workers[" #i "].initials", "Initials", FT_TEXT, 0, 0, 0, 0 },     \
        { "body.care_plan.specific_workers[" #i "].role",                                        \
          "Specific worker " #n "'s role",                                                       \
          FT_TEXT,                                                                               \
          0,                                                                                     \
          0,                                                                                     \
          0,                                                                                     \
          0 },                                                                                   \
    {                                                                                            \
        "body.care_plan.specific_workers[" #i "].brings", "What they bring", FT_TEXT, 0, 0, 0, 0 \
    }

static const field_t s_care_plan[] = {
    { "body.care_plan.type", "Plan", FT_ENUM, &tacnet__plan_type__descriptor, 1, 0, 0 },
    { "body.care_plan.summary", "Summary", FT_AREA, 0, 0, 0, 0 },
    { "body.care_plan.start_date", "Starts", FT_DATE, 0, 1, 0, 0 },
    { "body.care_plan.review_interval_days", "Review every (days; empty: the plan's usual)", FT_INT,
      0, 0, 0, 0 },
    GOAL(0, 1),
    GOAL(1, 2),
    GOAL(2, 3),
    { "body.care_plan.core_worker.initials", "Core worker's initials", FT_TEXT, 0, 0, 0,
      "CAPA partnership: the core worker and any specific workers" },
    { "body.care_plan.core_worker.role", "Core worker's role", FT_TEXT, 0, 0, 0, 0 },
    { "body.care_plan.core_worker.brings", "What the core worker brings", FT_TEXT, 0, 0, 0, 0 },
    CAPA_WORKER(0, 1),
    CAPA_WORKER(1, 2),
    VIEWS("care_plan"),
};

static const field_t s_case_closed[] = {
    { "body.case_closed.reason", "Why", FT_ENUM, &tacnet__closure_reason__descriptor, 1, 0, 0 },
    { "body.case_closed.summary", "Summary", FT_AREA, 0, 0, 0, 0 },
    { "body.case_closed.closed_date", "Date", FT_DATE, 0, 1, 0, 0 },
};

static const field_t s_referral[] = {
    { "body.referral.to_agency", "Refer to", FT_ENUM, AGENCY_E, 1, 0, 0 },
    { "body.referral.category", "Concern", FT_ENUM, &tacnet__concern_category__descriptor, 0, 0,
      0 },
    { "body.referral.summary", "Summary", FT_AREA, 0, 1, 0, 0 },
    { "body.referral.family_aware", "The family knows of the referral", FT_CHECK, 0, 0, 0, 0 },
    { "body.referral.consent_obtained", "The family consented", FT_CHECK, 0, 0, 0, 0 },
    { "body.referral.referred_date", "Date", FT_DATE, 0, 1, 0, 0 },
};

static const field_t s_assessment[] = {
    { "body.assessment.type", "Assessment", FT_ENUM, &tacnet__assessment_type__descriptor, 1, 0,
      0 },
    { "body.assessment.level_of_need", "Level of need (1-4)", FT_INT, 0, 1, 0, 0 },
    { "body.assessment.summary", "Summary", FT_AREA, 0, 0, 0, 0 },
    { "body.assessment.needs", "Needs (one per line)", FT_LINES, 0, 0, 0, 0 },
    { "body.assessment.strengths", "Strengths (one per line)", FT_LINES, 0, 0, 0, 0 },
    { "body.assessment.completed_date", "Completed on", FT_DATE, 0, 1, 0, 0 },
    { "body.assessment.hv_contact", "Health visiting: universal contact", FT_ENUM,
      &tacnet__hv_contact__descriptor, 0, 0, 0 },
    { "body.assessment.birth_date", "Baby's date of birth (or expected)", FT_DATE, 0, 0, 0, 0 },
    { "body.assessment.capa_choice.curious", "Their story: what we were curious about", FT_AREA, 0,
      0, 0, "CAMHS Choice appointment (assessment type CAPA Choice)" },
    { "body.assessment.capa_choice.honest_opinion", "Our honest opinion, as said to them", FT_AREA,
      0, 0, 0, 0 },
    { "body.assessment.capa_choice.joint_formulation", "The formulation we reached together",
      FT_AREA, 0, 0, 0, 0 },
    { "body.assessment.capa_choice.alternatives", "Alternatives offered (one per line)", FT_LINES,
      0, 0, 0, 0 },
    { "body.assessment.capa_choice.chosen", "The family chose", FT_ENUM,
      &tacnet__capa_chosen__descriptor, 0, 0, 0 },
    { "body.assessment.capa_choice.engagement", "Engagement or homework before partnership",
      FT_AREA, 0, 0, 0, 0 },
};

#define FORM(n, t, i, f)    \
    {                       \
        n, t, i, f, N_OF(f) \
    }
static const form_t s_forms[] = {
    FORM("decision", "Record a decision",
         "Shared decision-making: what was decided, the options, who took part and the child's "
         "and family's views.",
         s_decision),
    FORM("disagreement", "Raise a disagreement",
         "A professional challenge to a decision. It opens stage 1 of the escalation procedure.",
         s_disagreement),
    FORM("escalation_response", "Respond to an escalation", "Your position at this stage.",
         s_response),
    FORM("escalation_resolved", "Resolve an escalation",
         "Propose the resolution; every party then acknowledges it.", s_resolved),
    FORM("escalation_ack", "Acknowledge a resolution",
         "Say whether your agency accepts the proposed resolution. If any party does not, the "
         "disagreement goes to the next stage of the procedure (at the last stage the "
         "partnership's decision stands).",
         s_ack),
    FORM("meeting_requested", "Request a network meeting", "Ask the team to meet.",
         s_meeting_requested),
    FORM("meeting_outcome", "Record a meeting", "Who came, what was decided, the actions.",
         s_meeting_outcome),
    FORM("outcome_measure", "Record an outcome measure",
         "GBO (0-10 per goal), SDQ, RCADS, ORS or CORS item scores.", s_measure),
    FORM("concern", "Record a concern",
         "Something seen or heard that worries you about the child. Only the case reference and "
         "the child's initials travel in the clear; never write the family's names, addresses "
         "or dates of birth.",
         s_concern),
    FORM("contact_logged", "Log a contact with the family", "A contact made or attempted.",
         s_contact),
    FORM("involvement_preferences", "How the family want to be involved",
         "Ask the child and each parent or carer how they would like to take part; revisit it at "
         "each review.",
         s_involvement),
    FORM("partnership_rating", "Rate the partnership",
         "How well the team is working together, on the partnership ladder: one agency rated by "
         "yours, or the family's rating of one agency or of the whole team.",
         s_rating),

    FORM("consent_recorded", "Record consent",
         "What the family agreed to share, and with what it covers; a refusal or withdrawal is "
         "recorded the same way.",
         s_consent),
    FORM("meeting_scheduled", "Schedule a meeting", "When and how a requested meeting is held.",
         s_meeting_scheduled),
    FORM("action_update", "Update an action", "Mark a meeting's action done or cancelled.",
         s_action_update),
    FORM("lead_handover", "Hand over the lead",
         "Offer the lead professional role to another agency; it is theirs once they accept.",
         s_lead_handover),
    FORM("lead_accepted", "Accept the lead",
         "Take on the lead professional role offered to "
         "this agency.",
         s_lead_accepted),
    FORM("member_joined", "Add a member", "Another agency joins the team around the child.",
         s_member_joined),
    FORM("member_left", "A member leaves",
         "An agency leaves the team around the child and receives nothing more about the child. "
         "Your agency may leave itself; the lead professional's agency takes another agency out "
         "(when its work is done, the family withdraws consent for it, or its key is revoked).",
         s_member_left),
    FORM("care_plan", "Set the plan", "The plan, its goals and when it is reviewed.", s_care_plan),
    FORM("referral", "Make a referral", "Refer the child to another agency.", s_referral),
    FORM("assessment", "Record an assessment", "An assessment and the level of need it found.",
         s_assessment),
    FORM("case_closed", "Close the case", "Why the case closes.", s_case_closed),
};

/* ------------------------------------------------------------------ JSON paths */

/* The container at one path segment ("participants[1]"), created as needed. */
static json_t *s_step(json_t *cur, const char *seg, size_t len, int last, json_t *value)
{
    char name[64];
    const char *br = memchr(seg, '[', len);
    size_t nl = br ? (size_t)(br - seg) : len;
    snprintf(name, sizeof(name), "%.*s", (int)nl, seg);
    if (!br) {
        if (last) {
            json_object_set_new(cur, name, value);
            return NULL;
        }
        json_t *next = json_object_get(cur, name);
        if (!next) {
            next = json_object();
            json_object_set_new(cur, name, next);
        }
        return next;
    }
    size_t idx = (size_t)atoi(br + 1);
    json_t *arr = json_object_get(cur, name);
    if (!arr) {
        arr = json_array();
        json_object_set_new(cur, name, arr);
    }
    while (json_array_size(arr) <= idx)
        json_array_append_new(arr, json_null());
    if (last) {
        json_array_set_new(arr, idx, value);
        return NULL;
    }
    json_t *next = json_array_get(arr, idx);
    if (json_is_null(next)) {
        next = json_object();
        json_array_set_new(arr, idx, next);
    }
    return next;
}

static void s_set(json_t *root, const char *path, json_t *value)
{
    json_t *cur = root;
    const char *p = path;
    while (cur) {
        const char *dot = strchr(p, '.');
        size_t len = dot ? (size_t)(dot - p) : strlen(p);
        cur = s_step(cur, p, len, !dot, value);
        if (!dot)
            break;
        p = dot + 1;
    }
}

/* Drop the nulls left by rows nobody filled in. */
static void s_compact(json_t *j)
{
    if (json_is_object(j)) {
        const char *k;
        json_t *v;
        json_object_foreach(j, k, v) s_compact(v);
    } else if (json_is_array(j)) {
        for (size_t i = json_array_size(j); i > 0; i--) {
            if (json_is_null(json_array_get(j, i - 1)))
                json_array_remove(j, i - 1);
            else
                s_compact(json_array_get(j, i - 1));
        }
    }
}

/* The string at a finding's field path ("decision.options_considered[1]") under BODY. */
static const char *s_resolve(json_t *body, const char *path)
{
    json_t *cur = body;
    char seg[64];
    const char *p = path;
    while (cur && *p) {
        const char *dot = strchr(p, '.');
        size_t len = dot ? (size_t)(dot - p) : strlen(p);
        snprintf(seg, sizeof(seg), "%.*s", (int)len, p);
        char *br = strchr(seg, '[');
        if (br) {
            *br = 0;
            cur = json_array_get(json_object_get(cur, seg), (size_t)atoi(br + 1));
        } else {
            json_t *next = json_object_get(cur, seg);
            if (!next && len > 3 && strcmp(seg + len - 3, "_ms") == 0) {
                seg[len - 3] = 0; /* a time: pbjson's key has no "_ms" */
                next = json_object_get(cur, seg);
            }
            cur = next;
        }
        p = dot ? dot + 1 : p + len;
    }
    return json_string_value(cur);
}

/* ------------------------------------------------------------------ the same form sent again */

/* What this dashboard sent lately, to notice the same event sent again from a new drawing of its
 * form (the browser's Back button, a second tab): a second drawing has another form key, so the
 * request key does not catch it. Kept in memory only; the daemon's loop is one thread. */
#define RECENT_N  64
#define RECENT_MS (30 * 60 * 1000ull)
static struct {
    uint8_t print[16]; /* BLAKE2b-128 of the request without its keys */
    char form_key[33]; /* the drawing it came from */
    char msg_id[33];   /* what it became */
    uint64_t at_ms;
} s_recent[RECENT_N];
static size_t s_recent_next;

/* An answer to an escalation is told apart by what it answers, not only by its words: "No" to
 * the stage 2 resolution and "No" to the stage 3 one read the same but are two answers. Mix the
 * escalation's stage, where it stands and the resolution proposed (as the case view holds them
 * when the form is sent) into PRINT. */
static void s_print_answer(const Tacnet__ShowCaseReply *sc, const Tacnet__PublishRequest *req,
                           uint8_t print[16])
{
    const Tacnet__CaseState *st = sc ? sc->state : NULL;
    if (!st || !escalation_rights_is_answer((uint32_t)req->kind) || !req->has_refers_to)
        return;
    for (size_t i = 0; i < st->n_escalations; i++) {
        const Tacnet__EscalationView *e = st->escalations[i];
        if (e->escalation_id.len != req->refers_to.len ||
            memcmp(e->escalation_id.data, req->refers_to.data, req->refers_to.len) != 0)
            continue;
        crypto_generichash_state h;
        crypto_generichash_init(&h, NULL, 0, 16);
        crypto_generichash_update(&h, print, 16);
        uint8_t phase[8];
        bytes_be32_put(phase, e->has_stage ? e->stage : 1);
        bytes_be32_put(phase + 4, e->has_state ? (uint32_t)e->state : 0);
        crypto_generichash_update(&h, phase, sizeof(phase));
        if (e->resolution) {
            size_t len;
            uint8_t *packed = wire_pack(&e->resolution->base, &len);
            crypto_generichash_update(&h, packed, len);
            free(packed);
        }
        crypto_generichash_final(&h, print, 16);
        return;
    }
}

/* The recent send of PRINT from another drawing than FORM_KEY, or -1. One the broker refused
 * is no send: sending it again is how it is corrected. */
static int s_recent_find(agency_t *agency, const uint8_t print[16], const char *form_key,
                         uint64_t now)
{
    for (size_t i = 0; i < RECENT_N; i++) {
        if (!s_recent[i].at_ms || now - s_recent[i].at_ms >= RECENT_MS ||
            sodium_memcmp(s_recent[i].print, print, 16) != 0 ||
            strcmp(s_recent[i].form_key, form_key ? form_key : "") == 0)
            continue;
        uint8_t id[16];
        size_t len = 0;
        Tacnet__EventStatus st = TACNET__EVENT_STATUS__INIT;
        int refused =
            sodium_hex2bin(id, sizeof(id), s_recent[i].msg_id, 32, NULL, &len, NULL) == 0 &&
            len == 16 && agency_outcome_read(agency, id, &st) == 0 &&
            st.state == TACNET__PUBLISH_STATE__PUBLISH_REFUSED;
        agency_outcome_status_free(&st);
        if (!refused)
            return (int)i;
    }
    return -1;
}

static void s_recent_add(const uint8_t print[16], const char *form_key, const char *msg_id,
                         uint64_t now)
{
    size_t i = s_recent_next++ % RECENT_N;
    memcpy(s_recent[i].print, print, 16);
    snprintf(s_recent[i].form_key, sizeof(s_recent[i].form_key), "%.32s", form_key ? form_key : "");
    snprintf(s_recent[i].msg_id, sizeof(s_recent[i].msg_id), "%.32s", msg_id);
    s_recent[i].at_ms = now;
}

/* ------------------------------------------------------------------ building the request */

static json_t *s_value(const field_t *f, const char *v)
{
    switch (f->type) {
    case FT_CHECK:
        return json_true();
    case FT_YESNO: /* anything but yes or no: pbjson names the field and refuses it */
        return strcmp(v, "yes") == 0  ? json_true()
               : strcmp(v, "no") == 0 ? json_false()
                                      : json_string(v);
    case FT_INT:
        return json_integer(atoll(v));
    case FT_INTS: {
        json_t *a = json_array();
        for (const char *p = v; *p;) {
            while (*p == ' ' || *p == ',')
                p++;
            if (!*p)
                break;
            char *end;
            long long x = strtoll(p, &end, 10);
            if (end == p) {
                json_decref(a);
                return json_string(v); /* pbjson names the field and refuses it */
            }
            json_array_append_new(a, json_integer(x));
            p = end;
        }
        return a;
    }
    case FT_WHEN: { /* "2026-12-03T14:30" from a datetime-local input, in the dashboard's zone */
        uint64_t ms = zone_parse(v);
        return ms ? json_integer((json_int_t)ms) : json_string(v); /* pbjson names the field */
    }
    case FT_LINES: {
        json_t *a = json_array();
        const char *p = v;
        while (*p) {
            size_t n = strcspn(p, "\r\n");
            if (n)
                json_array_append_new(a, json_stringn(p, n));
            p += n;
            while (*p == '\r' || *p == '\n')
                p++;
        }
        return a;
    }
    default:
        return json_string(v);
    }
}

static json_t *s_request_json(const form_t *form, const dashboard_kv_t *in, const char *ref,
                              ProtobufCBinaryData initials, const char *self)
{
    json_t *root = json_object();
    json_object_set_new(root, "kind", json_string(form->name));
    json_object_set_new(root, "case_ref", json_string(ref));
    json_object_set_new(root, "initials", json_stringn((const char *)initials.data, initials.len));
    const char *replaces = dashboard_kv_get(in, "replaces");
    if (replaces && *replaces)
        json_object_set_new(root, "replaces", json_string(replaces));
    for (size_t i = 0; i < form->n; i++) {
        const field_t *f = &form->fields[i];
        const char *v = f->type == FT_SELF ? self : dashboard_kv_get(in, f->path);
        if ((!v || !*v) && f->type == FT_CHECK) {
            /* A browser sends nothing for an unticked box: the form said no, so the event
             * says false (left out, "did not accept" read as "accepted"). A row holding only
             * that is dropped below like any row left at its defaults. */
            s_set(root, f->path, json_false());
            continue;
        }
        if (!v || !*v)
            continue;
        s_set(root, f->path, s_value(f, v));
    }
    /* Rows of a form are kept only when something beyond a default was entered. */
    json_t *body = json_object_get(root, "body");
    if (!body) {
        body = json_object();
        json_object_set_new(root, "body", body);
    }
    if (!json_object_get(body, form->name))
        json_object_set_new(body, form->name, json_object());
    json_t *ev = json_object_get(body, form->name);
    /* A row is kept when it names someone or says something: its boxes alone (sent as false
     * when unticked) do not make a row. */
    const char *rows[] = { "participants", "actions", "family", "goals", "people" };
    const char *form_key = dashboard_kv_get(in, "form_key");
    for (size_t r = 0; r < N_OF(rows); r++) {
        json_t *arr = json_object_get(ev, rows[r]);
        for (size_t i = 0; arr && i < json_array_size(arr); i++) {
            json_t *row = json_array_get(arr, i);
            if (strcmp(rows[r], "goals") == 0 && json_object_get(row, "description"))
                json_object_set_new(row, "goal_id", json_integer((json_int_t)i + 1));
            json_t *who = json_object_get(row, "who");
            int keep = json_object_get(row, "view") || json_object_get(row, "description") ||
                       json_object_get(row, "role") || json_is_string(who) ||
                       (json_is_object(who) && json_object_get(who, "initials"));
            if (!keep)
                json_array_set_new(arr, i, json_null());
            else if (strcmp(rows[r], "actions") == 0 && !json_object_get(row, "action_id")) {
                /* From the drawn form's key when it has one, so the same form sent twice
                 * makes the same actions (the publish's request key compares the content). */
                uint8_t id[16];
                char hex[33];
                if (form_key && strlen(form_key) == 32) {
                    uint8_t idx = (uint8_t)i;
                    crypto_generichash_state st;
                    crypto_generichash_init(&st, NULL, 0, sizeof(id));
                    crypto_generichash_update(&st, (const uint8_t *)"tacnet-form-action/1", 20);
                    crypto_generichash_update(&st, (const uint8_t *)form_key, 32);
                    crypto_generichash_update(&st, &idx, 1);
                    crypto_generichash_final(&st, id, sizeof(id));
                } else {
                    randombytes_buf(id, sizeof(id));
                }
                sodium_bin2hex(hex, sizeof(hex), id, sizeof(id));
                json_object_set_new(row, "action_id", json_string(hex));
                json_object_set_new(row, "status", json_string("open"));
            }
        }
    }
    /* The professional a membership or lead event names belongs to its subject agency. */
    const char *who[] = { "new_lead", "lead", "named_contact" };
    json_t *subject = json_object_get(root, "subject_agency");
    for (size_t i = 0; subject && i < N_OF(who); i++) {
        json_t *p = json_object_get(ev, who[i]);
        if (json_is_object(p) && !json_object_get(p, "agency"))
            json_object_set(p, "agency", subject);
    }
    s_compact(root);
    return root;
}

/* ------------------------------------------------------------------ drawing the form */

typedef struct {
    char hex[33];
    char label[160];
} choice_t;

/* The choices for a field of SRC on case SC, for a form of event KIND drawn by agency ME: an
 * escalation is offered only to an agency that may answer it with KIND (a party; a party or
 * the lead to resolve; a party to acknowledge, once a resolution is proposed). */
static size_t s_choices(const Tacnet__ShowCaseReply *sc, source_t src, uint32_t kind, uint32_t me,
                        choice_t *out, size_t cap)
{
    size_t n = 0;
    const Tacnet__CaseState *st = sc->state;
#define ADD(bin, ...)                                                       \
    do {                                                                    \
        if (n < cap && (bin).len == 16) {                                   \
            sodium_bin2hex(out[n].hex, sizeof(out[n].hex), (bin).data, 16); \
            snprintf(out[n].label, sizeof(out[n].label), __VA_ARGS__);      \
            n++;                                                            \
        }                                                                   \
    } while (0)
    if (st && src == SRC_DECISIONS)
        for (size_t i = 0; i < st->n_decisions; i++)
            ADD(st->decisions[i]->msg_id, "%s (%s)",
                st->decisions[i]->decision->topic ? st->decisions[i]->decision->topic : "decision",
                labels_agency(st->decisions[i]->by));
    uint32_t lead = sc->summary && sc->summary->has_lead ? (uint32_t)sc->summary->lead : 0;
    const char *why;
    if (st && src == SRC_ESCALATIONS)
        for (size_t i = 0; i < st->n_escalations; i++) {
            const Tacnet__EscalationView *e = st->escalations[i];
            if (escalation_rights_check(kind, e, me, lead, &why) != 0)
                continue;
            /* Its parties tell apart two escalations about the same thing ("levels of need
             * differ" between different pairs of agencies). */
            char parties[96] = "";
            for (size_t p = 0, used = 0; p < e->n_parties; p++) {
                int w = snprintf(parties + used, sizeof(parties) - used, "%s%s",
                                 p == 0                  ? ""
                                 : p + 1 == e->n_parties ? " and "
                                                         : ", ",
                                 labels_agency((uint32_t)e->parties[p]));
                if (w > 0 && (size_t)w < sizeof(parties) - used)
                    used += (size_t)w;
            }
            ADD(e->escalation_id, "stage %u: %s%s%s%s", e->has_stage ? e->stage : 1,
                labels_escalation_about(e) ? labels_escalation_about(e) : "escalation",
                parties[0] ? " (" : "", parties, parties[0] ? ")" : "");
        }
    if (st && src == SRC_ACTIONS)
        for (size_t i = 0; i < st->n_actions; i++)
            ADD(st->actions[i]->action->action_id, "%s (%s, %s)",
                st->actions[i]->action->description ? st->actions[i]->action->description
                                                    : "action",
                labels_agency(st->actions[i]->action->owner_agency),
                labels_enum(&tacnet__action_status__descriptor, st->actions[i]->action->status));
    if (st && src == SRC_MEETINGS)
        for (size_t i = 0; i < st->n_meetings; i++)
            /* A meeting's minutes are recorded once (the publish path refuses a second), and a
             * meeting already held is not scheduled again (E_EXISTS). */
            if ((kind != TACNET__EVENT_KIND__MEETING_OUTCOME &&
                 kind != TACNET__EVENT_KIND__MEETING_SCHEDULED) ||
                !st->meetings[i]->outcome)
                ADD(st->meetings[i]->meeting_id, "%s",
                    st->meetings[i]->requested && st->meetings[i]->requested->purpose
                        ? st->meetings[i]->requested->purpose
                        : "meeting");
    if (st && src == SRC_PLANS)
        for (size_t i = 0; i < st->n_plans; i++) {
            const Tacnet__PlanView *pv = st->plans[i];
            if ((uint32_t)pv->by != me || !pv->plan || !pv->has_plan_id)
                continue;
            char name[96], goals[120] = "";
            size_t used = 0;
            for (size_t g = 0; g < pv->plan->n_goals; g++) {
                const Tacnet__Goal *goal = pv->plan->goals[g];
                if (!goal->has_goal_id)
                    continue;
                int w = snprintf(goals + used, sizeof(goals) - used, "%s%u %s", used ? ", " : "",
                                 goal->goal_id, goal->description ? goal->description : "");
                if (w > 0 && (size_t)w < sizeof(goals) - used)
                    used += (size_t)w;
            }
            if (used)
                ADD(pv->plan_id, "%s: goals %s", labels_plan(pv->plan->type, name, sizeof(name)),
                    goals);
        }
    if (!st) {
        for (size_t i = 0; i < sc->n_timeline; i++) {
            const Tacnet__TimelineEntry *e = sc->timeline[i];
            const Tacnet__Body *b = e->body;
            if (!b)
                continue;
            if (src == SRC_DECISIONS && b->event_case == TACNET__BODY__EVENT_DECISION)
                ADD(e->header->msg_id, "%s (%s)", b->decision->topic ? b->decision->topic : "",
                    labels_agency(e->header->sender));
            if (src == SRC_ESCALATIONS && b->event_case == TACNET__BODY__EVENT_DISAGREEMENT)
                ADD(e->header->msg_id, "%s (%s)",
                    b->disagreement->topic ? b->disagreement->topic : "disagreement",
                    labels_agency(e->header->sender));
            if (src == SRC_MEETINGS && b->event_case == TACNET__BODY__EVENT_MEETING_REQUESTED)
                ADD(b->meeting_requested->meeting_id, "%s",
                    b->meeting_requested->purpose ? b->meeting_requested->purpose : "meeting");
        }
    }
#undef ADD
    return n;
}

/* One <option> of enum E: VALUE by name, labelled for people, selected when it is CURRENT. */
static void s_option(dashboard_buf_t *b, const ProtobufCEnumDescriptor *e, int value,
                     const char *current)
{
    const char *name = names_enum(e, value);
    const char *label = labels_enum(e, value);
    if (!name)
        return;
    dashboard_buf_printf(b, "<option value=\"%s\"%s>%c%s</option>", name,
                         current && strcmp(current, name) == 0 ? " selected" : "",
                         toupper((unsigned char)label[0]), label + 1);
}

/* The agencies the roster declares beyond the enum (agencies.h): adding one to a case is the
 * same form as adding a named agency. */
/* Whether AGENCY may be chosen in field F of form KIND on case SC: the lead is handed to another
 * member of the team, never to the agency that holds it or to one outside (route.c refuses
 * both); a meeting invites members of the team; elsewhere any agency. */
static int s_agency_offered(const field_t *f, uint32_t kind, const Tacnet__ShowCaseReply *sc,
                            uint32_t agency)
{
    /* The lead is handed to another member; a meeting invites the team's members. */
    int handover =
        kind == TACNET__EVENT_KIND__LEAD_HANDOVER && strcmp(f->path, "subject_agency") == 0;
    int invite = kind == TACNET__EVENT_KIND__MEETING_SCHEDULED &&
                 strncmp(f->path, "body.meeting_scheduled.invited[", 31) == 0;
    if ((!handover && !invite) || !sc || !sc->summary)
        return 1;
    const Tacnet__CaseSummary *c = sc->summary;
    if (handover && c->has_lead && (uint32_t)c->lead == agency)
        return 0;
    for (size_t i = 0; i < c->n_members; i++)
        if ((uint32_t)c->members[i] == agency)
            return 1;
    return 0;
}

static void s_roster_agency_options(dashboard_buf_t *b, const field_t *f, uint32_t kind,
                                    const Tacnet__ShowCaseReply *sc, const char *current)
{
    uint32_t ids[AGENCIES_MAX];
    size_t n = agencies_list(ids, AGENCIES_MAX);
    for (size_t i = 0; i < n; i++)
        if (!protobuf_c_enum_descriptor_get_value(AGENCY_E, (int)ids[i]) &&
            s_agency_offered(f, kind, sc, ids[i]))
            s_option(b, AGENCY_E, (int)ids[i], current);
}

static void s_field(dashboard_buf_t *b, const field_t *f, uint32_t kind, uint32_t me,
                    const dashboard_kv_t *in, const char *about, const Tacnet__ShowCaseReply *sc,
                    int invalid)
{
    const char *v = in ? dashboard_kv_get(in, f->path) : NULL;
    if (!v && f->type == FT_ABOUT)
        v = about;
    const char *req = f->required ? " required" : "";
    const char *inv = invalid ? " aria-invalid=\"true\"" : "";
    if (f->type == FT_SELF)
        return; /* filled in when the form is sent */
    if (f->type == FT_NEWID) {
        uint8_t id[16];
        char hex[33];
        randombytes_buf(id, sizeof(id));
        sodium_bin2hex(hex, sizeof(hex), id, sizeof(id));
        dashboard_buf_printf(b, "<input type=\"hidden\" name=\"%s\" value=\"", f->path);
        dashboard_buf_html(b, v ? v : hex, strlen(v ? v : hex));
        dashboard_buf_puts(b, "\">");
        return;
    }
    if (f->type == FT_CHECK) {
        dashboard_buf_printf(b,
                             "<div class=\"check\"><input type=\"checkbox\" id=\"%s\" name=\"%s\" "
                             "value=\"1\"%s><label for=\"%s\">%s</label></div>",
                             f->path, f->path, v ? " checked" : "", f->path, f->label);
        return;
    }
    if (f->type == FT_YESNO) {
        dashboard_buf_printf(b,
                             "<fieldset class=\"yesno\"%s><legend>%s <span class=\"req\">"
                             "(required)</span></legend>",
                             inv, f->label);
        const char *answer[2] = { "yes", "no" }, *words[2] = { "Yes", "No" };
        for (size_t i = 0; i < N_OF(s_yesno); i++)
            if (strcmp(s_yesno[i].path, f->path) == 0)
                words[0] = s_yesno[i].yes, words[1] = s_yesno[i].no;
        for (int i = 0; i < 2; i++)
            dashboard_buf_printf(b,
                                 "<div class=\"check\"><input type=\"radio\" id=\"%s-%s\" "
                                 "name=\"%s\" value=\"%s\"%s%s><label for=\"%s-%s\">%s</label>"
                                 "</div>",
                                 f->path, answer[i], f->path, answer[i],
                                 v && strcmp(v, answer[i]) == 0 ? " checked" : "", req, f->path,
                                 answer[i], words[i]);
        dashboard_buf_puts(b, "</fieldset>");
        return;
    }
    dashboard_buf_printf(b, "<label for=\"%s\">%s", f->path, f->label);
    if (f->type == FT_WHEN) /* typed and shown in the dashboard's zone */
        dashboard_buf_printf(b, " (%s time)", zone_name());
    dashboard_buf_printf(b, "%s</label>",
                         f->required ? " <span class=\"req\">(required)</span>" : "");
    switch (f->type) {
    case FT_AREA:
    case FT_LINES:
        dashboard_buf_printf(b, "<textarea id=\"%s\" name=\"%s\" rows=\"3\"%s%s>", f->path, f->path,
                             req, inv);
        if (v)
            dashboard_buf_html(b, v, strlen(v));
        dashboard_buf_puts(b, "</textarea>");
        break;
    case FT_ENUM:
        dashboard_buf_printf(b, "<select id=\"%s\" name=\"%s\"%s%s><option value=\"\">—</option>",
                             f->path, f->path, req, inv);
        for (unsigned i = 0; i < f->e->n_values; i++) {
            if (f->e->values[i].value == 0 || f->e->values[i].value == TACNET__AGENCY__BROKER)
                continue;
            if (f->e == AGENCY_E && !s_agency_offered(f, kind, sc, (uint32_t)f->e->values[i].value))
                continue;
            /* "Too young" is the child's reason only (family_voice refuses it for the family). */
            if (f->e == VIEW_ABSENCE_E &&
                f->e->values[i].value == TACNET__VIEW_ABSENCE__TOO_YOUNG &&
                strstr(f->path, "family_view_absent"))
                continue;
            /* A review is asked of someone senior and not directly involved: only the roles
             * challenge.c takes (not a practitioner, not the lead professional). */
            if (f->e == &tacnet__role__descriptor && strstr(f->path, "reviewer_role") &&
                !challenge_words((uint32_t)f->e->values[i].value))
                continue;
            /* Only the assessment types this agency carries out (a section 47 enquiry is
             * social care's): assessment_types.c, the rule the publish path applies. */
            if (f->e == &tacnet__assessment_type__descriptor &&
                !assessment_type_carried_out(me, (uint32_t)f->e->values[i].value))
                continue;
            s_option(b, f->e, f->e->values[i].value, v);
        }
        if (f->e == AGENCY_E)
            s_roster_agency_options(b, f, kind, sc, v);
        dashboard_buf_puts(b, "</select>");
        break;
    case FT_ABOUT: {
        choice_t ch[32];
        size_t n = s_choices(sc, f->source, kind, me, ch, N_OF(ch));
        dashboard_buf_printf(b, "<select id=\"%s\" name=\"%s\"%s%s><option value=\"\">—</option>",
                             f->path, f->path, req, inv);
        for (size_t i = 0; i < n; i++) {
            dashboard_buf_printf(b, "<option value=\"%s\"%s>", ch[i].hex,
                                 v && strcmp(v, ch[i].hex) == 0 ? " selected" : "");
            dashboard_buf_html(b, ch[i].label, strlen(ch[i].label));
            dashboard_buf_puts(b, "</option>");
        }
        dashboard_buf_puts(b, "</select>");
        if (n == 0) {
            /* Nothing to choose: say why, rather than offer an empty list. */
            static const char *const none[] = {
                [SRC_NONE] = "Nothing to choose yet.",
                [SRC_DECISIONS] = "This case has no recorded decision yet: a disagreement "
                                  "challenges a decision, so the decision is recorded first.",
                [SRC_ESCALATIONS] = "No escalation of this case that your agency may answer "
                                    "with this form.",
                [SRC_MEETINGS] = "No meeting of this case yet: request one first.",
                [SRC_ACTIONS] = "No action of this case yet: actions come with a meeting's "
                                "outcome.",
                [SRC_PLANS] = "Your agency has no plan with numbered goals in this case: GBO "
                              "scores are kept against no plan until it has one.",
            };
            const char *why = none[f->source];
            if (f->source == SRC_MEETINGS && kind == TACNET__EVENT_KIND__MEETING_SCHEDULED && sc &&
                sc->state && sc->state->n_meetings)
                why = "Every meeting of this case has been held: request the next meeting first.";
            else if (f->source == SRC_MEETINGS && kind == TACNET__EVENT_KIND__MEETING_OUTCOME &&
                     sc && sc->state && sc->state->n_meetings)
                why = "Every meeting of this case has its outcome recorded (minutes are recorded "
                      "once): request the next meeting first, or add to a meeting's record with a "
                      "decision or a contact.";
            dashboard_buf_printf(b, "<p class=\"notice\" role=\"status\">%s</p>", why);
        }
        break;
    }
    default:
        dashboard_buf_printf(b, "<input id=\"%s\" name=\"%s\" type=\"%s\"%s%s%s value=\"", f->path,
                             f->path,
                             f->type == FT_DATE   ? "date"
                             : f->type == FT_WHEN ? "datetime-local"
                             : f->type == FT_INT  ? "number"
                                                  : "text",
                             f->type == FT_INTS ? " inputmode=\"numeric\"" : "", req, inv);
        if (v)
            dashboard_buf_html(b, v, strlen(v));
        dashboard_buf_puts(b, "\">");
    }
}

/* The refusal, with each offending span marked in the text it was found in. */
/* The field of FORM whose request path (without "body.") is KEY[0..LEN), or NULL; its label as
 * the form shows it, after its fieldset's legend ("Person 1 – Language"), into OUT. */
static const field_t *s_field_by_key(const form_t *form, const char *key, size_t len, char *out,
                                     size_t cap)
{
    const char *group = NULL;
    for (size_t i = 0; form && i < form->n; i++) {
        const field_t *f = &form->fields[i];
        if (f->group)
            group = f->group;
        const char *p = strncmp(f->path, "body.", 5) == 0 ? f->path + 5 : f->path;
        if (strlen(p) == len && memcmp(p, key, len) == 0) {
            snprintf(out, cap, "%s%s%s", group ? group : "", group ? " – " : "", f->label);
            return f;
        }
    }
    return NULL;
}

/* REASON with every field path of FORM in it ("care_plan.child_view") shown as the field's
 * label, linked to the field, so the refusal speaks the form's words. */
static void s_reason_labelled(dashboard_buf_t *b, const form_t *form, const char *reason)
{
    const char *s = reason, *plain = reason;
    while (*s) {
        size_t len = 0;
        if ((s == reason || !(isalnum((unsigned char)s[-1]) || s[-1] == '_' || s[-1] == '.')) &&
            islower((unsigned char)*s))
            len = strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789_.[]");
        while (len && s[len - 1] == '.')
            len--; /* a sentence's full stop is not part of the path */
        char label[160];
        const field_t *f =
            len && memchr(s, '.', len) ? s_field_by_key(form, s, len, label, sizeof(label)) : NULL;
        if (!f) {
            s++;
            continue;
        }
        dashboard_buf_html(b, plain, (size_t)(s - plain));
        dashboard_buf_printf(b, "<a href=\"#%s\">", f->path);
        dashboard_buf_html(b, label, strlen(label));
        dashboard_buf_puts(b, "</a>");
        s += len;
        plain = s;
    }
    dashboard_buf_html(b, plain, strlen(plain));
}

static void s_refusal(dashboard_buf_t *b, const form_t *form, const Tacnet__ApiReply *reply,
                      json_t *req)
{
    dashboard_buf_printf(b,
                         "<div class=\"refusal\" role=\"alert\" id=\"refusal\" tabindex=\"-1\">"
                         "<h2>Not sent</h2><p><code>%s</code> ",
                         tacnet_errname(reply->code));
    if (reply->reason)
        s_reason_labelled(b, form, reply->reason);
    dashboard_buf_puts(b, "</p>");
    if (reply->n_findings)
        dashboard_buf_puts(b, "<ul class=\"findings\">");
    for (size_t i = 0; i < reply->n_findings; i++) {
        const Tacnet__Finding *f = reply->findings[i];
        const char *text = f->field ? s_resolve(json_object_get(req, "body"), f->field) : NULL;
        char label[160];
        const field_t *ff =
            f->field ? s_field_by_key(form, f->field, strlen(f->field), label, sizeof(label))
                     : NULL;
        dashboard_buf_puts(b, "<li><span class=\"field\">");
        if (ff) {
            dashboard_buf_printf(b, "<a href=\"#%s\">", ff->path);
            dashboard_buf_html(b, label, strlen(label));
            dashboard_buf_puts(b, "</a>");
        } else {
            dashboard_buf_html(b, f->field ? f->field : "", f->field ? strlen(f->field) : 0);
        }
        dashboard_buf_printf(b, "</span>: <code>%s</code> ", f->kind);
        size_t n = text ? strlen(text) : 0;
        if (text && f->start <= f->end && f->end <= n) {
            dashboard_buf_html(b, text, f->start);
            dashboard_buf_puts(b, "<mark>");
            dashboard_buf_html(b, text + f->start, f->end - f->start);
            dashboard_buf_puts(b, "</mark>");
            dashboard_buf_html(b, text + f->end, n - f->end);
        }
        dashboard_buf_puts(b, "</li>");
    }
    if (reply->n_findings)
        dashboard_buf_puts(b, "</ul><p>Remove the identifying details (names, numbers, dates of "
                              "birth, addresses) and send again.</p>");
    dashboard_buf_puts(b, "</div>");
}

/* Above the acknowledgement form: each resolution proposed that agency ME may acknowledge, so
 * it is read before it is accepted (or not). */
static void s_resolutions(dashboard_buf_t *b, const Tacnet__ShowCaseReply *sc, uint32_t me)
{
    const Tacnet__CaseState *st = sc->state;
    uint32_t lead = sc->summary && sc->summary->has_lead ? (uint32_t)sc->summary->lead : 0;
    const char *why;
    size_t shown = 0;
    for (size_t i = 0; st && i < st->n_escalations; i++) {
        const Tacnet__EscalationView *e = st->escalations[i];
        if (!e->resolution ||
            escalation_rights_check(TACNET__EVENT_KIND__ESCALATION_ACK, e, me, lead, &why) != 0)
            continue;
        shown++;
        dashboard_buf_printf(b, "<div class=\"card\"><h2>Proposed resolution: stage %u, ",
                             e->has_stage ? e->stage : 1);
        const char *topic = labels_escalation_about(e) ? labels_escalation_about(e) : "escalation";
        dashboard_web_text(b, topic);
        dashboard_buf_puts(b, "</h2><p><strong>Outcome:</strong> ");
        dashboard_web_text(b, e->resolution->outcome ? e->resolution->outcome : "");
        dashboard_buf_puts(b, "</p><p><strong>The child's current safety:</strong> ");
        dashboard_web_text(b, e->resolution->child_safety ? e->resolution->child_safety : "");
        dashboard_buf_puts(b, "</p>");
        if (e->resolution->has_agreed_level_of_need)
            dashboard_buf_printf(b, "<p><strong>Agreed level of need:</strong> %u</p>",
                                 e->resolution->agreed_level_of_need);
        dashboard_buf_puts(b, "</div>");
    }
    if (!shown)
        dashboard_buf_puts(b, "<p class=\"notice\" role=\"status\">Nothing for this agency to "
                              "acknowledge: no resolution has been proposed in an escalation it is "
                              "a party to. A party or the lead professional proposes one with "
                              "<em>Resolve</em> on the escalation.</p>");
}

/* Whether agency ME is offered field F: health visiting's universal-contact fields and CAMHS's
 * Choice record are theirs alone (assessment_type_check refuses them from anyone else). */
static int s_field_offered(const field_t *f, uint32_t me)
{
    if (strcmp(f->path, "body.assessment.hv_contact") == 0 ||
        strcmp(f->path, "body.assessment.birth_date") == 0)
        return me == TACNET__AGENCY__HEALTH_VISITING;
    if (strncmp(f->path, "body.assessment.capa_choice.", 28) == 0)
        return me == TACNET__AGENCY__CAMHS;
    return 1;
}

/* The action whose id is ID_HEX in the case state (NULL when none), and how it stands as
 * "ID_HEX:UPDATED_AT_MS" into SEEN (0 for an action no update has moved): what an update form
 * remembers of the action it was drawn for, so that a send after someone else changed it is
 * stopped (E_CHANGED) instead of silently replacing their change. */
static const Tacnet__ActionView *s_action_seen(const Tacnet__ShowCaseReply *sc, const char *id_hex,
                                               char seen[64])
{
    seen[0] = 0;
    uint8_t id[16];
    size_t len = 0;
    const Tacnet__CaseState *st = sc ? sc->state : NULL;
    if (!st || !id_hex || strlen(id_hex) != 32 ||
        sodium_hex2bin(id, sizeof(id), id_hex, 32, NULL, &len, NULL) != 0 || len != 16)
        return NULL;
    const Tacnet__ActionView *v = casestate_action_find(st, (ProtobufCBinaryData){ 16, id });
    if (v)
        snprintf(seen, 64, "%s:%llu", id_hex,
                 (unsigned long long)(v->has_updated_at_ms ? v->updated_at_ms : 0));
    return v;
}

static void s_draw(dashboard_web_t *w, const form_t *form, const char *ref,
                   const Tacnet__ShowCaseReply *sc, const Tacnet__ApiReply *refusal, json_t *req)
{
    dashboard_buf_t *b = &w->body;
    int fresh = strcmp(ref, "new") == 0; /* opening a case: its reference and initials asked */
    char title[160], back[96];
    snprintf(title, sizeof(title), "%s · %s", form->title, fresh ? "a new case" : ref);
    if (fresh)
        snprintf(back, sizeof(back), "<a href=\"/\">Back to My cases</a>");
    else
        snprintf(back, sizeof(back), "<a href=\"/cases/%s\">Back to %s</a>", ref, ref);
    /* A form is not live: new events must not replace what is being typed. */
    dashboard_buf_printf(b,
                         "<!doctype html>\n<html lang=\"en-GB\"><head><meta charset=\"utf-8\">"
                         "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
                         "<title>%s</title><link rel=\"stylesheet\" href=\"/static/app.css\">"
                         "<link rel=\"icon\" href=\"/static/icon.svg\" type=\"image/svg+xml\">"
                         "</head><body><header><p class=\"brand\">tacnet · <strong>%s</strong></p>"
                         "<nav aria-label=\"Main\"><a href=\"/\">My cases</a> <a href=\"/inbox\">"
                         "Escalations inbox</a> <a href=\"/outbox\">Outbox</a> %s</nav>"
                         "</header><main id=\"main\"><h1>%s</h1><p>%s</p>",
                         title, agency_profile(w->agency)->title, back,
                         fresh ? "Open a case with a concern" : form->title, form->intro);
    if (refusal)
        s_refusal(b, form, refusal, req);
    if (strcmp(form->name, "escalation_ack") == 0)
        s_resolutions(b, sc, agency_profile(w->agency)->agency);
    /* Each drawing of the form has its own key: the same form sent twice (a second click
     * while the broker is slow, a resend from the browser's history) is one event, and the
     * second send is answered with the first's outcome (dashboard_web_form). */
    uint8_t key[16];
    char key_hex[33];
    randombytes_buf(key, sizeof(key));
    sodium_bin2hex(key_hex, sizeof(key_hex), key, sizeof(key));
    dashboard_buf_printf(b,
                         "<form method=\"post\" action=\"/cases/%s/forms/%s\" class=\"card\">"
                         "<input type=\"hidden\" name=\"csrf\" value=\"%s\">"
                         "<input type=\"hidden\" name=\"form_key\" value=\"%s\">",
                         ref, form->name, w->user->csrf, key_hex);
    const char *replaces = w->form ? dashboard_kv_get(w->form, "replaces") : NULL;
    if (replaces && strlen(replaces) == 32 && strspn(replaces, "0123456789abcdef") == 32)
        dashboard_buf_printf(b,
                             "<input type=\"hidden\" name=\"replaces\" value=\"%s\">"
                             "<p class=\"notice\">This corrects the refused event <code>%.8s"
                             "</code>: once this one is sent, that one leaves the outbox.</p>",
                             replaces, replaces + 12);
    const char *about = dashboard_kv_get(w->query, "about");
    if (strcmp(form->name, "action_update") == 0) {
        /* How the action stood when this form was drawn; after an E_CHANGED, as it stands now
         * (the user has been shown the change), else as first drawn. */
        const char *posted = w->form ? dashboard_kv_get(w->form, "seen") : NULL;
        char seen[64] = "";
        if (posted && strlen(posted) < sizeof(seen) &&
            !(refusal && refusal->code == TACNET_ECHANGED))
            snprintf(seen, sizeof(seen), "%s", posted);
        else
            s_action_seen(sc,
                          about     ? about
                          : w->form ? dashboard_kv_get(w->form, s_action_update[0].path)
                                    : NULL,
                          seen);
        if (seen[0] && strspn(seen, "0123456789abcdef:") == strlen(seen))
            dashboard_buf_printf(b, "<input type=\"hidden\" name=\"seen\" value=\"%s\">", seen);
    }
    int kind_v = 0;
    uint32_t kind = names_enum_parse(&tacnet__event_kind__descriptor, form->name, &kind_v) == 0
                        ? (uint32_t)kind_v
                        : 0;
    int open = 0;
    if (fresh) {
        dashboard_buf_puts(b, "<p class=\"meta\">A reference nobody holds opens a new case, led "
                              "by your agency until it hands the lead over. If another agency "
                              "already works with the child under a reference, ask it to add "
                              "your agency to its team (or to refer the child to you): a case is "
                              "joined by its members, not by a new concern.</p>");
        for (size_t i = 0; i < N_OF(s_new_case); i++) {
            int invalid =
                refusal &&
                (refusal->code == TACNET_ECASEREF || refusal->code == TACNET_ECASEPREFIX ||
                 refusal->code == TACNET_EINITIALS || refusal->code == TACNET_ECASEINITIALS);
            s_field(b, &s_new_case[i], kind, agency_profile(w->agency)->agency, w->form, about, sc,
                    invalid);
        }
    }
    for (size_t i = 0; i < form->n; i++) {
        const field_t *f = &form->fields[i];
        if (!s_field_offered(f, agency_profile(w->agency)->agency))
            continue;
        if (f->group) {
            dashboard_buf_printf(b, "%s<fieldset><legend>%s</legend>", open ? "</fieldset>" : "",
                                 f->group);
            open = 1;
        }
        int invalid = 0;
        for (size_t k = 0; refusal && k < refusal->n_findings; k++) {
            const char *fp = refusal->findings[k]->field;
            size_t pl = strlen(f->path);
            invalid |= fp && pl > 5 && strncmp(f->path + 5, fp, pl - 5) == 0;
        }
        s_field(b, f, kind, agency_profile(w->agency)->agency, w->form, about, sc, invalid);
    }
    if (open)
        dashboard_buf_puts(b, "</fieldset>");
    if (refusal && refusal->code == TACNET_EEXISTS && refusal->reason &&
        strstr(refusal->reason, "Record it again"))
        dashboard_buf_puts(b, "<div class=\"check\"><input type=\"checkbox\" id=\"again\" "
                              "name=\"again\" value=\"1\"><label for=\"again\">Record it again, "
                              "as a separate event</label></div>");
    dashboard_buf_printf(b, "<button type=\"submit\">%s</button></form></main></body></html>\n",
                         fresh ? "Open the case" : form->title);
}

/* An action update whose form saw the action otherwise than it stands now (another agency, or
 * another tab, marked it since): the reason into WHY, and 1. A post without "seen" (a script, or
 * a form drawn for another action than the one now chosen) is not compared. */
static int s_action_changed(const dashboard_kv_t *in, const Tacnet__ShowCaseReply *sc, char *why,
                            size_t cap)
{
    const char *seen = dashboard_kv_get(in, "seen"),
               *id = dashboard_kv_get(in, s_action_update[0].path);
    char now[64];
    if (!seen || !id || strlen(id) != 32 || strncmp(seen, id, 32) != 0 || seen[32] != ':')
        return 0;
    const Tacnet__ActionView *v = s_action_seen(sc, id, now);
    if (!v || strcmp(now, seen) == 0)
        return 0;
    char when[48] = "";
    zone_format(v->updated_at_ms, when, sizeof(when));
    snprintf(why, cap,
             "%s marked this action %s at %s, after this form was opened: nothing was sent. The "
             "form now shows the action as it stands; send again if your update still applies",
             v->has_updated_by ? labels_agency(v->updated_by) : "another agency",
             v->action->has_status
                 ? labels_enum(&tacnet__action_status__descriptor, v->action->status)
                 : "open",
             when[0] ? when : "an unknown time");
    return 1;
}

static int s_status_code_for_form(int code)
{
    switch (code) {
    case TACNET_ESTORE:
    case TACNET_EMAPFULL:
    case TACNET_EDISKFULL:
    case TACNET_EIO:
        return 503;
    case TACNET_EEXISTS:
    case TACNET_ECHANGED:
        return 409;
    case TACNET_EFORBIDDEN: /* as the JSON API answers it */
        return 403;
    default:
        return 422;
    }
}

/* The labels of FORM's required fields that IN leaves blank, as "required: A, B" into WHY.
 * Returns how many. A box, this agency's own name and a new id are never blank. */
static size_t s_missing(const form_t *form, const dashboard_kv_t *in, char *why, size_t cap)
{
    size_t n = 0, used = 0;
    for (size_t i = 0; i < form->n; i++) {
        const field_t *f = &form->fields[i];
        if (!f->required || f->type == FT_CHECK || f->type == FT_SELF || f->type == FT_NEWID)
            continue;
        const char *v = dashboard_kv_get(in, f->path);
        if (v && *v)
            continue;
        int w = snprintf(why + used, cap - used, "%s%s", n ? ", " : "required: ", f->label);
        if (w > 0 && (size_t)w < cap - used)
            used += (size_t)w;
        n++;
    }
    return n;
}

/* The first field of FORM whose value in IN is not of its kind (a word where numbers go, a
 * negative count, a time that is not one), said with its label into WHY in plain words, so the
 * form never answers with the JSON decoder's terms. Returns 1 when there is one. */
static int s_malformed(const form_t *form, const dashboard_kv_t *in, char *why, size_t cap)
{
    for (size_t i = 0; i < form->n; i++) {
        const field_t *f = &form->fields[i];
        const char *v = dashboard_kv_get(in, f->path);
        if (!v || !*v)
            continue;
        const char *bad = NULL;
        if (f->type == FT_INTS) {
            for (const char *p = v; *p && !bad;) {
                p += strspn(p, " ,");
                if (!*p)
                    break;
                char *end;
                long long x = strtoll(p, &end, 10);
                if (end == p || x < 0 || (*end && *end != ',' && *end != ' '))
                    bad = "write whole numbers separated by commas, such as 3, 1, 2";
                p = end > p ? end : p + 1;
            }
        } else if (f->type == FT_INT) {
            char *end;
            long long x = strtoll(v, &end, 10);
            if (end == v || *end || x < 0 || x > 100000)
                bad = "write a whole number, 0 or more";
        } else if (f->type == FT_WHEN && !zone_parse(v)) {
            bad = "write a date and a time that clocks here show (not one skipped when they go "
                  "forward), such as 2026-12-03 14:30";
        }
        if (bad) {
            if (snprintf(why, cap, "%.80s: \"%.40s\" is not what this field takes: %s", f->label, v,
                         bad) >= (int)cap)
                why[cap - 1] = 0; /* cut, never overrun */
            return 1;
        }
    }
    return 0;
}

/* The drawn form's key (s_draw) as REQ's request key, "form:" and its 32 hex digits: sent
 * twice, the form is queued once. A post without one (a script) is a new event each time. */
static void s_form_key(Tacnet__PublishRequest *req, const dashboard_kv_t *in)
{
    const char *k = dashboard_kv_get(in, "form_key");
    if (!k || strlen(k) != 32 || strspn(k, "0123456789abcdef") != 32 || req->has_request_key)
        return;
    char *key = xmalloc(5 + 32);
    memcpy(key, "form:", 5);
    memcpy(key + 5, k, 32);
    req->has_request_key = 1;
    req->request_key.data = (uint8_t *)key;
    req->request_key.len = 5 + 32;
}

void dashboard_web_form(dashboard_web_t *w, const char *ref, const char *name)
{
    const form_t *form = NULL;
    for (size_t i = 0; i < N_OF(s_forms); i++)
        if (strcmp(s_forms[i].name, name) == 0)
            form = &s_forms[i];
    int fresh = strcmp(ref, "new") == 0;
    if (!form || (fresh && strcmp(form->name, "concern") != 0)) {
        dashboard_web_error(w, 404, TACNET_ENOTFOUND,
                            form ? "a new case is opened with a concern" : "no such form");
        return;
    }
    /* A form for a kind this agency never sends (reached by its address: the case page does not
     * link it) is not drawn to be filled in and refused: it says so, in the publish path's
     * words, before anyone types. */
    int form_kind = 0;
    char not_ours[320];
    if (!w->form &&
        names_enum_parse(&tacnet__event_kind__descriptor, form->name, &form_kind) == 0 &&
        header_rules_kind_check(agency_profile(w->agency), (uint32_t)form_kind, not_ours,
                                sizeof(not_ours)) == TACNET_EKIND) {
        dashboard_web_error(w, 403, TACNET_EKIND, not_ours);
        return;
    }
    char actor[48];
    dashboard_web_actor(w->user, actor, sizeof(actor));
    Tacnet__ApiReply read = TACNET__API_REPLY__INIT;
    /* A new case: no view to read; the reference and initials come with the form. */
    int rc = fresh ? 0 : dashboard_web_case_read(w->agency, actor, ref, &read);
    if (fresh) {
        read.result_case = TACNET__API_REPLY__RESULT_SHOW_CASE;
        read.show_case = xcalloc(1, sizeof(*read.show_case));
        tacnet__show_case_reply__init(read.show_case);
    }
    if (rc != 0) {
        dashboard_web_error(w, rc == TACNET_ENOTFOUND ? 404 : 503, rc,
                            rc == TACNET_ENOTFOUND ? "this agency holds no case with that reference"
                                                   : tacnet_strerror(rc));
        return;
    }
    const Tacnet__ShowCaseReply *sc = read.show_case;
    if (!w->form) {
        /* Accepting the lead: the offer named who leads; the form starts with them. */
        const Tacnet__HandoverView *ho = sc->state ? sc->state->pending_handover : NULL;
        dashboard_kv_t start = { 0 };
        if (strcmp(form->name, "lead_accepted") == 0 && ho && ho->new_lead &&
            ho->new_lead->initials.len && ho->new_lead->initials.len < 8) {
            char initials[8];
            snprintf(initials, sizeof(initials), "%.*s", (int)ho->new_lead->initials.len,
                     (const char *)ho->new_lead->initials.data);
            dashboard_kv_add(&start, "body.lead_accepted.lead.initials", initials);
            if (ho->new_lead->job_title)
                dashboard_kv_add(&start, "body.lead_accepted.lead.job_title",
                                 ho->new_lead->job_title);
            w->form = &start;
        }
        /* A form with a class of its own starts at this agency's default for its kind, the
         * class a publish without one is sent at (header_rules_fill). */
        int kind_v = 0;
        if (s_field_by_key(form, "sensitivity", strlen("sensitivity"), NULL, 0) &&
            names_enum_parse(&tacnet__event_kind__descriptor, form->name, &kind_v) == 0) {
            uint32_t dflt = agency_profile(w->agency)->default_sensitivity((uint32_t)kind_v);
            const char *cls = names_enum(&tacnet__sensitivity__descriptor, (int)dflt);
            if (cls) {
                dashboard_kv_add(&start, "sensitivity", cls);
                w->form = &start;
            }
        }
        s_draw(w, form, ref, sc, NULL, NULL);
        if (w->form == &start) {
            w->form = NULL;
            dashboard_kv_clear(&start);
        }
        agency_reply_free(&read);
        return;
    }
    const char *case_ref = ref;
    ProtobufCBinaryData initials = { 0, NULL };
    if (fresh) {
        const char *v = dashboard_kv_get(w->form, "case_ref"),
                   *i = dashboard_kv_get(w->form, "initials");
        case_ref = v ? v : "";
        initials = (ProtobufCBinaryData){ i ? strlen(i) : 0, (uint8_t *)(i ? i : "") };
    } else {
        initials = sc->summary->initials;
    }
    json_t *j = s_request_json(form, w->form, case_ref, initials, agency_profile(w->agency)->name);
    char why[256] = "";
    Tacnet__ApiReply reply = TACNET__API_REPLY__INIT;
    /* The form's required fields, on the server too (a browser may not check them): every one
     * left blank is named at once, by its label. */
    size_t n_missing = s_missing(form, w->form, why, sizeof(why));
    if (!n_missing && s_malformed(form, w->form, why, sizeof(why)))
        n_missing = 1;
    if (fresh) {
        form_t both = { form->name, form->title, form->intro, s_new_case, N_OF(s_new_case) };
        char more[256] = "";
        if (s_missing(&both, w->form, more, sizeof(more))) {
            /* "required: Case reference ..." first, then the concern's own */
            char joined[sizeof(more) + sizeof(why)];
            snprintf(joined, sizeof(joined), "%s%s%s", more, n_missing ? ", " : "",
                     n_missing ? why + strlen("required: ") : "");
            memcpy(why, joined, sizeof(why) - 1); /* cut to WHY's size */
            why[sizeof(why) - 1] = 0;
            n_missing++;
        }
    }
    Tacnet__PublishRequest *req =
        n_missing ? NULL
                  : (Tacnet__PublishRequest *)pbjson_to_message(
                        &tacnet__publish_request__descriptor, j, why, sizeof(why));
    uint8_t print[16];
    char text_changed[400];
    const char *form_key = dashboard_kv_get(w->form, "form_key");
    const char *again = dashboard_kv_get(w->form, "again");
    int dup = -1;
    if (req) {
        agency_request_print(req, print);
        s_print_answer(sc, req, print);
        /* Changes to the team are facts that repeat (an agency leaves and is added again) and
         * whose repetition the publish path already judges: not asked about here. */
        int team = req->kind == TACNET__EVENT_KIND__MEMBER_JOINED ||
                   req->kind == TACNET__EVENT_KIND__MEMBER_LEFT;
        dup = (again && *again) || team ? -1
                                        : s_recent_find(w->agency, print, form_key, clock_now_ms());
    }
    if (!req) {
        reply.code = rc = TACNET_EFIELD;
        reply.reason = xstrdup(why);
    } else if (dup >= 0) {
        /* The same event from another drawing of the form: most likely the browser's Back
         * button and Send again. Say so, and let the user record it again on purpose. */
        char when[48];
        uint64_t mins = (clock_now_ms() - s_recent[dup].at_ms) / 60000;
        if (mins == 0)
            snprintf(when, sizeof(when), "less than a minute ago");
        else
            snprintf(when, sizeof(when), "%llu minute%s ago", (unsigned long long)mins,
                     mins == 1 ? "" : "s");
        char text[512];
        snprintf(text, sizeof(text),
                 "this agency sent exactly this %s on this case %s (event %.8s): it is "
                 "recorded once. Nothing was sent now; to record it again as a separate event, "
                 "tick \"Record it again\" and send",
                 labels_kind((uint32_t)req->kind), when, s_recent[dup].msg_id + 12);
        reply.code = rc = TACNET_EEXISTS;
        reply.reason = xstrdup(text);
    } else if (s_action_changed(w->form, sc, text_changed, sizeof(text_changed))) {
        reply.code = rc = TACNET_ECHANGED;
        reply.reason = xstrdup(text_changed);
    } else {
        s_form_key(req, w->form);
        reply.code = rc = agency_publish(w->agency, req, &reply);
    }
    char object[40];
    if (rc == 0)
        sodium_bin2hex(object, sizeof(object), reply.published->msg_id.data, 16);
    else
        snprintf(object, sizeof(object), "%s", fresh ? "new case" : ref);
    dashboard_web_audit(w->agency, actor, "publish", object, rc);
    if (rc == 0)
        s_recent_add(print, form_key, object, clock_now_ms());
    if (rc == 0) {
        /* The case page says what became of it: the browser goes there once the broker has
         * answered (or the wait is over), not before. The reference was checked by the publish
         * (policy_case_ref_check): it is safe in a URL. */
        w->status = 303;
        snprintf(w->location, sizeof(w->location), "/cases/%s?published=%s", case_ref, object);
        w->hold = 1;
        memcpy(w->hold_msg_id, reply.published->msg_id.data, 16);
    } else {
        w->status = s_status_code_for_form(rc);
        s_draw(w, form, ref, sc, &reply, j);
    }
    if (req)
        protobuf_c_message_free_unpacked(&req->base, NULL);
    json_decref(j);
    agency_reply_free(&reply);
    agency_reply_free(&read);
}

/* ------------------------------------------------------------------ correcting a refusal */

/* The form's value at PATH of the request JSON REQ, as the form's field would post it. */
static void s_field_value(const field_t *f, json_t *req, dashboard_kv_t *out)
{
    json_t *cur = req;
    char seg[64];
    for (const char *p = f->path; cur && *p;) {
        const char *dot = strchr(p, '.');
        size_t len = dot ? (size_t)(dot - p) : strlen(p);
        snprintf(seg, sizeof(seg), "%.*s", (int)len, p);
        char *br = strchr(seg, '[');
        if (br) {
            *br = 0;
            cur = json_array_get(json_object_get(cur, seg), (size_t)atoi(br + 1));
        } else {
            json_t *next = json_object_get(cur, seg);
            if (!next && len > 3 && strcmp(seg + len - 3, "_ms") == 0) {
                seg[len - 3] = 0; /* a time: pbjson's key has no "_ms" */
                next = json_object_get(cur, seg);
            }
            cur = next;
        }
        p = dot ? dot + 1 : p + len;
    }
    if (!cur || json_is_null(cur) || json_is_false(cur))
        return;
    char buf[4096] = "";
    size_t used = 0;
    if (json_is_array(cur)) {
        for (size_t i = 0; i < json_array_size(cur) && used < sizeof(buf) - 1; i++) {
            json_t *x = json_array_get(cur, i);
            const char *sep = i == 0 ? "" : f->type == FT_LINES ? "\n" : ",";
            int n = json_is_string(x) ? snprintf(buf + used, sizeof(buf) - used, "%s%s", sep,
                                                 json_string_value(x))
                                      : snprintf(buf + used, sizeof(buf) - used, "%s%lld", sep,
                                                 (long long)json_integer_value(x));
            used += n > 0 ? (size_t)n : 0;
        }
    } else if (json_is_string(cur) && f->type == FT_WHEN) {
        /* ISO 8601 UTC ("2026-12-03T14:30:00Z") as a datetime-local input shows it in the
         * dashboard's zone */
        unsigned y, mo, d, h, mi;
        uint64_t day =
            sscanf(json_string_value(cur), "%4u-%2u-%2uT%2u:%2u", &y, &mo, &d, &h, &mi) == 5 &&
                    h < 24 && mi < 60
                ? clock_date_to_ms(y * 10000 + mo * 100 + d)
                : 0;
        if (day)
            zone_input(day + (h * 60ull + mi) * 60000ull, buf, sizeof(buf));
    } else if (json_is_string(cur)) {
        snprintf(buf, sizeof(buf), "%s", json_string_value(cur));
    } else if (json_is_true(cur)) {
        snprintf(buf, sizeof(buf), "1");
    } else if (json_is_integer(cur)) {
        snprintf(buf, sizeof(buf), "%lld", (long long)json_integer_value(cur));
    }
    if (buf[0])
        dashboard_kv_add(out, f->path, buf);
}

/* The JSON editor for a refused event of a kind with no form here: its event message, to
 * correct and send again. */
static void s_draw_json(dashboard_web_t *w, const char *hex, const Tacnet__PublishRequest *d,
                        const char *text, const Tacnet__ApiReply *refusal)
{
    dashboard_buf_t *b = &w->body;
    const char *kind = names_kind((uint32_t)d->kind);
    dashboard_web_head(w, "Correct a refused event", NULL);
    dashboard_buf_printf(b, "<h1>Correct and send again: %s</h1><p>Case ", kind);
    dashboard_buf_html(b, (const char *)d->case_ref.data, d->case_ref.len);
    dashboard_buf_puts(b, ". This kind of event has no form on the dashboard: correct its "
                          "content below (JSON, the fields of the event) and send it. Once sent, "
                          "the refused one leaves the outbox.</p>");
    if (refusal)
        s_refusal(b, NULL, refusal, NULL);
    dashboard_buf_printf(b,
                         "<form method=\"post\" action=\"/outbox/%s/correct\" class=\"card\">"
                         "<input type=\"hidden\" name=\"csrf\" value=\"%s\">"
                         "<label for=\"event\">The %s</label><textarea id=\"event\" "
                         "name=\"event\" rows=\"16\" required>",
                         hex, w->user->csrf, kind);
    dashboard_buf_html(b, text, strlen(text));
    dashboard_buf_puts(b, "</textarea><button type=\"submit\">Send it again</button></form>");
    dashboard_web_foot(w);
}

/* The event member name of D's body ("decision"), or NULL. */
static const char *s_member(const Tacnet__PublishRequest *d)
{
    const ProtobufCFieldDescriptor *f =
        d->body ? protobuf_c_message_descriptor_get_field(&tacnet__body__descriptor,
                                                          (unsigned)d->body->event_case)
                : NULL;
    return f ? f->name : NULL;
}

/* POST of the JSON editor: the draft with the corrected event, sent with `replaces`. */
static void s_correct_json(dashboard_web_t *w, const char *actor, const char *hex,
                           const Tacnet__PublishRequest *d)
{
    const char *member = s_member(d);
    const char *text = dashboard_kv_get(w->form, "event");
    json_error_t jerr;
    json_t *ev = text ? json_loads(text, 0, &jerr) : NULL;
    json_t *j = pbjson_from_message(&d->base);
    Tacnet__ApiReply reply = TACNET__API_REPLY__INIT;
    Tacnet__PublishRequest *req = NULL;
    char why[256] = "";
    if (!ev || !json_is_object(ev) || !member) {
        snprintf(why, sizeof(why), "the event is not a JSON object: %s",
                 ev ? "it is another JSON value" : jerr.text);
    } else {
        json_object_set_new(json_object_get(j, "body"), member, json_incref(ev));
        json_object_set_new(j, "replaces", json_string(hex));
        req = (Tacnet__PublishRequest *)pbjson_to_message(&tacnet__publish_request__descriptor, j,
                                                          why, sizeof(why));
    }
    int rc;
    if (!req) {
        reply.code = rc = TACNET_EFIELD;
        reply.reason = xstrdup(why);
    } else {
        reply.code = rc = agency_publish(w->agency, req, &reply);
    }
    dashboard_web_audit(w->agency, actor, "publish.correct", hex, rc);
    if (rc == 0) {
        char object[33];
        sodium_bin2hex(object, sizeof(object), reply.published->msg_id.data, 16);
        w->status = 303;
        snprintf(w->location, sizeof(w->location), "/cases/%.*s?published=%s", (int)d->case_ref.len,
                 (const char *)d->case_ref.data, object);
        w->hold = 1;
        memcpy(w->hold_msg_id, reply.published->msg_id.data, 16);
    } else {
        w->status = s_status_code_for_form(rc);
        s_draw_json(w, hex, d, text ? text : "", &reply);
    }
    if (req)
        protobuf_c_message_free_unpacked(&req->base, NULL);
    json_decref(ev);
    json_decref(j);
    agency_reply_free(&reply);
}

void dashboard_web_correct(dashboard_web_t *w, const char *hex)
{
    char actor[48];
    dashboard_web_actor(w->user, actor, sizeof(actor));
    Tacnet__DraftRequest dr = TACNET__DRAFT_REQUEST__INIT;
    dr.msg_id = (char *)hex;
    Tacnet__ApiReply draft = TACNET__API_REPLY__INIT;
    agency_outcome_draft_request(w->agency, &dr, &draft);
    if (draft.code != 0 || !draft.draft) {
        int code = draft.code ? draft.code : TACNET_ENOTFOUND;
        dashboard_web_error(w, code == TACNET_ENOTFOUND ? 404 : 422, code,
                            draft.reason ? draft.reason : tacnet_strerror(code));
        agency_reply_free(&draft);
        return;
    }
    const Tacnet__PublishRequest *d = draft.draft;
    const form_t *form = NULL;
    for (size_t i = 0; i < N_OF(s_forms); i++)
        if (strcmp(s_forms[i].name, names_kind((uint32_t)d->kind)) == 0)
            form = &s_forms[i];
    if (w->form) {
        s_correct_json(w, actor, hex, d);
    } else if (form) {
        /* The kind's own form, filled in with what was refused. */
        json_t *j = pbjson_from_message(&d->base);
        dashboard_kv_t kv = { 0 };
        for (size_t i = 0; i < form->n; i++)
            s_field_value(&form->fields[i], j, &kv);
        dashboard_kv_add(&kv, "replaces", hex);
        char ref[40];
        snprintf(ref, sizeof(ref), "%.*s", (int)d->case_ref.len, (const char *)d->case_ref.data);
        Tacnet__ApiReply read = TACNET__API_REPLY__INIT;
        int rc = dashboard_web_case_read(w->agency, actor, ref, &read);
        if (rc != 0) {
            dashboard_web_error(w, rc == TACNET_ENOTFOUND ? 404 : 503, rc,
                                "the refused event's case is not held here");
        } else {
            const dashboard_kv_t *saved = w->form;
            w->form = &kv;
            s_draw(w, form, ref, read.show_case, NULL, NULL);
            w->form = saved;
        }
        agency_reply_free(&read);
        dashboard_kv_clear(&kv);
        json_decref(j);
    } else {
        json_t *j = pbjson_from_message(&d->base);
        const char *member = s_member(d);
        json_t *ev = member ? json_object_get(json_object_get(j, "body"), member) : NULL;
        char *text = ev ? json_dumps(ev, JSON_INDENT(2) | JSON_SORT_KEYS) : NULL;
        s_draw_json(w, hex, d, text ? text : "{}", NULL);
        free(text);
        json_decref(j);
    }
    agency_reply_free(&draft);
}
