/* tacnet-social_care: the social_care agency daemon. Everything but the profile is the shared agency core. */
#include "agency/daemon.h"

int main(int argc, char **argv)
{
    return agency_daemon_main(argc, argv, &social_care_profile);
}
