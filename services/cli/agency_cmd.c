/* agency_cmd: `tacnet --agency NAME ...`, the agency daemon's local API for people and scripts.
 * Flags become one ApiRequest, sent with libtacnet-client; replies print through agency_print
 * (or pbjson with --json). Publish shorthands are a table of flag -> body field, so they reach
 * the daemon exactly as `publish KIND --body JSON` would. */
#include "cli.h"
#include "agency_print.h"
#include "agencies.h"
#include "apijson.h"
#include "import_cmd.h"
#include "retention_cmd.h"
#include "client/client.h"
#include "casework/escalation_rights.h"
#include "casework/kin.h"
#include "clock.h"
#include "err.h"
#include "names.h"
#include "pbjson.h"
#include "wire.h"

#include <errno.h>
#include <jansson.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <sodium.h>

#define AGENCY_TIMEOUT_MS 10000
/* How long a publish waits for the broker's answer by default (--wait S, --no-wait). */
#define AGENCY_WAIT_MS 10000
/* Exit status of a publish the broker has not answered within the wait: still queued. */
#define AGENCY_EXIT_QUEUED 3
/* How long an import waits for the broker's answers on its events, once all are queued. */
#define AGENCY_IMPORT_WAIT_MS 30000

typedef struct {
    const char *target; /* data dir or endpoint */
    int agency;         /* Tacnet__Agency of --agency NAME */
    int json;
    int timeout_ms;
    tn_client_t *client;
    const char *draft_id; /* `outbox draft ID`: the ID as typed */
} opts_t;

/* How a shorthand flag's value lands in the event body. */
/* F_ABSENT: REASON[:YYYY-MM-DD], a view's absence and, for not_yet_asked, the date to ask by. */
typedef enum { F_STR, F_STRS, F_INT, F_DATE, F_ENUM, F_ENUMS, F_INTS, F_TRUE, F_ABSENT } ftype_t;

typedef struct {
    const char *cmd;  /* shorthand: decide, disagree, ..., "meeting request" */
    const char *flag; /* e.g. "--topic" */
    const char *key;  /* body field */
    ftype_t type;
} shorthand_flag_t;

static const struct {
    const char *cmd;
    const char *kind;
} s_shorthands[] = {
    { "decide", "decision" },
    { "disagree", "disagreement" },
    { "resolve", "escalation_resolved" },
    { "respond", "escalation_response" },
    { "ack", "escalation_ack" },
    { "meeting request", "meeting_requested" },
    { "meeting schedule", "meeting_scheduled" },
    { "meeting outcome", "meeting_outcome" },
    { "plan", "care_plan" },
    { "measure", "outcome_measure" },
    { "consent", "consent_recorded" },
    { "contact", "contact_logged" },
    { "assess", "assessment" },
    { "rate", "partnership_rating" },
};

static const shorthand_flag_t s_flags[] = {
    { "decide", "--topic", "topic", F_STR },
    { "decide", "--chosen", "chosen", F_STR },
    { "decide", "--option", "options_considered", F_STRS },
    { "decide", "--rationale", "rationale", F_STR },
    { "decide", "--date", "decided_date", F_DATE },
    { "disagree", "--topic", "topic", F_STR },
    { "disagree", "--reason", "reason", F_STR },
    { "disagree", "--proposed", "proposed_position", F_STR },
    { "disagree", "--current", "current_position", F_STR },
    { "disagree", "--child-safety", "child_safety", F_STR },
    { "resolve", "--outcome", "outcome", F_STR },
    { "resolve", "--child-safety", "child_safety", F_STR },
    { "resolve", "--agreed-level", "agreed_level_of_need", F_INT },
    { "respond", "--stage", "stage", F_INT },
    { "respond", "--position", "position", F_ENUM },
    { "respond", "--comment", "comment", F_STR },
    { "ack", "--accepted", "accepted", F_TRUE },
    { "meeting request", "--meeting-id", "meeting_id", F_STR },
    { "meeting request", "--purpose", "purpose", F_STR },
    { "meeting request", "--wanted-by", "wanted_by_date", F_DATE },
    { "meeting schedule", "--meeting-id", "meeting_id", F_STR },
    { "meeting schedule", "--starts-ms", "starts_at_ms", F_INT },
    { "meeting schedule", "--mode", "mode", F_ENUM },
    { "meeting schedule", "--invite", "invited", F_ENUMS },
    { "meeting schedule", "--family", "family_invited", F_ENUMS },
    { "meeting outcome", "--meeting-id", "meeting_id", F_STR },
    { "meeting outcome", "--held", "held_date", F_DATE },
    { "meeting outcome", "--decision", "decisions", F_STRS },
    { "meeting outcome", "--next", "next_meeting_date", F_DATE },
    { "plan", "--type", "type", F_ENUM },
    { "plan", "--review-days", "review_interval_days", F_INT },
    { "plan", "--start", "start_date", F_DATE },
    { "plan", "--summary", "summary", F_STR },
    { "decide", "--child-view", "child_view", F_STR },
    { "decide", "--family-view", "family_view", F_STR },
    { "decide", "--child-view-absent", "child_view_absent", F_ABSENT },
    { "decide", "--family-view-absent", "family_view_absent", F_ABSENT },
    { "disagree", "--child-view", "child_view", F_STR },
    { "disagree", "--family-view", "family_view", F_STR },
    { "disagree", "--child-view-absent", "child_view_absent", F_ABSENT },
    { "disagree", "--family-view-absent", "family_view_absent", F_ABSENT },
    { "resolve", "--child-view", "child_view", F_STR },
    { "resolve", "--family-view", "family_view", F_STR },
    { "resolve", "--child-view-absent", "child_view_absent", F_ABSENT },
    { "resolve", "--family-view-absent", "family_view_absent", F_ABSENT },
    { "meeting outcome", "--child-view", "child_view", F_STR },
    { "meeting outcome", "--family-view", "family_view", F_STR },
    { "meeting outcome", "--child-view-absent", "child_view_absent", F_ABSENT },
    { "meeting outcome", "--family-view-absent", "family_view_absent", F_ABSENT },
    { "plan", "--child-view", "child_view", F_STR },
    { "plan", "--family-view", "family_view", F_STR },
    { "plan", "--child-view-absent", "child_view_absent", F_ABSENT },
    { "plan", "--family-view-absent", "family_view_absent", F_ABSENT },
    { "measure", "--tool", "tool", F_ENUM },
    { "measure", "--informant", "informant", F_ENUM },
    { "measure", "--values", "values", F_INTS },
    { "measure", "--goals", "goal_ids", F_INTS },
    { "measure", "--baseline", "baseline", F_TRUE },
    { "measure", "--date", "measured_date", F_DATE },
    { "measure", "--plan-id", "plan_id", F_STR },
    { "consent", "--state", "state", F_ENUM },
    { "consent", "--scope", "scope", F_ENUMS },
    { "consent", "--agencies", "agencies", F_ENUMS },
    { "consent", "--given-by", "given_by", F_ENUM },
    { "consent", "--child-wishes", "child_wishes", F_STR },
    { "consent", "--competent", "child_competent", F_TRUE },
    { "consent", "--date", "recorded_date", F_DATE },
    { "contact", "--with", "with", F_ENUM },
    { "contact", "--method", "method", F_ENUM },
    { "contact", "--date", "contact_date", F_DATE },
    { "contact", "--planned", "planned", F_TRUE },
    { "contact", "--successful", "successful", F_TRUE },
    { "contact", "--summary", "summary", F_STR },
    { "assess", "--type", "type", F_ENUM },
    { "assess", "--need", "level_of_need", F_INT },
    { "assess", "--summary", "summary", F_STR },
    { "assess", "--date", "completed_date", F_DATE },
    { "assess", "--hv-contact", "hv_contact", F_ENUM },
    { "assess", "--birth-date", "birth_date", F_DATE },
    { "rate", "--about", "about", F_ENUM },
    { "rate", "--rung", "rung", F_INT },
    { "rate", "--by-family", "by_family", F_ENUM },
    { "rate", "--comment", "comment", F_STR },
    { "rate", "--date", "rated_date", F_DATE },
    /* A request that someone not directly involved looks again (casework/challenge.h). */
    { "decide", "--challenge-role", "challenge_request.reviewer_role", F_ENUM },
    { "decide", "--challenge-by", "challenge_request.review_by_date", F_DATE },
    { "disagree", "--challenge-role", "challenge_request.reviewer_role", F_ENUM },
    { "disagree", "--challenge-by", "challenge_request.review_by_date", F_DATE },
    { "respond", "--challenge-role", "challenge_request.reviewer_role", F_ENUM },
    { "respond", "--challenge-by", "challenge_request.review_by_date", F_DATE },
};

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

