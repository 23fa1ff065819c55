/* partnership_report: figures from clear headers, counts only, small counts suppressed. The
 * headers are synthetic; no case is real. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "casework/partnership_report.h"
#include "clock.h"
#include "cli/report_cmd.h"

#define DAY_MS 86400000ull

typedef struct {
    Tacnet__Header h;
    char ref[24];
    uint8_t id[16], about[16];
} hdr_t;

/* A header of KIND on case number N from SENDER; ID and ABOUT name msg_id and refers_to. */
static void s_h(hdr_t *x, Tacnet__EventKind kind, unsigned n, uint32_t sender, uint8_t id,
                uint8_t about)
{
    memset(x, 0, sizeof(*x));
    tacnet__header__init(&x->h);
    snprintf(x->ref, sizeof(x->ref), "LA9-2026-%06u", n);
    x->h.kind = kind;
    x->h.sender = (Tacnet__Agency)sender;
    x->h.case_ref = (ProtobufCBinaryData){ strlen(x->ref), (uint8_t *)x->ref };
    memset(x->id, id, 16);
    x->h.msg_id = (ProtobufCBinaryData){ 16, x->id };
    if (about) {
        memset(x->about, about, 16);
        x->h.has_refers_to = 1;
        x->h.refers_to = (ProtobufCBinaryData){ 16, x->about };
    }
}

static void s_assess(partnership_report_t *r, unsigned n, uint32_t sender, uint32_t level)
{
    hdr_t x;
    s_h(&x, TACNET__EVENT_KIND__ASSESSMENT, n, sender, (uint8_t)(n * 8 + sender), 0);
    x.h.has_level_of_need = 1;
    x.h.level_of_need = level;
    partnership_report_add(r, &x.h);
}

static void s_notice(partnership_report_t *r, unsigned n, uint8_t esc, uint32_t stage,
                     Tacnet__EscalationEvent ev, uint64_t at_ms)
{
    hdr_t x;
    s_h(&x, TACNET__EVENT_KIND__ESCALATION_NOTICE, n, TACNET__AGENCY__BROKER, 0xee, esc);
    x.h.has_escalation_stage = 1;
    x.h.escalation_stage = stage;
    x.h.has_escalation_event = 1;
    x.h.escalation_event = ev;
    x.h.created_at_ms = at_ms;
    partnership_report_add(r, &x.h);
}

Test(partnership_report, a_case_counts_at_the_highest_latest_level_of_its_members)
{
    partnership_report_t *r = partnership_report_new();
    s_assess(r, 1, TACNET__AGENCY__SCHOOL, 4);
    s_assess(r, 1, TACNET__AGENCY__SCHOOL, 2); /* the school's latest is 2 */
    s_assess(r, 1, TACNET__AGENCY__SOCIAL_CARE, 3);
    for (unsigned n = 2; n <= 7; n++)
        s_assess(r, n, TACNET__AGENCY__HEALTH_VISITING, 2);
    hdr_t x;
    s_h(&x, TACNET__EVENT_KIND__CONCERN, 8, TACNET__AGENCY__SCHOOL, 0x80, 0);
    partnership_report_add(r, &x.h);
    s_h(&x, TACNET__EVENT_KIND__CASE_CLOSED, 2, TACNET__AGENCY__HEALTH_VISITING, 0x81, 0);
    partnership_report_add(r, &x.h);
    partnership_report_figures_t f;
    partnership_report_figures(r, 40 * DAY_MS, &f);
    cr_assert_eq(f.cases, 8);
    cr_assert_eq(f.cases_closed, 1);
    cr_assert_eq(f.by_need[0], 1, "the concern-only case is not assessed");
    cr_assert_eq(f.by_need[2], 6);
    cr_assert_eq(f.by_need[3], 1, "case 1: social care's 3 over the school's latest 2");
    cr_assert_eq(f.by_need[4], 0);
    partnership_report_destroy(&r);
    cr_assert_null(r);
}

