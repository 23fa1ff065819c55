/* web_case: the dashboard's case page — escalations first, then the team, decisions, plans and
 * goal chart, meetings, consent, what is due and the timeline (see web.h). */
#include "web_family.h"
#include "web_internal.h"
#include "page.h"
#include "casework/casestate.h"
#include "casework/chair_rule.h"
#include "casework/challenge.h"
#include "casework/escalation_rights.h"
#include "clock.h"
#include "err.h"
#include "labels.h"
#include "names.h"
#include "policy.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* SC's name for the plan a GBO measure of AGENCY's names, "team around the family plan", into
 * OUT: "plan" when it names none (sent before measures named their plan, or before the plan
 * reached the sender's view), said so when AGENCY has no plan in this view at all; "earlier
 * plan" when the plan is no longer one of the case's (replaced). */
static const char *s_plan_name(const Tacnet__ShowCaseReply *sc, uint32_t agency, const uint8_t *id,
                               size_t len, char *out, size_t cap)
{
    for (size_t i = 0; !len && sc->state && i < sc->state->n_plans; i++)
        if ((uint32_t)sc->state->plans[i]->by == agency)
            return "plan";
    if (!len) /* scored with no plan of its agency's to score */
        return "plan (none in this view)";
    for (size_t i = 0; sc->state && i < sc->state->n_plans; i++) {
        const Tacnet__PlanView *pv = sc->state->plans[i];
        if (pv->plan && pv->has_plan_id && pv->plan_id.len == len &&
            memcmp(pv->plan_id.data, id, len) == 0)
            return labels_plan(pv->plan->type, out, cap);
    }
    return "earlier plan";
}

/* Outcome scores over time, one line per GBO goal, drawn on the server (no script needed). */
/* The goal-based outcome scores over time: one line per goal of each plan (goal 1 of CAMHS's
 * plan and goal 1 of social care's are different goals, and so are goal 1 of a plan and of the
 * plan that replaced it), each in the order the scores were measured; the first agency's lines
 * are solid, the others' dashed, and the key names whose plan each goal is. */
static void s_chart(dashboard_buf_t *b, const Tacnet__ShowCaseReply *sc)
{
    enum { W = 640, H = 240, L = 40, R = 20, T = 16, B = 40, MAXP = 64, MAXS = 9 };
    struct {
        uint32_t agency, goal, n, style;
        uint8_t plan[16];
        size_t plan_len; /* 0: the measure named no plan */
        uint32_t date[MAXP], score[MAXP];
    } g[MAXS];
    uint32_t n_series = 0, first_agency = 0;
    memset(g, 0, sizeof(g));
    uint32_t dmin = UINT32_MAX, dmax = 0;
    for (size_t i = 0; i < sc->n_timeline; i++) {
        const Tacnet__Body *body = sc->timeline[i]->body;
        const Tacnet__Header *h = sc->timeline[i]->header;
        if (!body || !h || body->event_case != TACNET__BODY__EVENT_OUTCOME_MEASURE)
            continue;
        const Tacnet__OutcomeMeasure *m = body->outcome_measure;
        if (!m->has_tool || m->tool != TACNET__MEASURE_TOOL__GBO || !m->measured_date)
            continue;
        uint32_t by = (uint32_t)h->sender;
        size_t plan_len = m->has_plan_id && m->plan_id.len == 16 ? 16 : 0;
        if (!first_agency)
            first_agency = by;
        for (size_t k = 0; k < m->n_values; k++) {
            uint32_t goal = k < m->n_goal_ids ? m->goal_ids[k] : (uint32_t)k + 1;
            if (goal < 1 || goal > 3 || m->values[k] > 10)
                continue;
            uint32_t s = 0;
            while (s < n_series &&
                   !(g[s].agency == by && g[s].goal == goal && g[s].plan_len == plan_len &&
                     (!plan_len || memcmp(g[s].plan, m->plan_id.data, plan_len) == 0)))
                s++;
            if (s == n_series) {
                if (n_series == MAXS)
                    continue;
                g[n_series].agency = by;
                g[n_series].goal = goal;
                g[n_series].plan_len = plan_len;
                if (plan_len)
                    memcpy(g[n_series].plan, m->plan_id.data, plan_len);
                g[n_series++].style = by != first_agency;
            }
            if (g[s].n == MAXP)
                continue;
            /* In the order measured, whatever order the records arrived in. */
            uint32_t p = g[s].n++;
            for (; p > 0 && g[s].date[p - 1] > m->measured_date; p--) {
                g[s].date[p] = g[s].date[p - 1];
                g[s].score[p] = g[s].score[p - 1];
            }
            g[s].date[p] = m->measured_date;
            g[s].score[p] = m->values[k];
            if (m->measured_date < dmin)
                dmin = m->measured_date;
            if (m->measured_date > dmax)
                dmax = m->measured_date;
        }
    }
    if (dmax == 0) {
        dashboard_buf_puts(b, "<p>No goal-based outcome scores this agency may see yet.</p>");
        return;
    }
    uint64_t t0 = clock_date_to_ms(dmin), t1 = clock_date_to_ms(dmax);
    uint64_t span = t1 > t0 ? t1 - t0 : 1;
    dashboard_buf_printf(b,
                         "<figure><svg class=\"chart\" viewBox=\"0 0 %d %d\" role=\"img\" "
                         "aria-labelledby=\"chart-title\"><title id=\"chart-title\">Goal-based "
                         "outcome scores (0-10) over time</title>",
                         W, H);
    for (int s = 0; s <= 10; s += 2) {
        int y = T + (H - T - B) * (10 - s) / 10;
        dashboard_buf_printf(b,
                             "<line x1=\"%d\" x2=\"%d\" y1=\"%d\" y2=\"%d\" class=\"grid\"/>"
                             "<text x=\"%d\" y=\"%d\" class=\"axis\">%d</text>",
                             L, W - R, y, y, 8, y + 4, s);
    }
    static const char *const cls[] = { "g1", "g2", "g3" };
    for (uint32_t k = 0; k < n_series; k++) {
        const char *c = cls[g[k].goal - 1], *dash = g[k].style ? " other" : "";
        dashboard_buf_printf(b, "<polyline class=\"%s%s\" points=\"", c, dash);
        for (uint32_t p = 0; p < g[k].n; p++) {
            uint64_t t = clock_date_to_ms(g[k].date[p]);
            int x =
                t1 > t0 ? L + (int)((t - t0) * (uint64_t)(W - L - R) / span) : L + (W - L - R) / 2;
            int y = T + (H - T - B) * (10 - (int)g[k].score[p]) / 10;
            dashboard_buf_printf(b, "%d,%d ", x, y);
        }
        dashboard_buf_puts(b, "\"/>");
        for (uint32_t p = 0; p < g[k].n; p++) {
            uint64_t t = clock_date_to_ms(g[k].date[p]);
            int x =
                t1 > t0 ? L + (int)((t - t0) * (uint64_t)(W - L - R) / span) : L + (W - L - R) / 2;
            int y = T + (H - T - B) * (10 - (int)g[k].score[p]) / 10;
            char name[96];
            dashboard_buf_printf(
                b,
                "<circle class=\"%s\" cx=\"%d\" cy=\"%d\" r=\"4\"><title>goal %u "
                "of %s's %s: %u on ",
                c, x, y, g[k].goal, dashboard_web_agency_title(g[k].agency),
                s_plan_name(sc, g[k].agency, g[k].plan, g[k].plan_len, name, sizeof(name)),
                g[k].score[p]);
            dashboard_web_date(b, g[k].date[p]);
            dashboard_buf_puts(b, "</title></circle>");
        }
    }
    dashboard_buf_printf(b, "<text x=\"%d\" y=\"%d\" class=\"axis\">", L, H - 12);
    dashboard_web_date(b, dmin);
    dashboard_buf_printf(b, "</text><text x=\"%d\" y=\"%d\" class=\"axis end\">", W - R, H - 12);
    dashboard_web_date(b, dmax);
    dashboard_buf_puts(b, "</text></svg><figcaption>");
    for (uint32_t k = 0; k < n_series; k++) {
        char name[96];
        dashboard_buf_printf(
            b, "<span class=\"key %s%s\">Goal %u of %s's %s (%u score%s)</span> ",
            cls[g[k].goal - 1], g[k].style ? " other" : "", g[k].goal,
            dashboard_web_agency_title(g[k].agency),
            s_plan_name(sc, g[k].agency, g[k].plan, g[k].plan_len, name, sizeof(name)), g[k].n,
            g[k].n == 1 ? "" : "s");
    }
    dashboard_buf_puts(b, "</figcaption></figure>");
}

static void s_section(dashboard_buf_t *b, const char *id, const char *title)
{
    dashboard_buf_printf(b, "<section id=\"%s\" aria-labelledby=\"%s-h\"><h2 id=\"%s-h\">%s</h2>",
                         id, id, id, title);
}

/* Who receives an accepted event, in words: "Social care and CAMHS", or NULL for nobody. */
static void s_recipients(dashboard_buf_t *b, const Tacnet__EventStatus *st)
{
    for (size_t i = 0; i < st->n_recipients; i++)
        dashboard_buf_printf(b, "%s%s",
                             i == 0                      ? ""
                             : i + 1 == st->n_recipients ? " and "
                                                         : ", ",
                             dashboard_web_agency_title(st->recipients[i]));
}

/* What became of the event this user just sent (?published=ID): accepted and who receives it,
 * refused and why (nothing was shared), or still waiting for the broker. */
static void s_published(dashboard_web_t *w, const char *hex)
{
    dashboard_buf_t *b = &w->body;
    uint8_t id[16];
    size_t len = 0;
    if (!hex || strlen(hex) != 32 ||
        sodium_hex2bin(id, sizeof(id), hex, 32, NULL, &len, NULL) != 0 || len != 16)
        return;
    Tacnet__EventStatus st = TACNET__EVENT_STATUS__INIT;
    if (agency_outcome_read(w->agency, id, &st) != 0) {
        agency_outcome_status_free(&st);
        return;
    }
    if (st.state == TACNET__PUBLISH_STATE__PUBLISH_ACCEPTED && st.n_recipients) {
        dashboard_buf_puts(b, "<p class=\"ok\" role=\"status\">Shared: the broker accepted "
                              "your event and it goes to ");
        s_recipients(b, &st);
        dashboard_buf_puts(b, ".</p>");
    } else if (st.state == TACNET__PUBLISH_STATE__PUBLISH_ACCEPTED) {
        dashboard_buf_puts(b, "<div class=\"refusal\" role=\"alert\"><p>Recorded, but "
                              "<strong>no other agency receives it</strong>: no other member of "
                              "this case may see it under the sharing policy and the consent "
                              "recorded.</p></div>");
    } else if (st.state == TACNET__PUBLISH_STATE__PUBLISH_REFUSED) {
        dashboard_buf_printf(b,
                             "<div class=\"refusal\" role=\"alert\"><p><strong>Not shared"
                             "</strong>: the broker refused your event (<code>%s</code>): ",
                             tacnet_errname(st.code));
        dashboard_buf_html(b, st.reason ? st.reason : "", st.reason ? strlen(st.reason) : 0);
        dashboard_buf_puts(b,
                           st.code == TACNET_ENOTMEMBER
                               ? ". Nobody received it. This agency is not in this case's "
                                 "team: its lead professional adds an agency; once added, "
                                 "send it again.</p></div>"
                               : ". Nobody received it. Correct it and send it again.</p></div>");
    } else {
        dashboard_buf_puts(b, "<div class=\"refusal\" role=\"status\"><p><strong>Not yet "
                              "shared</strong>: the broker has not answered. Your event is kept "
                              "and sent as soon as it can be; <a href=\"/outbox\">the outbox"
                              "</a> shows what becomes of it.</p></div>");
    }
    agency_outcome_status_free(&st);
}

static void s_form_link(dashboard_buf_t *b, const char *ref, const char *form, const char *label,
                        ProtobufCBinaryData about)
{
    dashboard_buf_printf(b, "<a class=\"button\" href=\"/cases/%s/forms/%s", ref, form);
    if (about.len) {
        dashboard_buf_puts(b, "?about=");
        dashboard_web_hex(b, about);
    }
    dashboard_buf_printf(b, "\">%s</a> ", label);
}

/* A form offered only to an agency that can send it (PROFILE originates its kind): a form the
 * sending daemon would refuse with E_KIND only wastes the time spent filling it in. */
static void s_offer(dashboard_buf_t *b, const agency_profile_t *profile, const char *ref,
                    const char *form, const char *label)
{
    int kind = 0;
    if (names_enum_parse(&tacnet__event_kind__descriptor, form, &kind) != 0 ||
        !agency_profile_originates(profile, (uint32_t)kind))
        return;
    ProtobufCBinaryData none = { 0, NULL };
    s_form_link(b, ref, form, label, none);
}

/* The answers AGENCY may give to E, the broker's rule: a party responds and acknowledges a
 * proposed resolution; a party or the lead professional's agency resolves. Others are told. */
static void s_escalation_actions(dashboard_buf_t *b, const char *ref,
                                 const Tacnet__EscalationView *e, uint32_t agency, uint32_t lead)
{
    escalation_rights_t r = escalation_rights_of(e, agency, lead);
    if (!r.open)
        return;
    if (!r.respond && !r.resolve && !r.acknowledge) {
        dashboard_buf_puts(b, "<p>This agency is not a party to this escalation: its parties "
                              "answer it.</p>");
        return;
    }
    if (r.unheld) {
        /* The broker's notice says a resolution is proposed, but its text never came here: there
         * is nothing to accept, and a response or another resolution would not answer it. */
        dashboard_buf_puts(b, "<p role=\"status\">A resolution has been proposed, but its text "
                              "has not reached this agency (it was sent at a class of information "
                              "this agency does not receive), so there is nothing here to "
                              "acknowledge yet. Ask the agency that proposed it to send it again "
                              "at a class this agency receives.</p>");
        return;
    }
    /* r.resolving: a resolution proposed, whether or not its text reached this view (a lead
     * that is no party may hold only the broker's notice): no response or second resolution
     * answers it. */
    dashboard_buf_puts(b, "<p>");
    if (r.respond && !r.resolving)
        s_form_link(b, ref, "escalation_response", "Respond", e->escalation_id);
    if (r.resolve && !r.resolving)
        s_form_link(b, ref, "escalation_resolved", "Resolve", e->escalation_id);
    if (r.acknowledge)
        s_form_link(b, ref, "escalation_ack", "Acknowledge", e->escalation_id);
    else if (r.proposed)
        dashboard_buf_printf(b,
                             "This agency proposed this resolution: waiting on the %sparties to "
                             "acknowledge it. ",
                             r.party ? "other " : "");
    else if (r.acknowledged)
        dashboard_buf_puts(b, "Acknowledged by this agency: waiting on the other parties. ");
    else if (r.resolving)
        dashboard_buf_puts(b, "A resolution is proposed: waiting on the parties to acknowledge "
                              "it. ");
    dashboard_buf_puts(b, "</p>");
}

/* A request that someone not directly involved reviews what is shown above it. */
static void s_challenge(dashboard_buf_t *b, const Tacnet__ChallengeRequest *c)
{
    const char *words = c && c->has_reviewer_role ? challenge_words(c->reviewer_role) : NULL;
    if (!words)
        return;
    dashboard_buf_printf(b, "<p class=\"challenge\"><strong>Challenge requested:</strong> %s",
                         words);
    if (c->reviewer) {
        dashboard_buf_puts(b, " (");
        dashboard_web_prof(b, c->reviewer);
        dashboard_buf_puts(b, ")");
    }
    dashboard_buf_puts(b, ", by ");
    dashboard_web_date(b, c->review_by_date);
    dashboard_buf_puts(b, ".</p>");
}

/* One line of an escalation's history: a broker notice, a resolution not accepted or a response.
 * Told in the order they happened; on the same millisecond a response comes before a refusal,
 * and a refusal before the notice it caused. */
enum { S_LINE_RESPONSE, S_LINE_REFUSED, S_LINE_NOTICE };
typedef struct {
    uint64_t at_ms;
    int what;
    size_t i;
} s_line_t;

static int s_line_cmp(const void *a, const void *b)
{
    const s_line_t *x = a, *y = b;
    if (x->at_ms != y->at_ms)
        return x->at_ms < y->at_ms ? -1 : 1;
    if (x->what != y->what)
        return x->what < y->what ? -1 : 1;
    return x->i < y->i ? -1 : x->i > y->i;
}

static void s_history_notice(dashboard_buf_t *b, const Tacnet__EscalationNotice *n)
{
    if (n->has_joined)
        dashboard_buf_printf(b, "Joined by %s's disagreement, now a party",
                             n->has_joined_by ? dashboard_web_agency_title(n->joined_by)
                                              : "another agency");
    else
        dashboard_web_cap(b, dashboard_web_enum(&tacnet__escalation_event__descriptor, n->event));
    dashboard_buf_printf(b, ": stage %u", n->stage);
    if (n->deadline_ms) {
        dashboard_buf_printf(b, ", %s to answer by ", dashboard_web_role(n->audience));
        dashboard_web_time(b, n->deadline_ms);
    }
}

/* What was proposed and not accepted stays on the record after the stage moves on. */
static void s_history_refused(dashboard_buf_t *b, const Tacnet__RefusedResolution *x)
{
    dashboard_buf_printf(b, "Resolution proposed at stage %u", x->stage);
    if (x->has_proposed_by)
        dashboard_buf_printf(b, " by %s", dashboard_web_agency_title(x->proposed_by));
    dashboard_buf_puts(b, ": ");
    dashboard_web_text(b, x->resolution ? x->resolution->outcome : NULL);
    dashboard_buf_puts(b, ". <strong>Not accepted by ");
    for (size_t k = 0; k < x->n_refused_by; k++)
        dashboard_buf_printf(b, "%s%s", k ? ", " : "",
                             dashboard_web_agency_title(x->refused_by[k]));
    dashboard_buf_puts(b, "</strong> (");
    dashboard_web_time(b, x->refused_at_ms);
    dashboard_buf_puts(b, "): the disagreement went to the next stage.");
}

static void s_history(dashboard_buf_t *b, const Tacnet__EscalationView *e)
{
    size_t n = e->n_history + e->n_refused + e->n_responses, k = 0;
    if (!n)
        return;
    s_line_t *lines = xcalloc(n, sizeof(*lines));
    for (size_t i = 0; i < e->n_history; i++)
        lines[k++] =
            (s_line_t){ i < e->n_history_at_ms ? e->history_at_ms[i] : 0, S_LINE_NOTICE, i };
    for (size_t i = 0; i < e->n_refused; i++)
        lines[k++] = (s_line_t){ e->refused[i]->refused_at_ms, S_LINE_REFUSED, i };
    for (size_t i = 0; i < e->n_responses; i++)
        lines[k++] =
            (s_line_t){ i < e->n_response_at_ms ? e->response_at_ms[i] : 0, S_LINE_RESPONSE, i };
    qsort(lines, n, sizeof(*lines), s_line_cmp);
    dashboard_buf_puts(b, "<h4>History</h4><ol class=\"history\">");
    for (size_t j = 0; j < n; j++) {
        dashboard_buf_puts(b, "<li>");
        if (lines[j].what == S_LINE_NOTICE) {
            s_history_notice(b, e->history[lines[j].i]);
        } else if (lines[j].what == S_LINE_REFUSED) {
            s_history_refused(b, e->refused[lines[j].i]);
        } else {
            const Tacnet__EscalationResponse *r = e->responses[lines[j].i];
            dashboard_buf_printf(
                b, "Response at stage %u: %s. ", r->stage,
                dashboard_web_enum(&tacnet__stage_position__descriptor, r->position));
            dashboard_web_text(b, r->comment);
            s_challenge(b, r->challenge_request);
        }
        dashboard_buf_puts(b, "</li>");
    }
    dashboard_buf_puts(b, "</ol>");
    free(lines);
}

/* A disagreement's recorded fields (D may be NULL), its request for challenge in its own
 * sentence after them rather than in the generic list. */
static void s_disagreement(dashboard_buf_t *b, const Tacnet__Disagreement *d)
{
    if (!d)
        return;
    Tacnet__Disagreement listed = *d;
    listed.challenge_request = NULL;
    Tacnet__Body body = TACNET__BODY__INIT;
    body.event_case = TACNET__BODY__EVENT_DISAGREEMENT;
    body.disagreement = &listed;
    dashboard_web_body_fields(b, &body);
    s_challenge(b, d->challenge_request);
}

/* A later disagreement the broker joined to this escalation: shown inside it, not as another. */
static void s_joined(dashboard_buf_t *b, const Tacnet__JoinedDisagreement *j)
{
    dashboard_buf_printf(b, "<section class=\"joined\"><h4>Joined by %s's disagreement",
                         j->has_raised_by ? dashboard_web_agency_title(j->raised_by)
                                          : "another agency");
    if (j->has_raised_at_ms && j->raised_at_ms) {
        dashboard_buf_puts(b, " (");
        dashboard_web_time(b, j->raised_at_ms);
        dashboard_buf_puts(b, ")");
    }
    dashboard_buf_puts(b, "</h4>");
    s_disagreement(b, j->disagreement);
    dashboard_buf_puts(b, "</section>");
}

static void s_escalations(dashboard_buf_t *b, const char *ref, const Tacnet__ShowCaseReply *sc,
                          uint64_t now, uint32_t agency)
{
    const Tacnet__CaseSummary *sum = sc->summary;
    uint32_t lead = sum && sum->has_lead ? (uint32_t)sum->lead : 0;
    const Tacnet__CaseState *st = sc->state;
    s_section(b, "escalations", "Escalations");
    size_t shown = 0;
    for (size_t i = 0; st && i < st->n_escalations; i++) {
        const Tacnet__EscalationView *e = st->escalations[i];
        int open = dashboard_web_escalation_open(e);
        shown++;
        dashboard_buf_printf(b, "<article class=\"escalation%s\"><h3>", open ? " open" : "");
        if (e->disagreement && e->disagreement->topic) {
            dashboard_web_text(b, e->disagreement->topic);
            dashboard_buf_puts(b, ": ");
        }
        dashboard_buf_printf(
            b, "Stage %u%s%s — %s</h3>", e->has_stage ? e->stage : 1,
            e->has_urgent && e->urgent ? " (urgent)" : "",
            e->has_automatic && e->automatic ? " (automatic)" : "",
            e->has_state ? dashboard_web_enum(&tacnet__escalation_event__descriptor, e->state)
                         : "raised");
        int settled = e->has_state && (e->state == TACNET__ESCALATION_EVENT__ESC_RESOLVED ||
                                       e->state == TACNET__ESCALATION_EVENT__ESC_CLOSED);
        int breached = casestate_escalation_breached(e, now);
        if (breached)
            dashboard_buf_puts(b,
                               "<p class=\"overdue\" role=\"alert\"><strong>Breached: past the "
                               "partnership's last deadline.</strong> No stage follows; it stays "
                               "with the partnership until it is resolved.</p>");
        dashboard_buf_puts(b, "<dl class=\"fields\"><dt>Deadline</dt><dd>");
        if (breached) {
            dashboard_web_time(b, e->deadline_ms);
            dashboard_buf_puts(b, " — <strong class=\"overdue\">breached</strong>");
        } else if (e->has_deadline_ms && e->deadline_ms) {
            dashboard_web_time(b, e->deadline_ms);
            dashboard_buf_puts(b, " — ");
            dashboard_web_left(b, e->deadline_ms, now);
        } else if (settled && e->state == TACNET__ESCALATION_EVENT__ESC_CLOSED) {
            dashboard_buf_puts(b, "none: closed, every party accepted the resolution");
        } else if (settled) {
            /* Resolved: the clock stops; what is left is each party's acknowledgement. */
            dashboard_buf_puts(b, "none: a resolution is proposed");
        } else if (e->has_raised_by && (uint32_t)e->raised_by != agency) {
            /* Only the parties get the broker's notices: a view that is none never will. */
            dashboard_buf_puts(b, "set by the broker, which tells the parties; no notice has come "
                                  "here, so this agency is not one of them (or its notice is on "
                                  "its way)");
        } else {
            dashboard_buf_puts(b, "awaiting the broker's notice");
        }
        if (settled) {
            dashboard_buf_puts(b, "</dd><dt>Still to acknowledge it</dt><dd>");
            int any = 0;
            for (size_t p = 0; p < e->n_parties; p++) {
                /* Proposing it was accepting it: the proposer is not asked again. */
                int done = e->has_resolved_by && e->resolved_by == e->parties[p];
                for (size_t a = 0; a < e->n_acknowledged; a++)
                    done |= e->acknowledged[a] == e->parties[p];
                if (!done)
                    dashboard_buf_printf(b, "%s%s", any++ ? ", " : "",
                                         dashboard_web_agency_title(e->parties[p]));
            }
            dashboard_buf_puts(b, any ? "</dd>" : "nobody: every party has</dd>");
        } else {
            dashboard_buf_printf(b, "</dd><dt>Needs a response from</dt><dd>%s</dd>",
                                 e->has_audience ? dashboard_web_role(e->audience) : "—");
        }
        if (e->has_raised_by)
            dashboard_buf_printf(b, "<dt>Raised by</dt><dd>%s</dd>",
                                 dashboard_web_agency_title(e->raised_by));
        dashboard_buf_puts(b, "<dt>Parties</dt><dd>");
        for (size_t p = 0; p < e->n_parties; p++)
            dashboard_buf_printf(b, "%s%s", p ? ", " : "",
                                 dashboard_web_agency_title(e->parties[p]));
        if (!e->n_parties)
            dashboard_buf_puts(b, "not known here: the broker's notice names them");
        dashboard_buf_puts(b, "</dd></dl>");
        s_disagreement(b, e->disagreement);
        for (size_t j = 0; j < e->n_joined; j++)
            s_joined(b, e->joined[j]);
        s_history(b, e);
        if (e->resolution) {
            dashboard_buf_puts(b, "<p><strong>Resolution:</strong> ");
            dashboard_web_text(b, e->resolution->outcome);
            dashboard_buf_puts(b, " <strong>Child's safety:</strong> ");
            dashboard_web_text(b, e->resolution->child_safety);
            if (e->resolution->has_agreed_level_of_need)
                dashboard_buf_printf(b, " <strong>Agreed level of need:</strong> %u",
                                     e->resolution->agreed_level_of_need);
            dashboard_buf_puts(b, "</p>");
        }
        if (e->n_acknowledged) {
            dashboard_buf_puts(b, "<p>Acknowledged by ");
            for (size_t a = 0; a < e->n_acknowledged; a++)
                dashboard_buf_printf(b, "%s%s", a ? ", " : "",
                                     dashboard_web_agency_title(e->acknowledged[a]));
            dashboard_buf_puts(b, "</p>");
        }
        s_escalation_actions(b, ref, e, agency, lead);
        dashboard_buf_puts(b, "</article>");
    }
    if (!shown)
        dashboard_buf_puts(b, "<p>No escalations.</p>");
    dashboard_buf_puts(b, "</section>");
}

static void s_team(dashboard_buf_t *b, const Tacnet__ShowCaseReply *sc, const char *ref,
                   uint32_t me)
{
    const Tacnet__CaseState *st = sc->state;
    s_section(b, "team", "Team around the child");
    if (st && st->n_team) {
        dashboard_buf_puts(
            b,
            "<div class=\"scroll\" tabindex=\"0\"><table><thead><tr><th scope=\"col\">Agency</th>"
            "<th scope=\"col\">Named contact</th><th scope=\"col\">Team</th>"
            "<th scope=\"col\">How to reach</th><th scope=\"col\">Level of need"
            "</th></tr></thead><tbody>");
        for (size_t i = 0; i < st->n_team; i++) {
            const Tacnet__TeamMember *t = st->team[i];
            dashboard_buf_printf(b, "<tr><td>%s</td><td>", dashboard_web_agency_title(t->agency));
            dashboard_web_prof(b, t->named_contact);
            dashboard_buf_puts(b, "</td><td>");
            dashboard_web_text(b, t->team);
            dashboard_buf_puts(b, "</td><td>");
            dashboard_web_text(b, t->how_to_reach);
            dashboard_buf_printf(
                b, "</td><td>%s",
                dashboard_web_need_name(t->has_level_of_need ? t->level_of_need : 0));
            if (!t->level_of_need && st->n_withheld) {
                dashboard_buf_puts(b, " <span class=\"meta\">(");
                dashboard_web_withheld(b, st);
                dashboard_buf_puts(b, ")</span>");
            }
            dashboard_buf_puts(b, "</td></tr>");
        }
        dashboard_buf_puts(b, "</tbody></table></div>");
    } else {
        const Tacnet__CaseSummary *s = sc->summary;
        dashboard_buf_puts(b, "<ul>");
        for (size_t m = 0; m < s->n_members; m++)
            dashboard_buf_printf(
                b, "<li>%s — level of need %s</li>", dashboard_web_agency_title(s->members[m]),
                dashboard_web_need_name((uint32_t)s->members[m] < s->n_level_of_need
                                            ? s->level_of_need[s->members[m]]
                                            : 0));
        dashboard_buf_puts(b, "</ul>");
    }
    if (st && st->pending_handover) {
        dashboard_buf_printf(b, "<p>Lead hand-over offered by %s to ",
                             dashboard_web_agency_title(st->pending_handover->from_agency));
        dashboard_web_prof(b, st->pending_handover->new_lead);
        dashboard_buf_printf(b, "%s.</p>",
                             st->pending_handover->has_overdue && st->pending_handover->overdue
                                 ? " (not accepted in time)"
                                 : "");
        const Tacnet__Professional *to = st->pending_handover->new_lead;
        if (to && to->has_agency && to->agency == me) {
            ProtobufCBinaryData none = { 0, NULL };
            dashboard_buf_puts(b, "<p>");
            s_form_link(b, ref, "lead_accepted", "Accept the lead", none);
            dashboard_buf_puts(b, "</p>");
        }
    }
    dashboard_buf_puts(b, "</section>");
}

static void s_plan(dashboard_buf_t *b, const Tacnet__ShowCaseReply *sc, uint32_t me)
{
    const Tacnet__CaseState *st = sc->state;
    s_section(b, "plan", "Plans and progress");
    dashboard_web_plans(b, st, me);
    dashboard_web_capa_choice(b, st);
    s_chart(b, sc);
    if (st && st->n_measures) {
        dashboard_buf_puts(b, "<h3>Outcome measures</h3><ul>");
        for (size_t i = 0; i < st->n_measures; i++) {
            const Tacnet__MeasureView *m = st->measures[i];
            dashboard_buf_puts(b, "<li>");
            dashboard_web_cap(b, dashboard_web_enum(&tacnet__measure_tool__descriptor, m->tool));
            dashboard_buf_printf(
                b, " by %s (reported by %s), ", dashboard_web_agency_title(m->by),
                m->has_informant ? dashboard_web_enum(&tacnet__informant__descriptor, m->informant)
                                 : "nobody named");
            dashboard_web_date(b, m->has_measured_date ? m->measured_date : 0);
            if (m->has_total)
                dashboard_buf_printf(b, ": total %u", m->total);
            if (m->band) {
                dashboard_buf_puts(b, " (");
                dashboard_web_text(b, m->band);
                dashboard_buf_puts(b, ")");
            }
            for (size_t k = 0; k < m->n_goal_scores; k++)
                dashboard_buf_printf(b, "%s goal %u: %u", k ? "," : ":",
                                     k < m->n_goal_ids ? m->goal_ids[k] : (uint32_t)k + 1,
                                     m->goal_scores[k]);
            dashboard_buf_printf(b, "%s</li>", m->has_baseline && m->baseline ? " (baseline)" : "");
        }
        dashboard_buf_puts(b, "</ul>");
    }
    dashboard_buf_puts(b, "</section>");
}

/* One action as it stands (V: the case state's view of it, NULL when the state does not hold
 * it: A as minuted); with REF (not NULL) and while it is open, a link to update it. */
static void s_action(dashboard_buf_t *b, const Tacnet__Action *a, const Tacnet__ActionView *v,
                     const char *ref)
{
    if (v)
        a = v->action;
    int overdue = v && v->has_overdue && v->overdue;
    dashboard_buf_puts(b, "<li>");
    dashboard_web_text(b, a->description);
    dashboard_buf_printf(b, " — %s ",
                         a->has_owner_agency ? dashboard_web_agency_title(a->owner_agency) : "");
    dashboard_web_bytes(b, a->owner_initials);
    dashboard_buf_puts(b, ", due ");
    dashboard_web_date(b, a->due_date);
    dashboard_buf_printf(
        b, ", %s%s",
        a->has_status ? dashboard_web_enum(&tacnet__action_status__descriptor, a->status) : "open",
        overdue ? " <strong class=\"overdue\">overdue</strong>" : "");
    if (v && v->has_updated_by) { /* who moved it last, and when: two people may have */
        dashboard_buf_printf(b, " <span class=\"meta\">(marked by %s, ",
                             dashboard_web_agency_title(v->updated_by));
        dashboard_web_time(b, v->updated_at_ms);
        dashboard_buf_puts(b, ")</span>");
    }
    dashboard_buf_puts(b, " ");
    if (ref && (!a->has_status || a->status == TACNET__ACTION_STATUS__OPEN))
        s_form_link(b, ref, "action_update", "Update", a->action_id);
    dashboard_buf_puts(b, "</li>");
}

/* " (meets the chair rule: ...)", or a visible warning saying why not. */
static void s_chair_rule(dashboard_buf_t *b, const Tacnet__MeetingView *m)
{
    const char *words = m->has_chair_rule ? chair_rule_words(m->chair_rule) : NULL;
    if (!words)
        return;
    if (chair_rule_meets(m->chair_rule))
        dashboard_buf_printf(b, " (%s)", words);
    else
        dashboard_buf_printf(b, " <strong class=\"overdue\">%s</strong>", words);
}

/* One meeting of case SC as agency ME sees it, with what ME may do next on a meeting not minuted
 * (schedule it, record its outcome) while LEAD leads. */
static void s_meeting(dashboard_buf_t *b, const char *ref, const Tacnet__ShowCaseReply *sc,
                      const Tacnet__MeetingView *m, uint32_t me, uint32_t lead)
{
    const Tacnet__CaseState *st = sc->state;
    dashboard_buf_puts(b, "<article class=\"meeting\"><h4>");
    if (m->requested && m->requested->purpose)
        dashboard_web_text(b, m->requested->purpose);
    else
        dashboard_buf_puts(b, "Network meeting");
    dashboard_buf_puts(b, "</h4><dl class=\"fields\">");
    if (m->has_requested_by)
        dashboard_buf_printf(b, "<dt>Requested by</dt><dd>%s</dd>",
                             dashboard_web_agency_title(m->requested_by));
    if (m->chair && !m->outcome) {
        dashboard_buf_puts(b, "<dt>Chair</dt><dd>");
        dashboard_web_prof(b, m->chair);
        s_chair_rule(b, m);
        dashboard_buf_puts(b, "</dd>");
    }
    if (m->scheduled) {
        const Tacnet__MeetingScheduled *sch = m->scheduled;
        dashboard_buf_puts(b, "<dt>Scheduled</dt><dd>");
        dashboard_web_time(b, sch->starts_at_ms);
        dashboard_buf_printf(b, ", %s</dd>",
                             dashboard_web_enum(&tacnet__meeting_mode__descriptor, sch->mode));
        if (sch->n_invited || sch->n_family_invited) {
            /* Each once, however often the form or the API named it. */
            dashboard_buf_puts(b, "<dt>Invited</dt><dd>");
            size_t shown = 0;
            for (size_t i = 0; i < sch->n_invited; i++) {
                size_t k = 0;
                while (k < i && sch->invited[k] != sch->invited[i])
                    k++;
                if (k == i)
                    dashboard_buf_printf(b, "%s%s", shown++ ? ", " : "",
                                         dashboard_web_agency_title(sch->invited[i]));
            }
            for (size_t i = 0; i < sch->n_family_invited; i++) {
                size_t k = 0;
                while (k < i && sch->family_invited[k] != sch->family_invited[i])
                    k++;
                if (k == i)
                    dashboard_buf_printf(b, "%s%s", shown++ ? ", " : "",
                                         dashboard_web_enum(&tacnet__family_role__descriptor,
                                                            sch->family_invited[i]));
            }
            dashboard_buf_puts(b, "</dd>");
        }
    }
    if (m->outcome) {
        const Tacnet__MeetingOutcome *o = m->outcome;
        dashboard_buf_puts(b, "<dt>Held</dt><dd>");
        dashboard_web_date(b, o->held_date);
        dashboard_buf_puts(b, ", chaired by ");
        dashboard_web_prof(b, o->chair);
        s_chair_rule(b, m);
        dashboard_buf_puts(b, "</dd><dt>Attended</dt><dd>");
        for (size_t a = 0; a < o->n_attendees; a++) {
            dashboard_buf_puts(b, a ? "; " : "");
            dashboard_web_prof(b, o->attendees[a]);
        }
        dashboard_buf_puts(b, "</dd>");
        for (size_t f = 0; f < o->n_family; f++) {
            dashboard_buf_puts(b, "<dt>");
            dashboard_web_cap(
                b, dashboard_web_enum(&tacnet__family_role__descriptor, o->family[f]->role));
            dashboard_buf_printf(b, "%s</dt><dd>",
                                 o->family[f]->has_attended && o->family[f]->attended
                                     ? " (attended)"
                                     : " (did not attend)");
            dashboard_web_text(b, o->family[f]->view);
            dashboard_buf_puts(b, "</dd>");
        }
        /* The child's and the family's views, as minuted (or why each is absent). */
        const struct {
            const char *who, *view;
            const Tacnet__ViewAbsent *absent;
        } voice[] = { { "The child's view", o->child_view, o->child_view_absent },
                      { "The family's view", o->family_view, o->family_view_absent } };
        for (size_t v = 0; v < 2; v++) {
            if (!voice[v].view && !voice[v].absent)
                continue;
            dashboard_buf_printf(b, "<dt>%s</dt><dd>", voice[v].who);
            if (voice[v].view)
                dashboard_web_text(b, voice[v].view);
            else
                dashboard_web_view_absent(b, voice[v].absent);
            dashboard_buf_puts(b, "</dd>");
        }
        for (size_t d = 0; d < o->n_decisions; d++) {
            dashboard_buf_puts(b, "<dt>Decision</dt><dd>");
            dashboard_web_text(b, o->decisions[d]);
            dashboard_buf_puts(b, "</dd>");
        }
        dashboard_buf_puts(b, "<dt>Next meeting</dt><dd>");
        dashboard_web_date(b, o->next_meeting_date);
        dashboard_buf_puts(b, "</dd>");
    }
    dashboard_buf_puts(b, "</dl>");
    if (m->outcome && m->outcome->n_actions) {
        dashboard_buf_puts(b, "<h5>Actions</h5><ul>");
        for (size_t a = 0; a < m->outcome->n_actions; a++) {
            s_action(b, m->outcome->actions[a],
                     casestate_action_find(st, m->outcome->actions[a]->action_id), NULL);
        }
        dashboard_buf_puts(b, "</ul>");
    }
    if (m->outcome && m->further) {
        /* Sent by an agency whose view lacks these minutes: not a new date for this meeting. */
        dashboard_buf_puts(b, "<p class=\"notice\">");
        if (m->has_further_by)
            dashboard_buf_printf(b, "%s ", dashboard_web_agency_title(m->further_by));
        dashboard_buf_puts(b, "scheduled a further meeting for ");
        dashboard_web_time(b, m->further->starts_at_ms);
        dashboard_buf_puts(b, " after this one was held: its view does not hold these minutes. "
                              "This meeting's record above stands.</p>");
    }
    if (!m->outcome) {
        dashboard_buf_puts(b, "<p>");
        if (!m->scheduled && st && st->n_withheld) {
            /* Minutes at a class this agency does not receive would not show here. */
            dashboard_buf_printf(b,
                                 "<span class=\"meta\">Not scheduled as far as this agency "
                                 "can see: minutes may have been recorded at a class this "
                                 "agency does not receive; ask the lead professional%s%s%s "
                                 "before scheduling it.</span> ",
                                 lead ? " (" : "", lead ? dashboard_web_agency_title(lead) : "",
                                 lead ? ")" : "");
            s_form_link(b, ref, "meeting_scheduled", "Schedule it after asking", m->meeting_id);
        } else if (!m->scheduled) {
            s_form_link(b, ref, "meeting_scheduled", "Schedule it", m->meeting_id);
        }
        /* The convener's or the lead's to minute (the publish path refuses others). */
        uint32_t members = 0;
        for (size_t k = 0; sc->summary && k < sc->summary->n_members; k++)
            if ((uint32_t)sc->summary->members[k] < 32)
                members |= 1u << (uint32_t)sc->summary->members[k];
        uint32_t convener = chair_rule_minutes_by(m, me, lead, members);
        if (!convener)
            s_form_link(b, ref, "meeting_outcome", "Record the outcome", m->meeting_id);
        else
            dashboard_buf_printf(b, "<span class=\"meta\">%s records the outcome.</span>",
                                 dashboard_web_agency_title(convener));
        dashboard_buf_puts(b, "</p>");
    }
    dashboard_buf_puts(b, "</article>");
}

/* The schedule (meetings asked for or arranged, not yet minuted) apart from the meetings held
 * (minutes recorded): a held meeting listed with those to come read as one still to attend. */
static void s_meetings(dashboard_buf_t *b, const char *ref, const Tacnet__ShowCaseReply *sc,
                       uint32_t me)
{
    const Tacnet__CaseState *st = sc->state;
    uint32_t lead = sc->summary && sc->summary->has_lead ? (uint32_t)sc->summary->lead : 0;
    s_section(b, "meetings", "Meetings and actions");
    size_t held = 0;
    for (size_t i = 0; st && i < st->n_meetings; i++)
        held += st->meetings[i]->outcome != NULL;
    if (st && st->n_meetings) {
        dashboard_buf_puts(b, "<h3>Schedule</h3>");
        if (held == st->n_meetings)
            dashboard_buf_puts(b, "<p>No meeting to come: every meeting of this case has its "
                                  "minutes.</p>");
        for (size_t i = 0; i < st->n_meetings; i++)
            if (!st->meetings[i]->outcome)
                s_meeting(b, ref, sc, st->meetings[i], me, lead);
    }
    if (held) {
        dashboard_buf_puts(b, "<h3>Held (minutes recorded)</h3>");
        for (size_t i = 0; i < st->n_meetings; i++)
            if (st->meetings[i]->outcome)
                s_meeting(b, ref, sc, st->meetings[i], me, lead);
    }
    if (st && st->n_actions) {
        dashboard_buf_puts(b, "<h3>All actions</h3><ul>");
        for (size_t a = 0; a < st->n_actions; a++) {
            /* "Update" where the publish path would take it: the action's owner, the lead or
             * the agency that minuted its meeting, and never on a closed case. */
            const Tacnet__ActionView *v = st->actions[a];
            int may = !st->closed && casestate_action_may_update(st, v, me, lead, NULL);
            s_action(b, v->action, v, may ? ref : NULL);
        }
        dashboard_buf_puts(b, "</ul>");
    }
    if (!st || !st->n_meetings)
        dashboard_buf_puts(b, "<p>No meetings in this agency's view of the case state yet (see the "
                              "timeline).</p>");
    dashboard_buf_puts(b, "</section>");
}

static void s_decision(dashboard_buf_t *b, const Tacnet__Decision *d, uint32_t by)
{
    dashboard_buf_puts(b, "<article class=\"decision\"><h3>");
    dashboard_web_text(b, d->topic ? d->topic : "Decision");
    dashboard_buf_printf(b, "</h3><p>By %s on ", dashboard_web_agency_title(by));
    dashboard_web_date(b, d->decided_date);
    dashboard_buf_puts(b, ".</p><dl class=\"fields\"><dt>Chosen</dt><dd>");
    dashboard_web_text(b, d->chosen);
    dashboard_buf_puts(b, "</dd><dt>Options considered</dt><dd><ul class=\"inline\">");
    for (size_t o = 0; o < d->n_options_considered; o++) {
        dashboard_buf_puts(b, "<li>");
        dashboard_web_text(b, d->options_considered[o]);
        dashboard_buf_puts(b, "</li>");
    }
    dashboard_buf_puts(b, "</ul></dd><dt>Rationale</dt><dd>");
    dashboard_web_text(b, d->rationale);
    dashboard_buf_puts(b, "</dd><dt>Who took part</dt><dd><ul class=\"plain\">");
    for (size_t p = 0; p < d->n_participants; p++) {
        const Tacnet__Participant *pt = d->participants[p];
        dashboard_buf_puts(b, "<li>");
        dashboard_web_prof(b, pt->who);
        dashboard_buf_printf(
            b, " — %s: ", pt->has_agreed ? (pt->agreed ? "agreed" : "disagreed") : "view");
        dashboard_web_text(b, pt->view);
        dashboard_buf_puts(b, "</li>");
    }
    dashboard_buf_puts(b, "</ul></dd><dt>The child's view</dt><dd>");
    dashboard_web_text(b, d->child_view);
    dashboard_buf_puts(b, "</dd><dt>The family's view</dt><dd>");
    dashboard_web_text(b, d->family_view);
    dashboard_buf_puts(b, "</dd></dl>");
    s_challenge(b, d->challenge_request);
    dashboard_buf_puts(b, "</article>");
}

static void s_decisions(dashboard_buf_t *b, const Tacnet__ShowCaseReply *sc)
{
    s_section(b, "decisions", "Decisions");
    size_t n = 0;
    if (sc->state) {
        for (size_t i = 0; i < sc->state->n_decisions; i++, n++)
            s_decision(b, sc->state->decisions[i]->decision, sc->state->decisions[i]->by);
    } else {
        for (size_t i = 0; i < sc->n_timeline; i++) {
            const Tacnet__Body *body = sc->timeline[i]->body;
            if (body && body->event_case == TACNET__BODY__EVENT_DECISION) {
                s_decision(b, body->decision, sc->timeline[i]->header->sender);
                n++;
            }
        }
    }
    if (!n)
        dashboard_buf_puts(b, "<p>No decisions recorded.</p>");
    dashboard_buf_puts(b, "</section>");
}

static void s_consent(dashboard_buf_t *b, const Tacnet__ShowCaseReply *sc)
{
    const Tacnet__CaseState *st = sc->state;
    s_section(b, "consent", "Consent and communication");
    dashboard_web_consent_record(b, st);
    const Tacnet__CommunicationPlan *cp = st ? st->communication_plan : NULL;
    if (cp) {
        dashboard_buf_puts(b, "<h3>Communication plan with the family</h3><p>Named contact ");
        dashboard_web_prof(b, cp->named_contact);
        dashboard_buf_printf(b, "; every %u days by %s; parents %s; starting ", cp->every_days,
                             dashboard_web_enum(&tacnet__contact_method__descriptor, cp->method),
                             cp->has_parents_agreed && cp->parents_agreed ? "agreed"
                                                                          : "not agreed");
        dashboard_web_date(b, cp->start_date);
        dashboard_buf_puts(b, ". Last planned contact ");
        dashboard_web_date(b,
                           st->has_last_planned_contact_date ? st->last_planned_contact_date : 0);
        if (st->n_withheld) {
            /* A contact logged at a class this view does not receive is not counted here. */
            dashboard_buf_puts(b, " <span class=\"meta\">(as this agency's records show it; ");
            dashboard_web_withheld(b, st);
            dashboard_buf_puts(b, ": a contact logged at such a class is not counted here)</span>");
        }
        dashboard_buf_puts(b, ".</p>");
        if (cp->notes) {
            dashboard_buf_puts(b, "<p>");
            dashboard_web_text(b, cp->notes);
            dashboard_buf_puts(b, "</p>");
        }
    } else {
        dashboard_buf_puts(b, "<p>No communication plan recorded.</p>");
    }
    dashboard_buf_puts(b, "</section>");
}

static void s_due(dashboard_buf_t *b, const Tacnet__ShowCaseReply *sc, uint64_t now)
{
    s_section(b, "due", "Due and overdue");
    if (!sc->n_due)
        dashboard_buf_puts(b, "<p>Nothing due.</p>");
    dashboard_buf_puts(b, "<ul>");
    for (size_t i = 0; i < sc->n_due; i++) {
        const Tacnet__DueItem *d = sc->due[i];
        dashboard_buf_puts(b, "<li>");
        dashboard_web_text(b, d->what);
        if (d->label) {
            dashboard_buf_puts(b, ": ");
            dashboard_web_text(b, d->label);
        }
        if (d->has_owner)
            dashboard_buf_printf(b, " (%s)", dashboard_web_agency_title(d->owner));
        /* The day (or moment) it is due, then how long is left: "due 2026-12-11 (6 days 11 h
         * left)"; a date item is due by the end of its day. */
        dashboard_buf_puts(b, " — due ");
        if (d->has_due_date && d->due_date)
            dashboard_web_date(b, d->due_date);
        else
            dashboard_web_time(b, d->due_ms);
        dashboard_buf_puts(b, " (");
        dashboard_web_left(b, d->due_ms, now);
        dashboard_buf_puts(b, ")</li>");
    }
    dashboard_buf_puts(b, "</ul>");
    const Tacnet__CaseState *st = sc->state;
    if (sc->n_due && st && st->n_withheld) {
        /* A meeting minuted, or a visit logged, at a class this agency does not receive still
         * looks owed from here. */
        dashboard_buf_puts(b, "<p class=\"meta\">Worked out from what this agency receives, and "
                              "this agency's view is partial (");
        dashboard_web_withheld(b, st);
        dashboard_buf_puts(b, "): an item may already be done in records it does not receive. "
                              "Ask the lead professional before acting on one.</p>");
    }
    for (size_t i = 0; st && i < st->n_alerts; i++)
        dashboard_buf_printf(
            b, "<p class=\"refusal\">Safeguarding override used by %s (%s).</p>",
            dashboard_web_agency_title(st->alerts[i]->by_agency),
            dashboard_web_enum(&tacnet__override_reason__descriptor, st->alerts[i]->reason));
    for (size_t i = 0; st && i < st->n_non_responses; i++)
        dashboard_buf_printf(b, "<p class=\"refusal\">No response from %s at stage %u.</p>",
                             dashboard_web_agency_title(st->non_responses[i]->agency),
                             st->non_responses[i]->stage);
    if (st && st->closed) {
        dashboard_buf_puts(b, "<p><strong>Case closed</strong> ");
        dashboard_web_date(b, st->closed->closed_date);
        dashboard_buf_puts(b, "</p>");
    }
    dashboard_buf_puts(b, "</section>");
}

/* Joined late: the members whose grants of the case's earlier events have not arrived yet. */
static void s_history_pending(dashboard_buf_t *b, const Tacnet__CaseSummary *s)
{
    if (s->n_history_pending == 0)
        return;
    dashboard_buf_puts(b, "<p class=\"notice history-pending\">History pending from ");
    for (size_t i = 0; i < s->n_history_pending; i++)
        dashboard_buf_printf(b, "%s%s", i ? ", " : "",
                             dashboard_web_agency_title(s->history_pending[i]));
    dashboard_buf_puts(b, ": the case's earlier events will appear when they are online.</p>");
}

/* One event: what happened as a sentence, dated by when it happened (the body's own date) with
 * when it was recorded beside it, and every recorded field one click away. */
/* Who an event of this agency's own went to and who has applied it, from its outcome (the
 * broker's answer and its delivery reports): "shared with Social care and CAMHS · applied by
 * Social care; not yet by CAMHS". Nothing for an event whose outcome is not kept. */
static void s_shared_with(dashboard_buf_t *b, agency_t *agency, const Tacnet__Header *h)
{
    Tacnet__EventStatus st = TACNET__EVENT_STATUS__INIT;
    if (h->msg_id.len != 16 || agency_outcome_read(agency, h->msg_id.data, &st) != 0 ||
        st.state != TACNET__PUBLISH_STATE__PUBLISH_ACCEPTED) {
        agency_outcome_status_free(&st);
        return;
    }
    uint32_t me = (uint32_t)h->sender, to = 0, applied = 0;
    for (size_t i = 0; i < st.n_recipients; i++)
        if ((uint32_t)st.recipients[i] != me && (uint32_t)st.recipients[i] < 32)
            to |= 1u << st.recipients[i];
    for (size_t i = 0; i < st.n_applied_by; i++)
        if ((uint32_t)st.applied_by[i] < 32)
            applied |= 1u << st.applied_by[i];
    applied &= to;
    if (!to) {
        dashboard_buf_puts(b, " · <strong>no other agency receives it</strong>");
        agency_outcome_status_free(&st);
        return;
    }
    char words[256];
    dashboard_buf_printf(b, " · shared with %s", labels_agency_list(to, words, sizeof(words)));
    if (applied)
        dashboard_buf_printf(b, " · applied by %s",
                             labels_agency_list(applied, words, sizeof(words)));
    if (to & ~applied)
        dashboard_buf_printf(b, "%s%s", applied ? "; not yet by " : " · not yet applied by ",
                             labels_agency_list(to & ~applied, words, sizeof(words)));
    agency_outcome_status_free(&st);
}

/* Whether the family's consent was recorded as given on the case when timeline entry I was sent:
 * the latest consent_recorded before it (or the entry itself, a consent or a referral made with
 * the family's consent, whose header says so) is "given". */
static int s_consent_given_at(const Tacnet__ShowCaseReply *sc, size_t i)
{
    for (size_t k = i + 1; k-- > 0;) {
        const Tacnet__Header *h = sc->timeline[k]->header;
        if (!h)
            continue;
        if (h->kind == TACNET__EVENT_KIND__CONSENT_RECORDED && h->has_consent)
            return h->consent == TACNET__CONSENT_STATE__GIVEN;
        if (k == i && h->kind == TACNET__EVENT_KIND__REFERRAL && h->has_consent)
            return h->consent == TACNET__CONSENT_STATE__GIVEN;
    }
    return 0;
}

/* The lawful basis it was shared on, true to the case: "consent" only where consent was given;
 * a team fact goes to the team whatever consent covers; anything else sent on the consent basis
 * with none recorded reached only whom the sharing policy lets receive it without consent. */
static void s_basis_words(dashboard_buf_t *b, const Tacnet__ShowCaseReply *sc, size_t i)
{
    const Tacnet__Header *h = sc->timeline[i]->header;
    if (h->lawful_basis != TACNET__LAWFUL_BASIS__CONSENT || s_consent_given_at(sc, i)) {
        dashboard_buf_puts(b, " information, shared on the basis of ");
        dashboard_buf_puts(b, labels_enum(&tacnet__lawful_basis__descriptor, (int)h->lawful_basis));
        return;
    }
    switch (h->kind) {
    case TACNET__EVENT_KIND__CONSENT_RECORDED:
    case TACNET__EVENT_KIND__MEMBER_JOINED:
    case TACNET__EVENT_KIND__MEMBER_LEFT:
    case TACNET__EVENT_KIND__LEAD_HANDOVER:
    case TACNET__EVENT_KIND__LEAD_ACCEPTED:
    case TACNET__EVENT_KIND__CASE_CLOSED:
        dashboard_buf_puts(b, " information about the team, shared with the team whatever "
                              "consent covers");
        break;
    default:
        dashboard_buf_puts(b, " information; no consent recorded, so shared only where the "
                              "sharing policy allows it without consent");
        break;
    }
}

static void s_timeline_entry(dashboard_buf_t *b, agency_t *agency, const Tacnet__ShowCaseReply *sc,
                             size_t i)
{
    const Tacnet__TimelineEntry *e = sc->timeline[i];
    const Tacnet__Header *h = e->header;
    char sentence[320];
    labels_event_sentence(h, e->body, sentence, sizeof(sentence));
    dashboard_buf_printf(b, "<li class=\"event kind-%s\" id=\"e%llu\"><p class=\"what\">",
                         names_kind(h->kind), (unsigned long long)e->local_seq);
    dashboard_web_text(b, sentence);
    dashboard_buf_puts(b, ".</p><p class=\"meta\">");
    uint32_t on = labels_event_date(e->body);
    if (on) {
        dashboard_buf_puts(b, "<strong>");
        dashboard_web_date(b, on);
        dashboard_buf_puts(b, "</strong> · recorded ");
    }
    dashboard_web_time(b, h->created_at_ms);
    dashboard_buf_puts(b, " · ");
    dashboard_web_cap(b, labels_enum(&tacnet__sensitivity__descriptor, (int)h->sensitivity));
    s_basis_words(b, sc, i);
    dashboard_buf_puts(b, h->has_urgent && h->urgent ? " · <strong>urgent</strong>" : "");
    /* Received on joining: it happened before this agency was a member. */
    if (e->has_history && e->history)
        dashboard_buf_printf(b, " · history from %s",
                             e->has_granted_by ? dashboard_web_agency_title(e->granted_by)
                                               : "a member");
    else if ((uint32_t)h->sender == agency_profile(agency)->agency)
        s_shared_with(b, agency, h);
    dashboard_buf_puts(b, "</p>");
    if (e->body && e->body->event_case != TACNET__BODY__EVENT__NOT_SET) {
        dashboard_buf_puts(b, "<details><summary>What was recorded</summary>");
        dashboard_web_body_fields(b, e->body);
        dashboard_buf_puts(b, "</details>");
    }
    dashboard_buf_puts(b, "</li>");
}

/* The newest events first, a page at a time (?after=CURSOR&limit=N: older ones after it). */
static void s_timeline(dashboard_buf_t *b, agency_t *agency, const Tacnet__ShowCaseReply *sc,
                       const char *cref, const dashboard_kv_t *q)
{
    uint32_t limit;
    dashboard_page_pos_t after;
    int has_after;
    char why[128];
    if (dashboard_page_read(q, &limit, &after, &has_after, why, sizeof(why)) != 0) {
        limit = DASHBOARD_PAGE_DEFAULT;
        has_after = 0;
    }
    s_section(b, "timeline", "Timeline");
    size_t k = sc->n_timeline, shown = 0;
    while (has_after && k > 0 && sc->timeline[k - 1]->local_seq >= after.key)
        k--;
    dashboard_buf_printf(b, "<ol class=\"timeline\" reversed start=\"%zu\">", k);
    for (; k > 0 && shown < limit; k--, shown++)
        s_timeline_entry(b, agency, sc, k - 1);
    dashboard_buf_puts(b, "</ol><nav class=\"pager\" aria-label=\"Timeline pages\">");
    if (has_after)
        dashboard_buf_printf(b, "<a href=\"/cases/%s#timeline\">Newest events</a> ", cref);
    if (k > 0) {
        dashboard_page_pos_t pos = { .key = sc->timeline[k]->local_seq };
        char cursor[DASHBOARD_PAGE_CURSOR];
        dashboard_page_cursor(&pos, cursor);
        dashboard_buf_printf(b,
                             "<a href=\"/cases/%s?after=%s&amp;limit=%u#timeline\">%zu older "
                             "event%s</a>",
                             cref, cursor, limit, k, k == 1 ? "" : "s");
    }
    dashboard_buf_puts(b, "</nav></section>");
}

void dashboard_web_case(dashboard_web_t *w, const char *ref)
{
    char actor[48];
    dashboard_web_actor(w->user, actor, sizeof(actor));
    Tacnet__ApiReply reply = TACNET__API_REPLY__INIT;
    int rc = dashboard_web_case_read(w->agency, actor, ref, &reply);
    const char *published = dashboard_kv_get(w->query, "published");
    if (rc == TACNET_ENOTFOUND && published && strlen(published) == 32 &&
        strspn(published, "0123456789abcdef") == 32 &&
        policy_case_ref_check((const uint8_t *)ref, strlen(ref)) == 0) {
        /* A case this agency just tried to open: what the broker said of its first event. If
         * it accepted it, its copy comes back to the view a moment later; the page follows the
         * stream and shows the case once it is there (live.js refreshes the region). */
        uint8_t id[16];
        size_t len = 0;
        Tacnet__EventStatus st = TACNET__EVENT_STATUS__INIT;
        int known = sodium_hex2bin(id, sizeof(id), published, 32, NULL, &len, NULL) == 0 &&
                    len == 16 && agency_outcome_read(w->agency, id, &st) == 0;
        int accepted = known && st.state == TACNET__PUBLISH_STATE__PUBLISH_ACCEPTED;
        agency_outcome_status_free(&st);
        char live[128];
        snprintf(live, sizeof(live), "/events?case=%s&amp;after=0", ref);
        dashboard_web_head(w, ref, accepted ? live : NULL);
        dashboard_buf_printf(&w->body, "<h1>%s</h1>", ref);
        if (accepted) {
            dashboard_buf_printf(&w->body,
                                 "<p class=\"ok\" role=\"status\">Case opened: the broker "
                                 "accepted your concern. The case appears here as soon as it is "
                                 "back in this agency's view (usually within a second).</p><p><a "
                                 "class=\"button\" href=\"/cases/%s?published=%s\">Show the "
                                 "case</a></p>",
                                 ref, published);
        } else {
            s_published(w, published); /* refused (with the broker's reason) or not yet */
            dashboard_buf_puts(&w->body, "<p><a class=\"button\" href=\"/outbox\">The outbox"
                                         "</a> <a class=\"button\" href=\"/\">My cases</a></p>");
        }
        dashboard_web_foot(w);
        return;
    }
    if (rc != 0) {
        dashboard_web_error(w, rc == TACNET_ENOTFOUND ? 404 : 503, rc,
                            rc == TACNET_ENOTFOUND
                                ? "this agency is not in the team of a case with that reference "
                                  "(it never was, or it has left or been taken out)"
                                : tacnet_strerror(rc));
        return;
    }
    const Tacnet__ShowCaseReply *sc = reply.show_case;
    const Tacnet__CaseSummary *s = sc->summary;
    uint64_t now = clock_now_ms();
    dashboard_buf_t *b = &w->body;
    char live[96], cref[40];
    snprintf(cref, sizeof(cref), "%.*s", (int)s->case_ref.len, (const char *)s->case_ref.data);
    uint64_t last = 0;
    for (size_t i = 0; i < sc->n_timeline; i++)
        if (sc->timeline[i]->local_seq > last)
            last = sc->timeline[i]->local_seq;
    snprintf(live, sizeof(live), "/events?case=%s&amp;after=%llu", cref, (unsigned long long)last);
    dashboard_web_head(w, cref, live);
    dashboard_buf_printf(b, "<h1>%s ", cref);
    dashboard_web_bytes(b, s->initials);
    dashboard_buf_puts(b, "</h1><p class=\"lead\">Lead professional: ");
    if (sc->state && sc->state->lead)
        dashboard_web_prof(b, sc->state->lead);
    else
        dashboard_buf_puts(b, s->has_lead ? dashboard_web_agency_title(s->lead) : "none yet");
    dashboard_buf_puts(b, "</p>");
    if (sc->state && sc->state->n_withheld) {
        dashboard_buf_puts(b, "<p class=\"meta\">This agency's view: ");
        dashboard_web_withheld(b, sc->state);
        dashboard_buf_puts(b, " (its role's sharing policy, or the consent in force).</p>");
    }
    s_history_pending(b, s);
    if (sc->state && sc->state->closed) {
        /* Nothing more can be recorded on it (E_CLOSED): say so instead of offering forms. */
        const Tacnet__CaseClosed *cl = sc->state->closed;
        dashboard_buf_puts(b, "<p class=\"notice\" role=\"status\"><strong>This case is closed");
        if (cl->has_closed_date) {
            dashboard_buf_puts(b, " (");
            dashboard_web_date(b, cl->closed_date);
            dashboard_buf_puts(b, ")");
        }
        if (cl->has_reason && cl->reason)
            dashboard_buf_printf(
                b, ": %s", dashboard_web_enum(&tacnet__closure_reason__descriptor, cl->reason));
        dashboard_buf_puts(b, ".</strong> Nothing more can be recorded on it; its record stays "
                              "below.</p>");
    }
    uint32_t me = agency_profile(w->agency)->agency;
    if (!(sc->state && sc->state->closed)) {
        dashboard_buf_puts(b, "<nav class=\"actions\" aria-label=\"Record\">");
        const agency_profile_t *pr = agency_profile(w->agency);
        s_offer(b, pr, cref, "concern", "Record a concern");
        s_offer(b, pr, cref, "decision", "Record a decision");
        s_offer(b, pr, cref, "disagreement", "Raise a disagreement");
        s_offer(b, pr, cref, "meeting_requested", "Request a meeting");
        s_offer(b, pr, cref, "meeting_outcome", "Record a meeting");
        s_offer(b, pr, cref, "outcome_measure", "Record an outcome measure");
        s_offer(b, pr, cref, "contact_logged", "Log a contact");
        s_offer(b, pr, cref, "involvement_preferences", "How the family want to be involved");
        s_offer(b, pr, cref, "partnership_rating", "Rate the partnership");
        dashboard_buf_printf(
            b, "<a class=\"button\" href=\"/cases/%s/family-summary\">Summary for the family</a> ",
            cref);
        s_offer(b, pr, cref, "consent_recorded", "Record consent");
        s_offer(b, pr, cref, "care_plan", "Set the plan");
        s_offer(b, pr, cref, "assessment", "Record an assessment");
        s_offer(b, pr, cref, "referral", "Make a referral");
        s_offer(b, pr, cref, "member_joined", "Add a member");
        s_offer(b, pr, cref, "member_left", "A member leaves");
        /* Handing over and closing are the lead's (route.c, s_authority), or anyone's while the
         * case has no lead. */
        if (!s->has_lead || (uint32_t)s->lead == me) {
            s_offer(b, pr, cref, "lead_handover", "Hand over the lead");
            s_offer(b, pr, cref, "case_closed", "Close the case");
        }
        dashboard_buf_puts(b, "</nav>");
    }
    s_published(w, dashboard_kv_get(w->query, "published"));
    dashboard_web_family_involvement(b, sc->state);
    s_escalations(b, cref, sc, now, agency_profile(w->agency)->agency);
    s_team(b, sc, cref, agency_profile(w->agency)->agency);
    s_decisions(b, sc);
    s_plan(b, sc, me);
    s_meetings(b, cref, sc, me);
    s_consent(b, sc);
    dashboard_web_family_ladder(b, sc->state);
    s_due(b, sc, now);
    dashboard_web_identity_section(w, cref);
    s_timeline(b, w->agency, sc, cref, w->query);
    dashboard_web_foot(w);
    agency_reply_free(&reply);
}
