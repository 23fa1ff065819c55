#include <criterion/criterion.h>
#include <string.h>

#include "casework/measure.h"
#include "err.h"

static Tacnet__OutcomeMeasure s_measure(Tacnet__MeasureTool tool, Tacnet__Informant who,
                                        uint32_t *values, size_t n)
{
    Tacnet__OutcomeMeasure m = TACNET__OUTCOME_MEASURE__INIT;
    m.tool = tool;
    m.has_tool = 1;
    m.informant = who;
    m.has_informant = 1;
    m.values = values;
    m.n_values = n;
    return m;
}

/* A synthetic response vector, worked by hand from the SDQ scoring sheet: emotional 5,
 * conduct 4 (item 7 reversed), hyperactivity 9 (21 and 25 reversed), peer 4 (11 and 14
 * reversed), prosocial 6; total difficulties 22. */
static uint32_t S_SDQ_VECTOR[25] = { 2, 2, 1, 2, 1, 0, 0, 2, 1, 2, 2, 0, 1,
                                     1, 2, 1, 1, 1, 2, 0, 0, 0, 1, 0, 1 };

Test(measure, sdq_known_vector_scores_every_scale_and_total)
{
    Tacnet__OutcomeMeasure m =
        s_measure(TACNET__MEASURE_TOOL__SDQ, TACNET__INFORMANT__PARENT_REPORT, S_SDQ_VECTOR, 25);
    measure_score_t s;
    char why[MEASURE_WHY_MAX];
    cr_assert_eq(measure_score(&m, &s, why, sizeof(why)), 0, "%s", why);
    cr_assert_eq(s.sdq_scale[MEASURE_SDQ_EMOTIONAL], 5);
    cr_assert_eq(s.sdq_scale[MEASURE_SDQ_CONDUCT], 4);
    cr_assert_eq(s.sdq_scale[MEASURE_SDQ_HYPERACTIVITY], 9);
    cr_assert_eq(s.sdq_scale[MEASURE_SDQ_PEER], 4);
    cr_assert_eq(s.sdq_scale[MEASURE_SDQ_PROSOCIAL], 6);
    cr_assert_eq(s.total, 22);
}

Test(measure, sdq_reverse_scored_items_count_when_nothing_is_ticked_true)
{
    uint32_t zeros[25] = { 0 };
    Tacnet__OutcomeMeasure m =
        s_measure(TACNET__MEASURE_TOOL__SDQ, TACNET__INFORMANT__PARENT_REPORT, zeros, 25);
    measure_score_t s;
    cr_assert_eq(measure_score(&m, &s, NULL, 0), 0);
    /* "Not true" on items 7, 11, 14, 21 and 25 is the worrying answer. */
    cr_assert_eq(s.sdq_scale[MEASURE_SDQ_CONDUCT], 2);
    cr_assert_eq(s.sdq_scale[MEASURE_SDQ_PEER], 4);
    cr_assert_eq(s.sdq_scale[MEASURE_SDQ_HYPERACTIVITY], 4);
    cr_assert_eq(s.total, 10);
    int reversed = 0;
    cr_assert_eq(measure_sdq_item_scale(14, &reversed), MEASURE_SDQ_PEER);
    cr_assert_eq(reversed, 1);
    cr_assert_eq(measure_sdq_item_scale(26, &reversed), -1);
}

