/* config: an agency daemon's settings, one table for the file and the struct.
 *
 * Each row of agency_config_options names a key of the daemon's file (section, type, default,
 * range, help) and the agency_config_t field it fills, so a default is written once, in its
 * row: agencyd_main loads a file through it, and tests and benches that build an
 * agency_config_t without a file start from agency_config_defaults. The [log] level row has no
 * field (the daemon's main reads it to open the log before the agency exists); the profile is
 * not a setting (each daemon's main names its own).
 */
#ifndef TACNET_AGENCY_CONFIG_H
#define TACNET_AGENCY_CONFIG_H

#include "agency/agency.h"
#include "cfg.h"

extern const cfg_option_t agency_config_options[];
extern const size_t agency_config_n_options;

/* Fill AC with every default in the table and PROFILE; the paths with no default (data_dir,
 * broker_endpoint_file, roster, root_key, key, gazetteer, holidays) are NULL for the caller to
 * set. Strings are static. */
void agency_config_defaults(agency_config_t *ac, const agency_profile_t *profile);

/* Load PATH against the table and fill AC from it (with PROFILE), then check the retention
 * policy as a whole. Returns the loaded cfg_t (owned: AC's strings point into it, so destroy it
 * after the agency), or NULL as cfg_load does with *ERR and a `file:line` reason in WHY, or NULL
 * with TACNET_ECONFIG when the retention periods contradict each other. */
cfg_t *agency_config_load(const char *path, agency_config_t *ac, const agency_profile_t *profile,
                          int *err, char *why, size_t whylen);

#endif
