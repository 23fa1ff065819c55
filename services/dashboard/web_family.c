/* web_family: the family's place in the team on the dashboard (see web_family.h). */
#include "web_family.h"
#include "web_internal.h"
#include "casework/goals.h"
#include "casework/involvement.h"
#include "casework/ladder.h"
#include "clock.h"
#include "err.h"
#include "labels.h"
#include "names.h"

#include <stdio.h>
#include <string.h>

static const char *s_role(uint32_t role)
{
    return dashboard_web_enum(&tacnet__family_role__descriptor, (int)role);
}

static void s_section(dashboard_buf_t *b, const char *id, const char *title)
{
    dashboard_buf_printf(b, "<section id=\"%s\" aria-labelledby=\"%s-h\"><h2 id=\"%s-h\">%s</h2>",
                         id, id, id, title);
}

/* One person's preferences as table cells. */
static void s_person(dashboard_buf_t *b, const Tacnet__FamilyPreferences *f)
{
    dashboard_buf_printf(b, "<tr><th scope=\"row\">%s</th><td>%s</td><td>%s%s</td><td>",
                         s_role(f->who), involvement_words(f->decisions),
                         f->has_meetings ? involvement_words(f->meetings) : "—",
                         f->has_minutes && f->minutes ? "; wants the minutes" : "");
    if (f->has_preferred_contact && f->preferred_contact)
        dashboard_buf_puts(
            b, dashboard_web_enum(&tacnet__contact_method__descriptor, f->preferred_contact));
    else
        dashboard_buf_puts(b, "—");
    dashboard_buf_puts(b, "</td><td>");
    dashboard_web_text(b, f->language);
    if (f->has_interpreter && f->interpreter)
        dashboard_buf_puts(b, " <strong>(interpreter)</strong>");
    dashboard_buf_puts(b, "</td><td>");
    dashboard_web_text(b, f->accessibility);
    dashboard_buf_puts(b, "</td></tr>");
}

void dashboard_web_family_involvement(dashboard_buf_t *b, const Tacnet__CaseState *st)
{
    const Tacnet__InvolvementPreferences *p = st ? st->involvement : NULL;
    s_section(b, "involvement", "How the family want to be involved");
    if (!p) {
        dashboard_buf_puts(b, "<p class=\"overdue\">Not yet asked: ask the child and each parent "
                              "or carer how they would like to take part.</p></section>");
        return;
    }
    dashboard_buf_puts(
        b, "<div class=\"scroll\" tabindex=\"0\"><table><thead><tr><th scope=\"col\">Who</th>"
           "<th scope=\"col\">Decisions</th><th scope=\"col\">Meetings</th>"
           "<th scope=\"col\">Contact by</th><th scope=\"col\">Language</th>"
           "<th scope=\"col\">Accessibility</th></tr></thead><tbody>");
    for (size_t i = 0; i < p->n_people; i++)
        s_person(b, p->people[i]);
    dashboard_buf_puts(b, "</tbody></table></div><p>Agreed ");
    dashboard_web_date(b, p->has_agreed_date ? p->agreed_date : 0);
    dashboard_buf_puts(b, "; revisit by ");
    dashboard_web_date(b, p->has_revisit_by_date ? p->revisit_by_date : 0);
    dashboard_buf_puts(b, " (and at each review).</p></section>");
}

/* Who gave a rating: "School", or "The family (mother), recorded by Social care". */
static void s_rater(dashboard_buf_t *b, const Tacnet__RatingView *v)
{
    if (v->rating->has_by_family && v->rating->by_family)
        dashboard_buf_printf(b, "The family (%s), recorded by %s", s_role(v->rating->by_family),
                             dashboard_web_agency_title(v->by));
    else
        dashboard_buf_puts(b, dashboard_web_agency_title(v->by));
}

static void s_rung(dashboard_buf_t *b, uint32_t rung)
{
    const char *name = ladder_rung_name(rung);
    dashboard_buf_printf(b, "%u %s", rung, name ? name : "(not a rung)");
}