static volatile sig_atomic_t s_stop;

static void s_on_signal(int sig)
{
    (void)sig;
    s_stop = 1;
}

int cli_agency_usage(FILE *out)
{
    fprintf(
        out,
        "usage: tacnet --agency NAME [--data-dir DIR | --socket ENDPOINT] [--json]\n"
        "              [--timeout MS] COMMAND ...\n"
        "  NAME: camhs, school, health_visiting (hv), social_care or another agency of the\n"
        "  partnership's agencies.conf (TACNET_AGENCIES). The daemon's data dir\n"
        "  defaults to $TACNET_HOME/NAME (TACNET_HOME defaults to ./run); --socket takes an\n"
        "  ipc:// or tcp:// endpoint instead.\n"
        "commands:\n"
        "  cases                              cases this agency is a member of (closed: marked)\n"
        "  case REF                           summary, timeline, due items, escalations\n"
        "  publish KIND --case REF --initials XX [--sensitivity S]\n"
        "      [--basis consent|direct_care|legal_duty|safeguarding_override] [--override-reason "
        "R]\n"
        "      [--refers-to HEX] [--subject AGENCY] [--level N] [--urgent]\n"
        "      [--to AGENCY]...  (must reach these: the daemon picks the lawful basis, or\n"
        "      refuses E_CONSENT when no consent in force or other basis does)\n"
        "      [--body JSON | --body-file F]  (JSON: the KIND's event message)\n"
        "      [--request-key K]  (your id for it: a retry with the same K is queued once)\n"
        "      [--replaces ID]  (corrects the refused event ID: it leaves the outbox)\n"
        "      [--wait S | --no-wait]  (wait up to S seconds, default 10, for the broker's\n"
        "      answer; --no-wait returns once the event is queued)\n"
        "  decide   --topic T --chosen C --option O... --rationale R [--date D]\n"
        "  views: decide, disagree, resolve, meeting outcome and plan each need the child's\n"
        "  and the family's view, --child-view V | --child-view-absent REASON, and\n"
        "  --family-view V | --family-view-absent REASON (REASON: too_young (child only),\n"
        "  declined, not_reachable, not_yet_asked:YYYY-MM-DD, the date to ask by)\n"
        "  disagree --refers-to HEX --topic T --reason R --proposed P [--current C] [--urgent]\n"
        "  disagree ... --child-safety S      (is the child safe now? required)\n"
        "  respond  --refers-to HEX --stage N --position uphold|concede|compromise|need_more_time\n"
        "           [--comment C]\n"
        "  resolve  --refers-to HEX --outcome O --child-safety S [--agreed-level N]\n"
        "  ack      --refers-to HEX [--accepted]   acknowledge a resolution\n"
        "  meeting request  --purpose P [--wanted-by D] [--meeting-id HEX]\n"
        "  meeting schedule --meeting-id HEX --starts-ms MS --mode M [--invite AGENCY,...]\n"
        "  meeting outcome  --meeting-id HEX --held D [--decision T]...\n"
        "           [--action AGENCY:INITIALS:YYYY-MM-DD:TEXT]... [--next D]\n"
        "  plan     --type T [--goal TEXT]... [--review-days N] [--start D] [--summary S]\n"
        "  measure  --tool gbo --values 3,4 [--goals 1,2] [--baseline] [--informant I]\n"
        "           [--date D] [--plan-id ID]  (GBO: the plan scored, when two of this\n"
        "           agency's plans have the goals; ID as `tacnet case REF` shows it: plan=...)\n"
        "  consent  --state given --scope routine,health [--agencies A,B] [--given-by R]\n"
        "  contact  --with mother --method home_visit [--date D] [--planned] [--successful]\n"
        "  assess   --type T --need N [--summary S] [--date D]\n"
        "           [--hv-contact hv_antenatal|hv_new_birth|hv_six_to_eight_week|\n"
        "                         hv_one_year|hv_two_year]\n"
        "           [--birth-date D]  (health visiting's universal contacts: the next are due\n"
        "           from the baby's birth date, or the expected one)\n"
        "  rate     --about AGENCY|partnership --rung 1-9 [--by-family mother|child|...]\n"
        "           [--comment C] [--date D]  (the partnership ladder; --by-family: the\n"
        "           family's rating, recorded for them)\n"
        "  challenge: decide, disagree and respond take --challenge-role\n"
        "           line_manager|dsl|partnership_lead [--challenge-by D]: someone not\n"
        "           directly involved looks again\n"
        "  (how the family want to be involved: publish involvement_preferences --body\n"
        "   '{\"people\":[{\"who\":\"mother\",\"decisions\":\"decide_together\"}],\n"
        "   \"revisit_by_date\":\"2027-01-08\"}')\n"
        "  (each shorthand also takes --case, --initials and the publish flags above)\n"
        "  register --case REF [ROLE:]NAME... names the daemon's text checks must refuse;\n"
        "                                     ROLE (child, mother, father, carer, grandparent,\n"
        "                                     sibling, other) names them on the family's summary\n"
        "  follow [--after SEQ]               print applied events as they arrive (Ctrl-C)\n"
        "  inbox [--role R]                   open escalations (waiting on role R), time left\n"
        "  import FILE [--no-wait]            the daemon imports the file with its profile's "
        "intake\n"
        "                                     adapter as a job: progress every second, then the\n"
        "                                     broker's answers (30 s at most after the last row)\n"
        "  import-status [JOB]                where the running or latest import job stands\n"
        "  hold add --case REF --reason CODE  legal hold: kept past its retention period\n"
        "  hold remove --case REF | hold list (CODE: public_inquiry, litigation, complaint,\n"
        "                                     safeguarding_practice_review, police_investigation,\n"
        "                                     subject_access_request)\n"
        "  retention run                      run the retention sweep now, print each verdict\n"
        "  status ID                          where one of this agency's events stands (ID: a\n"
        "                                     unique prefix of its msg_id, at least 2 hex digits)\n"
        "  outbox                             events not yet accepted, those refused, and\n"
        "                                     those some recipient has not applied in time\n"
        "  outbox draft ID                    a refused event as JSON and the command that\n"
        "                                     sends it again corrected (publish --replaces ID)\n"
        "  outbox withdraw ID                 drop a refused event from the outbox\n"
        "exit status: 0 ok (a publish: accepted by the broker, or queued with --no-wait);\n"
        "1 refused by the daemon or the broker (the error name, reason and each finding as\n"
        "`field [start,end) kind` are printed); 2 usage error or the daemon did not answer;\n"
        "3 a publish the broker has not answered within the wait: it stays queued and is\n"
        "sent when it can (`status ID` tells its outcome later).\n");
    return 2;
}

