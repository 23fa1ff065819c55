/* web_share: the case page's parts of the team's one picture — every agency's plans side by
 * side, the consent as recorded (scope, who gave it, the child's wishes) and what this agency's
 * view cannot see, said as "withheld" rather than shown as nothing (see web_internal.h). */
#include "web_internal.h"
#include "labels.h"
#include "wire.h"

#include <string.h>
#include "names.h"

#include <stdio.h>

void dashboard_web_withheld(dashboard_buf_t *b, const Tacnet__CaseState *st)
{
    if (!st || !st->n_withheld)
        return;
    for (size_t i = 0; i < st->n_withheld; i++)
        dashboard_buf_printf(b, "%s%s",
                             i == 0                    ? ""
                             : i + 1 == st->n_withheld ? " and "
                                                       : ", ",
                             names_sensitivity(st->withheld[i]));
    dashboard_buf_puts(b, " detail withheld");
}

/* A score of a goal that this view lacks: another agency's plan may have been scored at a class
 * this agency does not receive (its events never reach this view), so that is said, as
 * elsewhere, rather than "not measured yet"; this agency's own plans and a view that sees every
 * class hold every score there is. */
static void s_no_score(dashboard_buf_t *b, const Tacnet__CaseState *st, const Tacnet__PlanView *p,
                       uint32_t me)
{
    if (!st->n_withheld || (uint32_t)p->by == me) {
        dashboard_buf_puts(b, "not measured yet");
        return;
    }
    dashboard_buf_puts(b, "no score shared with this agency (");
    dashboard_web_withheld(b, st);
    dashboard_buf_puts(b, ")");
}

void dashboard_web_view_absent(dashboard_buf_t *b, const Tacnet__ViewAbsent *a)
{
    dashboard_buf_printf(b, "not given: %s",
                         a->has_reason && a->reason
                             ? dashboard_web_enum(&tacnet__view_absence__descriptor, a->reason)
                             : "no reason recorded");
    if (a->has_reason && a->reason == TACNET__VIEW_ABSENCE__NOT_YET_ASKED && a->has_ask_by_date) {
        dashboard_buf_puts(b, ", to be asked by ");
        dashboard_web_date(b, a->ask_by_date);
    }
}

/* The child's and the family's views on plan P in their words, or why each is absent (a view
 * not yet asked says by when), as the case page says them for meetings and decisions; a plan
 * that holds neither (from before views were required) says nothing. */
static void s_voice(dashboard_buf_t *b, const Tacnet__CarePlan *p)
{
    const struct {
        const char *who, *view;
        const Tacnet__ViewAbsent *absent;
    } voice[] = { { "The child's view", p->child_view, p->child_view_absent },
                  { "The family's view", p->family_view, p->family_view_absent } };
    int open = 0;
    for (size_t v = 0; v < 2; v++) {
        if (!voice[v].view && !voice[v].absent)
            continue;
        dashboard_buf_printf(b, "%s<dt>%s</dt><dd>", open++ ? "" : "<dl class=\"voice\">",
                             voice[v].who);
        if (voice[v].view)
            dashboard_web_text(b, voice[v].view);
        else
            dashboard_web_view_absent(b, voice[v].absent);
        dashboard_buf_puts(b, "</dd>");
    }
    if (open)
        dashboard_buf_puts(b, "</dl>");
}

/* When plan P hopes goal GOAL_ID is achieved, or 0. */
static uint32_t s_target(const Tacnet__CarePlan *p, uint32_t goal_id)
{
    for (size_t i = 0; i < p->n_goals; i++)
        if (p->goals[i]->has_goal_id && p->goals[i]->goal_id == goal_id)
            return p->goals[i]->has_target_date ? p->goals[i]->target_date : 0;
    return 0;
}

/* One plan: type, owner, lead or not, start, cadence, last review, summary, the child's and the
 * family's views, goals. */
