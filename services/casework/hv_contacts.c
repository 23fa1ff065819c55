/* hv_contacts: health visiting's universal contacts as due items. See hv_contacts.h. */
#include "casework/hv_contacts.h"

#include <string.h>

#include "err.h"
#include "events.pb-c.h"

static int s_known(uint32_t hv_contact)
{
    return hv_contact >= TACNET__HV_CONTACT__HV_ANTENATAL &&
           hv_contact <= TACNET__HV_CONTACT__HV_SIX_TO_EIGHT_WEEK;
}

int hv_contacts_record(hv_contacts_t *c, uint32_t hv_contact, uint32_t date, uint32_t birth_date)
{
    if (!c || (birth_date && !clock_date_valid(birth_date)))
        return TACNET_EINVAL;
    if (hv_contact && !s_known(hv_contact))
        return TACNET_EENUM;
    if (birth_date)
        c->birth_date = birth_date;
    /* A contact recorded without a date still happened: it clears the item all the same. */
    if (hv_contact)
        c->recorded[hv_contact] = date ? date : 1;
    return 0;
}

int hv_contacts_due(const hv_contacts_t *c, uint32_t hv_contact, uint64_t now_ms,
                    cadence_due_t *out)
{
    if (!c || !out)
        return TACNET_EINVAL;
    if (!s_known(hv_contact))
        return TACNET_EENUM;
    uint64_t birth = clock_date_to_ms(c->birth_date);
    if (!birth)
        return TACNET_EINVAL;
    if (c->recorded[hv_contact])
        return 1;
    uint64_t due;
    switch (hv_contact) {
    case TACNET__HV_CONTACT__HV_ANTENATAL:
        /* Once the baby has been seen at home the antenatal interview cannot be had. */
        if (c->recorded[TACNET__HV_CONTACT__HV_NEW_BIRTH])
            return 1;
        due = birth - (uint64_t)HV_CONTACTS_ANTENATAL_BEFORE_DAYS * CLOCK_DAY_MS;
        break;
    case TACNET__HV_CONTACT__HV_NEW_BIRTH:
        due = birth + (uint64_t)HV_CONTACTS_NEW_BIRTH_DAYS * CLOCK_DAY_MS;
        break;
    default:
        due = birth + (uint64_t)HV_CONTACTS_SIX_EIGHT_WEEK_DAYS * CLOCK_DAY_MS;
        break;
    }
    return cadence_date_due(due, now_ms, out);
}

const char *hv_contacts_name(uint32_t hv_contact)
{
    switch (hv_contact) {
    case TACNET__HV_CONTACT__HV_ANTENATAL:
        return "antenatal promotional interview";
    case TACNET__HV_CONTACT__HV_NEW_BIRTH:
        return "new birth visit";
    case TACNET__HV_CONTACT__HV_SIX_TO_EIGHT_WEEK:
        return "6-8 week review";
    default:
        return NULL;
    }
}
