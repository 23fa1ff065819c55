/* profile: what every agency profile shares — the kinds an agency may originate. */
#include "casework/profile.h"

const uint32_t agency_kinds_all[AGENCY_KINDS_ALL_N] = { KINDS_AGENCY(KINDS_VALUE) };

int agency_profile_originates(const agency_profile_t *profile, uint32_t kind)
{
    for (size_t i = 0; i < profile->n_kinds; i++)
        if (profile->kinds[i] == kind)
            return 1;
    return 0;
}
