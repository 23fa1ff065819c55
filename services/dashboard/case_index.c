/* case_index: case summaries kept up to date from the view's new events (see case_index.h). */
#include "case_index.h"
#include "web_internal.h"
#include "clock.h"
#include "err.h"

#include <stdlib.h>
#include <string.h>

/* More new events than this and one read of every case is cheaper than one per event's case. */
#define INDEX_MAX_EVENTS 5000

struct dashboard_index {
    Tacnet__ListCasesReply list; /* sorted by case_ref */
    dashboard_index_esc_t *esc;  /* parallel to list.cases */
    uint64_t head;               /* the view's local seq the list reflects */
    uint64_t loaded_ms;          /* monotonic time of the last full read */
    int loaded;
};

static void s_list_free(Tacnet__ListCasesReply *list)
{
    Tacnet__ApiReply w = TACNET__API_REPLY__INIT;
    w.result_case = TACNET__API_REPLY__RESULT_CASES;
    w.cases = xcalloc(1, sizeof(*list));
    *w.cases = *list;
    agency_reply_free(&w);
    tacnet__list_cases_reply__init(list);
}

static void s_summary_free(Tacnet__CaseSummary *s)
{
    Tacnet__ListCasesReply one = TACNET__LIST_CASES_REPLY__INIT;
    one.cases = xcalloc(1, sizeof(s));
    one.cases[0] = s;
    one.n_cases = 1;
    s_list_free(&one);
}

static int s_ref_cmp(const uint8_t *a, size_t al, const uint8_t *b, size_t bl)
{
    int c = memcmp(a, b, al < bl ? al : bl);
    return c ? c : al < bl ? -1 : al > bl ? 1 : 0;
}

static int s_sort_cmp(const void *x, const void *y)
{
    const Tacnet__CaseSummary *a = *(Tacnet__CaseSummary *const *)x;
    const Tacnet__CaseSummary *b = *(Tacnet__CaseSummary *const *)y;
    return s_ref_cmp(a->case_ref.data, a->case_ref.len, b->case_ref.data, b->case_ref.len);
}

dashboard_index_t *dashboard_index_new(void)
{
    dashboard_index_t *self = xcalloc(1, sizeof(*self));
    tacnet__list_cases_reply__init(&self->list);
    return self;
}

void dashboard_index_destroy(dashboard_index_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    s_list_free(&(*self_p)->list);
    free((*self_p)->esc);
    free(*self_p);
    *self_p = NULL;
}

/* The escalation facts of a case read in full. */
static dashboard_index_esc_t s_esc_of(const Tacnet__ShowCaseReply *sc)
{
    dashboard_index_esc_t e = { .known = 1 };
    const Tacnet__CaseState *st = sc->state;
    for (size_t i = 0; st && i < st->n_escalations; i++) {
        const Tacnet__EscalationView *ev = st->escalations[i];
        if (!ev->has_state || !dashboard_web_escalation_open(ev))
            continue;
        e.open++;
        if (ev->has_deadline_ms && (!e.next_deadline || ev->deadline_ms < e.next_deadline))
            e.next_deadline = ev->deadline_ms;
    }
    return e;
}

/* The facts of the cases of NEW that OLD (both sorted by reference) held with the same last
 * activity: an escalation changes only by an event, which moves the case's last activity. */
static dashboard_index_esc_t *s_esc_carry(const Tacnet__ListCasesReply *old,
                                          const dashboard_index_esc_t *old_esc,
                                          const Tacnet__ListCasesReply *new)
{
    dashboard_index_esc_t *e = xcalloc(new->n_cases ? new->n_cases : 1, sizeof(*e));
    size_t i = 0, k = 0;
    while (old_esc && i < new->n_cases &&k < old->n_cases) {
        const Tacnet__CaseSummary *a = new->cases[i], *b = old->cases[k];
        int c = s_ref_cmp(a->case_ref.data, a->case_ref.len, b->case_ref.data, b->case_ref.len);
        if (c == 0 && a->last_activity_ms == b->last_activity_ms)
            e[i] = old_esc[k];
        i += c <= 0;
        k += c >= 0;
    }
    return e;
}

static int s_full(dashboard_index_t *self, agency_t *agency, uint64_t head)
{
    Tacnet__ListCasesReply list = TACNET__LIST_CASES_REPLY__INIT;
    int rc = agency_view_list(agency, &list, 0);
    if (rc != 0) {
        s_list_free(&list);
        return rc;
    }
    if (list.n_cases > 1) /* an empty view has no array: qsort must not see NULL */
        qsort(list.cases, list.n_cases, sizeof(*list.cases), s_sort_cmp);
    dashboard_index_esc_t *esc = s_esc_carry(&self->list, self->esc, &list);
    s_list_free(&self->list);
    free(self->esc);
    self->list = list;
    self->esc = esc;
    self->head = head;
    self->loaded_ms = clock_mono_ms();
    self->loaded = 1;
    return 0;
}

/* The position of REF in the list, or where it would go (*FOUND 0). */
static size_t s_find(const dashboard_index_t *self, const uint8_t *ref, size_t len, int *found)
{
    size_t lo = 0, hi = self->list.n_cases;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const Tacnet__CaseSummary *s = self->list.cases[mid];
        int c = s_ref_cmp(s->case_ref.data, s->case_ref.len, ref, len);
        if (c == 0) {
            *found = 1;
            return mid;
        }
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    *found = 0;
    return lo;
}

/* Read case REF again: its summary replaces the index's, or, when the view no longer holds it,
 * it leaves the index. */
