/* agency_print: human-readable forms of local API replies (see agency_print.h). */
#include "agency_print.h"
#include "zone.h"
#include "casework/capa.h"
#include "casework/chair_rule.h"
#include "casework/challenge.h"
#include "casework/goals.h"
#include "casework/involvement.h"
#include "casework/ladder.h"
#include "apijson.h"
#include "err.h"
#include "labels.h"
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
    { "meeting_scheduled", { "meeting_id", "starts_at", "mode", "invited" } },
    { "meeting_outcome", { "meeting_id", "held_date", "next_meeting_date" } },
    { "care_plan", { "type", "review_interval_days", "start_date" } },
    { "outcome_measure", { "tool", "values", "goal_ids", "baseline" } },
    { "communication_plan", { "every_days", "method", "parents_agreed" } },
    { "contact_logged", { "with", "method", "contact_date", "successful" } },
    { "consent_recorded", { "state", "scope", "agencies", "recorded_date" } },
    { "partnership_rating", { "about", "rung", "by_family", "rated_date" } },
    { "involvement_preferences", { "agreed_date", "revisit_by_date" } },
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

void cli_agency_time_zone(const char *zone)
{
    char why[256];
    if (zone && *zone && zone_set(zone, why, sizeof(why)) != 0)
        zone_set("UTC", why, sizeof(why));
}

