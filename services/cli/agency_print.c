/* agency_print: human-readable forms of local API replies (see agency_print.h). */
#include "agency_print.h"
#include "err.h"
#include "names.h"
#include "pbjson.h"
#include "wire.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* The fields that identify an event at a glance, per Body member; everything else is --json. */
static const struct {
    const char *member;
    const char *keys[4];
} s_key_fields[] = {
    { "referral", { "to_agency", "category", "referred_date" } },
    { "concern", { "category", "immediate_risk", "attendance_permille", "observed_date" } },
    { "assessment", { "type", "level_of_need", "completed_date" } },
    { "decision", { "topic", "chosen", "decided_date" } },
    { "disagreement", { "topic", "proposed_position" } },
    { "meeting_requested", { "meeting_id", "purpose", "wanted_by_date" } },
    { "meeting_scheduled", { "meeting_id", "starts_at_ms", "mode", "invited" } },
    { "meeting_outcome", { "meeting_id", "held_date", "next_meeting_date" } },
    { "care_plan", { "type", "review_interval_days", "start_date" } },
    { "outcome_measure", { "tool", "values", "goal_ids", "baseline" } },
    { "communication_plan", { "every_days", "method", "parents_agreed" } },
    { "contact_logged", { "with", "method", "contact_date", "successful" } },
    { "consent_recorded", { "state", "scope", "agencies", "recorded_date" } },
    { "partnership_rating", { "about", "rung", "rated_date" } },
    { "case_closed", { "reason", "closed_date" } },
    { "member_joined", { "team" } },
    { "lead_handover", { "new_lead" } },
    { "lead_accepted", { "lead" } },
    { "escalation_response", { "stage", "position" } },
    { "escalation_resolved", { "agreed_level_of_need" } },
    { "escalation_ack", { "accepted" } },
    { "action_update", { "action_id", "status" } },
    { "escalation_notice", { "event", "stage", "audience", "parties" } },
    { "safeguarding_alert", { "by_agency", "reason" } },
    { "non_delivery", { "recipient", "seq" } },
    { "non_response", { "agency", "stage" } },
};

static void s_bytes(FILE *out, const ProtobufCBinaryData *b)
{
    for (size_t i = 0; i < b->len; i++)
        fputc(b->data[i] >= 0x20 && b->data[i] < 0x7f ? b->data[i] : '?', out);
}

void cli_agency_print_short_id(FILE *out, const ProtobufCBinaryData *b)
{
    /* A msg_id opens with its 6-byte creation time, shared by everything sent in the same
     * millisecond and alike for a whole day: the short id is the random part that follows. */
    size_t from = b->len == 16 ? WIRE_SHORT_ID_FROM : 0;
    for (size_t i = from; i < b->len && i < from + 4; i++)
        fprintf(out, "%02x", b->data[i]);
}

static void s_local_time(char *buf, size_t len, uint64_t ms)
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    if (ms == 0 || !localtime_r(&t, &tm) || strftime(buf, len, "%Y-%m-%d %H:%M", &tm) == 0)
        snprintf(buf, len, "%-16s", "-");
}

void cli_agency_time_left(char *buf, size_t len, uint64_t due_ms, uint64_t now_ms)
{
    int overdue = due_ms < now_ms;
    uint64_t d = overdue ? now_ms - due_ms : due_ms - now_ms;
    uint64_t mins = d / 60000, hours = mins / 60, days = hours / 24;
    char span[48];
    if (days)
        snprintf(span, sizeof(span), "%llud %lluh", (unsigned long long)days,
                 (unsigned long long)(hours % 24));
    else
        snprintf(span, sizeof(span), "%lluh %llum", (unsigned long long)hours,
                 (unsigned long long)(mins % 60));
    snprintf(buf, len, "%s%s", overdue ? "overdue by " : "", span);
}

int cli_agency_print_reply(FILE *out, int json, const Tacnet__ApiReply *reply)
{
    if (json) {
        json_t *j = pbjson_from_message(&reply->base);
        json_dumpf(j, out, JSON_INDENT(2));
        fputc('\n', out);
        json_decref(j);
    }
    if (reply->code == 0)
        return 0;
    cli_agency_print_refusal(stderr, reply);
    return 1;
}

void cli_agency_msgid_hex(char out[33], const uint8_t *id, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    size_t n = len < 16 ? len : 16;
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = hex[id[i] >> 4];
        out[2 * i + 1] = hex[id[i] & 15];
    }
    out[2 * n] = 0;
}