Test(measure, sdq_bands_differ_by_informant)
{
    measure_score_t p, t, c;
    Tacnet__OutcomeMeasure m =
        s_measure(TACNET__MEASURE_TOOL__SDQ, TACNET__INFORMANT__PARENT_REPORT, S_SDQ_VECTOR, 25);
    cr_assert_eq(measure_score(&m, &p, NULL, 0), 0);
    m.informant = TACNET__INFORMANT__TEACHER_REPORT;
    cr_assert_eq(measure_score(&m, &t, NULL, 0), 0);
    m.informant = TACNET__INFORMANT__SELF_REPORT;
    cr_assert_eq(measure_score(&m, &c, NULL, 0), 0);

    cr_assert_eq(p.sdq_band[MEASURE_SDQ_PEER], MEASURE_BAND_HIGH);   /* parent 4 = high */
    cr_assert_eq(t.sdq_band[MEASURE_SDQ_PEER], MEASURE_BAND_SLIGHT); /* teacher 3-4 */
    cr_assert_eq(c.sdq_band[MEASURE_SDQ_PEER], MEASURE_BAND_HIGH);   /* self 4 = high */
    cr_assert_eq(p.sdq_band[MEASURE_SDQ_EMOTIONAL], MEASURE_BAND_HIGH);
    cr_assert_eq(t.sdq_band[MEASURE_SDQ_EMOTIONAL], MEASURE_BAND_HIGH);
    cr_assert_eq(c.sdq_band[MEASURE_SDQ_EMOTIONAL], MEASURE_BAND_SLIGHT);
    cr_assert_eq(p.sdq_band[MEASURE_SDQ_PROSOCIAL], MEASURE_BAND_HIGH); /* parent 6 = low */
    cr_assert_eq(t.sdq_band[MEASURE_SDQ_PROSOCIAL], MEASURE_BAND_AVERAGE);
    cr_assert_eq(c.sdq_band[MEASURE_SDQ_PROSOCIAL], MEASURE_BAND_SLIGHT);
    cr_assert_eq(p.sdq_band[MEASURE_SDQ_HYPERACTIVITY], MEASURE_BAND_VERY_HIGH);
    cr_assert_eq(p.sdq_total_band, MEASURE_BAND_VERY_HIGH);
    cr_assert_str_eq(measure_band_name(p.sdq_band[MEASURE_SDQ_PROSOCIAL], 1), "low");
    cr_assert_str_eq(measure_band_name(t.sdq_band[MEASURE_SDQ_PEER], 0), "slightly raised");
}

Test(measure, sdq_total_band_edges_follow_the_parent_cut_offs)
{
    /* Hyperactivity and conduct items only, so the total is easy to steer: 13 average,
     * 14 slightly raised, 17 high, 20 very high. */
    static const struct {
        unsigned total;
        measure_band_t band;
    } cases[] = { { 13, MEASURE_BAND_AVERAGE },
                  { 14, MEASURE_BAND_SLIGHT },
                  { 17, MEASURE_BAND_HIGH },
                  { 19, MEASURE_BAND_HIGH },
                  { 20, MEASURE_BAND_VERY_HIGH } };
    /* Non-reversed difficulty items, 2 points each: 3 8 13 16 24 5 12 18 22 2 10 15 6 19 23 */
    static const unsigned items[] = { 3, 8, 13, 16, 24, 5, 12, 18, 22, 2, 10, 15, 6, 19, 23 };
    for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
        uint32_t v[25] = { 0 };
        /* the reversed items answered "Certainly true" score 0 */
        v[6] = v[10] = v[13] = v[20] = v[24] = 2;
        unsigned left = cases[c].total;
        for (size_t i = 0; left; i++) {
            unsigned give = left >= 2 ? 2 : 1;
            v[items[i] - 1] = give;
            left -= give;
        }
        Tacnet__OutcomeMeasure m =
            s_measure(TACNET__MEASURE_TOOL__SDQ, TACNET__INFORMANT__PARENT_REPORT, v, 25);
        measure_score_t s;
        cr_assert_eq(measure_score(&m, &s, NULL, 0), 0);
        cr_assert_eq(s.total, cases[c].total);
        cr_assert_eq(s.sdq_total_band, cases[c].band, "total %u", cases[c].total);
    }
}

