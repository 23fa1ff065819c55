/* policyfile: the partnership's sharing and escalation policy files (deploy/sharing.conf and
 * deploy/escalation.conf) read into the roster's policy messages.
 *
 * This is pure parsing: text in, Tacnet__SharingPolicy and Tacnet__EscalationPolicy out, with
 * no keys, files written or signatures. `tacnet provision` signs the result into the roster;
 * tests build rosters from the same files without provisioning a partnership.
 *
 * sharing.conf: a [policy] section (version, expiry_hours, expiry_seconds, and area_codes: the
 * partnership's case-reference prefixes, comma-separated, e.g. "LA7, LA9") and one section per
 * agency with with_consent / without_consent lists of sensitivity classes (routine, health,
 * safeguarding), and the lists received on another lawful basis: legal_duty (absent: the same
 * as with_consent) and direct_care (absent: none; the agencies with a list are the ones that
 * give direct care, and only they share on that basis). escalation.conf: an [escalation] section (level_gap, non_response_hours,
 * non_response_seconds) and [stage1]..[stage4], each with an audience role and working_days,
 * urgent_hours or seconds. Every stage 1-4 must be present with an audience. Unknown sections
 * and keys, and values that are not whole numbers in range, are refused.
 */
#ifndef TACNET_POLICYFILE_H
#define TACNET_POLICYFILE_H

#include <stddef.h>

#include "roster.pb-c.h"

/* Parse the files at SHARING_PATH and ESCALATION_PATH into R: sets R->sharing, R->escalation,
 * R->area_codes and R->policy_version (when the file gives them), allocated here even on failure, so the
 * caller always calls policyfile_free(R). Returns 0, TACNET_ENOTFOUND (a file cannot be opened)
 * or TACNET_ECONFIG (a file is wrong); WHY (WHYLEN bytes) then names the file and line, and the
 * section and key ("sharing.conf:12: [school] bogus: unknown key"); a stage missing from
 * escalation.conf is named without a line. */
int policyfile_load(const char *sharing_path, const char *escalation_path, Tacnet__Roster *r,
                    char *why, size_t whylen);

/* The same from the files' text. SHARING_NAME and ESCALATION_NAME stand for the files in WHY.
 * Returns 0 or TACNET_ECONFIG. */
int policyfile_parse(const char *sharing, const char *sharing_name, const char *escalation,
                     const char *escalation_name, Tacnet__Roster *r, char *why, size_t whylen);

/* Free what policyfile_load or policyfile_parse allocated inside R and set R->sharing,
 * R->escalation and R->area_codes to NULL; the rest of R is left alone. Safe on a roster with neither. */
void policyfile_free(Tacnet__Roster *r);

#endif
