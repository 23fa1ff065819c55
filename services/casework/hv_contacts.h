/* hv_contacts: health visiting's universal contacts as due items.
 *
 * The Healthy Child Programme offers every family an antenatal promotional interview, two
 * postnatal visits and two developmental reviews; a case that health visiting has joined should
 * show them as due before they are missed, not only once they have been recorded. The schedule
 * hangs on the baby's date of birth (before the birth, the expected date) carried by health
 * visiting's assessments:
 * - the antenatal promotional interview: due by 32 weeks of pregnancy (8 weeks before the
 *   expected date; offered from 28 weeks);
 * - the new birth visit: 10-14 days after the birth, due on day 14;
 * - the 6-8 week review: due at 8 weeks (day 56);
 * - the 1 year review: offered from 9 months, due by the first birthday;
 * - the 2-2½ year review: offered from the second birthday, due by 2½ years (30 months).
 * The reviews are counted in calendar months, as the programme states them; a birthday on a
 * day the month lacks (29 February, 31 August + 6 months) falls on the month's last day.
 * A contact is cleared when an assessment recording it (Assessment.hv_contact) is folded, and is
 * no longer owed once a later one has been recorded: a family seen at the 1 year review cannot
 * have the 6-8 week review any more, and chasing it would only hide what is still owed.
 * Pure logic: dates are yyyymmdd, the time is a parameter.
 */
#ifndef TACNET_CASEWORK_HV_CONTACTS_H
#define TACNET_CASEWORK_HV_CONTACTS_H

#include <stdint.h>

#include "casework/cadence.h"

#define HV_CONTACTS_ANTENATAL_BEFORE_DAYS 56u /* by 32 weeks of a 40-week pregnancy */
#define HV_CONTACTS_NEW_BIRTH_DAYS        14u
#define HV_CONTACTS_SIX_EIGHT_WEEK_DAYS   56u
#define HV_CONTACTS_ONE_YEAR_MONTHS       12u
#define HV_CONTACTS_TWO_YEAR_MONTHS       30u

/* What a case's health-visiting assessments have said so far: the birth date (0 = unknown)
 * and, per contact (Tacnet__HvContact, index 1..5), the date it was recorded (0 = not yet). */
typedef struct hv_contacts {
    uint32_t birth_date;
    uint32_t recorded[6];
} hv_contacts_t;

/* Fold one assessment in: HV_CONTACT (0 = not one of the universal contacts) recorded on
 * DATE, BIRTH_DATE (0 = not given; a later one corrects an earlier one, as an expected date
 * becomes the real one). Returns 0, TACNET_EINVAL for a NULL C or an impossible birth date, or
 * TACNET_EENUM for an unknown contact. */
int hv_contacts_record(hv_contacts_t *c, uint32_t hv_contact, uint32_t date, uint32_t birth_date);

/* Whether HV_CONTACT is still owed, and when. Returns 0 and fills OUT when it is due; 1 when
 * nothing is owed (recorded, or the antenatal interview after the new birth visit); TACNET_EINVAL
 * for NULL arguments or no birth date yet; TACNET_EENUM for an unknown contact. */
int hv_contacts_due(const hv_contacts_t *c, uint32_t hv_contact, uint64_t now_ms,
                    cadence_due_t *out);

/* The contact's name for people ("antenatal promotional interview"), or NULL if unknown. */
const char *hv_contacts_name(uint32_t hv_contact);

#endif