static void s_plan(dashboard_buf_t *b, const Tacnet__CaseState *st, const Tacnet__PlanView *p,
                   uint32_t me)
{
    char plan[96];
    dashboard_buf_printf(b, "<h3>%s%s by %s</h3><p>Started ", p->lead ? "Lead plan: " : "",
                         labels_plan(p->plan->type, plan, sizeof(plan)),
                         dashboard_web_agency_title(p->by));
    dashboard_web_date(b, p->plan->start_date);
    if (p->plan->review_interval_days)
        dashboard_buf_printf(b, "; reviewed every %u days", p->plan->review_interval_days);
    else
        dashboard_buf_puts(b, "; reviewed as its type requires");
    dashboard_buf_puts(b, "; last review ");
    dashboard_web_date(b, p->has_last_review_date ? p->last_review_date : 0);
    if (p->has_plan_id) {
        dashboard_buf_puts(b, ". <span class=\"meta\">Plan ");
        /* The short id the CLI shows: the random part after the 6-byte creation time (which two
         * plans made the same minute share). */
        size_t from = p->plan_id.len == 16 ? WIRE_SHORT_ID_FROM : 0;
        size_t n = p->plan_id.len - from < 4 ? p->plan_id.len - from : 4;
        dashboard_web_hex(b, (ProtobufCBinaryData){ n, p->plan_id.data + from });
        dashboard_buf_puts(b, "</span>");
    }
    dashboard_buf_puts(b, ".</p>");
    if (p->plan->summary) {
        dashboard_buf_puts(b, "<p>");
        dashboard_web_text(b, p->plan->summary);
        dashboard_buf_puts(b, "</p>");
    }
    s_voice(b, p->plan);
    dashboard_web_capa_workers(b, p->plan);
    if (!p->n_progress)
        return;
    dashboard_buf_puts(
        b, "<div class=\"scroll\" tabindex=\"0\"><table><thead><tr><th scope=\"col\">Goal</th>"
           "<th scope=\"col\">Baseline</th><th scope=\"col\">Latest</th>"
           "<th scope=\"col\">Change</th><th scope=\"col\">Achieved by</th></tr></thead>"
           "<tbody>");
    /* By goal number, however the scores came in. */
    const Tacnet__GoalProgress *by_id[16];
    size_t n = 0;
    for (size_t i = 0; i < p->n_progress && n < 16; i++) {
        size_t k = n++;
        while (k > 0 && by_id[k - 1]->goal_id > p->progress[i]->goal_id) {
            by_id[k] = by_id[k - 1];
            k--;
        }
        by_id[k] = p->progress[i];
    }
    for (size_t i = 0; i < n; i++) {
        const Tacnet__GoalProgress *g = by_id[i];
        dashboard_buf_printf(b, "<tr><td>%u. ", g->goal_id);
        dashboard_web_text(b, g->description);
        /* Only scores that exist: an unset score reads 0 on the wire, and "baseline 0" would
         * tell a practitioner the goal was measured at its lowest. A change needs both ends. */
        dashboard_buf_puts(b, "</td><td>");
        if (g->has_baseline_score)
            dashboard_buf_printf(b, "%u", g->baseline_score);
        else
            s_no_score(b, st, p, me);
        dashboard_buf_puts(b, "</td><td>");
        if (g->has_latest_score)
            dashboard_buf_printf(b, "%u", g->latest_score);
        else
            s_no_score(b, st, p, me);
        dashboard_buf_puts(b, "</td><td>");
        if (g->has_change && g->has_baseline_score && g->has_latest_score)
            dashboard_buf_printf(b, "%+d", g->change);
        else
            dashboard_buf_puts(b, "—");
        /* The goal's own date, as the plan set it; none set reads as such, not as a date. */
        uint32_t target = s_target(p->plan, g->goal_id);
        dashboard_buf_puts(b, "</td><td>");
        if (target)
            dashboard_web_date(b, target);
        else
            dashboard_buf_puts(b, "no date set");
        dashboard_buf_puts(b, "</td></tr>");
    }
    dashboard_buf_puts(b, "</tbody></table></div>");
}

