/* measure: validation and scoring of outcome measures. See measure.h. */
#include "casework/measure.h"
#include "casework/why.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "err.h"

/* SDQ item map, questionnaire order (sdqinfo.org, "Scoring the SDQ for age 4 to 17"). */
static const struct {
    uint8_t scale;
    uint8_t reversed;
} S_SDQ_ITEMS[MEASURE_SDQ_ITEMS] = {
    { MEASURE_SDQ_PROSOCIAL, 0 },     { MEASURE_SDQ_HYPERACTIVITY, 0 }, /*  1  2 */
    { MEASURE_SDQ_EMOTIONAL, 0 },     { MEASURE_SDQ_PROSOCIAL, 0 },     /*  3  4 */
    { MEASURE_SDQ_CONDUCT, 0 },       { MEASURE_SDQ_PEER, 0 },          /*  5  6 */
    { MEASURE_SDQ_CONDUCT, 1 },       { MEASURE_SDQ_EMOTIONAL, 0 },     /*  7  8 */
    { MEASURE_SDQ_PROSOCIAL, 0 },     { MEASURE_SDQ_HYPERACTIVITY, 0 }, /*  9 10 */
    { MEASURE_SDQ_PEER, 1 },          { MEASURE_SDQ_CONDUCT, 0 },       /* 11 12 */
    { MEASURE_SDQ_EMOTIONAL, 0 },     { MEASURE_SDQ_PEER, 1 },          /* 13 14 */
    { MEASURE_SDQ_HYPERACTIVITY, 0 }, { MEASURE_SDQ_EMOTIONAL, 0 },     /* 15 16 */
    { MEASURE_SDQ_PROSOCIAL, 0 },     { MEASURE_SDQ_CONDUCT, 0 },       /* 17 18 */
    { MEASURE_SDQ_PEER, 0 },          { MEASURE_SDQ_PROSOCIAL, 0 },     /* 19 20 */
    { MEASURE_SDQ_HYPERACTIVITY, 1 }, { MEASURE_SDQ_CONDUCT, 0 },       /* 21 22 */
    { MEASURE_SDQ_PEER, 0 },          { MEASURE_SDQ_EMOTIONAL, 0 },     /* 23 24 */
    { MEASURE_SDQ_HYPERACTIVITY, 1 },                                   /* 25 */
};

/* The published four-band cut-offs (sdqinfo.org scoring instructions for SDQs for 4- to
 * 17-year-olds, UK norms; reproduced e.g. in PMC4830858 Table 1 for the teacher version).
 * Difficulty rows give the top score of "close to average", "slightly raised" and "high";
 * anything above is "very high". The prosocial row gives the lowest score of "close to
 * average", "slightly lowered" and "low"; anything below is "very low". Row order: the five
 * scales in enum order, then total difficulties. */
static const uint8_t S_SDQ_CUTS[3][MEASURE_SDQ_SCALES + 1][3] = {
    /* parent */
    { { 3, 4, 6 }, { 2, 3, 5 }, { 5, 7, 8 }, { 2, 3, 4 }, { 8, 7, 6 }, { 13, 16, 19 } },
    /* teacher */
    { { 3, 4, 5 }, { 2, 3, 4 }, { 5, 7, 8 }, { 2, 4, 5 }, { 6, 5, 4 }, { 11, 15, 18 } },
    /* self-report */
    { { 4, 5, 6 }, { 3, 4, 5 }, { 5, 6, 7 }, { 2, 3, 4 }, { 7, 6, 5 }, { 14, 17, 19 } },
};

