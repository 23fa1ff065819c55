/* partnership_report: partnership figures without identifiers (partnership_report.h). */
#include "casework/partnership_report.h"

#include "clock.h"
#include "err.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_AGENCY 16

typedef struct s_case {
    uint8_t ref[32];
    size_t len;
    uint8_t level[MAX_AGENCY]; /* each agency's latest assessed level */
    int closed;
    uint32_t review_due; /* yyyymmdd from the latest care plan or meeting outcome, 0 unknown */
} s_case_t;

/* One rater's latest rating of one subject on one case (the case by its index). */
typedef struct s_rating {
    size_t case_i;
    uint32_t rater, subject;
    int family;
    uint32_t rung;
} s_rating_t;

typedef struct s_esc {
    uint8_t id[16];
    uint32_t stage;
    uint64_t opened_ms, closed_ms;
    int raised; /* a disagreement opened it; otherwise the level-of-need trigger did */
} s_esc_t;

struct partnership_report {
    s_case_t *cases;
    size_t n_cases;
    s_esc_t *escs;
    size_t n_escs;
    s_rating_t *ratings;
    size_t n_ratings;
};

partnership_report_t *partnership_report_new(void)
{
    return xcalloc(1, sizeof(partnership_report_t));
}

void partnership_report_destroy(partnership_report_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    partnership_report_t *self = *self_p;
    /* The case references are identifiers: nothing of them outlives the report. */
    if (self->cases)
        memset(self->cases, 0, self->n_cases * sizeof(*self->cases));
    free(self->cases);
    free(self->escs);
    free(self->ratings);
    free(self);
    *self_p = NULL;
}

static s_case_t *s_case(partnership_report_t *self, const ProtobufCBinaryData *ref)
{
    if (ref->len == 0 || ref->len > sizeof(self->cases[0].ref))
        return NULL;
    for (size_t i = 0; i < self->n_cases; i++)
        if (self->cases[i].len == ref->len && memcmp(self->cases[i].ref, ref->data, ref->len) == 0)
            return &self->cases[i];
    self->cases = xrealloc(self->cases, (self->n_cases + 1) * sizeof(*self->cases));
    s_case_t *c = &self->cases[self->n_cases++];
    memset(c, 0, sizeof(*c));
    memcpy(c->ref, ref->data, ref->len);
    c->len = ref->len;
    return c;
}

static s_esc_t *s_esc(partnership_report_t *self, const ProtobufCBinaryData *id)
{
    if (id->len != 16)
        return NULL;
    for (size_t i = 0; i < self->n_escs; i++)
        if (memcmp(self->escs[i].id, id->data, 16) == 0)
            return &self->escs[i];
    self->escs = xrealloc(self->escs, (self->n_escs + 1) * sizeof(*self->escs));
    s_esc_t *e = &self->escs[self->n_escs++];
    memset(e, 0, sizeof(*e));
    memcpy(e->id, id->data, 16);
    return e;
}

/* A broker notice: one per audience, so each escalation is keyed by its id (refers_to). */
static void s_notice(partnership_report_t *self, const Tacnet__Header *h)
{
    s_esc_t *e = h->has_refers_to ? s_esc(self, &h->refers_to) : NULL;
    if (!e)
        return;
    if (h->has_escalation_stage && h->escalation_stage > e->stage &&
        h->escalation_stage <= PARTNERSHIP_REPORT_STAGES)
        e->stage = h->escalation_stage;
    if (h->escalation_event == TACNET__ESCALATION_EVENT__ESC_OPENED && !e->opened_ms)
        e->opened_ms = h->created_at_ms;
    if (h->escalation_event == TACNET__ESCALATION_EVENT__ESC_CLOSED && !e->closed_ms)
        e->closed_ms = h->created_at_ms;
}

/* A rating replaces the same rater's earlier one of the same subject on the same case. */
static void s_rating(partnership_report_t *self, const s_case_t *c, const Tacnet__Header *h)
{
    if (!h->has_ladder_rung || h->ladder_rung < 1 || h->ladder_rung > 9)
        return;
    s_rating_t r = { .case_i = (size_t)(c - self->cases),
                     .rater = (uint32_t)h->sender,
                     .subject = h->has_subject_agency ? (uint32_t)h->subject_agency : 0,
                     .family = h->has_rated_by_family && h->rated_by_family,
                     .rung = h->ladder_rung };
    for (size_t i = 0; i < self->n_ratings; i++) {
        s_rating_t *o = &self->ratings[i];
        if (o->case_i == r.case_i && o->rater == r.rater && o->subject == r.subject &&
            o->family == r.family) {
            o->rung = r.rung;
            return;
        }
    }
    self->ratings = xrealloc(self->ratings, (self->n_ratings + 1) * sizeof(*self->ratings));
    self->ratings[self->n_ratings++] = r;
}

unsigned partnership_report_band(uint32_t rung)
{
    return rung <= 3 ? 0 : rung <= 6 ? 1 : 2;
}

