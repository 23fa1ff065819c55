/* tacnet-camhs: the camhs agency daemon. Everything but the profile is the shared agency core. */
#include "agencyd/daemon.h"

int main(int argc, char **argv)
{
    return agencyd_main(argc, argv, &camhs_profile);
}
