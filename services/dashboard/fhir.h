/* fhir: a read-only FHIR R4 view of one case, for NHS integrators — GET
 * /api/v1/fhir/Bundle/REF. The case as this agency's view holds it (the ShowCaseReply the JSON
 * API answers with) told as a Bundle of type collection: the team as a CareTeam, each plan a
 * CarePlan with its goals as Goals, each consent record a Consent, each meeting an Encounter,
 * each outcome measure score an Observation and each contact logged with the family a
 * Communication. Resources are named by urn:uuid fullUrls derived from the case reference and
 * what they stand for, so the same case gives the same identifiers on every read.
 *
 * The subject is a Patient by display only: the case reference and the child's initials. No
 * name is ever part of the view (the initials-only promise), nor free text beyond what the
 * broker's text check already admitted into goals.
 */
#ifndef TACNET_DASHBOARD_FHIR_H
#define TACNET_DASHBOARD_FHIR_H

#include <jansson.h>

#include "api.pb-c.h"

/* The Bundle of case SC (a new reference), or NULL when SC has no summary. */
json_t *dashboard_fhir_bundle(const Tacnet__ShowCaseReply *sc);

#endif