Test(measure, sdq_item_out_of_range_is_refused_naming_the_item)
{
    uint32_t v[25];
    memcpy(v, S_SDQ_VECTOR, sizeof(v));
    v[13] = 3;
    Tacnet__OutcomeMeasure m =
        s_measure(TACNET__MEASURE_TOOL__SDQ, TACNET__INFORMANT__PARENT_REPORT, v, 25);
    measure_score_t s;
    char why[MEASURE_WHY_MAX];
    cr_assert_eq(measure_score(&m, &s, why, sizeof(why)), TACNET_EMEASURE);
    cr_assert_str_eq(why, "SDQ item 14 is 3; items score 0–2");
    cr_assert_eq(s.total, 0);
}

Test(measure, sdq_incomplete_or_without_informant_is_refused)
{
    Tacnet__OutcomeMeasure m =
        s_measure(TACNET__MEASURE_TOOL__SDQ, TACNET__INFORMANT__PARENT_REPORT, S_SDQ_VECTOR, 24);
    char why[MEASURE_WHY_MAX];
    measure_score_t s;
    cr_assert_eq(measure_score(&m, &s, why, sizeof(why)), TACNET_EMEASURE);
    cr_assert_str_eq(why, "SDQ has 24 items; needs 25");
    m.n_values = 25;
    m.informant = TACNET__INFORMANT__CLINICIAN;
    cr_assert_eq(measure_score(&m, &s, why, sizeof(why)), TACNET_EMEASURE);
    cr_assert(strstr(why, "informant") != NULL);
}

Test(measure, rcads_subscales_cover_every_item_once_with_standard_sizes)
{
    unsigned size[MEASURE_RCADS_SCALES] = { 0 };
    for (unsigned i = 1; i <= 47; i++) {
        int s = measure_rcads_item_scale(i);
        cr_assert(s >= 0 && s < MEASURE_RCADS_SCALES, "item %u", i);
        size[s]++;
    }
    cr_assert_eq(measure_rcads_item_scale(0), -1);
    cr_assert_eq(measure_rcads_item_scale(48), -1);
    cr_assert_eq(size[MEASURE_RCADS_SEPARATION], 7);
    cr_assert_eq(size[MEASURE_RCADS_GENERALISED], 6);
    cr_assert_eq(size[MEASURE_RCADS_PANIC], 9);
    cr_assert_eq(size[MEASURE_RCADS_SOCIAL], 9);
    cr_assert_eq(size[MEASURE_RCADS_OCD], 6);
    cr_assert_eq(size[MEASURE_RCADS_DEPRESSION], 10);
}

Test(measure, rcads_scores_subscales_total_anxiety_and_total)
{
    uint32_t v[47] = { 0 };
    v[4] = 3;  /* item 5: separation */
    v[44] = 2; /* item 45: separation */
    v[0] = 1;  /* item 1: generalised */
    v[2] = 2;  /* item 3: panic */
    v[3] = 3;  /* item 4: social */
    v[9] = 1;  /* item 10: OCD */
    v[1] = 3;  /* item 2: depression */
    v[46] = 2; /* item 47: depression */
    Tacnet__OutcomeMeasure m =
        s_measure(TACNET__MEASURE_TOOL__RCADS, TACNET__INFORMANT__SELF_REPORT, v, 47);
    measure_score_t s;
    cr_assert_eq(measure_score(&m, &s, NULL, 0), 0);
    cr_assert_eq(s.rcads_scale[MEASURE_RCADS_SEPARATION], 5);
    cr_assert_eq(s.rcads_scale[MEASURE_RCADS_GENERALISED], 1);
    cr_assert_eq(s.rcads_scale[MEASURE_RCADS_PANIC], 2);
    cr_assert_eq(s.rcads_scale[MEASURE_RCADS_SOCIAL], 3);
    cr_assert_eq(s.rcads_scale[MEASURE_RCADS_OCD], 1);
    cr_assert_eq(s.rcads_scale[MEASURE_RCADS_DEPRESSION], 5);
    cr_assert_eq(s.rcads_total_anxiety, 12);
    cr_assert_eq(s.total, 17);

    for (size_t i = 0; i < 47; i++)
        v[i] = 3;
    cr_assert_eq(measure_score(&m, &s, NULL, 0), 0);
    cr_assert_eq(s.total, 141);
    cr_assert_eq(s.rcads_total_anxiety, 111);
}