static void s_refresh_case(dashboard_index_t *self, agency_t *agency, const uint8_t *ref,
                           size_t len)
{
    Tacnet__ApiReply show = TACNET__API_REPLY__INIT;
    show.result_case = TACNET__API_REPLY__RESULT_SHOW_CASE;
    show.show_case = xcalloc(1, sizeof(*show.show_case));
    tacnet__show_case_reply__init(show.show_case);
    int rc = agency_view_show(agency, ref, len, show.show_case);
    Tacnet__CaseSummary *s = rc == 0 ? show.show_case->summary : NULL;
    dashboard_index_esc_t esc = s ? s_esc_of(show.show_case) : (dashboard_index_esc_t){ 0 };
    if (s)
        show.show_case->summary = NULL; /* the index's now */
    agency_reply_free(&show);
    int found;
    size_t at = s_find(self, ref, len, &found);
    Tacnet__ListCasesReply *l = &self->list;
    if (found) {
        s_summary_free(l->cases[at]);
        if (s) {
            l->cases[at] = s;
            self->esc[at] = esc;
        } else {
            size_t tail = l->n_cases - at - 1;
            memmove(&l->cases[at], &l->cases[at + 1], tail * sizeof(*l->cases));
            memmove(&self->esc[at], &self->esc[at + 1], tail * sizeof(*self->esc));
            l->n_cases--;
        }
    } else if (s) {
        size_t tail = l->n_cases - at;
        l->cases = xrealloc(l->cases, (l->n_cases + 1) * sizeof(*l->cases));
        self->esc = xrealloc(self->esc, (l->n_cases + 1) * sizeof(*self->esc));
        memmove(&l->cases[at + 1], &l->cases[at], tail * sizeof(*l->cases));
        memmove(&self->esc[at + 1], &self->esc[at], tail * sizeof(*self->esc));
        l->cases[at] = s;
        self->esc[at] = esc;
        l->n_cases++;
    }
}

/* Read again the cases of the events applied after the index's head, up to HEAD. Returns 0, a
 * store code, or TACNET_ETOOBIG when there are too many (read everything instead). */
static int s_catch_up(dashboard_index_t *self, agency_t *agency, uint64_t head)
{
    if (head - self->head > INDEX_MAX_EVENTS)
        return TACNET_ETOOBIG;
    uint64_t at = self->head;
    while (at < head) {
        Tacnet__ApiReply f = TACNET__API_REPLY__INIT;
        f.result_case = TACNET__API_REPLY__RESULT_FOLLOW;
        f.follow = xcalloc(1, sizeof(*f.follow));
        tacnet__follow_reply__init(f.follow);
        int rc = agency_view_follow(agency, at, 1000, f.follow);
        for (size_t i = 0; rc == 0 && i < f.follow->n_entries; i++) {
            ProtobufCBinaryData ref = f.follow->entries[i]->header->case_ref;
            int seen = 0; /* one read per case, however many of its events there are */
            for (size_t k = 0; k < i && !seen; k++) {
                ProtobufCBinaryData o = f.follow->entries[k]->header->case_ref;
                seen = o.len == ref.len && memcmp(o.data, ref.data, ref.len) == 0;
            }
            if (!seen)
                s_refresh_case(self, agency, ref.data, ref.len);
        }
        uint64_t next = rc == 0 ? f.follow->next_local_seq : at;
        agency_reply_free(&f);
        if (rc != 0)
            return rc;
        if (next <= at)
            break;
        at = next;
    }
    self->head = at > head ? at : head;
    return 0;
}

int dashboard_index_cases(dashboard_index_t *self, agency_t *agency,
                          const Tacnet__ListCasesReply **list)
{
    *list = &self->list;
    uint64_t head = 0;
    int rc = agency_view_head(agency, &head);
    if (rc != 0)
        return rc;
    if (!self->loaded || clock_mono_ms() - self->loaded_ms >= DASHBOARD_INDEX_FULL_MS ||
        head < self->head)
        return s_full(self, agency, head);
    if (head == self->head)
        return 0;
    rc = s_catch_up(self, agency, head);
    return rc == TACNET_ETOOBIG ? s_full(self, agency, head) : rc;
}

/* Read the facts of case I of the list. */
static void s_esc_read(dashboard_index_t *self, agency_t *agency, size_t i)
{
    const Tacnet__CaseSummary *s = self->list.cases[i];
    Tacnet__ApiReply show = TACNET__API_REPLY__INIT;
    show.result_case = TACNET__API_REPLY__RESULT_SHOW_CASE;
    show.show_case = xcalloc(1, sizeof(*show.show_case));
    tacnet__show_case_reply__init(show.show_case);
    /* A case the view refuses (shredded since the last full read) has none to show. */
    if (agency_view_show(agency, s->case_ref.data, s->case_ref.len, show.show_case) == 0)
        self->esc[i] = s_esc_of(show.show_case);
    self->esc[i].known = 1;
    agency_reply_free(&show);
}

const dashboard_index_esc_t *dashboard_index_escalations(dashboard_index_t *self, agency_t *agency)
{
    for (size_t i = 0; i < self->list.n_cases; i++)
        if (!self->esc[i].known)
            s_esc_read(self, agency, i);
    return self->esc;
}

size_t dashboard_index_settle(dashboard_index_t *self, agency_t *agency, uint64_t budget_ms)
{
    uint64_t until = clock_mono_ms() + budget_ms;
    size_t left = 0;
    for (size_t i = 0; i < self->list.n_cases; i++) {
        if (self->esc[i].known)
            continue;
        if (clock_mono_ms() >= until) {
            left++;
            continue;
        }
        s_esc_read(self, agency, i);
    }
    return left;
}