Test(partnership_report, escalations_count_once_by_highest_stage_with_their_time_to_close)
{
    partnership_report_t *r = partnership_report_new();
    hdr_t x;
    /* Six raised escalations: each opened at day 0; escalation k reaches stage k % 4 + 1 and
     * closes after k + 1 days, notices repeated per audience. */
    for (uint8_t k = 0; k < 6; k++) {
        s_h(&x, TACNET__EVENT_KIND__DISAGREEMENT, 10 + k, TACNET__AGENCY__SCHOOL, 0x10 + k, 0x70);
        partnership_report_add(r, &x.h);
        for (int twice = 0; twice < 2; twice++)
            s_notice(r, 10 + k, 0x10 + k, 1, TACNET__ESCALATION_EVENT__ESC_OPENED, 1000);
        s_notice(r, 10 + k, 0x10 + k, k % 4 + 1, TACNET__ESCALATION_EVENT__ESC_ADVANCED,
                 1000 + DAY_MS);
        s_notice(r, 10 + k, 0x10 + k, k % 4 + 1, TACNET__ESCALATION_EVENT__ESC_CLOSED,
                 1000 + (k + 1ull) * DAY_MS);
    }
    /* A disagreement that joined another escalation (no notice), and an automatic one still
     * open. */
    s_h(&x, TACNET__EVENT_KIND__DISAGREEMENT, 10, TACNET__AGENCY__CAMHS, 0x30, 0x71);
    partnership_report_add(r, &x.h);
    s_notice(r, 20, 0x40, 1, TACNET__ESCALATION_EVENT__ESC_OPENED, 5000);
    partnership_report_figures_t f;
    partnership_report_figures(r, 40 * DAY_MS, &f);
    cr_assert_eq(f.escalations, 7);
    cr_assert_eq(f.escalations_open, 1);
    cr_assert_eq(f.escalations_automatic, 1);
    cr_assert_eq(f.by_stage[1], 3, "k = 0, 4 and the automatic one");
    cr_assert_eq(f.by_stage[2], 2);
    cr_assert_eq(f.by_stage[3], 1);
    cr_assert_eq(f.by_stage[4], 1);
    cr_assert_eq(f.closed_with_time, 6);
    cr_assert_eq(f.resolve_median_ms, 4 * DAY_MS, "days 1..6: the upper median is 4");
    cr_assert_eq(f.resolve_max_ms, 6 * DAY_MS);
    partnership_report_destroy(&r);
}

Test(partnership_report,
     counts_under_five_are_suppressed_and_so_is_whatever_the_total_would_give_away)
{
    char buf[16];
    cr_assert_str_eq(partnership_report_count(4, 0, buf, sizeof(buf)), "<5");
    cr_assert_str_eq(partnership_report_count(0, 0, buf, sizeof(buf)), "<5");
    cr_assert_str_eq(partnership_report_count(5, 0, buf, sizeof(buf)), "5");
    cr_assert_str_eq(partnership_report_count(12, 1, buf, sizeof(buf)), "<5");

    int hidden[5];
    const unsigned one_small[5] = { 20, 7, 3, 9, 11 };
    cr_assert_eq(partnership_report_suppress(one_small, 5, hidden), 2);
    cr_assert(hidden[2] && hidden[1], "3 hidden, and 7, the next smallest, with it");
    cr_assert(!hidden[0] && !hidden[3] && !hidden[4]);

    /* 2 and 1 hidden add up to 3, which the total would give away: 8 goes too. */
    const unsigned two_small[4] = { 2, 30, 1, 8 };
    cr_assert_eq(partnership_report_suppress(two_small, 4, hidden), 3);
    cr_assert(hidden[0] && hidden[2] && hidden[3] && !hidden[1]);

    const unsigned small_but_enough[4] = { 4, 3, 30, 8 };
    cr_assert_eq(partnership_report_suppress(small_but_enough, 4, hidden), 2);
    cr_assert(hidden[0] && hidden[1] && !hidden[2] && !hidden[3]);

    const unsigned none_small[3] = { 5, 6, 50 };
    cr_assert_eq(partnership_report_suppress(none_small, 3, hidden), 0);
}