Test(measure, rcads_refusals_name_the_item_or_the_count)
{
    uint32_t v[47] = { 0 };
    char why[MEASURE_WHY_MAX];
    measure_score_t s;
    Tacnet__OutcomeMeasure m =
        s_measure(TACNET__MEASURE_TOOL__RCADS, TACNET__INFORMANT__PARENT_REPORT, v, 45);
    cr_assert_eq(measure_score(&m, &s, why, sizeof(why)), TACNET_EMEASURE);
    cr_assert_str_eq(why, "RCADS has 45 items; needs 47");
    m.n_values = 47;
    v[46] = 4;
    cr_assert_eq(measure_score(&m, &s, why, sizeof(why)), TACNET_EMEASURE);
    cr_assert_str_eq(why, "RCADS item 47 is 4; items score 0–3");
}

Test(measure, gbo_scores_goals_and_refuses_bad_goals)
{
    uint32_t v[4] = { 3, 7, 5, 1 };
    uint32_t ids[4] = { 2, 1, 3, 3 };
    Tacnet__OutcomeMeasure m =
        s_measure(TACNET__MEASURE_TOOL__GBO, TACNET__INFORMANT__SELF_REPORT, v, 3);
    m.goal_ids = ids;
    m.n_goal_ids = 3;
    measure_score_t s;
    char why[MEASURE_WHY_MAX];
    cr_assert_eq(measure_score(&m, &s, why, sizeof(why)), 0, "%s", why);
    cr_assert_eq(s.n_goals, 3);
    cr_assert_eq(s.goal_ids[0], 2);
    cr_assert_eq(s.goal_scores[1], 7);

    m.n_values = m.n_goal_ids = 4;
    cr_assert_eq(measure_score(&m, &s, why, sizeof(why)), TACNET_EMEASURE);
    cr_assert_str_eq(why, "GBO has 4 goals; at most 3");

    m.n_values = 3;
    m.n_goal_ids = 2;
    cr_assert_eq(measure_score(&m, &s, why, sizeof(why)), TACNET_EMEASURE);
    cr_assert(strstr(why, "3 scores and 2 goal ids") != NULL, "%s", why);

    m.n_goal_ids = 3;
    v[2] = 11;
    cr_assert_eq(measure_score(&m, &s, why, sizeof(why)), TACNET_EMEASURE);
    cr_assert_str_eq(why, "GBO goal 3 is 11; goals score 0–10");

    v[2] = 5;
    ids[2] = 2;
    cr_assert_eq(measure_score(&m, &s, why, sizeof(why)), TACNET_EMEASURE);
    cr_assert_str_eq(why, "GBO goal 2 is scored twice");

    ids[2] = 4;
    cr_assert_eq(measure_score(&m, &s, why, sizeof(why)), TACNET_EMEASURE);
    cr_assert_str_eq(why, "GBO goal id 4 is not a goal; ids are 1–3");

    m.n_values = m.n_goal_ids = 0;
    cr_assert_eq(measure_score(&m, &s, why, sizeof(why)), TACNET_EMEASURE);
}

