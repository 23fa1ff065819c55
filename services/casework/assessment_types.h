/* assessment_types: which agency carries out which type of assessment.
 *
 * Some assessments are a service's own, set by statute or by its commissioning, and are never
 * another agency's to record: a section 47 child protection enquiry and a child and family
 * assessment (section 17) are children's social care's; the Healthy Child Programme's
 * developmental reviews and promotional interviews are health visiting's; a CAPA Choice
 * appointment is CAMHS's; a special educational needs assessment is the school's. An early help
 * assessment is anyone's (whichever member of the team knows the family best leads it), and so
 * is an assessment that names no type. An agency the roster defines (served by the generic
 * daemon, tacnet-agency) carries out only those: to record a statutory or specialist
 * assessment, the agency whose work it is records it, and the others refer to it.
 *
 * The rule is this table and nothing else: the sending daemon's publish path refuses an
 * assessment of a type its agency does not carry out (TACNET_EFIELD, naming assessment.type,
 * the agency and the agency that does), and the dashboard's assessment form offers each agency
 * only its own types. Pure logic: no I/O.
 */
#ifndef TACNET_CASEWORK_ASSESSMENT_TYPES_H
#define TACNET_CASEWORK_ASSESSMENT_TYPES_H

#include <stddef.h>
#include <stdint.h>

#include "api.pb-c.h"

/* The agency (Tacnet__Agency) that carries out assessments of TYPE (Tacnet__AssessmentType),
 * or 0 when any agency may (early help; no type given) or TYPE is no assessment type. */
uint32_t assessment_type_owner(uint32_t type);

/* 1 if AGENCY carries out assessments of TYPE, else 0 (also for a value that is no assessment
 * type). */
int assessment_type_carried_out(uint32_t agency, uint32_t type);

/* Whether AGENCY may record assessment A (0 for a NULL A or one that names no type). Refused
 * with TACNET_EFIELD and one line in WHY naming the field, the type, the agency that carries it
 * out and AGENCY: "assessment.type is child protection enquiry (section 47), which Social care
 * carries out, not Family support: refer the child to Social care, or record an early help
 * assessment". */
int assessment_type_check(const Tacnet__Assessment *a, uint32_t agency, char *why, size_t cap);

#endif