/* The earlier ratings of the pair RATINGS[I] closes, oldest first, with their dates. */
static void s_history(dashboard_buf_t *b, Tacnet__RatingView *const *r, size_t i)
{
    int any = 0;
    for (size_t k = 0; k < i; k++) {
        if (!ladder_same_pair(r[k], r[i]))
            continue;
        dashboard_buf_puts(b, any ? " → " : "");
        s_rung(b, r[k]->rating->rung);
        dashboard_buf_puts(b, " (");
        dashboard_web_date(b, r[k]->rating->has_rated_date ? r[k]->rating->rated_date : 0);
        dashboard_buf_puts(b, ")");
        any = 1;
    }
    if (!any)
        dashboard_buf_puts(b, "first rating");
}

void dashboard_web_family_ladder(dashboard_buf_t *b, const Tacnet__CaseState *st)
{
    s_section(b, "ladder", "Partnership ladder");
    dashboard_buf_puts(b, "<p>Rungs, bottom to top: 1 Conflict, 2 Competition, 3 Co-existence, "
                          "4 Compliance, 5 Co-operation, 6 Co-ordination, 7 Collaboration, "
                          "8 Co-ownership, 9 Full partnership.</p>");
    if (!st || !st->n_ratings) {
        dashboard_buf_puts(b, "<p>No ratings yet.</p></section>");
        return;
    }
    dashboard_buf_puts(
        b, "<div class=\"scroll\" tabindex=\"0\"><table><thead><tr><th scope=\"col\">Rated by</th>"
           "<th scope=\"col\">About</th><th scope=\"col\">Now</th>"
           "<th scope=\"col\">Trend</th><th scope=\"col\">Before</th>"
           "<th scope=\"col\">Comment</th></tr></thead><tbody>");
    for (size_t i = 0; i < st->n_ratings; i++) {
        if (!ladder_is_latest(st->ratings, st->n_ratings, i))
            continue;
        const Tacnet__PartnershipRating *r = st->ratings[i]->rating;
        dashboard_buf_puts(b, "<tr><td>");
        s_rater(b, st->ratings[i]);
        dashboard_buf_printf(b, "</td><td>%s</td><td><strong>",
                             r->about == TACNET__AGENCY__PARTNERSHIP
                                 ? "the whole team"
                                 : dashboard_web_agency_title(r->about));
        s_rung(b, r->rung);
        dashboard_buf_puts(b, "</strong> (");
        dashboard_web_date(b, r->has_rated_date ? r->rated_date : 0);
        int d = 0;
        if (!ladder_trend(st->ratings, st->n_ratings, i, &d))
            dashboard_buf_puts(b, ")</td><td>—</td><td>");
        else
            dashboard_buf_printf(b, ")</td><td>%s %+d</td><td>",
                                 d > 0   ? "up"
                                 : d < 0 ? "down"
                                         : "same",
                                 d);
        s_history(b, st->ratings, i);
        dashboard_buf_puts(b, "</td><td>");
        dashboard_web_text(b, r->comment);
        dashboard_buf_puts(b, "</td></tr>");
    }
    dashboard_buf_puts(b, "</tbody></table></div></section>");
}

/* ------------------------------------------------------------------ the family's summary */

/* The head of a page meant for the family: no staff navigation, the print stylesheet. */
static void s_summary_head(dashboard_web_t *w, const char *cref)
{
    dashboard_buf_printf(&w->body,
                         "<!doctype html>\n<html lang=\"en-GB\"><head><meta charset=\"utf-8\">"
                         "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
                         "<title>What we agreed · %s</title>"
                         "<link rel=\"stylesheet\" href=\"/static/app.css\">"
                         "<link rel=\"stylesheet\" href=\"/static/family.css\">"
                         "<link rel=\"icon\" href=\"/static/icon.svg\" type=\"image/svg+xml\">"
                         "</head><body class=\"family\"><p class=\"noprint\"><a href=\"/cases/%s\">"
                         "Back to the case</a> · Print this page with your browser's Print "
                         "command.</p><main id=\"main\">",
                         cref, cref);
}

static const Tacnet__GoalProgress *s_progress(const Tacnet__PlanView *p, uint32_t goal_id)
{
    for (size_t i = 0; p && i < p->n_progress; i++)
        if (p->progress[i]->goal_id == goal_id)
            return p->progress[i];
    return NULL;
}