Test(measure, ors_and_cors_total_and_refusals)
{
    uint32_t v[4] = { 4, 6, 5, 7 };
    Tacnet__OutcomeMeasure m =
        s_measure(TACNET__MEASURE_TOOL__CORS, TACNET__INFORMANT__SELF_REPORT, v, 4);
    measure_score_t s;
    char why[MEASURE_WHY_MAX];
    cr_assert_eq(measure_score(&m, &s, why, sizeof(why)), 0);
    cr_assert_eq(s.total, 22);
    v[2] = 12;
    cr_assert_eq(measure_score(&m, &s, why, sizeof(why)), TACNET_EMEASURE);
    cr_assert_str_eq(why, "CORS scale 3 is 12; scales score 0–10");
    m.tool = TACNET__MEASURE_TOOL__ORS;
    m.n_values = 3;
    cr_assert_eq(measure_score(&m, &s, why, sizeof(why)), TACNET_EMEASURE);
    cr_assert_str_eq(why, "ORS has 3 scales; needs 4");
    m.tool = TACNET__MEASURE_TOOL__TOOL_UNKNOWN;
    cr_assert_eq(measure_score(&m, &s, why, sizeof(why)), TACNET_EMEASURE);
}

Test(measure, gbo_progress_is_per_goal_from_baseline)
{
    uint32_t b[2] = { 2, 4 }, bid[2] = { 1, 2 };
    uint32_t l[3] = { 6, 3, 5 }, lid[3] = { 2, 1, 3 };
    Tacnet__OutcomeMeasure mb =
        s_measure(TACNET__MEASURE_TOOL__GBO, TACNET__INFORMANT__PARENT_REPORT, b, 2);
    mb.goal_ids = bid;
    mb.n_goal_ids = 2;
    Tacnet__OutcomeMeasure ml =
        s_measure(TACNET__MEASURE_TOOL__GBO, TACNET__INFORMANT__PARENT_REPORT, l, 3);
    ml.goal_ids = lid;
    ml.n_goal_ids = 3;
    measure_score_t sb, sl;
    measure_progress_t p;
    cr_assert_eq(measure_score(&mb, &sb, NULL, 0), 0);
    cr_assert_eq(measure_score(&ml, &sl, NULL, 0), 0);
    cr_assert_eq(measure_progress(&sb, &sl, &p), 0);
    cr_assert_eq(p.n_goals, 3);
    cr_assert_eq(p.goal_ids[0], 2);
    cr_assert_eq(p.goal_change[0], 2);
    cr_assert_eq(p.goal_ids[1], 1);
    cr_assert_eq(p.goal_change[1], 1);
    cr_assert_eq(p.goal_has_baseline[2], 0); /* goal 3 was set after the baseline */
}

Test(measure, total_progress_counts_a_fall_in_difficulties_as_improvement)
{
    uint32_t zeros[25] = { 0 };
    Tacnet__OutcomeMeasure m =
        s_measure(TACNET__MEASURE_TOOL__SDQ, TACNET__INFORMANT__PARENT_REPORT, S_SDQ_VECTOR, 25);
    measure_score_t base, later;
    cr_assert_eq(measure_score(&m, &base, NULL, 0), 0); /* 22 */
    m.values = zeros;
    cr_assert_eq(measure_score(&m, &later, NULL, 0), 0); /* 10 */
    measure_progress_t p;
    cr_assert_eq(measure_progress(&base, &later, &p), 0);
    cr_assert_eq(p.total_change, -12);
    cr_assert_eq(p.total_improvement, 12);

    uint32_t o1[4] = { 2, 2, 2, 2 }, o2[4] = { 5, 5, 5, 5 };
    Tacnet__OutcomeMeasure ors =
        s_measure(TACNET__MEASURE_TOOL__ORS, TACNET__INFORMANT__SELF_REPORT, o1, 4);
    measure_score_t ob, ol;
    cr_assert_eq(measure_score(&ors, &ob, NULL, 0), 0);
    ors.values = o2;
    cr_assert_eq(measure_score(&ors, &ol, NULL, 0), 0);
    cr_assert_eq(measure_progress(&ob, &ol, &p), 0);
    cr_assert_eq(p.total_change, 12);
    cr_assert_eq(p.total_improvement, 12);
    cr_assert_eq(measure_progress(&ob, &later, &p), TACNET_EINVAL); /* ORS against SDQ */
}