void partnership_report_add(partnership_report_t *self, const Tacnet__Header *h)
{
    if (!self || !h)
        return;
    s_case_t *c = s_case(self, &h->case_ref);
    if (!c)
        return;
    switch (h->kind) {
    case TACNET__EVENT_KIND__ASSESSMENT:
        if (h->has_level_of_need && h->level_of_need >= 1 && h->level_of_need <= 4 &&
            h->sender < MAX_AGENCY)
            c->level[h->sender] = (uint8_t)h->level_of_need;
        break;
    case TACNET__EVENT_KIND__CASE_CLOSED:
        c->closed = 1;
        break;
    case TACNET__EVENT_KIND__DISAGREEMENT: {
        /* The escalation a disagreement opens takes the disagreement's msg_id as its id. */
        s_esc_t *e = s_esc(self, &h->msg_id);
        if (e)
            e->raised = 1;
        break;
    }
    case TACNET__EVENT_KIND__ESCALATION_NOTICE:
        s_notice(self, h);
        break;
    case TACNET__EVENT_KIND__PARTNERSHIP_RATING:
        s_rating(self, c, h);
        break;
    case TACNET__EVENT_KIND__CARE_PLAN:
    case TACNET__EVENT_KIND__MEETING_OUTCOME:
        if (h->has_review_due_date)
            c->review_due = h->review_due_date;
        break;
    default:
        break;
    }
}

static int s_cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* Ratings: counts per band, and the median rung of each group. */
static void s_rating_figures(const partnership_report_t *self, partnership_report_figures_t *out)
{
    unsigned by_rung[2][10] = { { 0 } };
    for (size_t i = 0; i < self->n_ratings; i++) {
        const s_rating_t *r = &self->ratings[i];
        int g = r->family != 0;
        out->ratings[g]++;
        out->rating_bands[g][partnership_report_band(r->rung)]++;
        by_rung[g][r->rung]++;
    }
    for (int g = 0; g < 2; g++) {
        unsigned seen = 0, half = out->ratings[g] / 2;
        for (unsigned rung = 1; rung <= 9 && out->ratings[g]; rung++) {
            seen += by_rung[g][rung];
            if (seen > half) {
                out->rating_median[g] = rung;
                break;
            }
        }
    }
}

void partnership_report_figures(const partnership_report_t *self, uint64_t now_ms,
                                partnership_report_figures_t *out)
{
    memset(out, 0, sizeof(*out));
    if (!self)
        return;
    uint64_t today = now_ms - now_ms % CLOCK_DAY_MS;
    for (size_t i = 0; i < self->n_cases; i++) {
        const s_case_t *c = &self->cases[i];
        unsigned level = 0;
        for (size_t a = 0; a < MAX_AGENCY; a++)
            if (c->level[a] > level)
                level = c->level[a];
        out->cases++;
        out->cases_closed += c->closed != 0;
        out->by_need[level]++;
        if (c->closed || !c->review_due)
            continue;
        out->cases_review_known++;
        uint64_t due = clock_date_to_ms(c->review_due);
        out->reviews_overdue += due && today > due; /* a review on its due day is on time */
    }
    s_rating_figures(self, out);
    uint64_t *took = xcalloc(self->n_escs + 1, sizeof(*took));
    for (size_t i = 0; i < self->n_escs; i++) {
        const s_esc_t *e = &self->escs[i];
        if (!e->opened_ms && !e->stage)
            continue; /* a disagreement that joined another escalation, or never opened one */
        out->escalations++;
        out->escalations_automatic += !e->raised;
        out->by_stage[e->stage ? e->stage : 1]++;
        if (!e->closed_ms)
            out->escalations_open++;
        else if (e->opened_ms && e->closed_ms >= e->opened_ms)
            took[out->closed_with_time++] = e->closed_ms - e->opened_ms;
    }
    if (out->closed_with_time) {
        qsort(took, out->closed_with_time, sizeof(*took), s_cmp_u64);
        out->resolve_median_ms = took[out->closed_with_time / 2];
        out->resolve_max_ms = took[out->closed_with_time - 1];
    }
    free(took);
}

size_t partnership_report_suppress(const unsigned *counts, size_t n, int *hidden)
{
    size_t n_hidden = 0;
    unsigned long sum = 0;
    for (size_t i = 0; i < n; i++) {
        hidden[i] = counts[i] < PARTNERSHIP_REPORT_MIN;
        n_hidden += (size_t)hidden[i];
        sum += hidden[i] ? counts[i] : 0;
    }
    /* The hidden cells add up to the total minus the others: while that is itself a small
     * number, hide the smallest cell still shown as well. */
    while (n_hidden > 0 && n_hidden < n && sum < PARTNERSHIP_REPORT_MIN) {
        size_t next = n;
        for (size_t i = 0; i < n; i++)
            if (!hidden[i] && (next == n || counts[i] < counts[next]))
                next = i;
        hidden[next] = 1;
        n_hidden++;
        sum += counts[next];
    }
    return n_hidden;
}

const char *partnership_report_count(unsigned count, int hide, char *buf, size_t cap)
{
    if (hide || count < PARTNERSHIP_REPORT_MIN)
        snprintf(buf, cap, "<%u", PARTNERSHIP_REPORT_MIN);
    else
        snprintf(buf, cap, "%u", count);
    return buf;
}