/* Whose words, who agreed, where it sits in the hierarchy of need, and its marks. */
static void s_goal_notes(dashboard_buf_t *b, const Tacnet__Goal *g)
{
    const char *words = g->has_words ? goals_words(g->words) : NULL;
    const char *need = g->has_need ? goals_need_name(g->need) : NULL;
    if (!words && !need && !(g->has_quick_win && g->quick_win) &&
        !(g->has_engagement_aim && g->engagement_aim))
        return;
    dashboard_buf_puts(b, "<p class=\"meta\">");
    if (words) {
        dashboard_buf_printf(b, "Written %s; agreed by", words);
        for (size_t k = 0; k < g->n_agreed_by_family; k++)
            dashboard_buf_printf(b, "%s %s", k ? "," : "", s_role(g->agreed_by_family[k]));
        for (size_t k = 0; k < g->n_agreed_by; k++)
            dashboard_buf_printf(b, "%s %s", k || g->n_agreed_by_family ? "," : "",
                                 dashboard_web_agency_title(g->agreed_by[k]));
        dashboard_buf_puts(b, ". ");
    }
    if (need)
        dashboard_buf_printf(b, "About %s. ", need);
    if (g->has_quick_win && g->quick_win)
        dashboard_buf_puts(b, "A quick win. ");
    if (g->has_engagement_aim && g->engagement_aim)
        dashboard_buf_puts(b, "About working together. ");
    dashboard_buf_puts(b, "</p>");
}

/* Plan PV's goals as a list, each with how it is going. */
static void s_plan_goals(dashboard_buf_t *b, const Tacnet__CaseState *st,
                         const Tacnet__PlanView *pv, uint32_t me)
{
    dashboard_buf_puts(b, "<ol class=\"goals\">");
    for (size_t i = 0; i < pv->plan->n_goals; i++) {
        const Tacnet__Goal *g = pv->plan->goals[i];
        dashboard_buf_puts(b, "<li><p class=\"goal\">");
        dashboard_web_text(b, g->description);
        dashboard_buf_puts(b, "</p>");
        s_goal_notes(b, g);
        dashboard_buf_puts(b, "<p>");
        const Tacnet__GoalProgress *gp = s_progress(pv, g->goal_id);
        if (gp && gp->has_baseline_score && gp->has_latest_score && gp->has_change)
            dashboard_buf_printf(b,
                                 "How it is going: it started at %u out of 10 and is now %u out "
                                 "of 10.",
                                 gp->baseline_score, gp->latest_score);
        else if (gp && gp->has_latest_score)
            dashboard_buf_printf(b, "How it is going: %u out of 10 so far.", gp->latest_score);
        else if (gp && gp->has_baseline_score) /* scored once, not since */
            dashboard_buf_printf(b, "How it is going: it started at %u out of 10.",
                                 gp->baseline_score);
        else if (st->n_withheld && (uint32_t)pv->by != me)
            /* Another agency's plan, scored perhaps at a class this view never receives
             * (web_share.c, s_no_score): the family is sent to whoever keeps the scores. */
            dashboard_buf_printf(b, "How it is going: ask %s, who keep this plan's scores.",
                                 dashboard_web_agency_title(pv->by));
        else
            dashboard_buf_puts(b, "How it is going: not scored yet.");
        if (g->has_target_date) {
            dashboard_buf_puts(b, " We hope to get there by ");
            dashboard_web_date(b, g->target_date);
            dashboard_buf_puts(b, ".");
        }
        dashboard_buf_puts(b, "</p></li>");
    }
    dashboard_buf_puts(b, "</ol>");
}

/* Every current plan's goals, not the lead plan's alone: a family working on CAPA goals with
 * CAMHS while social care holds the team around the family plan agreed both, and would find the
 * goals they are scoring vanish from "what we agreed" the day the lead plan was set. Each plan
 * says whose it is, so the family know who to ask about it. */
void dashboard_web_family_goals(dashboard_buf_t *b, const Tacnet__CaseState *st, uint32_t me)
{
    dashboard_buf_puts(b, "<h2>What we are working on together</h2>");
    size_t shown = 0;
    for (size_t i = 0; st && i < st->n_plans; i++) {
        const Tacnet__PlanView *pv = st->plans[i];
        if (!pv || !pv->plan || !pv->plan->n_goals)
            continue;
        char name[96];
        dashboard_buf_puts(b, "<h3 class=\"plan\">");
        dashboard_web_cap(b, labels_plan(pv->plan->type, name, sizeof(name)));
        dashboard_buf_printf(b, ", kept by %s%s</h3>", dashboard_web_agency_title(pv->by),
                             pv->lead ? " (the team's main plan)" : "");
        s_plan_goals(b, st, pv, me);
        shown++;
    }
    if (!shown)
        dashboard_buf_puts(b, "<p>No goals have been agreed yet.</p>");
}

