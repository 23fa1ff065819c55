/* measure: validation and scoring of the standard outcome measures (GBO, SDQ, RCADS, ORS/CORS).
 *
 * An agency daemon checks every Tacnet__OutcomeMeasure before it seals or applies it, and scores
 * it for the case view and the dashboard. Scores cross agency boundaries; item responses need not
 * (docs/DOMAIN.md). A refusal is TACNET_EMEASURE with a message that names the offending item,
 * so the practitioner can fix the form ("SDQ item 14 is 3; items score 0–2").
 *
 * Item conventions (values[] in the proto):
 * - GBO: one 0–10 score per goal, values[i] scores goal goal_ids[i]; 1 to 3 goals, ids 1–3,
 *   each goal at most once.
 * - SDQ: the 25 responses in questionnaire order as ticked: 0 "Not true", 1 "Somewhat true",
 *   2 "Certainly true". Items 7, 11, 14, 21 and 25 are reverse-scored here (2 - response).
 * - RCADS / RCADS-P: the 47 responses in questionnaire order, 0 never .. 3 always.
 * - ORS / CORS: the four visual-analogue scales (individual, interpersonal, social, overall) as
 *   whole numbers 0–10.
 * Pure logic: no I/O, no allocation.
 */
#ifndef TACNET_CASEWORK_MEASURE_H
#define TACNET_CASEWORK_MEASURE_H

#include <stddef.h>
#include <stdint.h>

#include "events.pb-c.h"

#define MEASURE_GBO_MAX_GOALS 3
#define MEASURE_GBO_MAX_SCORE 10
#define MEASURE_SDQ_ITEMS     25
#define MEASURE_RCADS_ITEMS   47
#define MEASURE_ORS_SCALES    4
#define MEASURE_WHY_MAX       96 /* enough for every refusal message */

enum measure_sdq_scale {
    MEASURE_SDQ_EMOTIONAL = 0,
    MEASURE_SDQ_CONDUCT,
    MEASURE_SDQ_HYPERACTIVITY,
    MEASURE_SDQ_PEER,
    MEASURE_SDQ_PROSOCIAL,
    MEASURE_SDQ_SCALES
};

enum measure_rcads_scale {
    MEASURE_RCADS_SEPARATION = 0, /* separation anxiety (SAD) */
    MEASURE_RCADS_GENERALISED,    /* generalised anxiety (GAD) */
    MEASURE_RCADS_PANIC,          /* panic (PD) */
    MEASURE_RCADS_SOCIAL,         /* social phobia (SP) */
    MEASURE_RCADS_OCD,            /* obsessive-compulsive (OCD) */
    MEASURE_RCADS_DEPRESSION,     /* major depression (MDD) */
    MEASURE_RCADS_SCALES
};

/* SDQ four-band categorisation. For the difficulty scales and the total the bands read "close to
 * average / slightly raised / high / very high"; for prosocial, where low is the worry, "close to
 * average / slightly lowered / low / very low". */
typedef enum measure_band {
    MEASURE_BAND_AVERAGE = 0,
    MEASURE_BAND_SLIGHT,
    MEASURE_BAND_HIGH,
    MEASURE_BAND_VERY_HIGH
} measure_band_t;

typedef struct measure_score {
    uint32_t tool;      /* Tacnet__MeasureTool */
    uint32_t informant; /* Tacnet__Informant */
    /* GBO */
    unsigned n_goals;
    uint32_t goal_ids[MEASURE_GBO_MAX_GOALS];
    uint32_t goal_scores[MEASURE_GBO_MAX_GOALS];
    /* SDQ: scale scores 0–10, bands by informant; total difficulties in `total` */
    uint32_t sdq_scale[MEASURE_SDQ_SCALES];
    measure_band_t sdq_band[MEASURE_SDQ_SCALES];
    measure_band_t sdq_total_band;
    /* RCADS: subscale raw totals; total anxiety (the five anxiety subscales); total in `total` */
    uint32_t rcads_scale[MEASURE_RCADS_SCALES];
    uint32_t rcads_total_anxiety;
    /* ORS/CORS: the four scales; their sum in `total` */
    uint32_t ors_scale[MEASURE_ORS_SCALES];
    /* SDQ total difficulties 0–40, RCADS total 0–141, ORS/CORS 0–40; GBO has no total (0). */
    uint32_t total;
} measure_score_t;

typedef struct measure_progress {
    uint32_t tool;
    int32_t total_change; /* latest total - baseline total (not for GBO) */
    /* total_change turned so that positive means better: SDQ and RCADS count difficulties, so
     * a fall is an improvement; ORS/CORS count wellbeing, so a rise is. */
    int32_t total_improvement;
    unsigned n_goals; /* the latest measure's goals */
    uint32_t goal_ids[MEASURE_GBO_MAX_GOALS];
    int32_t goal_change[MEASURE_GBO_MAX_GOALS]; /* latest - baseline, when scored at baseline */
    uint8_t goal_has_baseline[MEASURE_GBO_MAX_GOALS]; /* 0: a goal set after the baseline */
} measure_progress_t;

/* Validate M and score it into OUT (zeroed first). Returns 0, TACNET_EINVAL for NULL arguments,
 * or TACNET_EMEASURE with a message naming the item in WHY (NUL-terminated, truncated to
 * WHY_CAP; WHY may be NULL). SDQ needs a parent, teacher or self-report informant because its
 * bands differ by informant. */
int measure_score(const Tacnet__OutcomeMeasure *m, measure_score_t *out, char *why, size_t why_cap);

/* Change from BASELINE to LATEST (both from measure_score). GBO goals are matched by goal id;
 * a goal not scored at baseline has goal_has_baseline 0 and change 0. Returns 0, or
 * TACNET_EINVAL for NULL arguments or measures of different tools (ORS and CORS count as one). */
int measure_progress(const measure_score_t *baseline, const measure_score_t *latest,
                     measure_progress_t *out);

/* The published band name ("close to average", "slightly raised", "very low", ...). PROSOCIAL
 * selects the prosocial wording. Static storage, never NULL. */
const char *measure_band_name(measure_band_t band, int prosocial);

/* The RCADS subscale (enum measure_rcads_scale) that scores ITEM (1-based), or -1 when ITEM is
 * outside 1–47. Exposed so tests and the dashboard can show the item map. */
int measure_rcads_item_scale(unsigned item);

/* The SDQ scale (enum measure_sdq_scale) of ITEM (1-based) and whether it is reverse-scored,
 * or -1 when ITEM is outside 1–25. */
int measure_sdq_item_scale(unsigned item, int *reversed);

#endif
