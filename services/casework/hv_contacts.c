/* hv_contacts: health visiting's universal contacts as due items. See hv_contacts.h. */
#include "casework/hv_contacts.h"

#include <string.h>

#include "err.h"
#include "events.pb-c.h"

static int s_known(uint32_t hv_contact)
{
    return hv_contact >= TACNET__HV_CONTACT__HV_ANTENATAL &&
           hv_contact <= TACNET__HV_CONTACT__HV_TWO_YEAR;
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

/* BIRTH (yyyymmdd) plus MONTHS calendar months, at 00:00 UTC; a day the month lacks becomes
 * its last day, so a child born on 31 August is due its 2½ year review on 28 February. */
static uint64_t s_plus_months(uint32_t birth, uint32_t months)
{
    uint32_t y = birth / 10000, m = birth / 100 % 100, d = birth % 100;
    uint32_t k = (m - 1) + months;
    y += k / 12;
    m = k % 12 + 1;
    while (d > 28 && !clock_date_valid(y * 10000 + m * 100 + d))
        d--;
    return clock_date_to_ms(y * 10000 + m * 100 + d);
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
    /* Recorded, or overtaken: once a later contact has happened this one cannot be had. */
    for (uint32_t later = hv_contact; later <= TACNET__HV_CONTACT__HV_TWO_YEAR; later++)
        if (c->recorded[later])
            return 1;
    uint64_t due;
    switch (hv_contact) {
    case TACNET__HV_CONTACT__HV_ANTENATAL:
        due = birth - (uint64_t)HV_CONTACTS_ANTENATAL_BEFORE_DAYS * CLOCK_DAY_MS;
        break;
    case TACNET__HV_CONTACT__HV_NEW_BIRTH:
        due = birth + (uint64_t)HV_CONTACTS_NEW_BIRTH_DAYS * CLOCK_DAY_MS;
        break;
    case TACNET__HV_CONTACT__HV_SIX_TO_EIGHT_WEEK:
        due = birth + (uint64_t)HV_CONTACTS_SIX_EIGHT_WEEK_DAYS * CLOCK_DAY_MS;
        break;
    case TACNET__HV_CONTACT__HV_ONE_YEAR:
        due = s_plus_months(c->birth_date, HV_CONTACTS_ONE_YEAR_MONTHS);
        break;
    default:
        due = s_plus_months(c->birth_date, HV_CONTACTS_TWO_YEAR_MONTHS);
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
    case TACNET__HV_CONTACT__HV_ONE_YEAR:
        return "1 year review";
    case TACNET__HV_CONTACT__HV_TWO_YEAR:
        return "2-2½ year review";
    default:
        return NULL;
    }
}
