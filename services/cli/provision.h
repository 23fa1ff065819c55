/* provision: `tacnet provision` — the offline root key, a key set per node and the signed
 * roster with the partnership's sharing and escalation policy (read by common/policyfile; docs/ARCHITECTURE.md, Keys).
 */
#ifndef TACNET_CLI_PROVISION_H
#define TACNET_CLI_PROVISION_H

#include <stdio.h>

#include "roster.pb-c.h"

typedef struct provision_opts {
    const char *out_dir;         /* created 0700; refuses to overwrite an existing roster */
    const char *sharing_path;    /* deploy/sharing.conf */
    const char *escalation_path; /* deploy/escalation.conf */
    const char *agencies_path;   /* deploy/agencies.conf: the partnership's agencies (NULL:
                                  * agencies.conf beside sharing_path, if there is one) */
    int agencies_required;       /* given with --agencies: its absence is an error */
    unsigned validity_days;      /* key validity from now (default 730) */
    int partnership;             /* also a key set for the partnership contact (last stage) */
} provision_opts_t;

/* Write OUT/root/root.key (0600, the offline root: move it off the machine), OUT/root.pub,
 * OUT/keys/<node>.key for the broker and every agency of agencies.conf (its entries signed
 * into the roster; without the file, camhs, school, health_visiting and social_care), and
 * partnership when asked (0600 in a 0700 dir) and OUT/roster.bin signed by the root. Reports progress and errors on ERR.
 * Returns 0 or a TACNET_E* code. */
int provision_run(const provision_opts_t *o, FILE *err);

/* Rotate node NAME's CURVE and signing keys in the partnership at DIR: a new key set with the
 * next key id (the sealing pair is kept, so the node's encrypted view stays readable) is added
 * to DIR/roster.bin, valid from now; every older key of NAME stays valid for OVERLAP_SECONDS
 * more. The old key file is kept as DIR/keys/NAME.key.<old id>, the new one replaces
 * DIR/keys/NAME.key. The roster's version goes up by one and it is signed again with
 * DIR/root/root.key. Returns 0 or a TACNET_E* code (reasons on ERR). */
int provision_rotate(const char *dir, const char *name, unsigned overlap_seconds, FILE *err);

/* Revoke node NAME's key KEY_ID (0: every key of NAME) from AT_MS (0: now): the broker refuses
 * and disconnects it from then, recipients refuse events it signed dated from then. Roster
 * version + 1, signed again. Returns 0 or a TACNET_E* code. */
int provision_revoke(const char *dir, const char *name, uint32_t key_id, uint64_t at_ms, FILE *err);

#endif
