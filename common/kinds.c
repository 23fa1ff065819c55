/* kinds: mappings over the event kinds, each derived from the lists in kinds.h. */
#include "kinds.h"
#include "err.h"

int kinds_body_member(uint32_t kind, Tacnet__Body__EventCase *member)
{
    switch (kind) {
#define S_MEMBER(name)                        \
    case TACNET__EVENT_KIND__##name:          \
        *member = TACNET__BODY__EVENT_##name; \
        return 0;
        KINDS_AGENCY(S_MEMBER)
        KINDS_BROKER(S_MEMBER)
#undef S_MEMBER
    default:
        return TACNET_EKIND;
    }
}

int kinds_body_matches(uint32_t kind, const Tacnet__Body *body)
{
    Tacnet__Body__EventCase member;
    if (!body)
        return TACNET_EINVAL;
    if (kinds_body_member(kind, &member) != 0 || body->event_case != member)
        return TACNET_EBODYMISMATCH;
    return 0;
}