/* --json: what this command refuses itself (a usage error, a body it cannot read, a daemon it
 * cannot reach) is also printed on stdout as the daemon's refusals are, {"code": …, "error":
 * "E_…", "reason": …}, so a script reads one shape whoever refused. */
static int s_json;

static void s_json_refusal(int code, const char *why)
{
    if (!s_json)
        return;
    Tacnet__ApiReply r = TACNET__API_REPLY__INIT;
    r.code = code;
    r.reason = (char *)why;
    json_t *j = apijson_reply(&r);
    json_dumpf(j, stdout, JSON_INDENT(2));
    fputc('\n', stdout);
    json_decref(j);
}

/* Refuse with CODE: "tacnet: WHY[HINT]" on stderr and, with --json, the reply on stdout.
 * Returns 2. */
__attribute__((format(printf, 3, 0))) static int s_refuse_v(int code, const char *hint,
                                                            const char *fmt, va_list ap)
{
    char why[512];
    vsnprintf(why, sizeof(why), fmt, ap);
    fprintf(stderr, "tacnet: %s%s\n", why, hint);
    s_json_refusal(code, why);
    return 2;
}

__attribute__((format(printf, 2, 3))) static int s_local_refusal(int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = s_refuse_v(code, "", fmt, ap);
    va_end(ap);
    return rc;
}

__attribute__((format(printf, 1, 2))) static int s_usage_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = s_refuse_v(TACNET_EINVAL, " (see tacnet help agency)", fmt, ap);
    va_end(ap);
    return rc;
}

static const char *s_agency_name(const char *name)
{
    static const char *const names[][2] = {
        { "camhs", "camhs" },
        { "school", "school" },
        { "health_visiting", "health_visiting" },
        { "health-visiting", "health_visiting" },
        { "hv", "health_visiting" },
        { "social_care", "social_care" },
        { "social-care", "social_care" },
    };
    for (size_t i = 0; i < N_OF(names); i++)
        if (strcmp(name, names[i][0]) == 0)
            return names[i][1];
    /* Any other agency of the partnership's agencies.conf (cli_agencies_load). */
    uint32_t id;
    return agencies_find(name, &id) == 0 ? agencies_name(id) : NULL;
}

/* Whether the daemon at DATA_DIR is --agency's: publishing through another agency's daemon would
 * go out as that agency while the command line spoke of this one. A daemon too old to say
 * (no agency in its reply) is taken at its word. Returns 0, or 2 having said why. */
static int s_same_agency(const opts_t *o, const char *agency, const char *data_dir)
{
    Tacnet__ApiRequest req = TACNET__API_REQUEST__INIT;
    Tacnet__WhoAmIRequest who = TACNET__WHO_AM_IREQUEST__INIT;
    req.op_case = TACNET__API_REQUEST__OP_WHOAMI;
    req.whoami = &who;
    Tacnet__ApiReply *r = NULL;
    int rc = tn_client_call(o->client, &req, &r, 10000);
    int other = r && r->has_agency && (int)r->agency != o->agency;
    if (other)
        s_local_refusal(TACNET_EINVAL,
                        "the daemon at %s is %s's, not %s's: give --agency %s, or the data "
                        "directory of %s's daemon; nothing was done",
                        data_dir, names_agency((uint32_t)r->agency), agency,
                        names_agency((uint32_t)r->agency), agency);
    else if (!r)
        s_local_refusal(rc ? rc : TACNET_EHOSTUNREACH,
                        "no answer from %s: %s (is the agency daemon running?)",
                        tn_client_endpoint(o->client), tacnet_strerror(rc));
    int answered = r != NULL;
    tn_client_reply_free(&r);
    return other || !answered ? 2 : 0;
}

/* The reply decides the exit status: printed for people, or as JSON. */
static int s_finish(const opts_t *o, int rc, Tacnet__ApiReply *reply,
                    void (*show)(const opts_t *, const Tacnet__ApiReply *))
{
    if (!reply)
        return s_local_refusal(rc ? rc : TACNET_EHOSTUNREACH,
                               "no answer from %s: %s (is the agency daemon running?)",
                               tn_client_endpoint(o->client), tacnet_strerror(rc));
    cli_agency_time_zone(reply->time_zone);
    int status = cli_agency_print_reply(stdout, o->json, reply);
    if (status == 0 && !o->json && show)
        show(o, reply);
    tn_client_reply_free(&reply);
    return status;
}

static void s_show_cases(const opts_t *o, const Tacnet__ApiReply *r)
{
    (void)o;
    cli_agency_print_cases(stdout, r->cases);
}

static void s_show_case(const opts_t *o, const Tacnet__ApiReply *r)
{
    (void)o;
    if (r->show_case)
        cli_agency_print_case(stdout, r->show_case, r->has_agency ? (uint32_t)r->agency : 0,
                              (uint64_t)time(NULL) * 1000);
}

static void s_recipients(FILE *out, const Tacnet__Agency *a, size_t n)
{
    for (size_t i = 0; i < n; i++)
        fprintf(out, "%s%s", i ? ", " : "", names_agency(a[i]));
}

/* Send a publish and say where it stands: accepted (with the broker's seq and who receives
 * it), refused (the reason, exit 1), or still queued after the wait (exit 3). */
static int s_publish_send(const opts_t *o, Tacnet__PublishRequest *pub)
{
    Tacnet__ApiReply *r = NULL;
    /* The daemon answers within wait_ms; give the socket a margin beyond that. */
    int timeout = o->timeout_ms;
    if (pub->has_wait_ms && (int)pub->wait_ms + 5000 > timeout)
        timeout = (int)pub->wait_ms + 5000;
    int sent = tn_client_publish(o->client, pub, &r, timeout);
    if (r && o->json && r->published && r->code == 0) {
        /* The same exit code as without --json: still queued after the wait is 3. */
        const Tacnet__PublishReply *q = r->published;
        int queued = q->has_state && q->state != TACNET__PUBLISH_STATE__PUBLISH_ACCEPTED;
        int status = s_finish(o, sent, r, NULL);
        return status == 0 && queued ? AGENCY_EXIT_QUEUED : status;
    }
    if (!r || o->json || !r->published)
        return s_finish(o, sent, r, NULL);
    const Tacnet__PublishReply *p = r->published;
    char id[33];
    cli_agency_msgid_hex(id, p->msg_id.data, p->msg_id.len);
    int status = 0;
    if (r->code != 0) {
        cli_agency_print_refusal(stderr, r);
        fprintf(stderr, "event %s was refused: no other agency received it\n", id);
        status = 1;
    } else if (p->has_duplicate && p->duplicate && !p->has_state) {
        printf("already queued under this request key as %s: not sent again", id);
        if (p->n_recipients) {
            printf("; shared with ");
            s_recipients(stdout, p->recipients, p->n_recipients);
        }
        printf("\n");
    } else if (!p->has_state) {
        printf("queued %s (local seq %llu): not yet sent to the broker; `tacnet --agency %s "
               "status %.12s` shows its outcome\n",
               id, (unsigned long long)p->local_seq, names_agency((uint32_t)o->agency), id);
    } else if (p->state == TACNET__PUBLISH_STATE__PUBLISH_ACCEPTED) {
        printf("accepted %s: broker seq %llu%s; ", id, (unsigned long long)p->seq,
               p->has_duplicate && p->duplicate ? " (already queued under this request key)" : "");
        if (p->n_recipients) {
            printf("shared with ");
            s_recipients(stdout, p->recipients, p->n_recipients);
            printf("\n");
        } else {
            printf("no other agency receives it (none is a member the sharing policy and "
                   "consent allow)\n");
        }
    } else {
        printf("queued %s: the broker has not answered within %u s. The event is kept and will "
               "be sent; `tacnet --agency %s status %.12s` shows its outcome\n",
               id, pub->wait_ms / 1000, names_agency((uint32_t)o->agency), id);
        status = AGENCY_EXIT_QUEUED;
    }
    tn_client_reply_free(&r);
    return status;
}