/* RCADS item map (Chorpita et al. 2000; RCADS User's Guide, UCLA Child FIRST). */
static const uint8_t S_RCADS_ITEMS[MEASURE_RCADS_ITEMS] = {
    MEASURE_RCADS_GENERALISED, MEASURE_RCADS_DEPRESSION,  MEASURE_RCADS_PANIC,       /*  1- 3 */
    MEASURE_RCADS_SOCIAL,      MEASURE_RCADS_SEPARATION,  MEASURE_RCADS_DEPRESSION,  /*  4- 6 */
    MEASURE_RCADS_SOCIAL,      MEASURE_RCADS_SOCIAL,      MEASURE_RCADS_SEPARATION,  /*  7- 9 */
    MEASURE_RCADS_OCD,         MEASURE_RCADS_DEPRESSION,  MEASURE_RCADS_SOCIAL,      /* 10-12 */
    MEASURE_RCADS_GENERALISED, MEASURE_RCADS_PANIC,       MEASURE_RCADS_DEPRESSION,  /* 13-15 */
    MEASURE_RCADS_OCD,         MEASURE_RCADS_SEPARATION,  MEASURE_RCADS_SEPARATION,  /* 16-18 */
    MEASURE_RCADS_DEPRESSION,  MEASURE_RCADS_SOCIAL,      MEASURE_RCADS_DEPRESSION,  /* 19-21 */
    MEASURE_RCADS_GENERALISED, MEASURE_RCADS_OCD,         MEASURE_RCADS_PANIC,       /* 22-24 */
    MEASURE_RCADS_DEPRESSION,  MEASURE_RCADS_PANIC,       MEASURE_RCADS_GENERALISED, /* 25-27 */
    MEASURE_RCADS_PANIC,       MEASURE_RCADS_DEPRESSION,  MEASURE_RCADS_SOCIAL,      /* 28-30 */
    MEASURE_RCADS_OCD,         MEASURE_RCADS_SOCIAL,      MEASURE_RCADS_SEPARATION,  /* 31-33 */
    MEASURE_RCADS_PANIC,       MEASURE_RCADS_GENERALISED, MEASURE_RCADS_PANIC,       /* 34-36 */
    MEASURE_RCADS_GENERALISED, MEASURE_RCADS_SOCIAL,      MEASURE_RCADS_PANIC,       /* 37-39 */
    MEASURE_RCADS_DEPRESSION,  MEASURE_RCADS_PANIC,       MEASURE_RCADS_OCD,         /* 40-42 */
    MEASURE_RCADS_SOCIAL,      MEASURE_RCADS_OCD,         MEASURE_RCADS_SEPARATION,  /* 43-45 */
    MEASURE_RCADS_SEPARATION,  MEASURE_RCADS_DEPRESSION,                             /* 46-47 */
};

/* Every item present and within 0..MAX; NAME and NOUN shape the message. */
static int s_items(const Tacnet__OutcomeMeasure *m, const char *name, size_t want, uint32_t max,
                   char *why, size_t cap)
{
    if (m->n_values != want)
        return casework_refuse(TACNET_EMEASURE, why, cap, "%s has %zu items; needs %zu", name,
                               m->n_values, want);
    for (size_t i = 0; i < want; i++)
        if (m->values[i] > max)
            return casework_refuse(TACNET_EMEASURE, why, cap, "%s item %zu is %u; items score 0–%u",
                                   name, i + 1, m->values[i], max);
    return 0;
}

static measure_band_t s_sdq_band(const uint8_t cut[3], uint32_t score, int prosocial)
{
    for (int b = 0; b < 3; b++)
        if (prosocial ? score >= cut[b] : score <= cut[b])
            return (measure_band_t)b;
    return MEASURE_BAND_VERY_HIGH;
}