void cli_agency_print_refusal(FILE *out, const Tacnet__ApiReply *reply)
{
    fprintf(out, "refused: %s (%s)", tacnet_errname(reply->code), tacnet_strerror(reply->code));
    if (reply->reason && *reply->reason &&
        strncmp(reply->reason, tacnet_strerror(reply->code),
                strlen(tacnet_strerror(reply->code))) != 0)
        fprintf(out, ": %s", reply->reason);
    else if (reply->reason && *reply->reason)
        fprintf(out, "%s", reply->reason + strlen(tacnet_strerror(reply->code)));
    fputc('\n', out);
    for (size_t i = 0; i < reply->n_findings; i++) {
        const Tacnet__Finding *f = reply->findings[i];
        fprintf(out, "  %s [%u,%u) %s\n", f->field ? f->field : "-", f->start, f->end, f->kind);
    }
}

static void s_agency_list(FILE *out, const Tacnet__Agency *a, size_t n)
{
    if (n == 0)
        fputs("-", out);
    for (size_t i = 0; i < n; i++)
        fprintf(out, "%s%s", i ? "," : "", names_agency(a[i]));
}

static void s_levels(FILE *out, const Tacnet__CaseSummary *s)
{
    int any = 0;
    for (size_t i = 1; i < s->n_level_of_need; i++) {
        if (s->level_of_need[i] == 0)
            continue;
        fprintf(out, "%s%s:%u", any ? "," : "", names_agency((uint32_t)i), s->level_of_need[i]);
        any = 1;
    }
    if (!any)
        fputs("-", out);
}

void cli_agency_print_cases(FILE *out, const Tacnet__ListCasesReply *cases)
{
    if (!cases || cases->n_cases == 0) {
        fprintf(out, "no cases\n");
        return;
    }
    fprintf(out, "%-16s %-4s %-16s %-5s %-7s %-16s %s\n", "CASE", "INIT", "LEAD", "ESC", "OVERDUE",
            "LAST ACTIVITY", "MEMBERS / LEVEL OF NEED");
    for (size_t i = 0; i < cases->n_cases; i++) {
        const Tacnet__CaseSummary *s = cases->cases[i];
        char when[32];
        s_local_time(when, sizeof(when), s->last_activity_ms);
        s_bytes(out, &s->case_ref);
        fprintf(out, "%*s", (int)(s->case_ref.len < 16 ? 17 - s->case_ref.len : 1), "");
        s_bytes(out, &s->initials);
        fprintf(out, "%*s", (int)(s->initials.len < 4 ? 5 - s->initials.len : 1), "");
        fprintf(out, "%-16s %-5u %-7u %-16s ", s->has_lead ? names_agency(s->lead) : "-",
                s->open_escalations, s->overdue_items, when);
        s_agency_list(out, s->members, s->n_members);
        fputs(" / ", out);
        s_levels(out, s);
        fputc('\n', out);
    }
}

static void s_key_values(FILE *out, const Tacnet__Body *body)
{
    json_t *j = pbjson_from_message(&body->base);
    const char *member = NULL;
    json_t *ev = NULL;
    const char *k;
    json_t *v;
    json_object_foreach(j, k, v)
    {
        if (json_is_object(v)) {
            member = k;
            ev = v;
        }
    }
    for (size_t i = 0; member && i < sizeof(s_key_fields) / sizeof(s_key_fields[0]); i++) {
        if (strcmp(s_key_fields[i].member, member) != 0)
            continue;
        for (size_t f = 0; f < 4 && s_key_fields[i].keys[f]; f++) {
            json_t *val = json_object_get(ev, s_key_fields[i].keys[f]);
            if (!val)
                continue;
            /* Names, dates and hex read better bare; text with spaces keeps its quotes. */
            const char *bare = json_string_value(val);
            char *text =
                bare && !strchr(bare, ' ') ? NULL : json_dumps(val, JSON_ENCODE_ANY | JSON_COMPACT);
            fprintf(out, " %s=%s", s_key_fields[i].keys[f], text ? text : bare ? bare : "?");
            free(text);
        }
    }
    json_decref(j);
}