static const char *s_state_name(Tacnet__PublishState s)
{
    switch (s) {
    case TACNET__PUBLISH_STATE__PUBLISH_QUEUED:
        return "queued";
    case TACNET__PUBLISH_STATE__PUBLISH_SENT:
        return "sent";
    case TACNET__PUBLISH_STATE__PUBLISH_ACCEPTED:
        return "accepted";
    case TACNET__PUBLISH_STATE__PUBLISH_REFUSED:
        return "refused";
    default:
        return "unknown";
    }
}

static void s_print_status(FILE *out, const Tacnet__EventStatus *e)
{
    char id[33];
    cli_agency_msgid_hex(id, e->msg_id.data, e->msg_id.len);
    fprintf(out, "%-8s %s %s %.*s", s_state_name(e->state), id,
            e->has_kind ? names_kind((uint32_t)e->kind) : "-", (int)e->case_ref.len,
            e->case_ref.data ? (const char *)e->case_ref.data : "");
    if (e->state == TACNET__PUBLISH_STATE__PUBLISH_ACCEPTED)
        fprintf(out, " seq %llu", (unsigned long long)e->seq);
    if (e->n_recipients && e->state != TACNET__PUBLISH_STATE__PUBLISH_REFUSED) {
        fputs(" to ", out);
        s_recipients(out, e->recipients, e->n_recipients);
    }
    /* Each recipient's state, from the broker's delivery reports. */
    for (size_t i = 0; e->state == TACNET__PUBLISH_STATE__PUBLISH_ACCEPTED && i < e->n_recipients;
         i++) {
        int applied = 0;
        for (size_t k = 0; k < e->n_applied_by; k++)
            applied |= e->applied_by[k] == e->recipients[i];
        fprintf(out, "\n         %-16s %s", names_agency(e->recipients[i]),
                applied ? "applied" : "not applied yet");
    }
    if (e->state == TACNET__PUBLISH_STATE__PUBLISH_REFUSED)
        fprintf(out, "\n         refused: %s: %s", tacnet_errname(e->code),
                e->reason && *e->reason ? e->reason : tacnet_strerror(e->code));
    if (e->has_corrected_by_id) {
        char by[33];
        cli_agency_msgid_hex(by, e->corrected_by_id.data, e->corrected_by_id.len);
        fprintf(out, "\n         corrected: sent again as %s", by);
    } else if (e->has_withdrawn_at_ms) {
        fputs("\n         withdrawn: it will not be sent", out);
    }
    fputc('\n', out);
}

static void s_show_status(const opts_t *o, const Tacnet__ApiReply *r)
{
    (void)o;
    if (r->status)
        s_print_status(stdout, r->status);
}

static void s_show_outbox(const opts_t *o, const Tacnet__ApiReply *r)
{
    (void)o;
    const Tacnet__OutboxReply *ob = r->outbox;
    if (ob && ob->sequence_refusals)
        printf("ALERT: the broker refused %u of this agency's events as out of sequence (latest: "
               "%s at sender_seq %llu). %s\n",
               ob->sequence_refusals, tacnet_errname(ob->last_refused_code),
               (unsigned long long)ob->last_refused_sender_seq,
               ob->last_refused_code == TACNET_ECLOCK
                   ? "This machine's clock is off: check its time service."
                   : "Unless this daemon was restored from a backup, someone else may be "
                     "publishing with this agency's key: tell the partnership's administrator "
                     "(rotate the key).");
    if (!ob || !ob->n_events)
        printf("outbox empty: every event this agency published was accepted by the broker\n");
    size_t refused = 0, outsider = 0;
    for (size_t i = 0; ob && i < ob->n_events; i++) {
        s_print_status(stdout, ob->events[i]);
        int no = ob->events[i]->state == TACNET__PUBLISH_STATE__PUBLISH_REFUSED;
        refused += no && ob->events[i]->code != TACNET_ENOTMEMBER;
        outsider += no && ob->events[i]->code == TACNET_ENOTMEMBER;
    }
    /* Only a refused event can be drafted or withdrawn: a queued one needs nothing doing. */
    if (refused)
        printf("(a refused event: `outbox draft ID` prints it to correct and send again with "
               "`publish ... --replaces ID`; `outbox withdraw ID` drops it)\n");
    /* No correction of the event changes who the team are. */
    if (outsider)
        printf("(refused E_NOTMEMBER: this agency is not in that case's team; its lead "
               "professional adds an agency, then send it again; `outbox withdraw ID` drops it)\n");
    if (ob && ob->n_unapplied) {
        printf("\naccepted more than %llu min ago and not yet applied by every recipient:\n",
               (unsigned long long)(ob->unapplied_after_ms / 60000));
        for (size_t i = 0; i < ob->n_unapplied; i++)
            s_print_status(stdout, ob->unapplied[i]);
    }
}

/* `outbox draft ID`: the refused event as the command that sends it again (its body as JSON in
 * a file next to nothing: printed, for the person to save and correct). */
static void s_show_draft(const opts_t *o, const Tacnet__ApiReply *r)
{
    const Tacnet__PublishRequest *d = r->draft;
    if (!d || !d->body)
        return;
    const char *kind = names_kind((uint32_t)d->kind);
    const ProtobufCFieldDescriptor *f = protobuf_c_message_descriptor_get_field(
        &tacnet__body__descriptor, (unsigned)d->body->event_case);
    json_t *j = pbjson_from_message(&d->base);
    json_t *ev = f ? json_object_get(json_object_get(j, "body"), f->name) : NULL;
    char *text = ev ? json_dumps(ev, JSON_INDENT(2) | JSON_SORT_KEYS) : NULL;
    printf("# the refused %s for case %.*s, as JSON: save it to a file, correct it, then\n", kind,
           (int)d->case_ref.len, (const char *)d->case_ref.data);
    printf("# tacnet --agency %s publish %s --case %.*s --initials %.*s", names_agency(o->agency),
           kind, (int)d->case_ref.len, (const char *)d->case_ref.data, (int)d->initials.len,
           (const char *)d->initials.data);
    if (d->has_refers_to && d->refers_to.len) {
        char hex[129];
        cli_agency_msgid_hex(hex, d->refers_to.data, d->refers_to.len);
        printf(" --refers-to %s", hex);
    }
    if (d->has_urgent && d->urgent)
        printf(" --urgent");
    printf(" --replaces %s --body-file FILE\n%s\n", o->draft_id, text ? text : "{}");
    free(text);
    json_decref(j);
}

/* `outbox withdraw ID` and `outbox draft ID`. */
static int s_outbox_command(opts_t *o, const char *what, const char *id)
{
    Tacnet__ApiRequest req = TACNET__API_REQUEST__INIT;
    Tacnet__WithdrawRequest wd = TACNET__WITHDRAW_REQUEST__INIT;
    Tacnet__DraftRequest dr = TACNET__DRAFT_REQUEST__INIT;
    if (strcmp(what, "withdraw") == 0) {
        wd.msg_id = (char *)id;
        req.op_case = TACNET__API_REQUEST__OP_WITHDRAW;
        req.withdraw = &wd;
    } else if (strcmp(what, "draft") == 0) {
        dr.msg_id = (char *)id;
        req.op_case = TACNET__API_REQUEST__OP_DRAFT;
        req.draft = &dr;
        o->draft_id = id;
    } else {
        return s_usage_error("outbox takes withdraw ID or draft ID, not \"%s\"", what);
    }
    Tacnet__ApiReply *reply = NULL;
    int rc = tn_client_call(o->client, &req, &reply, o->timeout_ms);
    return s_finish(o, rc, reply,
                    req.op_case == TACNET__API_REQUEST__OP_DRAFT ? s_show_draft : s_show_status);
}