static void s_actions(dashboard_buf_t *b, const Tacnet__CaseState *st)
{
    dashboard_buf_puts(b, "<h2>Who does what, and by when</h2>");
    size_t shown = 0;
    for (size_t i = 0; st && i < st->n_actions; i++) {
        const Tacnet__Action *a = st->actions[i]->action;
        if (a->status == TACNET__ACTION_STATUS__CANCELLED)
            continue;
        dashboard_buf_puts(b, shown++ ? "" : "<ul class=\"actions-list\">");
        dashboard_buf_puts(b, "<li>");
        dashboard_web_text(b, a->description);
        dashboard_buf_printf(b, " — %s", dashboard_web_agency_title(a->owner_agency));
        if (a->owner_initials.len) {
            dashboard_buf_puts(b, " (");
            dashboard_web_bytes(b, a->owner_initials);
            dashboard_buf_puts(b, ")");
        }
        dashboard_buf_puts(b, a->status == TACNET__ACTION_STATUS__DONE ? ": done" : ", by ");
        if (a->status != TACNET__ACTION_STATUS__DONE)
            dashboard_web_date(b, a->due_date);
        dashboard_buf_puts(b, "</li>");
    }
    dashboard_buf_puts(b, shown ? "</ul>" : "<p>Nothing has been agreed yet.</p>");
}

/* The next meeting: the soonest one scheduled and not held, else the date the latest minutes
 * set for the next one; a date already past is no next meeting (the family would be told of one
 * that never happened). */
void dashboard_web_family_next_meeting(dashboard_buf_t *b, const Tacnet__CaseState *st,
                                       uint64_t now)
{
    uint32_t next = 0, today = clock_ms_to_date(now);
    uint64_t starts = 0;
    for (size_t i = 0; st && i < st->n_meetings; i++) {
        const Tacnet__MeetingView *m = st->meetings[i];
        if (m->outcome && m->outcome->next_meeting_date > next)
            next = m->outcome->next_meeting_date;
        if (!m->outcome && m->scheduled && m->scheduled->starts_at_ms > now &&
            (!starts || m->scheduled->starts_at_ms < starts))
            starts = m->scheduled->starts_at_ms;
    }
    dashboard_buf_puts(b, "<h2>Our next meeting</h2><p>");
    if (starts)
        dashboard_web_time(b, starts);
    else if (next >= today)
        dashboard_web_date(b, next);
    else
        dashboard_buf_puts(b, "Not arranged yet: your lead professional will tell you.");
    dashboard_buf_puts(b, "</p>");
}

static void s_contacts(dashboard_buf_t *b, const Tacnet__CaseState *st)
{
    dashboard_buf_puts(b, "<h2>Who to contact</h2>");
    if (st && st->lead) {
        /* dashboard_web_prof names the agency last. */
        dashboard_buf_puts(b, "<p>Your lead professional, who coordinates the team: ");
        dashboard_web_prof(b, st->lead);
        dashboard_buf_puts(b, ".</p>");
    }
    const Tacnet__CommunicationPlan *cp = st ? st->communication_plan : NULL;
    if (cp && cp->every_days) {
        dashboard_buf_printf(b, "<p>We agreed to be in touch every %u days", cp->every_days);
        if (cp->has_method && cp->method)
            dashboard_buf_printf(
                b, " (%s)", dashboard_web_enum(&tacnet__contact_method__descriptor, cp->method));
        dashboard_buf_puts(b, ".</p>");
    }
    dashboard_buf_puts(b, "<ul class=\"contacts\">");
    for (size_t i = 0; st && i < st->n_team; i++) {
        const Tacnet__TeamMember *t = st->team[i];
        dashboard_buf_printf(b, "<li><strong>%s</strong>: ", dashboard_web_agency_title(t->agency));
        if (t->named_contact)
            dashboard_web_prof(b, t->named_contact);
        else
            dashboard_buf_puts(b, "ask your lead professional");
        if (t->team) {
            dashboard_buf_puts(b, ", ");
            dashboard_web_text(b, t->team);
        }
        if (t->how_to_reach) {
            dashboard_buf_puts(b, ". How to reach them: ");
            dashboard_web_text(b, t->how_to_reach);
        }
        dashboard_buf_puts(b, "</li>");
    }
    dashboard_buf_puts(b, "</ul>");
}