Test(partnership_report, the_printed_report_carries_no_identifier_and_suppresses)
{
    partnership_report_figures_t f = { .cases = 40, .cases_closed = 3, .escalations = 9 };
    f.by_need[2] = 30, f.by_need[3] = 8, f.by_need[4] = 2;
    f.by_stage[1] = 6, f.by_stage[2] = 3;
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);
    cli_broker_report_print(&f, 0, out);
    fclose(out);
    cr_assert(strstr(text, "cases 40, closed <5"), "%s", text);
    cr_assert(strstr(text, "2 early help         30"), "%s", text);
    cr_assert(strstr(text, "3 child in need      <5"), "8 goes with the lone 2: %s", text);
    cr_assert(strstr(text, "time to resolve: fewer than 5"), "%s", text);
    cr_assert_null(strstr(text, "LA9-"), "%s", text);
    free(text);
}

static void s_rate(partnership_report_t *r, unsigned n, uint32_t rater, uint32_t about, int family,
                   uint32_t rung, uint8_t id)
{
    hdr_t x;
    s_h(&x, TACNET__EVENT_KIND__PARTNERSHIP_RATING, n, rater, id, 0);
    x.h.has_ladder_rung = 1;
    x.h.ladder_rung = rung;
    x.h.has_subject_agency = 1;
    x.h.subject_agency = (Tacnet__Agency)about;
    x.h.has_rated_by_family = family;
    x.h.rated_by_family = family;
    partnership_report_add(r, &x.h);
}

Test(partnership_report, ladder_ratings_count_each_raters_latest_apart_from_the_familys)
{
    partnership_report_t *r = partnership_report_new();
    /* Case 1: the school rates social care 2 then 6 (the 6 counts); CAMHS rates the school 8. */
    s_rate(r, 1, TACNET__AGENCY__SCHOOL, TACNET__AGENCY__SOCIAL_CARE, 0, 2, 1);
    s_rate(r, 1, TACNET__AGENCY__SCHOOL, TACNET__AGENCY__SOCIAL_CARE, 0, 6, 2);
    s_rate(r, 1, TACNET__AGENCY__CAMHS, TACNET__AGENCY__SCHOOL, 0, 8, 3);
    /* The same pair on case 2 is another rating. */
    s_rate(r, 2, TACNET__AGENCY__SCHOOL, TACNET__AGENCY__SOCIAL_CARE, 0, 5, 4);
    /* Families of cases 1..6 rate the team (recorded by social care): 3,4,7,7,8,9. */
    static const uint32_t fam[6] = { 3, 4, 7, 7, 8, 9 };
    for (unsigned n = 1; n <= 6; n++)
        s_rate(r, n, TACNET__AGENCY__SOCIAL_CARE, TACNET__AGENCY__PARTNERSHIP, 1, fam[n - 1],
               (uint8_t)(10 + n));
    /* A rung out of range never counts (the broker refuses such a header anyway). */
    s_rate(r, 7, TACNET__AGENCY__SCHOOL, TACNET__AGENCY__CAMHS, 0, 12, 30);
    partnership_report_figures_t f;
    partnership_report_figures(r, 40 * DAY_MS, &f);
    cr_assert_eq(f.ratings[0], 3, "school of social care twice (cases 1 and 2), CAMHS once");
    cr_assert_eq(f.rating_bands[0][0], 0);
    cr_assert_eq(f.rating_bands[0][1], 2, "6 and 5");
    cr_assert_eq(f.rating_bands[0][2], 1, "8");
    cr_assert_eq(f.rating_median[0], 6);
    cr_assert_eq(f.ratings[1], 6);
    cr_assert_eq(f.rating_bands[1][0], 1);
    cr_assert_eq(f.rating_bands[1][1], 1);
    cr_assert_eq(f.rating_bands[1][2], 4);
    cr_assert_eq(f.rating_median[1], 7, "3,4,7,7,8,9: the upper median is 7");
    cr_assert_eq(partnership_report_band(1), 0);
    cr_assert_eq(partnership_report_band(4), 1);
    cr_assert_eq(partnership_report_band(9), 2);
    partnership_report_destroy(&r);
}