/* `status ID` (a unique prefix of the msg_id's hex) and `outbox`. */
static int s_status(opts_t *o, const char *id)
{
    Tacnet__ApiRequest req = TACNET__API_REQUEST__INIT;
    Tacnet__StatusRequest st = TACNET__STATUS_REQUEST__INIT;
    Tacnet__OutboxRequest ob = TACNET__OUTBOX_REQUEST__INIT;
    if (id) {
        st.msg_id = (char *)id;
        req.op_case = TACNET__API_REQUEST__OP_STATUS;
        req.status = &st;
    } else {
        req.op_case = TACNET__API_REQUEST__OP_OUTBOX;
        req.outbox = &ob;
    }
    Tacnet__ApiReply *reply = NULL;
    int rc = tn_client_call(o->client, &req, &reply, o->timeout_ms);
    return s_finish(o, rc, reply, id ? s_show_status : s_show_outbox);
}

static void s_show_ok(const opts_t *o, const Tacnet__ApiReply *r)
{
    (void)o;
    (void)r;
    printf("ok\n");
}

static int s_hex(const char *s, uint8_t *out, size_t cap, size_t *len)
{
    size_t n = strlen(s);
    if (n == 0 || n % 2 || n / 2 > cap)
        return TACNET_EINVAL;
    for (size_t i = 0; i < n / 2; i++) {
        unsigned v;
        if (sscanf(s + 2 * i, "%2x", &v) != 1 || !strchr("0123456789abcdefABCDEF", s[2 * i + 1]))
            return TACNET_EINVAL;
        out[i] = (uint8_t)v;
    }
    *len = n / 2;
    return 0;
}

static int s_parse_u32(const char *s, uint32_t *v)
{
    char *end;
    unsigned long long u = strtoull(s, &end, 10);
    if (!*s || *end || s[0] == '-' || u > UINT32_MAX)
        return TACNET_EINVAL;
    *v = (uint32_t)u;
    return 0;
}

/* A flag value as JSON for the body: pbjson checks enums, ranges and dates afterwards, so its
 * refusal names the field the same way for shorthands and --body. */
static json_t *s_flag_json(ftype_t type, const char *value)
{
    char *end;
    switch (type) {
    case F_INT:
    case F_DATE: {
        long long v = strtoll(value, &end, 10);
        return *value && !*end ? json_integer(v) : json_string(value);
    }
    case F_TRUE:
        return json_true();
    case F_ABSENT: {
        const char *colon = strchr(value, ':');
        if (!colon)
            return json_pack("{s:s}", "reason", value);
        char reason[40];
        snprintf(reason, sizeof(reason), "%.*s", (int)(colon - value), value);
        return json_pack("{s:s, s:o}", "reason", reason, "ask_by_date",
                         s_flag_json(F_DATE, colon + 1));
    }
    case F_INTS:
    case F_ENUMS: {
        json_t *arr = json_array();
        char *copy = xstrdup(value), *save = NULL;
        for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save))
            json_array_append_new(arr, s_flag_json(type == F_INTS ? F_INT : F_STR, t));
        free(copy);
        return arr;
    }
    default:
        return json_string(value);
    }
}

/* meeting outcome --action AGENCY:INITIALS:DATE:TEXT */
static json_t *s_action_json(const char *value)
{
    char *copy = xstrdup(value), *save = NULL;
    char *agency = strtok_r(copy, ":", &save), *initials = strtok_r(NULL, ":", &save);
    char *due = strtok_r(NULL, ":", &save), *text = strtok_r(NULL, "", &save);
    json_t *a = NULL;
    if (agency && initials && due && text) {
        uint8_t id[16];
        char hex[33];
        randombytes_buf(id, sizeof(id));
        sodium_bin2hex(hex, sizeof(hex), id, sizeof(id));
        a = json_pack("{s:s, s:s, s:s, s:s, s:o, s:s}", "action_id", hex, "description", text,
                      "owner_agency", agency, "owner_initials", initials, "due_date",
                      s_flag_json(F_DATE, due), "status", "open");
    }
    free(copy);
    return a;
}

typedef struct {
    Tacnet__PublishRequest pub;
    int wait_ms;            /* 0: --no-wait */
    const char *refers_hex; /* --refers-to as typed: a msg_id or a unique prefix */
    uint8_t refers_to[64];
    json_t *event; /* the KIND's event message */
    const char *kind_name;
    Tacnet__Agency to[8]; /* --to: the agencies it must reach (pub.recipients points here) */
} publish_t;

/* Flags every publish takes. Returns 1 if FLAG was one (consuming its value), 0 if not, or 2
 * (usage) on a bad value. */
static int s_publish_flag(publish_t *p, int argc, char **argv, int *i)
{
    const char *flag = argv[*i];
    int e;
    if (strcmp(flag, "--urgent") == 0) {
        p->pub.has_urgent = p->pub.urgent = 1;
        return 1;
    }
    if (strcmp(flag, "--no-wait") == 0) {
        p->wait_ms = 0;
        return 1;
    }
    static const char *const valued[] = {
        "--case",        "--initials", "--sensitivity", "--basis", "--override-reason",
        "--refers-to",   "--subject",  "--level",       "--body",  "--body-file",
        "--request-key", "--wait",     "--replaces",    "--to"
    };
    size_t k = 0;
    while (k < N_OF(valued) && strcmp(flag, valued[k]) != 0)
        k++;
    if (k == N_OF(valued))
        return 0;
    if (*i + 1 >= argc)
        return s_usage_error("%s needs a value", flag);
    const char *v = argv[++*i];
    switch (k) {
    case 0:
        p->pub.case_ref.data = (uint8_t *)v;
        p->pub.case_ref.len = strlen(v);
        return 1;
    case 1:
        p->pub.initials.data = (uint8_t *)v;
        p->pub.initials.len = strlen(v);
        return 1;
    case 2:
        p->pub.has_sensitivity = 1;
        if (names_enum_parse(&tacnet__sensitivity__descriptor, v, &e) != 0)
            return s_usage_error("--sensitivity: \"%s\" is not routine, health or safeguarding", v);
        p->pub.sensitivity = e;
        return 1;
    case 3:
        p->pub.has_lawful_basis = 1;
        if (names_enum_parse(&tacnet__lawful_basis__descriptor, v, &e) != 0)
            return s_usage_error(
                "--basis: \"%s\" is not consent, direct_care, legal_duty or safeguarding_override",
                v);
        p->pub.lawful_basis = e;
        return 1;
    case 4:
        p->pub.has_override_reason = 1;
        if (names_enum_parse(&tacnet__override_reason__descriptor, v, &e) != 0)
            return s_usage_error("--override-reason: \"%s\" is not an override reason", v);
        p->pub.override_reason = e;
        return 1;
    case 5:
        if (strlen(v) < 2 || strlen(v) > 32 || strspn(v, "0123456789abcdefABCDEF") != strlen(v))
            return s_usage_error("--refers-to: \"%s\" is not a msg_id or a prefix of one (2 to "
                                 "32 hex digits)",
                                 v);
        p->refers_hex = v;
        return 1;
    case 6:
        p->pub.has_subject_agency = 1;
        if (names_enum_parse(&tacnet__agency__descriptor, v, &e) != 0)
            return s_usage_error("--subject: \"%s\" is not an agency", v);
        p->pub.subject_agency = e;
        return 1;
    case 7:
        p->pub.has_level_of_need = 1;
        if (s_parse_u32(v, &p->pub.level_of_need) != 0)
            return s_usage_error("--level: \"%s\" is not a number", v);
        return 1;
    case 10:
        /* The caller's own id for this publish (a record id): run again after a timeout or a
         * crash, it is queued once and answered as before. The daemon checks its length. */
        p->pub.has_request_key = 1;
        p->pub.request_key.data = (uint8_t *)v;
        p->pub.request_key.len = strlen(v);
        return 1;
    case 12:
        /* Checked by the daemon, among this agency's refused events. */
        p->pub.replaces = (char *)v;
        return 1;
    case 11: {
        uint32_t secs;
        if (s_parse_u32(v, &secs) != 0 || secs < 1 || secs > 600)
            return s_usage_error("--wait: \"%s\" is not a number of seconds from 1 to 600", v);
        p->wait_ms = (int)secs * 1000;
        return 1;
    }
    case 13:
        if (names_enum_parse(&tacnet__agency__descriptor, v, &e) != 0 || e == 0 ||
            p->pub.n_recipients == N_OF(p->to))
            return s_usage_error("--to: \"%s\" is not an agency", v);
        p->to[p->pub.n_recipients++] = (Tacnet__Agency)e;
        p->pub.recipients = p->to;
        return 1;
    default: { /* --body, --body-file */
        json_error_t jerr;
        json_decref(p->event);
        p->event = k == 8 ? json_loads(v, 0, &jerr) : json_load_file(v, 0, &jerr);
        if (!p->event)
            return s_local_refusal(TACNET_EBADMSG, "%s: not JSON: %s at line %d, column %d", flag,
                                   jerr.text, jerr.line, jerr.column);
        return 1;
    }
    }
}