static void s_disagree(dashboard_buf_t *b)
{
    dashboard_buf_puts(
        b, "<h2>If you disagree</h2><p>Your views and your child's views are written down with "
           "every decision and plan. If you do not agree with something, tell your lead "
           "professional or any of the people above, in whatever way suits you; you can ask for "
           "it to be looked at again at the next meeting, and you can bring someone to support "
           "you. Each service also has a complaints procedure, which any of them will explain. "
           "You can change how you want to be involved at any time.</p>");
}

typedef struct {
    dashboard_buf_t *b;
    int children; /* this pass: the children (1) or everyone else (0) */
    size_t n;     /* names written so far, over both passes */
    size_t n_children;
} names_arg_t;

static void s_name(const char *name, const char *role, void *arg)
{
    names_arg_t *a = arg;
    int child = strcmp(role, "child") == 0;
    if (child != a->children)
        return;
    if (a->n == 0)
        dashboard_buf_puts(a->b, "<p class=\"for\">For ");
    else if (!child && a->n == a->n_children)
        dashboard_buf_puts(a->b, "; with ");
    else
        dashboard_buf_puts(a->b, ", ");
    a->n++;
    a->n_children += child;
    dashboard_web_text(a->b, name);
    if (strcmp(role, "unknown") != 0)
        dashboard_buf_printf(a->b, " (%s)", role);
}

/* The family's names from this agency's identity register, so the printed page is theirs by
 * name: read here, put on this page only, never sent, logged or kept. The page is for the
 * child, with the others the register names ("For Tamsin (child); with Orla (mother)"); two
 * passes over the register put the children first without keeping a copy of any name. A
 * register whose names have no relationship lists them in the order registered. Without a
 * register the page speaks to "the family", as it always did. */
static void s_for(dashboard_web_t *w, const char *ref)
{
    names_arg_t a = { &w->body, 1, 0, 0 };
    const uint8_t *r = (const uint8_t *)ref;
    if (agency_identity_each(w->agency, r, strlen(ref), s_name, &a) != 0)
        return;
    a.children = 0;
    (void)agency_identity_each(w->agency, r, strlen(ref), s_name, &a);
    if (a.n)
        dashboard_buf_puts(&w->body, "</p>");
}

void dashboard_web_family_summary(dashboard_web_t *w, const char *ref)
{
    char actor[48];
    dashboard_web_actor(w->user, actor, sizeof(actor));
    Tacnet__ApiReply reply = TACNET__API_REPLY__INIT;
    int rc = dashboard_web_case_read(w->agency, actor, ref, &reply);
    if (rc != 0) {
        dashboard_web_error(w, rc == TACNET_ENOTFOUND ? 404 : 503, rc,
                            rc == TACNET_ENOTFOUND ? "this agency holds no case with that reference"
                                                   : tacnet_strerror(rc));
        return;
    }
    const Tacnet__ShowCaseReply *sc = reply.show_case;
    const Tacnet__CaseState *st = sc->state;
    dashboard_buf_t *b = &w->body;
    char cref[40];
    snprintf(cref, sizeof(cref), "%.*s", (int)sc->summary->case_ref.len,
             (const char *)sc->summary->case_ref.data);
    uint64_t now = clock_now_ms();
    s_summary_head(w, cref);
    dashboard_buf_printf(b,
                         "<h1>What we agreed</h1><p class=\"lead\">A summary for the family "
                         "(%s) from the team around the child, made on ",
                         cref);
    dashboard_web_date(b, clock_ms_to_date(now));
    dashboard_buf_printf(b, " by %s. It stays with you and is not sent anywhere.</p>",
                         agency_profile(w->agency)->title);
    s_for(w, cref);
    dashboard_web_family_goals(b, st, agency_profile(w->agency)->agency);
    s_actions(b, st);
    dashboard_web_family_next_meeting(b, st, now);
    s_contacts(b, st);
    if (st && st->involvement)
        dashboard_web_family_involvement(b, st);
    s_disagree(b);
    dashboard_buf_puts(b, "</main></body></html>");
    agency_reply_free(&reply);
}