void cli_agency_print_entry(FILE *out, const Tacnet__TimelineEntry *e, int with_case)
{
    const Tacnet__Header *h = e->header;
    char when[32];
    if (!h) {
        fprintf(out, "#%llu (no header)\n", (unsigned long long)e->local_seq);
        return;
    }
    s_local_time(when, sizeof(when), h->created_at_ms);
    fprintf(out, "%s  #%-5llu %-16s %-20s", when, (unsigned long long)e->local_seq,
            names_agency(h->sender), names_kind(h->kind));
    if (with_case) {
        fputc(' ', out);
        s_bytes(out, &h->case_ref);
        fputc(' ', out);
        s_bytes(out, &h->initials);
    }
    if (h->has_level_of_need)
        fprintf(out, " level=%u", h->level_of_need);
    if (h->has_urgent && h->urgent)
        fputs(" URGENT", out);
    if (h->has_subject_agency)
        fprintf(out, " subject=%s", names_agency(h->subject_agency));
    if (h->has_escalation_stage)
        fprintf(out, " stage=%u", h->escalation_stage);
    if (h->has_refers_to) {
        fputs(" re=", out);
        cli_agency_print_short_id(out, &h->refers_to);
    }
    if (h->has_override_reason && h->override_reason)
        fprintf(out, " OVERRIDE=%s",
                names_enum(&tacnet__override_reason__descriptor, (int)h->override_reason));
    if (e->body)
        s_key_values(out, e->body);
    if (e->has_history && e->history)
        fprintf(out, "  (history from %s)",
                e->has_granted_by ? names_agency(e->granted_by) : "a member");
    fputs("  id=", out);
    cli_agency_print_short_id(out, &h->msg_id);
    fputc('\n', out);
}

static void s_professional(FILE *out, const Tacnet__Professional *p)
{
    if (!p)
        return;
    s_bytes(out, &p->initials);
    if (p->has_role)
        fprintf(out, " (%s)", names_enum(&tacnet__role__descriptor, (int)p->role));
    if (p->job_title)
        fprintf(out, ", %s", p->job_title);
}

/* The team with how to reach each named contact, the lead and any pending hand-over, and the
 * plan's goals with their change from baseline. */
static void s_state(FILE *out, const Tacnet__CaseState *st)
{
    if (st->lead) {
        fprintf(out, "  lead professional: %s ", names_agency(st->lead->agency));
        s_professional(out, st->lead);
        fputc('\n', out);
    }
    if (st->pending_handover)
        fprintf(out, "  hand-over to %s offered, not yet accepted%s\n",
                names_agency(st->pending_handover->new_lead->agency),
                st->pending_handover->overdue ? " (overdue)" : "");
    fprintf(out, "\nteam (%zu)\n", st->n_team);
    for (size_t i = 0; i < st->n_team; i++) {
        const Tacnet__TeamMember *m = st->team[i];
        fprintf(out, "  %-16s ", names_agency(m->agency));
        if (m->named_contact)
            s_professional(out, m->named_contact);
        else
            fputs("no named contact yet", out);
        if (m->team)
            fprintf(out, "; %s", m->team);
        if (m->how_to_reach)
            fprintf(out, "; reach: %s", m->how_to_reach);
        if (m->level_of_need)
            fprintf(out, "; level %u", m->level_of_need);
        fputc('\n', out);
    }
    if (st->plan) {
        const Tacnet__CarePlan *p = st->plan->plan;
        fprintf(out, "\nplan: %s by %s", names_enum(&tacnet__plan_type__descriptor, (int)p->type),
                names_agency(st->plan->by));
        if (st->plan->has_last_review_date)
            fprintf(out, ", last review %04u-%02u-%02u", st->plan->last_review_date / 10000,
                    st->plan->last_review_date / 100 % 100, st->plan->last_review_date % 100);
        fputc('\n', out);
        for (size_t i = 0; i < st->plan->n_progress; i++) {
            const Tacnet__GoalProgress *g = st->plan->progress[i];
            fprintf(out, "  goal %u: %s", g->goal_id, g->description ? g->description : "");
            if (g->has_change)
                fprintf(out, "  GBO %u -> %u (%+d)", g->baseline_score, g->latest_score, g->change);
            else if (g->has_latest_score)
                fprintf(out, "  GBO %u (no baseline)", g->latest_score);
            fputc('\n', out);
        }
    }
    if (st->n_meetings || st->n_decisions || st->n_measures)
        fprintf(out, "\nmeetings %zu, actions %zu, decisions %zu, outcome measures %zu\n",
                st->n_meetings, st->n_actions, st->n_decisions, st->n_measures);
    if (st->consent)
        fprintf(out, "consent: %s\n",
                names_enum(&tacnet__consent_state__descriptor, (int)st->consent->state));
}