static int s_gbo(const Tacnet__OutcomeMeasure *m, measure_score_t *out, char *why, size_t cap)
{
    if (m->n_values == 0)
        return casework_refuse(TACNET_EMEASURE, why, cap, "GBO has no goal scores; needs 1–3");
    if (m->n_values > MEASURE_GBO_MAX_GOALS)
        return casework_refuse(TACNET_EMEASURE, why, cap, "GBO has %zu goals; at most 3",
                               m->n_values);
    if (m->n_goal_ids != m->n_values)
        return casework_refuse(TACNET_EMEASURE, why, cap,
                               "GBO has %zu scores and %zu goal ids; each score needs its goal",
                               m->n_values, m->n_goal_ids);
    for (size_t i = 0; i < m->n_values; i++) {
        uint32_t id = m->goal_ids[i];
        if (id < 1 || id > MEASURE_GBO_MAX_GOALS)
            return casework_refuse(TACNET_EMEASURE, why, cap,
                                   "GBO goal id %u is not a goal; ids are 1–3", id);
        for (size_t j = 0; j < i; j++)
            if (m->goal_ids[j] == id)
                return casework_refuse(TACNET_EMEASURE, why, cap, "GBO goal %u is scored twice",
                                       id);
        if (m->values[i] > MEASURE_GBO_MAX_SCORE)
            return casework_refuse(TACNET_EMEASURE, why, cap, "GBO goal %u is %u; goals score 0–10",
                                   id, m->values[i]);
        out->goal_ids[i] = id;
        out->goal_scores[i] = m->values[i];
    }
    out->n_goals = (unsigned)m->n_values;
    return 0;
}

static int s_sdq(const Tacnet__OutcomeMeasure *m, measure_score_t *out, char *why, size_t cap)
{
    int row;
    switch (m->informant) {
    case TACNET__INFORMANT__PARENT_REPORT:
        row = 0;
        break;
    case TACNET__INFORMANT__TEACHER_REPORT:
        row = 1;
        break;
    case TACNET__INFORMANT__SELF_REPORT:
        row = 2;
        break;
    default:
        return casework_refuse(TACNET_EMEASURE, why, cap,
                               "SDQ informant must be parent, teacher or self-report");
    }
    int rc = s_items(m, "SDQ", MEASURE_SDQ_ITEMS, 2, why, cap);
    if (rc)
        return rc;
    for (size_t i = 0; i < MEASURE_SDQ_ITEMS; i++) {
        uint32_t v = m->values[i];
        out->sdq_scale[S_SDQ_ITEMS[i].scale] += S_SDQ_ITEMS[i].reversed ? 2 - v : v;
    }
    for (int s = 0; s < MEASURE_SDQ_SCALES; s++) {
        out->sdq_band[s] =
            s_sdq_band(S_SDQ_CUTS[row][s], out->sdq_scale[s], s == MEASURE_SDQ_PROSOCIAL);
        if (s != MEASURE_SDQ_PROSOCIAL)
            out->total += out->sdq_scale[s];
    }
    out->sdq_total_band = s_sdq_band(S_SDQ_CUTS[row][MEASURE_SDQ_SCALES], out->total, 0);
    return 0;
}

static int s_rcads(const Tacnet__OutcomeMeasure *m, measure_score_t *out, char *why, size_t cap)
{
    int rc = s_items(m, "RCADS", MEASURE_RCADS_ITEMS, 3, why, cap);
    if (rc)
        return rc;
    for (size_t i = 0; i < MEASURE_RCADS_ITEMS; i++)
        out->rcads_scale[S_RCADS_ITEMS[i]] += m->values[i];
    for (int s = 0; s < MEASURE_RCADS_SCALES; s++) {
        if (s != MEASURE_RCADS_DEPRESSION)
            out->rcads_total_anxiety += out->rcads_scale[s];
        out->total += out->rcads_scale[s];
    }
    return 0;
}

static int s_ors(const Tacnet__OutcomeMeasure *m, measure_score_t *out, char *why, size_t cap)
{
    const char *name = m->tool == TACNET__MEASURE_TOOL__CORS ? "CORS" : "ORS";
    if (m->n_values != MEASURE_ORS_SCALES)
        return casework_refuse(TACNET_EMEASURE, why, cap, "%s has %zu scales; needs 4", name,
                               m->n_values);
    for (size_t i = 0; i < MEASURE_ORS_SCALES; i++) {
        if (m->values[i] > 10)
            return casework_refuse(TACNET_EMEASURE, why, cap,
                                   "%s scale %zu is %u; scales score 0–10", name, i + 1,
                                   m->values[i]);
        out->ors_scale[i] = m->values[i];
        out->total += m->values[i];
    }
    return 0;
}

