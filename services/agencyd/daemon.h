/* daemon: the whole of each agency daemon's main(): `tacnet-school --config FILE` and so on.
 * Returns the process exit status (0 clean stop, 1 refused to start, 2 usage). */
#ifndef TACNET_AGENCYD_DAEMON_H
#define TACNET_AGENCYD_DAEMON_H

#include "casework/profile.h"

int agencyd_main(int argc, char **argv, const agency_profile_t *profile);

#endif
