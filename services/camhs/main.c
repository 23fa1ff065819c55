/* tacnet-camhs: the camhs agency daemon. Everything but the profile is the shared agency core. */
#include "agency/daemon.h"

int main(int argc, char **argv)
{
    return agency_daemon_main(argc, argv, &camhs_profile);
}
