/* partnership_report: figures from clear headers, counts only, small counts suppressed. The
 * headers are synthetic; no case is real. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "casework/partnership_report.h"
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
    partnership_report_figures(r, &f);
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
    partnership_report_figures(r, &f);
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
