/* profile: what makes one agency's daemon its own (docs/ARCHITECTURE.md).
 *
 * Each agency directory (services/camhs, school, health_visiting, social_care) defines one
 * `const agency_profile_t <agency>_profile` in its profile.c: the event kinds it originates, its
 * default sensitivity class per kind, its review cadence, and an intake adapter that turns a file
 * from the agency's own systems into publish requests. The agency core (services/agency) is
 * shared and knows nothing agency-specific beyond this table.
 */
#ifndef TACNET_CASEWORK_PROFILE_H
#define TACNET_CASEWORK_PROFILE_H

#include <stddef.h>
#include <stdint.h>

#include "api.pb-c.h"
#include "kinds.h"

/* One problem in an intake file: 1-based line number and a message naming the field. */
typedef struct intake_error {
    unsigned line;
    int code; /* TACNET_E* */
    char message[160];
} intake_error_t;

/* The family's names the rows of one case carried (the optional name columns, intake.h): the
 * daemon registers them in the case's identity register; they are never sent or logged. */
typedef struct intake_names {
    char case_ref[32];
    char **names; /* owned; wiped when freed */
    size_t n;
} intake_names_t;

/* The result of parsing an intake file: either every row became a request (n_errors == 0) or
 * nothing is imported and the errors say why, line by line. */
typedef struct intake_result {
    Tacnet__PublishRequest **requests; /* owned; free with intake_result_clear */
    size_t n_requests;
    unsigned *lines;        /* owned; the line each request's row starts on (NULL: not known) */
    intake_error_t *errors; /* owned */
    size_t n_errors;
    intake_names_t *names; /* owned; one per case whose rows named the family */
    size_t n_names;
} intake_result_t;

void intake_result_clear(intake_result_t *r);

typedef struct agency_profile {
    uint32_t agency;       /* Tacnet__Agency value */
    const char *name;      /* "camhs", "school", "health_visiting", "social_care" */
    const char *title;     /* "CAMHS", "School", ... for people */
    const uint32_t *kinds; /* event kinds this agency originates */
    size_t n_kinds;
    uint32_t review_days; /* default review cadence for its plans */
    /* Default sensitivity (Tacnet__Sensitivity) for an event of KIND from this agency. */
    uint32_t (*default_sensitivity)(uint32_t kind);
    /* Parse PATH (the intake format documented in the README) into requests. Returns 0 when
     * every row parsed (OUT holds the requests), TACNET_EIMPORT when any row is malformed (OUT
     * holds the errors and no requests), or TACNET_EIO / TACNET_ENOTFOUND. */
    int (*intake)(const char *path, intake_result_t *out);
} agency_profile_t;

/* Every kind an agency may originate (broker notices excluded), in the order of kinds.h's
 * KINDS_AGENCY. A profile that originates all of them points here; one that does not lists its
 * own. */
#define AGENCY_KINDS_ALL_N KINDS_AGENCY_N
extern const uint32_t agency_kinds_all[AGENCY_KINDS_ALL_N];

/* 1 if PROFILE originates KIND, else 0. The publish path refuses the others (E_KIND). */
int agency_profile_originates(const agency_profile_t *profile, uint32_t kind);

extern const agency_profile_t camhs_profile;
extern const agency_profile_t school_profile;
extern const agency_profile_t health_visiting_profile;
extern const agency_profile_t social_care_profile;

#endif