static void s_id_candidate(const ProtobufCBinaryData *id, const char *prefix, uint8_t found[][16],
                           size_t *n, size_t cap)
{
    if (id->len != 16 || !wire_msgid_prefix_matches(id->data, prefix))
        return;
    for (size_t i = 0; i < *n; i++)
        if (memcmp(found[i], id->data, 16) == 0)
            return;
    if (*n < cap)
        memcpy(found[*n], id->data, 16);
    (*n)++;
}

/* Resolve PREFIX (hex, as typed after --refers-to) to one msg_id among the events and
 * escalations of CASE_REF, as git resolves an abbreviated commit: a whole id is taken as it is;
 * a prefix of an id or of its short id must match exactly one. Returns 0, 1 (refused: printed)
 * or 2 (no answer from the daemon: printed). */
static int s_resolve_id(const opts_t *o, const char *case_ref, const char *prefix, uint8_t out[16])
{
    size_t len;
    if (strlen(prefix) == 32)
        return s_hex(prefix, out, 16, &len) == 0 ? 0 : 1;
    Tacnet__ApiReply *r = NULL;
    int rc = tn_client_case(o->client, case_ref, &r, o->timeout_ms);
    if (!r || r->code != 0 || !r->show_case)
        return s_finish(o, rc, r, NULL);
    uint8_t found[8][16];
    size_t n = 0;
    for (size_t i = 0; i < r->show_case->n_timeline; i++)
        s_id_candidate(&r->show_case->timeline[i]->header->msg_id, prefix, found, &n, 8);
    const Tacnet__CaseState *st = r->show_case->state;
    for (size_t i = 0; st && i < st->n_escalations; i++)
        s_id_candidate(&st->escalations[i]->escalation_id, prefix, found, &n, 8);
    tn_client_reply_free(&r);
    if (n == 1) {
        memcpy(out, found[0], 16);
        return 0;
    }
    if (n == 0)
        fprintf(stderr,
                "refused: E_NOTFOUND (not found): no event or escalation of %s has an id "
                "starting %s\n",
                case_ref, prefix);
    else
        fprintf(stderr,
                "refused: E_INVAL (invalid argument): %s is ambiguous in %s: %zu events "
                "match; give more digits\n",
                prefix, case_ref, n);
    return 1;
}

/* Set KEY of EVENT to VALUE (taken); "a.b" sets b in the object a, made when missing. */
static void s_set_key(json_t *event, const char *key, json_t *value)
{
    const char *dot = strchr(key, '.');
    if (!dot) {
        json_object_set_new(event, key, value);
        return;
    }
    char outer[40];
    snprintf(outer, sizeof(outer), "%.*s", (int)(dot - key), key);
    json_t *o = json_object_get(event, outer);
    if (!json_is_object(o))
        json_object_set_new(event, outer, o = json_object());
    json_object_set_new(o, dot + 1, value);
}

/* Parse the flags of `publish KIND` (SHORTHAND NULL) or of a shorthand, then send. */
static int s_publish(opts_t *o, const char *shorthand, const char *kind, int argc, char **argv)
{
    publish_t p = { .pub = TACNET__PUBLISH_REQUEST__INIT, .wait_ms = AGENCY_WAIT_MS };
    int e, rc = 2;
    Tacnet__Body *body = NULL;
    if (names_enum_parse(&tacnet__event_kind__descriptor, kind, &e) != 0 || e == 0) {
        s_usage_error("\"%s\" is not an event kind", kind);
        goto fail;
    }
    p.pub.kind = e;
    p.kind_name = names_kind((uint32_t)e);
    p.event = json_object();
    int n_goals = 0;
    for (int i = 0; i < argc; i++) {
        int r = s_publish_flag(&p, argc, argv, &i);
        if (r == 2)
            goto fail;
        if (r == 1)
            continue;
        size_t k = 0;
        while (shorthand && k < N_OF(s_flags) &&
               !(strcmp(s_flags[k].cmd, shorthand) == 0 && strcmp(s_flags[k].flag, argv[i]) == 0))
            k++;
        int is_goal = shorthand && strcmp(shorthand, "plan") == 0 && strcmp(argv[i], "--goal") == 0;
        int is_action = shorthand && strcmp(shorthand, "meeting outcome") == 0 &&
                        strcmp(argv[i], "--action") == 0;
        if (!shorthand || (k == N_OF(s_flags) && !is_goal && !is_action)) {
            s_usage_error("unknown flag %s", argv[i]);
            goto fail;
        }
        if (k < N_OF(s_flags) && s_flags[k].type == F_TRUE) {
            json_object_set_new(p.event, s_flags[k].key, json_true());
            continue;
        }
        if (i + 1 >= argc) {
            s_usage_error("%s needs a value", argv[i]);
            goto fail;
        }
        const char *v = argv[++i];
        if (is_goal || is_action) {
            const char *key = is_goal ? "goals" : "actions";
            json_t *arr = json_object_get(p.event, key);
            if (!arr)
                json_object_set_new(p.event, key, arr = json_array());
            json_t *item = is_goal ? json_pack("{s:i, s:s}", "goal_id", ++n_goals, "description", v)
                                   : s_action_json(v);
            if (!item) {
                s_usage_error("--action: \"%s\" is not AGENCY:INITIALS:YYYY-MM-DD:TEXT", v);
                goto fail;
            }
            json_array_append_new(arr, item);
        } else if (s_flags[k].type == F_STRS) {
            json_t *arr = json_object_get(p.event, s_flags[k].key);
            if (!arr)
                json_object_set_new(p.event, s_flags[k].key, arr = json_array());
            json_array_append_new(arr, json_string(v));
        } else {
            s_set_key(p.event, s_flags[k].key, s_flag_json(s_flags[k].type, v));
        }
    }
    if (shorthand && strcmp(shorthand, "meeting request") == 0 &&
        !json_object_get(p.event, "meeting_id")) {
        uint8_t id[16];
        char hex[33];
        randombytes_buf(id, sizeof(id));
        sodium_bin2hex(hex, sizeof(hex), id, sizeof(id));
        json_object_set_new(p.event, "meeting_id", json_string(hex));
    }
    if (!p.pub.case_ref.data || !p.pub.initials.data) {
        s_usage_error("%s needs --case REF and --initials XX", shorthand ? shorthand : "publish");
        goto fail;
    }
    /* A plan is named by its id as `tacnet case` shows it (the short id, or any unique prefix):
     * its first version's msg_id is in the case's timeline. */
    json_t *plan_id = json_object_get(p.event, "plan_id");
    if (json_is_string(plan_id) && json_string_length(plan_id) != 32) {
        char ref[64], hex[33];
        uint8_t id[16];
        snprintf(ref, sizeof(ref), "%.*s", (int)p.pub.case_ref.len, (char *)p.pub.case_ref.data);
        if ((rc = s_resolve_id(o, ref, json_string_value(plan_id), id)) != 0)
            goto fail;
        sodium_bin2hex(hex, sizeof(hex), id, sizeof(id));
        json_object_set_new(p.event, "plan_id", json_string(hex));
        rc = 2;
    }
    if (p.refers_hex) {
        char ref[64];
        snprintf(ref, sizeof(ref), "%.*s", (int)p.pub.case_ref.len, (char *)p.pub.case_ref.data);
        if ((rc = s_resolve_id(o, ref, p.refers_hex, p.refers_to)) != 0)
            goto fail;
        p.pub.has_refers_to = 1;
        p.pub.refers_to.data = p.refers_to;
        p.pub.refers_to.len = 16;
        rc = 2;
    }
    char why[320];
    json_t *wrapped = json_pack("{s:O}", p.kind_name, p.event);
    body = (Tacnet__Body *)pbjson_to_message(&tacnet__body__descriptor, wrapped, why, sizeof(why));
    json_decref(wrapped);
    if (!body) {
        s_local_refusal(TACNET_EFIELD, "body: %s", why);
        goto fail;
    }
    p.pub.body = body;
    if (p.wait_ms > 0) {
        p.pub.has_wait_ms = 1;
        p.pub.wait_ms = (uint32_t)p.wait_ms;
    }
    rc = s_publish_send(o, &p.pub);
fail:
    if (body)
        protobuf_c_message_free_unpacked(&body->base, NULL);
    json_decref(p.event);
    return rc;
}