/* MS as the dashboard shows it, with its zone ("2026-12-04 14:05 GMT"), or "-" for none. */
static void s_local_time(char *buf, size_t len, uint64_t ms)
{
    if (zone_format(ms, buf, len) == 0)
        snprintf(buf, len, "-");
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
        json_t *j = apijson_reply(reply); /* the shape the HTTP API gives */
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
    fprintf(out, "%-16s %-4s %-16s %-5s %-7s %-20s %s\n", "CASE", "INIT", "LEAD", "ESC", "OVERDUE",
            "LAST ACTIVITY", "MEMBERS / LEVEL OF NEED");
    for (size_t i = 0; i < cases->n_cases; i++) {
        const Tacnet__CaseSummary *s = cases->cases[i];
        char when[32];
        s_local_time(when, sizeof(when), s->last_activity_ms);
        s_bytes(out, &s->case_ref);
        fprintf(out, "%*s", (int)(s->case_ref.len < 16 ? 17 - s->case_ref.len : 1), "");
        s_bytes(out, &s->initials);
        fprintf(out, "%*s", (int)(s->initials.len < 4 ? 5 - s->initials.len : 1), "");
        fprintf(out, "%-16s %-5u %-7u %-20s ", s->has_lead ? names_agency(s->lead) : "-",
                s->open_escalations, s->overdue_items, when);
        s_agency_list(out, s->members, s->n_members);
        fputs(" / ", out);
        s_levels(out, s);
        if (s->has_closed && s->closed) {
            fputs("  closed", out);
            if (s->has_closed_date)
                fprintf(out, " %04u-%02u-%02u", s->closed_date / 10000, s->closed_date / 100 % 100,
                        s->closed_date % 100);
        }
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
    if (h->lawful_basis != TACNET__LAWFUL_BASIS__CONSENT)
        fprintf(out, " basis=%s", names_enum(&tacnet__lawful_basis__descriptor, h->lawful_basis));
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

/* A case's timeline entry for people: the date it happened (else when it was recorded), what
 * happened in one sentence, and its seq and short id to refer to it by. */
static void s_story(FILE *out, const Tacnet__TimelineEntry *e)
{
    const Tacnet__Header *h = e->header;
    if (!h)
        return;
    char when[32], sentence[320];
    uint32_t on = labels_event_date(e->body);
    if (on)
        snprintf(when, sizeof(when), "%04u-%02u-%02u", on / 10000, on / 100 % 100, on % 100);
    else
        s_local_time(when, sizeof(when), h->created_at_ms);
    labels_event_sentence(h, e->body, sentence, sizeof(sentence));
    fprintf(out, "  #%-5llu %-20s %s (id ", (unsigned long long)e->local_seq, when, sentence);
    cli_agency_print_short_id(out, &h->msg_id);
    fputs(")\n", out);
}

static void s_professional(FILE *out, const Tacnet__Professional *p)
{
    if (!p)
        return;
    s_bytes(out, &p->initials);
    if (p->has_role)
        fprintf(out, " (%s)", labels_role(p->role));
    if (p->job_title)
        fprintf(out, ", %s", p->job_title);
}

/* How the family want to be involved: first on the case, since it shapes every contact. */
static void s_involvement(FILE *out, const Tacnet__InvolvementPreferences *p)
{
    if (!p) {
        fputs("\nhow the family want to be involved: not yet asked\n", out);
        return;
    }
    fputs("\nhow the family want to be involved", out);
    if (p->has_revisit_by_date)
        fprintf(out, " (revisit by %04u-%02u-%02u)", p->revisit_by_date / 10000,
                p->revisit_by_date / 100 % 100, p->revisit_by_date % 100);
    fputc('\n', out);
    for (size_t i = 0; i < p->n_people; i++) {
        const Tacnet__FamilyPreferences *f = p->people[i];
        fprintf(out, "  %-12s decisions: %s", names_enum(&tacnet__family_role__descriptor, f->who),
                involvement_words(f->decisions));
        if (f->has_meetings)
            fprintf(out, "; meetings: %s", involvement_words(f->meetings));
        if (f->has_minutes && f->minutes)
            fputs("; wants the minutes", out);
        if (f->has_preferred_contact && f->preferred_contact)
            fprintf(out, "; contact by %s",
                    names_enum(&tacnet__contact_method__descriptor, f->preferred_contact));
        if (f->language)
            fprintf(out, "; language %s%s", f->language,
                    f->has_interpreter && f->interpreter ? " (interpreter)" : "");
        if (f->accessibility)
            fprintf(out, "; access: %s", f->accessibility);
        fputc('\n', out);
    }
}

/* A co-produced goal's words, tier and marks, after its line. */
static void s_goal_marks(FILE *out, const Tacnet__CarePlan *p, uint32_t goal_id)
{
    for (size_t i = 0; i < p->n_goals; i++) {
        const Tacnet__Goal *g = p->goals[i];
        if (g->goal_id != goal_id)
            continue;
        const char *words = g->has_words ? goals_words(g->words) : NULL;
        const char *need = g->has_need ? goals_need_name(g->need) : NULL;
        if (words)
            fprintf(out, "  [%s, agreed by %zu]", words, g->n_agreed_by_family + g->n_agreed_by);
        if (need)
            fprintf(out, "  [need: %s]", need);
        if (g->has_quick_win && g->quick_win)
            fputs("  [quick win]", out);
        if (g->has_engagement_aim && g->engagement_aim)
            fputs("  [engagement aim]", out);
        return;
    }
}

/* The partnership ladder: each rater's latest rating of each subject, by rung name and trend. */
static void s_ladder(FILE *out, const Tacnet__CaseState *st)
{
    if (!st->n_ratings)
        return;
    fputs("\npartnership ladder (latest of each rater and subject)\n", out);
    for (size_t i = 0; i < st->n_ratings; i++) {
        if (!ladder_is_latest(st->ratings, st->n_ratings, i))
            continue;
        const Tacnet__PartnershipRating *r = st->ratings[i]->rating;
        const char *name = ladder_rung_name(r->rung);
        if (r->has_by_family && r->by_family)
            fprintf(out, "  family (%s) via %s",
                    names_enum(&tacnet__family_role__descriptor, r->by_family),
                    names_agency(st->ratings[i]->by));
        else
            fprintf(out, "  %s", names_agency(st->ratings[i]->by));
        fprintf(out, " about %s: %u %s",
                r->about == TACNET__AGENCY__PARTNERSHIP ? "the whole team" : names_agency(r->about),
                r->rung, name ? name : "?");
        int d;
        if (ladder_trend(st->ratings, st->n_ratings, i, &d))
            fprintf(out, " (%s %+d)", d > 0 ? "up" : d < 0 ? "down" : "same", d);
        fputc('\n', out);
    }
}

/* "health detail withheld" (or "routine and health ..."): the classes this view cannot see, for
 * where the state lacks something that may exist. Empty when nothing is withheld. */
static void s_withheld(char *buf, size_t len, const Tacnet__CaseState *st)
{
    size_t off = 0;
    buf[0] = 0;
    for (size_t i = 0; i < st->n_withheld && off < len; i++)
        off += (size_t)snprintf(buf + off, len - off, "%s%s",
                                i == 0                    ? ""
                                : i + 1 == st->n_withheld ? " and "
                                                          : ", ",
                                names_enum(&tacnet__sensitivity__descriptor, st->withheld[i]));
    if (off && off < len)
        snprintf(buf + off, len - off, " detail withheld");
}

static void s_date(FILE *out, uint32_t d)
{
    fprintf(out, "%04u-%02u-%02u", d / 10000, d / 100 % 100, d % 100);
}

/* The team with how to reach each named contact and each level of need. */
static void s_team(FILE *out, const Tacnet__CaseState *st, const char *withheld)
{
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
        else if (*withheld)
            fprintf(out, "; level not seen (%s)", withheld);
        fputc('\n', out);
    }
}

/* A CAPA partnership plan's core worker and specific workers, one line each. */
static void s_capa_worker(FILE *out, const char *what, const Tacnet__CapaWorker *w)
{
    fprintf(out, "    %s: ", what);
    s_bytes(out, &w->initials);
    if (w->role)
        fprintf(out, ", %s", w->role);
    if (w->brings)
        fprintf(out, ", brings %s", w->brings);
    fputc('\n', out);
}

/* The latest CAPA Choice appointment: what the family chose, the formulation reached together,
 * the alternatives offered and what they will do before partnership. */
static void s_capa_choice(FILE *out, const Tacnet__CapaChoiceView *v)
{
    if (!v || !v->record)
        return;
    const Tacnet__CapaChoice *c = v->record;
    const char *chosen = c->has_chosen ? capa_chosen_words(c->chosen) : NULL;
    fprintf(out, "\nCAPA Choice with %s on ", names_agency(v->by));
    s_date(out, v->has_completed_date ? v->completed_date : 0);
    fprintf(out, ": the family chose %s\n", chosen ? chosen : "nothing yet");
    if (c->joint_formulation)
        fprintf(out, "  understood together: %s\n", c->joint_formulation);
    for (size_t i = 0; i < c->n_alternatives; i++)
        fprintf(out, "  alternative offered: %s\n", c->alternatives[i]);
    if (c->engagement)
        fprintf(out, "  before partnership: %s\n", c->engagement);
}

/* Every plan, the lead plan first, each with its goals and their change from baseline. */
static void s_plans(FILE *out, const Tacnet__CaseState *st, const char *withheld)
{
    fprintf(out, "\nplans (%zu)%s%s\n", st->n_plans, *withheld ? "; " : "", withheld);
    for (size_t k = 0; k < st->n_plans; k++) {
        const Tacnet__PlanView *v = st->plans[k];
        const Tacnet__CarePlan *p = v->plan;
        fprintf(out, "  %s%s by %s", v->lead ? "lead plan: " : "",
                labels_enum(&tacnet__plan_type__descriptor, (int)p->type), names_agency(v->by));
        if (p->review_interval_days)
            fprintf(out, ", review every %u days", p->review_interval_days);
        if (v->has_last_review_date) {
            fputs(", last review ", out);
            s_date(out, v->last_review_date);
        }
        if (v->has_plan_id) {
            fputs("  plan=", out);
            cli_agency_print_short_id(out, &v->plan_id);
        }
        fputc('\n', out);
        if (p->core_worker)
            s_capa_worker(out, "core worker", p->core_worker);
        for (size_t i = 0; i < p->n_specific_workers; i++)
            s_capa_worker(out, "specific worker", p->specific_workers[i]);
        for (size_t i = 0; i < v->n_progress; i++) {
            const Tacnet__GoalProgress *g = v->progress[i];
            fprintf(out, "    goal %u: %s", g->goal_id, g->description ? g->description : "");
            if (g->has_change)
                fprintf(out, "  GBO %u -> %u (%+d)", g->baseline_score, g->latest_score, g->change);
            else if (g->has_baseline_score && g->has_latest_score)
                fprintf(out, "  GBO %u (scored once)", g->latest_score);
            else if (g->has_latest_score)
                fprintf(out, "  GBO %u (no baseline)", g->latest_score);
            s_goal_marks(out, p, g->goal_id);
            fputc('\n', out);
        }
    }
}

/* One consent record: state, scope, who gave it, when, and the child's wishes. */
static void s_consent_record(FILE *out, const Tacnet__ConsentRecorded *c)
{
    fprintf(out, "consent: %s for ", names_enum(&tacnet__consent_state__descriptor, (int)c->state));
    for (size_t i = 0; i < c->n_scope; i++)
        fprintf(out, "%s%s", i ? "," : "",
                names_enum(&tacnet__sensitivity__descriptor, c->scope[i]));
    fputs(c->n_scope ? " with " : "every class with ", out);
    if (c->n_agencies)
        s_agency_list(out, c->agencies, c->n_agencies);
    else
        fputs("every agency", out);
    if (c->has_given_by)
        fprintf(out, "; given by %s", names_enum(&tacnet__family_role__descriptor, c->given_by));
    if (c->has_recorded_date) {
        fputs("; recorded ", out);
        s_date(out, c->recorded_date);
    }
    fputc('\n', out);
    fprintf(out, "  child's wishes: %s\n", c->child_wishes ? c->child_wishes : "not recorded");
}

/* The consent as recorded, every record (consents are scoped: one does not replace another);
 * when none reached this agency but the headers say one exists, that it is withheld; then the
 * consent in force per agency. */
static void s_consent(FILE *out, const Tacnet__CaseState *st)
{
    for (size_t i = 0; i < st->n_consents; i++)
        s_consent_record(out, st->consents[i]);
    if (!st->n_consents && st->has_consent_state)
        fprintf(out, "consent: %s (the record is withheld from this agency's view)\n",
                names_enum(&tacnet__consent_state__descriptor, (int)st->consent_state));
    else if (!st->n_consents)
        fputs("consent: none recorded\n", out);
    if (st->n_consent_cover == 0)
        return;
    fputs("  in force:", out);
    for (size_t i = 0; i < st->n_consent_cover; i++) {
        const Tacnet__ConsentCover *cc = st->consent_cover[i];
        fprintf(out, " %s(", names_agency(cc->agency));
        for (size_t j = 0; j < cc->n_classes; j++)
            fprintf(out, "%s%s", j ? "," : "",
                    names_enum(&tacnet__sensitivity__descriptor, cc->classes[j]));
        for (size_t j = 0; j < cc->n_objected; j++)
            fprintf(out, "%s%s",
                    j               ? ","
                    : cc->n_classes ? "; not "
                                    : "not ",
                    names_enum(&tacnet__sensitivity__descriptor, cc->objected[j]));
        fputc(')', out);
    }
    fputc('\n', out);
}

/* Each meeting scheduled or minuted: who chairs, and whether that meets the chair rule. */
static void s_meeting_chairs(FILE *out, const Tacnet__CaseState *st)
{
    for (size_t i = 0; i < st->n_meetings; i++) {
        const Tacnet__MeetingView *m = st->meetings[i];
        const char *words = m->has_chair_rule ? chair_rule_words(m->chair_rule) : NULL;
        if (!words)
            continue;
        fprintf(out, "  %smeeting ", chair_rule_meets(m->chair_rule) ? "" : "! ");
        cli_agency_print_short_id(out, &m->meeting_id);
        fputs(m->outcome ? " (held) chair: " : " chair: ", out);
        if (m->chair) {
            fprintf(out, "%s ", names_agency(m->chair->agency));
            s_professional(out, m->chair);
        } else {
            fputs("none named", out);
        }
        fprintf(out, " (%s)\n", words);
    }
}

/* The lead and any pending hand-over, the team, the plans, counts, and the consent. */
static void s_state(FILE *out, const Tacnet__CaseState *st)
{
    char withheld[96];
    s_withheld(withheld, sizeof(withheld), st);
    s_involvement(out, st->involvement);
    if (st->lead) {
        fprintf(out, "  lead professional: %s ", names_agency(st->lead->agency));
        s_professional(out, st->lead);
        fputc('\n', out);
    }
    if (st->pending_handover)
        fprintf(out, "  hand-over to %s offered, not yet accepted%s\n",
                names_agency(st->pending_handover->new_lead->agency),
                st->pending_handover->overdue ? " (overdue)" : "");
    if (*withheld)
        fprintf(out, "  this view: %s\n", withheld);
    s_team(out, st, withheld);
    if (st->n_plans || *withheld)
        s_plans(out, st, withheld);
    s_capa_choice(out, st->capa_choice);
    s_ladder(out, st);
    if (st->n_meetings || st->n_decisions || st->n_measures)
        fprintf(out, "\nmeetings %zu, actions %zu, decisions %zu, outcome measures %zu\n",
                st->n_meetings, st->n_actions, st->n_decisions, st->n_measures);
    s_meeting_chairs(out, st);
    s_consent(out, st);
}

/* A request that someone not directly involved reviews it, on a line of its own. */
static void s_challenge(FILE *out, const char *what, const Tacnet__ChallengeRequest *c)
{
    const char *words = c && c->has_reviewer_role ? challenge_words(c->reviewer_role) : NULL;
    if (!words)
        return;
    fprintf(out, "           %s: challenge requested, %s", what, words);
    if (c->reviewer) {
        fprintf(out, " (%s ", names_agency(c->reviewer->agency));
        s_professional(out, c->reviewer);
        fputc(')', out);
    }
    fprintf(out, ", by %04u-%02u-%02u\n", c->review_by_date / 10000, c->review_by_date / 100 % 100,
            c->review_by_date % 100);
}

enum { S_ESC_OPEN, S_ESC_CLOSED, S_ESC_UNNOTICED };

/* Which list escalation E belongs in: open (a notice made it this agency's business and it is
 * not closed), closed, or a disagreement no notice reached this agency about. */
static int s_escalation_kind(const Tacnet__EscalationView *e)
{
    if (!e->has_state)
        return S_ESC_UNNOTICED;
    return e->state == TACNET__ESCALATION_EVENT__ESC_CLOSED ? S_ESC_CLOSED : S_ESC_OPEN;
}

/* One escalation's line (and its joined disagreements and challenges below it). */
static void s_escalation(FILE *out, const Tacnet__EscalationView *e, uint64_t now_ms)
{
    int kind = s_escalation_kind(e);
    fprintf(out, "  %s", kind == S_ESC_OPEN && e->urgent ? "URGENT   " : "         ");
    cli_agency_print_short_id(out, &e->escalation_id);
    if (e->has_raised_by)
        fprintf(out, " raised by %s", names_agency(e->raised_by));
    else if (e->automatic)
        fputs(" opened automatically (levels of need differ)", out);
    if (kind == S_ESC_UNNOTICED) {
        fprintf(out, "%s\n", e->urgent ? ", urgent" : "");
        return;
    }
    if (kind == S_ESC_CLOSED) {
        fprintf(out, ", closed at stage %u", e->stage);
    } else {
        fprintf(out, ", stage %u, %s to answer, %s", e->stage, labels_role(e->audience),
                labels_enum(&tacnet__escalation_event__descriptor, (int)e->state));
        if (e->deadline_ms) {
            char when[32], left[64];
            s_local_time(when, sizeof(when), e->deadline_ms);
            cli_agency_time_left(left, sizeof(left), e->deadline_ms, now_ms);
            fprintf(out, ", deadline %s (%s)", when, left);
        }
    }
    fprintf(out, ", %zu notices\n", e->n_history);
    for (size_t j = 0; j < e->n_joined; j++) {
        const Tacnet__JoinedDisagreement *x = e->joined[j];
        fputs("           joined by ", out);
        if (x->has_raised_by)
            fprintf(out, "%s's ", names_agency(x->raised_by));
        fputs("disagreement ", out);
        cli_agency_print_short_id(out, &x->msg_id);
        if (x->disagreement && x->disagreement->topic)
            fprintf(out, " (%s)", x->disagreement->topic);
        fputc('\n', out);
    }
    if (e->disagreement)
        s_challenge(out, "the disagreement", e->disagreement->challenge_request);
    for (size_t r = 0; r < e->n_responses; r++) {
        char what[48];
        snprintf(what, sizeof(what), "the stage %u response", e->responses[r]->stage);
        s_challenge(out, what, e->responses[r]->challenge_request);
    }
}

/* Open escalations with stage, who must respond and the time left; then closed ones, then
 * disagreements no escalation notice reached this agency about, each list with its own count. */
static void s_escalations(FILE *out, const Tacnet__CaseState *st, uint64_t now_ms)
{
    static const char *const heads[] = {
        [S_ESC_OPEN] = "open escalations",
        [S_ESC_CLOSED] = "closed escalations",
        [S_ESC_UNNOTICED] = "disagreements with no escalation notice to this agency (not a "
                            "party, or not opened yet)",
    };
    for (int kind = S_ESC_OPEN; kind <= S_ESC_UNNOTICED; kind++) {
        size_t n = 0;
        for (size_t i = 0; i < st->n_escalations; i++)
            n += s_escalation_kind(st->escalations[i]) == kind;
        if (!n && kind != S_ESC_OPEN)
            continue;
        fprintf(out, "\n%s (%zu)\n", heads[kind], n);
        for (size_t i = 0; i < st->n_escalations; i++)
            if (s_escalation_kind(st->escalations[i]) == kind)
                s_escalation(out, st->escalations[i], now_ms);
    }
    for (size_t i = 0; i < st->n_decisions; i++) {
        char what[64];
        snprintf(what, sizeof(what), "decision by %s", names_agency(st->decisions[i]->by));
        s_challenge(out, what, st->decisions[i]->decision->challenge_request);
    }
}

void cli_agency_print_case(FILE *out, const Tacnet__ShowCaseReply *sc, uint32_t viewer,
                           uint64_t now_ms)
{
    const Tacnet__CaseSummary *s = sc->summary;
    if (s) {
        fputs("case ", out);
        s_bytes(out, &s->case_ref);
        fputs(" (", out);
        s_bytes(out, &s->initials);
        fprintf(out, ")  lead %s", s->has_lead ? names_agency(s->lead) : "none");
        const Tacnet__CaseClosed *cl = sc->state ? sc->state->closed : NULL;
        if (cl) { /* nothing more is recorded on it (E_CLOSED) */
            fputs("  CLOSED", out);
            if (cl->has_closed_date)
                fprintf(out, " %04u-%02u-%02u", cl->closed_date / 10000,
                        cl->closed_date / 100 % 100, cl->closed_date % 100);
            if (cl->has_reason && cl->reason)
                fprintf(out, " (%s)", labels_enum(&tacnet__closure_reason__descriptor, cl->reason));
        }
        fputs("\n  members: ", out);
        s_agency_list(out, s->members, s->n_members);
        int member = !viewer;
        for (size_t i = 0; i < s->n_members; i++)
            member |= (uint32_t)s->members[i] == viewer;
        if (!member)
            fprintf(out,
                    "\n  %s is no longer a member of this case (it left or was taken out): "
                    "nothing new reaches it, and its dashboard does not show the case",
                    names_agency(viewer));
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
    for (size_t i = 0; i < sc->n_timeline; i++)
        s_story(out, sc->timeline[i]);
    size_t n_due = 0;
    for (size_t i = 0; i < sc->n_due; i++)
        n_due += strcmp(sc->due[i]->what, "escalation") != 0;
    fprintf(out, "\ndue and overdue (%zu)\n", n_due);
    for (size_t i = 0; i < sc->n_due; i++) {
        const Tacnet__DueItem *d = sc->due[i];
        if (strcmp(d->what, "escalation") == 0)
            continue;
        char when[32], left[64];
        if (d->has_due_date) /* due by the end of that day, where due_ms falls */
            snprintf(when, sizeof(when), "%04u-%02u-%02u", d->due_date / 10000,
                     d->due_date / 100 % 100, d->due_date % 100);
        else
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
