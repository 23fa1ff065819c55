/* capa_intake: the CAPA Choice record and a partnership plan's workers, read from the optional
 * columns of the CAMHS intake file.
 *
 * A CAMHS record that keeps what was said at the Choice appointment (the family's story, the
 * clinician's honest opinion, the formulation reached together, the alternatives, the family's
 * choice, the homework before partnership) and who works on the plan can bring both in with the
 * appointment, rather than having them typed again; a record without them keeps the older
 * columns (deploy/examples/README.md). The columns follow one another in this order from the
 * first, and are read on choice rows only: the rules are casework/capa.h's, said in the terms
 * of the file (a column, an item), never quoting the text.
 */
#ifndef TACNET_CASEWORK_CAPA_INTAKE_H
#define TACNET_CASEWORK_CAPA_INTAKE_H

#include <stdbool.h>
#include <stddef.h>

#include "casework/intake.h"

enum {
    CAPA_INTAKE_CURIOUS,
    CAPA_INTAKE_HONEST_OPINION,
    CAPA_INTAKE_JOINT_FORMULATION,
    CAPA_INTAKE_ALTERNATIVES,
    CAPA_INTAKE_CHOSEN,
    CAPA_INTAKE_ENGAGEMENT,
    CAPA_INTAKE_CORE_WORKER,
    CAPA_INTAKE_SPECIFIC_WORKERS,
    CAPA_INTAKE_N
};

/* The alternatives a Choice record may list: enough for the options a clinic offers. */
#define CAPA_INTAKE_MAX_ALTERNATIVES 6u

/* The Choice record in ROW's columns FIRST .. FIRST + CAPA_INTAKE_ENGAGEMENT into *OUT
 * (malloc'd, for Assessment.capa_choice; NULL when every one is empty). When any is given,
 * joint_formulation and chosen are required, and chosen other_service needs alternatives.
 * Returns false after recording each error on ROW (*OUT is then NULL). */
bool capa_intake_read(intake_row_t *row, size_t first, Tacnet__CapaChoice **out);

/* The plan's workers in ROW's columns FIRST + CAPA_INTAKE_CORE_WORKER ("INITIALS:role") and
 * FIRST + CAPA_INTAKE_SPECIFIC_WORKERS (`;`-separated "INITIALS:role:what they bring") into
 * PLAN (core_worker, specific_workers). Specific workers need a core worker; at most
 * CAPA_MAX_SPECIFIC_WORKERS. Returns false after recording each error on ROW (PLAN unchanged). */
bool capa_intake_workers(intake_row_t *row, size_t first, Tacnet__CarePlan *plan);

#endif