/* How long each follow request may wait in the daemon for the next event. */
#define FOLLOW_WAIT_MS 25000u

static int s_follow(opts_t *o, int argc, char **argv)
{
    uint64_t after = 0;
    for (int i = 0; i < argc; i++) {
        char *end;
        if (strcmp(argv[i], "--after") == 0 && i + 1 < argc) {
            const char *v = argv[++i];
            errno = 0;
            after = strtoull(v, &end, 10);
            if (!*v || *end || errno == ERANGE || strspn(v, "0123456789") != strlen(v))
                return s_usage_error("--after: \"%s\" is not a local seq (a number below 2^64)", v);
        } else {
            return s_usage_error("follow: unknown argument %s", argv[i]);
        }
    }
    struct sigaction sa = { .sa_handler = s_on_signal };
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    while (!s_stop) {
        Tacnet__ApiReply *reply = NULL;
        /* The daemon holds the request until something is applied (or FOLLOW_WAIT_MS pass), so
         * events print as they are applied with no polling in between. */
        uint64_t t0 = clock_mono_ms();
        int rc = tn_client_follow_wait(o->client, after, 0, FOLLOW_WAIT_MS, &reply,
                                       o->timeout_ms + (int)FOLLOW_WAIT_MS);
        uint64_t took_ms = clock_mono_ms() - t0;
        if (s_stop) {
            tn_client_reply_free(&reply);
            break;
        }
        if (!reply || reply->code != 0)
            return s_finish(o, rc, reply, NULL);
        cli_agency_time_zone(reply->time_zone);
        for (size_t i = 0; reply->follow && i < reply->follow->n_entries; i++) {
            if (o->json) {
                json_t *j = pbjson_from_message(&reply->follow->entries[i]->base);
                json_dumpf(j, stdout, JSON_COMPACT);
                json_decref(j);
                fputc('\n', stdout);
            } else {
                cli_agency_print_entry(stdout, reply->follow->entries[i], 1);
            }
        }
        if (reply->follow && reply->follow->next_local_seq > after)
            after = reply->follow->next_local_seq;
        /* Nothing, and well before the wait was up: the daemon did not hold the request (it
         * holds a bounded number at once). Pause before asking again rather than spin. */
        int idle = !reply->follow || reply->follow->n_entries == 0;
        tn_client_reply_free(&reply);
        fflush(stdout);
        if (idle && took_ms < FOLLOW_WAIT_MS / 2) {
            struct timespec half = { 0, 500 * 1000000L };
            nanosleep(&half, NULL);
        }
    }
    return 0;
}

/* One inbox line: urgency, case, stage, whom it waits on, time left, short id, topic; "yours"
 * when it waits on ROLE. */
static void s_inbox_line(const char *ref, const Tacnet__EscalationView *e, int role, uint64_t now)
{
    char left[64] = "no deadline yet";
    if (e->deadline_ms)
        cli_agency_time_left(left, sizeof(left), e->deadline_ms, now);
    const char *waits =
        e->has_audience ? names_enum(&tacnet__role__descriptor, (int)e->audience) : "-";
    printf("%s%-16s stage %u waits on %-16s %-20s ", e->urgent ? "URGENT " : "       ", ref,
           e->stage, waits, left);
    cli_agency_print_short_id(stdout, &e->escalation_id);
    printf(" raised by %s", e->has_raised_by ? names_agency(e->raised_by) : "the broker");
    if (e->disagreement && e->disagreement->topic && *e->disagreement->topic)
        printf(": %s", e->disagreement->topic);
    if (role && e->has_audience && (int)e->audience == role)
        printf("  <- yours to answer");
    putchar('\n');
}

/* The escalations inbox: every open escalation in which this agency is a party, raised it, or
 * leads the case, with what it waits on and the time left. With ROLE (practitioner,
 * line_manager, dsl, partnership_lead, lead_professional) those waiting on that role are
 * marked; the others are listed too, since a role answers for its agency's escalations at every
 * stage. */
