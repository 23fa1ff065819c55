/* provision: `tacnet provision` — the offline root key, a key set per node and the signed
 * roster with the partnership's sharing and escalation policy (DESIGN §4 "Keys").
 */
#ifndef TACNET_CLI_PROVISION_H
#define TACNET_CLI_PROVISION_H

#include <stdio.h>

#include "roster.pb-c.h"

typedef struct provision_opts {
    const char *out_dir;         /* created 0700; refuses to overwrite an existing roster */
    const char *sharing_path;    /* deploy/sharing.conf */
    const char *escalation_path; /* deploy/escalation.conf */
    unsigned validity_days;      /* key validity from now (default 730) */
    int partnership;             /* also a key set for the partnership contact (last stage) */
} provision_opts_t;

/* Write OUT/root/root.key (0600, the offline root: move it off the machine), OUT/root.pub,
 * OUT/keys/<node>.key for broker, camhs, school, health_visiting and social_care, and
 * partnership when asked (0600 in a 0700 dir) and OUT/roster.bin signed by the root. Reports progress and errors on ERR.
 * Returns 0 or a TACNET_E* code. */
int provision_run(const provision_opts_t *o, FILE *err);

/* Parse the policy files into R (sharing and escalation). WHY names file:line on error. */
int provision_policy_load(const char *sharing_path, const char *escalation_path, Tacnet__Roster *r,
                          char *why, size_t whylen);

/* Free what provision_policy_load allocated inside R. */
void provision_policy_free(Tacnet__Roster *r);

#endif