/* Open escalations with stage, who must respond and the time left; closed ones in one line. */
static void s_escalations(FILE *out, const Tacnet__CaseState *st, uint64_t now_ms)
{
    size_t open = 0;
    for (size_t i = 0; i < st->n_escalations; i++)
        open += st->escalations[i]->has_state &&
                st->escalations[i]->state != TACNET__ESCALATION_EVENT__ESC_CLOSED;
    fprintf(out, "\nopen escalations (%zu)\n", open);
    for (size_t i = 0; i < st->n_escalations; i++) {
        const Tacnet__EscalationView *e = st->escalations[i];
        int closed = e->state == TACNET__ESCALATION_EVENT__ESC_CLOSED;
        fprintf(out, "  %s", closed ? "closed   " : (e->urgent ? "URGENT   " : "         "));
        cli_agency_print_short_id(out, &e->escalation_id);
        if (e->has_raised_by)
            fprintf(out, " raised by %s", names_agency(e->raised_by));
        else if (e->automatic)
            fputs(" opened automatically (levels of need differ)", out);
        if (!e->has_state) {
            fputs(", no escalation notice to this agency (not a party, or not opened yet)\n", out);
            continue;
        }
        fprintf(out, ", stage %u (%s), %s", e->stage,
                names_enum(&tacnet__role__descriptor, (int)e->audience),
                names_enum(&tacnet__escalation_event__descriptor, (int)e->state));
        if (!closed && e->deadline_ms) {
            char when[32], left[64];
            s_local_time(when, sizeof(when), e->deadline_ms);
            cli_agency_time_left(left, sizeof(left), e->deadline_ms, now_ms);
            fprintf(out, ", deadline %s (%s)", when, left);
        }
        fprintf(out, ", %zu notices\n", e->n_history);
    }
}

void cli_agency_print_case(FILE *out, const Tacnet__ShowCaseReply *sc, uint64_t now_ms)
{
    const Tacnet__CaseSummary *s = sc->summary;
    if (s) {
        fputs("case ", out);
        s_bytes(out, &s->case_ref);
        fputs(" (", out);
        s_bytes(out, &s->initials);
        fprintf(out, ")  lead %s\n  members: ", s->has_lead ? names_agency(s->lead) : "none");
        s_agency_list(out, s->members, s->n_members);
        fputs("\n  level of need: ", out);
        s_levels(out, s);
        fprintf(out, "\n  open escalations: %u, overdue items: %u\n", s->open_escalations,
                s->overdue_items);
        /* Joined late: earlier events still to be granted by members not yet online. */
        if (s->n_history_pending) {
            fputs("  history pending from ", out);
            s_agency_list(out, s->history_pending, s->n_history_pending);
            fputc('\n', out);
        }
    }
    if (sc->state)
        s_state(out, sc->state);
    fprintf(out, "\ntimeline (%zu events)\n", sc->n_timeline);
    for (size_t i = 0; i < sc->n_timeline; i++) {
        fputs("  ", out);
        cli_agency_print_entry(out, sc->timeline[i], 0);
    }
    size_t n_due = 0;
    for (size_t i = 0; i < sc->n_due; i++)
        n_due += strcmp(sc->due[i]->what, "escalation") != 0;
    fprintf(out, "\ndue and overdue (%zu)\n", n_due);
    for (size_t i = 0; i < sc->n_due; i++) {
        const Tacnet__DueItem *d = sc->due[i];
        if (strcmp(d->what, "escalation") == 0)
            continue;
        char when[32], left[64];
        s_local_time(when, sizeof(when), d->due_ms);
        cli_agency_time_left(left, sizeof(left), d->due_ms, now_ms);
        fprintf(out, "  %s%-14s due %s (%s) owner %s", d->has_overdue && d->overdue ? "! " : "  ",
                d->what, when, left, d->has_owner ? names_agency(d->owner) : "-");
        if (d->label)
            fprintf(out, "  %s", d->label);
        if (d->has_ref) {
            fputs("  ref=", out);
            cli_agency_print_short_id(out, &d->ref);
        }
        fputc('\n', out);
    }
    if (sc->state)
        s_escalations(out, sc->state, now_ms);
}