void dashboard_web_plans(dashboard_buf_t *b, const Tacnet__CaseState *st, uint32_t me)
{
    for (size_t i = 0; st && i < st->n_plans; i++)
        s_plan(b, st, st->plans[i], me);
    if (!st || !st->n_plans)
        dashboard_buf_puts(b, "<p>No plan this agency may see.</p>");
    if (st && st->n_withheld) {
        dashboard_buf_puts(b, "<p class=\"meta\">Plans of other agencies may not show here: ");
        dashboard_web_withheld(b, st);
        dashboard_buf_puts(b, " from this agency's view.</p>");
    }
}

/* The consent in force per agency, as the clear headers tell it: what it covers and what the
 * family refused or withdrew, each said as such (a bare "not" beside a list read as a list of
 * what is allowed). Consent is one half: the sharing policy still decides what a role receives. */
static void s_in_force(dashboard_buf_t *b, const Tacnet__CaseState *st)
{
    if (!st->n_consent_cover)
        return;
    dashboard_buf_puts(b, "<p>Consent in force, per agency (the sharing policy still decides what "
                          "each agency's role receives):</p><ul>");
    for (size_t i = 0; i < st->n_consent_cover; i++) {
        const Tacnet__ConsentCover *cc = st->consent_cover[i];
        dashboard_buf_printf(b, "<li>%s: ", dashboard_web_agency_title(cc->agency));
        if (cc->n_classes) {
            dashboard_buf_puts(b, "consent covers ");
            for (size_t k = 0; k < cc->n_classes; k++)
                dashboard_buf_printf(b, "%s%s", k ? ", " : "", names_sensitivity(cc->classes[k]));
        } else {
            dashboard_buf_puts(b, "no consent covers anything");
        }
        if (cc->n_objected) {
            dashboard_buf_puts(b, "; the family refused or withdrew it for ");
            for (size_t k = 0; k < cc->n_objected; k++)
                dashboard_buf_printf(b, "%s%s", k ? ", " : "", names_sensitivity(cc->objected[k]));
        }
        dashboard_buf_puts(b, "</li>");
    }
    dashboard_buf_puts(b, "</ul>");
}

/* One consent record: state, who gave it, when, its scope, and the child's wishes. */
static void s_consent(dashboard_buf_t *b, const Tacnet__ConsentRecorded *c)
{
    dashboard_buf_printf(b, "<p>Consent <strong>%s</strong>",
                         dashboard_web_enum(&tacnet__consent_state__descriptor, c->state));
    if (c->has_given_by)
        dashboard_buf_printf(b, " by %s",
                             dashboard_web_enum(&tacnet__family_role__descriptor, c->given_by));
    dashboard_buf_puts(b, " on ");
    dashboard_web_date(b, c->recorded_date);
    dashboard_buf_puts(b, ", covering ");
    for (size_t s = 0; s < c->n_scope; s++)
        dashboard_buf_printf(b, "%s%s", s ? ", " : "", names_sensitivity(c->scope[s]));
    dashboard_buf_puts(b, c->n_scope ? " events with " : "every class of event with ");
    for (size_t a = 0; a < c->n_agencies; a++)
        dashboard_buf_printf(b, "%s%s", a ? ", " : "", dashboard_web_agency_title(c->agencies[a]));
    dashboard_buf_printf(b, "%s.</p><p>The child's wishes: ", c->n_agencies ? "" : "every agency");
    dashboard_web_text(b, c->child_wishes ? c->child_wishes : "not recorded");
    dashboard_buf_printf(
        b, " %s</p>",
        c->has_child_competent && c->child_competent ? "(judged competent to consent)" : "");
}

void dashboard_web_consent_record(dashboard_buf_t *b, const Tacnet__CaseState *st)
{
    for (size_t i = 0; st && i < st->n_consents; i++)
        s_consent(b, st->consents[i]);
    if (st && !st->n_consents && st->has_consent_state)
        dashboard_buf_printf(
            b,
            "<p>Consent <strong>%s</strong> is recorded on this case; the record "
            "itself (its scope and the child's wishes) is withheld from this "
            "agency's view.</p>",
            dashboard_web_enum(&tacnet__consent_state__descriptor, st->consent_state));
    else if (!st || !st->n_consents)
        dashboard_buf_puts(b, "<p>No consent recorded on this case.</p>");
    if (st)
        s_in_force(b, st);
}