static void s_review(partnership_report_t *r, unsigned n, Tacnet__EventKind kind, uint32_t due,
                     uint8_t id)
{
    hdr_t x;
    s_h(&x, kind, n, TACNET__AGENCY__SOCIAL_CARE, id, 0);
    if (due) {
        x.h.has_review_due_date = 1;
        x.h.review_due_date = due;
    }
    partnership_report_add(r, &x.h);
}

Test(partnership_report, an_open_case_past_its_latest_review_date_is_overdue_from_the_next_day)
{
    partnership_report_t *r = partnership_report_new();
    /* "Today" is 2026-03-10. */
    uint64_t now = clock_date_to_ms(20260310) + 15 * 3600 * 1000ull;
    s_review(r, 1, TACNET__EVENT_KIND__CARE_PLAN, 20260301, 1);       /* overdue */
    s_review(r, 2, TACNET__EVENT_KIND__CARE_PLAN, 20260301, 2);       /* then reviewed: */
    s_review(r, 2, TACNET__EVENT_KIND__MEETING_OUTCOME, 20260412, 3); /* not overdue */
    s_review(r, 3, TACNET__EVENT_KIND__CARE_PLAN, 20260310, 4);       /* due today: on time */
    s_review(r, 4, TACNET__EVENT_KIND__CARE_PLAN, 20260201, 5);       /* overdue, but closed */
    hdr_t x;
    s_h(&x, TACNET__EVENT_KIND__CASE_CLOSED, 4, TACNET__AGENCY__SOCIAL_CARE, 6, 0);
    partnership_report_add(r, &x.h);
    s_review(r, 5, TACNET__EVENT_KIND__MEETING_OUTCOME, 0, 7); /* no plan: no date */
    partnership_report_figures_t f;
    partnership_report_figures(r, now, &f);
    cr_assert_eq(f.cases_review_known, 3, "cases 1, 2 and 3 (4 is closed, 5 has no date)");
    cr_assert_eq(f.reviews_overdue, 1, "case 1 only");
    partnership_report_figures(r, now + 86400000ull, &f);
    cr_assert_eq(f.reviews_overdue, 2, "case 3 a day later");
    partnership_report_destroy(&r);
}

Test(partnership_report, ratings_and_reviews_are_printed_suppressed_with_the_rungs_name)
{
    partnership_report_figures_t f = { .cases = 40 };
    f.ratings[0] = 12, f.rating_bands[0][0] = 2, f.rating_bands[0][1] = 4, f.rating_bands[0][2] = 6,
    f.rating_median[0] = 7;
    f.ratings[1] = 3, f.rating_bands[1][2] = 3, f.rating_median[1] = 8;
    f.cases_review_known = 20, f.reviews_overdue = 6;
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);
    cli_broker_report_print(&f, 0, out);
    fclose(out);
    cr_assert(strstr(text, "agencies' ratings of each other (each rater's latest): 12, median "
                           "rung 7 Collaboration"),
              "%s", text);
    cr_assert(strstr(text, "families' ratings of the team (each rater's latest): <5\n"),
              "no median over fewer than 5: %s", text);
    cr_assert(strstr(text, "review date 20, review overdue 6"), "%s", text);
    free(text);
    text = NULL;
    out = open_memstream(&text, &len);
    cli_broker_report_print(&f, 1, out);
    fclose(out);
    cr_assert(strstr(text, "\"median_rung_name\": \"Collaboration\""), "%s", text);
    cr_assert(strstr(text, "\"reviews_overdue\": \"6\""), "%s", text);
    free(text);
}