int measure_score(const Tacnet__OutcomeMeasure *m, measure_score_t *out, char *why, size_t why_cap)
{
    if (why && why_cap)
        why[0] = '\0';
    if (!m || !out)
        return TACNET_EINVAL;
    memset(out, 0, sizeof(*out));
    out->tool = m->tool;
    out->informant = m->informant;
    int rc;
    switch (m->tool) {
    case TACNET__MEASURE_TOOL__GBO:
        rc = s_gbo(m, out, why, why_cap);
        break;
    case TACNET__MEASURE_TOOL__SDQ:
        rc = s_sdq(m, out, why, why_cap);
        break;
    case TACNET__MEASURE_TOOL__RCADS:
        rc = s_rcads(m, out, why, why_cap);
        break;
    case TACNET__MEASURE_TOOL__ORS:
    case TACNET__MEASURE_TOOL__CORS:
        rc = s_ors(m, out, why, why_cap);
        break;
    default:
        rc = casework_refuse(TACNET_EMEASURE, why, why_cap,
                             "measure tool %d is not GBO, SDQ, RCADS, ORS or CORS", (int)m->tool);
        break;
    }
    if (rc) {
        uint32_t tool = out->tool, informant = out->informant;
        memset(out, 0, sizeof(*out));
        out->tool = tool;
        out->informant = informant;
    }
    return rc;
}

static uint32_t s_tool_family(uint32_t tool)
{
    return tool == TACNET__MEASURE_TOOL__CORS ? TACNET__MEASURE_TOOL__ORS : tool;
}

int measure_progress(const measure_score_t *baseline, const measure_score_t *latest,
                     measure_progress_t *out)
{
    if (!baseline || !latest || !out)
        return TACNET_EINVAL;
    if (s_tool_family(baseline->tool) != s_tool_family(latest->tool))
        return TACNET_EINVAL;
    memset(out, 0, sizeof(*out));
    out->tool = latest->tool;
    if (latest->tool == TACNET__MEASURE_TOOL__GBO) {
        out->n_goals = latest->n_goals;
        for (unsigned i = 0; i < latest->n_goals; i++) {
            out->goal_ids[i] = latest->goal_ids[i];
            for (unsigned j = 0; j < baseline->n_goals; j++) {
                if (baseline->goal_ids[j] != latest->goal_ids[i])
                    continue;
                out->goal_has_baseline[i] = 1;
                out->goal_change[i] =
                    (int32_t)latest->goal_scores[i] - (int32_t)baseline->goal_scores[j];
            }
        }
        return 0;
    }
    out->total_change = (int32_t)latest->total - (int32_t)baseline->total;
    int higher_is_better = s_tool_family(latest->tool) == TACNET__MEASURE_TOOL__ORS;
    out->total_improvement = higher_is_better ? out->total_change : -out->total_change;
    return 0;
}

const char *measure_band_name(measure_band_t band, int prosocial)
{
    static const char *const difficulty[] = { "close to average", "slightly raised", "high",
                                              "very high" };
    static const char *const strength[] = { "close to average", "slightly lowered", "low",
                                            "very low" };
    if ((unsigned)band > MEASURE_BAND_VERY_HIGH)
        return "unknown";
    return prosocial ? strength[band] : difficulty[band];
}

int measure_rcads_item_scale(unsigned item)
{
    if (item < 1 || item > MEASURE_RCADS_ITEMS)
        return -1;
    return S_RCADS_ITEMS[item - 1];
}

int measure_sdq_item_scale(unsigned item, int *reversed)
{
    if (item < 1 || item > MEASURE_SDQ_ITEMS)
        return -1;
    if (reversed)
        *reversed = S_SDQ_ITEMS[item - 1].reversed;
    return S_SDQ_ITEMS[item - 1].scale;
}