static int s_inbox(opts_t *o, const char *role_name)
{
    int role = 0;
    if (role_name && names_enum_parse(&tacnet__role__descriptor, role_name, &role) != 0)
        return s_usage_error("unknown role \"%s\" (practitioner, line_manager, dsl, "
                             "partnership_lead, lead_professional)",
                             role_name);
    Tacnet__ApiReply *cases = NULL;
    int rc = tn_client_cases(o->client, &cases, o->timeout_ms);
    if (!cases || cases->code != 0)
        return s_finish(o, rc, cases, NULL);
    uint64_t now = (uint64_t)time(NULL) * 1000;
    json_t *all = o->json ? json_array() : NULL;
    size_t shown = 0, yours = 0;
    for (size_t i = 0; cases->cases && i < cases->cases->n_cases; i++) {
        const Tacnet__CaseSummary *c = cases->cases->cases[i];
        if (!c->open_escalations)
            continue;
        char ref[64];
        snprintf(ref, sizeof(ref), "%.*s", (int)c->case_ref.len, (const char *)c->case_ref.data);
        Tacnet__ApiReply *r = NULL;
        if (tn_client_case(o->client, ref, &r, o->timeout_ms) != 0 || !r->show_case ||
            !r->show_case->state) {
            tn_client_reply_free(&r);
            continue;
        }
        const Tacnet__CaseState *st = r->show_case->state;
        uint32_t lead = c->has_lead ? (uint32_t)c->lead : 0;
        for (size_t k = 0; k < st->n_escalations; k++) {
            const Tacnet__EscalationView *e = st->escalations[k];
            escalation_rights_t rights = escalation_rights_of(e, (uint32_t)o->agency, lead);
            if (!rights.open || !rights.involved)
                continue;
            shown++;
            yours += role && e->has_audience && (int)e->audience == role;
            if (all) {
                json_t *j = pbjson_from_message(&e->base);
                json_object_set_new(j, "case_ref", json_string(ref));
                json_array_append_new(all, j);
            } else {
                s_inbox_line(ref, e, role, now);
            }
        }
        tn_client_reply_free(&r);
    }
    tn_client_reply_free(&cases);
    if (all) {
        /* The shape of every other --json reply (the HTTP API's): {"code":0,...}, the list under
         * "escalations". */
        Tacnet__ApiReply ok = TACNET__API_REPLY__INIT;
        json_t *j = apijson_reply(&ok);
        json_object_set_new(j, "escalations", all);
        json_dumpf(j, stdout, JSON_INDENT(2));
        fputc('\n', stdout);
        json_decref(j);
    } else if (!shown) {
        printf("no open escalation involves %s\n", names_agency((uint32_t)o->agency));
    } else if (role_name) {
        printf("%zu open escalation%s involve%s %s; %zu wait%s on %s now\n", shown,
               shown == 1 ? "" : "s", shown == 1 ? "s" : "", names_agency((uint32_t)o->agency),
               yours, yours == 1 ? "s" : "", role_name);
    }
    return 0;
}

/* Refuse a registration whose relationship is not one the register knows before anything is
 * sent, naming the argument by its place: the text is a name, never echoed. */
static int s_register_roles(int argc, char **argv)
{
    for (int i = 0; i < argc; i++) {
        kin_role_t role;
        const char *name;
        if (kin_parse(argv[i], &role, &name) != 0) {
            fprintf(stderr,
                    "tacnet register: name %d: say who the person is to the child with child:, "
                    "mother:, father:, carer:, grandparent:, sibling: or other: before the "
                    "name, or give the name alone; nothing was registered\n",
                    i + 1);
            return TACNET_EFIELD;
        }
    }
    return 0;
}

static int s_command(opts_t *o, int argc, char **argv)
{
    const char *cmd = argv[0];
    Tacnet__ApiReply *reply = NULL;
    int rc;
    if (strcmp(cmd, "cases") == 0 && argc == 1) {
        rc = tn_client_cases(o->client, &reply, o->timeout_ms);
        return s_finish(o, rc, reply, s_show_cases);
    }
    if (strcmp(cmd, "case") == 0 && argc == 2) {
        rc = tn_client_case(o->client, argv[1], &reply, o->timeout_ms);
        return s_finish(o, rc, reply, s_show_case);
    }
    if (strcmp(cmd, "import") == 0 || strcmp(cmd, "import-status") == 0) {
        cli_import_opts_t io = { .client = o->client,
                                 .json = o->json,
                                 .timeout_ms = o->timeout_ms,
                                 .wait_ms = AGENCY_IMPORT_WAIT_MS };
        return cli_import_command(&io, argc, argv);
    }
    if (strcmp(cmd, "register") == 0 && argc >= 4 && strcmp(argv[1], "--case") == 0) {
        if (s_register_roles(argc - 3, argv + 3) != 0)
            return 2;
        rc = tn_client_register_identity(o->client, argv[2], (const char *const *)argv + 3,
                                         (size_t)(argc - 3), &reply, o->timeout_ms);
        return s_finish(o, rc, reply, s_show_ok);
    }
    if (strcmp(cmd, "hold") == 0 || strcmp(cmd, "retention") == 0) {
        cli_retention_opts_t ro = { .client = o->client,
                                    .json = o->json,
                                    .timeout_ms = o->timeout_ms };
        return cmd[0] == 'h' ? cli_hold_command(&ro, argc, argv)
                             : cli_retention_command(&ro, argc, argv);
    }
    if (strcmp(cmd, "follow") == 0)
        return s_follow(o, argc - 1, argv + 1);
    if (strcmp(cmd, "inbox") == 0 && (argc == 1 || (argc == 3 && strcmp(argv[1], "--role") == 0)))
        return s_inbox(o, argc == 3 ? argv[2] : NULL);
    if (strcmp(cmd, "status") == 0 && argc == 2)
        return s_status(o, argv[1]);
    if (strcmp(cmd, "outbox") == 0 && argc == 1)
        return s_status(o, NULL);
    if (strcmp(cmd, "outbox") == 0 && argc == 3)
        return s_outbox_command(o, argv[1], argv[2]);
    if (strcmp(cmd, "publish") == 0 && argc >= 2)
        return s_publish(o, NULL, argv[1], argc - 2, argv + 2);
    for (size_t i = 0; i < N_OF(s_shorthands); i++) {
        const char *sh = s_shorthands[i].cmd;
        if (strncmp(sh, "meeting ", 8) == 0) {
            if (strcmp(cmd, "meeting") == 0 && argc >= 2 && strcmp(argv[1], sh + 8) == 0)
                return s_publish(o, sh, s_shorthands[i].kind, argc - 2, argv + 2);
        } else if (strcmp(cmd, sh) == 0) {
            return s_publish(o, sh, s_shorthands[i].kind, argc - 1, argv + 1);
        }
    }
    return s_usage_error("unknown or incomplete command \"%s\"", cmd);
}

int cli_agency_main(int argc, char **argv)
{
    opts_t o = { .timeout_ms = AGENCY_TIMEOUT_MS };
    const char *name = NULL, *data_dir = NULL;
    int i = 1;
    if (strncmp(argv[0], "--agency=", 9) == 0)
        name = argv[0] + 9;
    else if (argc > 1)
        name = argv[i++];
    const char *agency = name ? s_agency_name(name) : NULL;
    if (!agency) {
        s_usage_error("--agency needs camhs, school, health_visiting (hv), social_care or an "
                      "agency of agencies.conf");
        return 2;
    }
    for (; i < argc && strncmp(argv[i], "--", 2) == 0; i++) {
        if (strcmp(argv[i], "--json") == 0)
            o.json = s_json = 1;
        else if ((strcmp(argv[i], "--data-dir") == 0 || strcmp(argv[i], "--socket") == 0) &&
                 i + 1 < argc)
            data_dir = argv[++i];
        else if (strcmp(argv[i], "--timeout") == 0 && i + 1 < argc)
            o.timeout_ms = atoi(argv[++i]);
        else
            return s_usage_error("unknown option %s", argv[i]);
    }
    if (i >= argc)
        return cli_agency_usage(stderr);
    char dir[PATH_MAX];
    if (!data_dir) {
        const char *home = getenv("TACNET_HOME");
        snprintf(dir, sizeof(dir), "%s/%s", home && *home ? home : "./run", agency);
        data_dir = dir;
    }
    if (sodium_init() < 0)
        return 2;
    int err = 0;
    if (names_enum_parse(&tacnet__agency__descriptor, agency, &o.agency) != 0)
        return 2;
    o.target = data_dir;
    o.client = tn_client_new(data_dir, &err);
    if (!o.client) {
        return s_local_refusal(err ? err : TACNET_EHOSTUNREACH,
                               "cannot reach the %s daemon at %s: %s", agency, data_dir,
                               err == TACNET_ENOTFOUND
                                   ? "no api.sock there (is the daemon running?)"
                                   : tacnet_strerror(err));
    }
    if (s_same_agency(&o, agency, data_dir) != 0) {
        tn_client_destroy(&o.client);
        return 2;
    }
    int rc = s_command(&o, argc - i, argv + i);
    tn_client_destroy(&o.client);
    return rc;
}
