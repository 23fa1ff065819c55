/* config: tacnet-broker's settings, one table for the file and the struct.
 *
 * Each row of broker_config_options names a key of broker.conf (section, type, default, range,
 * help) and the broker_config_t field it fills, so a default is written once, in its row: the
 * broker's main loads a file through it, and tests and benches that build a broker_config_t
 * without a file start from broker_config_defaults. The [log] level row has no field (main
 * reads it to open the log before the broker exists).
 */
#ifndef TACNET_BROKER_CONFIG_H
#define TACNET_BROKER_CONFIG_H

#include "broker/broker.h"
#include "cfg.h"

extern const cfg_option_t broker_config_options[];
extern const size_t broker_config_n_options;

/* Fill BC with every default in the table; the paths with no default (data_dir, roster,
 * root_key, key, holidays) are NULL for the caller to set. Strings are static. */
void broker_config_defaults(broker_config_t *bc);

/* Load PATH against the table and fill BC from it. Returns the loaded cfg_t (owned: BC's strings
 * point into it, so destroy it after the broker) or NULL as cfg_load does, with *ERR and a
 * `file:line` reason in WHY. */
cfg_t *broker_config_load(const char *path, broker_config_t *bc, int *err, char *why,
                          size_t whylen);

#endif
