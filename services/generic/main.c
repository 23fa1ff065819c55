/* tacnet-agency: the generic agency daemon, `tacnet-agency --config FILE`, for any agency the
 * roster declares with the generic profile. Its identity is the config's `[agency] name`,
 * checked against the roster here and against its key by the agency core. */
#include <stdio.h>
#include <string.h>

#include "agencyd/daemon.h"
#include "err.h"
#include "generic/profile.h"

int main(int argc, char **argv)
{
    const char *path = NULL;
    for (int i = 1; i + 1 < argc; i++)
        if (strcmp(argv[i], "--config") == 0 || strcmp(argv[i], "-c") == 0)
            path = argv[i + 1];
    if (!path) /* --version and usage, as every daemon answers them */
        return agencyd_main(argc, argv, NULL);
    agency_profile_t profile;
    char why[512] = "";
    int rc = generic_profile_resolve(path, &profile, why, sizeof(why));
    if (rc != 0) {
        fprintf(stderr, "%s: %s (%s)\n", argv[0], why, tacnet_errname(rc));
        return 1;
    }
    return agencyd_main(argc, argv, &profile);
}
