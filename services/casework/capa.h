/* capa: the Choice and Partnership Approach's own records, a Choice appointment and the
 * workers on a partnership plan.
 *
 * A CAMHS Choice appointment is a conversation, not an assessment done to a family: the
 * clinician is curious about the family's story, gives an honest opinion, reaches a
 * formulation together with the family, puts the alternatives to them (CAMHS partnership is
 * one), and the family chooses; some engagement or homework is agreed for the time before
 * partnership. The record (Assessment.capa_choice) rides on an assessment of type capa_choice
 * only; when it is there, the joint formulation and the family's choice are required, and a
 * choice of another service lists the alternatives offered, so the record says what the family
 * chose from. The record is optional, as not every CAMHS record keeps it (the intake file's
 * columns for it are optional too: services/casework/capa_intake.h).
 *
 * A CAPA partnership plan (CarePlan of type capa_partnership) is held by one core worker and
 * may bring in specific workers for a particular intervention or skill. Each worker is named by
 * initials with a role; a specific worker also says what they bring, and specific workers need
 * a core worker (the plan is never held by specialists alone). Workers belong to CAPA
 * partnership plans only.
 *
 * Pure logic: no I/O. The workflow stage checks events here; the case fold keeps the latest
 * Choice record; the case page and `tacnet case` show both in plain words.
 */
#ifndef TACNET_CASEWORK_CAPA_H
#define TACNET_CASEWORK_CAPA_H

#include <stddef.h>
#include <stdint.h>

#include "events.pb-c.h"

/* A partnership plan's team stays small enough to be one team. */
#define CAPA_MAX_SPECIFIC_WORKERS 6u

/* Check the CAPA records in body B of an event of KIND (assessments and care plans; 0 for any
 * other kind). Returns 0, or TACNET_EFIELD with one line in WHY naming the field, e.g.
 * `assessment.capa_choice.chosen is required: what the family chose`. */
int capa_check(uint32_t kind, const Tacnet__Body *b, char *why, size_t cap);

/* The family's choice in words, for people ("partnership work with CAMHS", ...), or NULL for
 * CHOSEN_UNKNOWN and values outside the enum. */
const char *capa_chosen_words(Tacnet__CapaChosen chosen);

#endif
