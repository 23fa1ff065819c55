/* hv_contacts: health visiting's universal contacts scheduled from the baby's birth date. */
#include <criterion/criterion.h>

#include "casework/hv_contacts.h"
#include "err.h"
#include "events.pb-c.h"

#define ANTENATAL  TACNET__HV_CONTACT__HV_ANTENATAL
#define NEW_BIRTH  TACNET__HV_CONTACT__HV_NEW_BIRTH
#define SIX_EIGHT  TACNET__HV_CONTACT__HV_SIX_TO_EIGHT_WEEK
#define ONE_YEAR   TACNET__HV_CONTACT__HV_ONE_YEAR
#define TWO_YEAR   TACNET__HV_CONTACT__HV_TWO_YEAR
#define AT(date)   clock_date_to_ms(date)
#define NOON(date) (clock_date_to_ms(date) + 12 * 3600 * 1000ull)

Test(hv_contacts, schedule_from_the_birth_date)
{
    hv_contacts_t c = { 0 };
    cr_assert_eq(hv_contacts_record(&c, 0, 0, 20260506), 0);
    cadence_due_t d;
    cr_assert_eq(hv_contacts_due(&c, ANTENATAL, NOON(20260301), &d), 0);
    cr_assert_eq(d.due_date, 20260311u); /* 56 days before 6 May */
    cr_assert_not(d.overdue);
    cr_assert_eq(hv_contacts_due(&c, NEW_BIRTH, NOON(20260520), &d), 0);
    cr_assert_eq(d.due_date, 20260520u); /* day 14: due today, not late */
    cr_assert_not(d.overdue);
    cr_assert_eq(hv_contacts_due(&c, NEW_BIRTH, NOON(20260522), &d), 0);
    cr_assert(d.overdue);
    cr_assert_eq(d.days_overdue, 2);
    cr_assert_eq(hv_contacts_due(&c, SIX_EIGHT, NOON(20260601), &d), 0);
    cr_assert_eq(d.due_date, 20260701u); /* day 56 */
    cr_assert_not(d.overdue);
}

Test(hv_contacts, recorded_contacts_clear_their_items)
{
    hv_contacts_t c = { 0 };
    cr_assert_eq(hv_contacts_record(&c, ANTENATAL, 20260312, 20260506), 0);
    cadence_due_t d;
    cr_assert_eq(hv_contacts_due(&c, ANTENATAL, NOON(20260601), &d), 1);
    cr_assert_eq(hv_contacts_due(&c, NEW_BIRTH, NOON(20260601), &d), 0);
    cr_assert(d.overdue);
    cr_assert_eq(hv_contacts_record(&c, NEW_BIRTH, 20260520, 0), 0);
    cr_assert_eq(hv_contacts_due(&c, NEW_BIRTH, NOON(20260601), &d), 1);
    cr_assert_eq(hv_contacts_due(&c, SIX_EIGHT, NOON(20260601), &d), 0);
    cr_assert_eq(hv_contacts_record(&c, SIX_EIGHT, 20260630, 0), 0);
    cr_assert_eq(hv_contacts_due(&c, SIX_EIGHT, NOON(20260801), &d), 1);
}

Test(hv_contacts, antenatal_no_longer_owed_after_the_new_birth_visit)
{
    hv_contacts_t c = { 0 };
    cr_assert_eq(hv_contacts_record(&c, NEW_BIRTH, 20260520, 20260506), 0);
    cadence_due_t d;
    cr_assert_eq(hv_contacts_due(&c, ANTENATAL, NOON(20260601), &d), 1);
}

Test(hv_contacts, a_real_birth_date_corrects_the_expected_one)
{
    hv_contacts_t c = { 0 };
    cr_assert_eq(hv_contacts_record(&c, ANTENATAL, 20260312, 20260506), 0);
    cr_assert_eq(hv_contacts_record(&c, 0, 0, 20260420), 0);
    cadence_due_t d;
    cr_assert_eq(hv_contacts_due(&c, NEW_BIRTH, NOON(20260425), &d), 0);
    cr_assert_eq(d.due_date, 20260504u);
}

Test(hv_contacts, the_reviews_fall_on_the_first_birthday_and_at_two_and_a_half)
{
    hv_contacts_t c = { 0 };
    cr_assert_eq(hv_contacts_record(&c, 0, 0, 20260506), 0);
    cadence_due_t d;
    cr_assert_eq(hv_contacts_due(&c, ONE_YEAR, NOON(20270301), &d), 0);
    cr_assert_eq(d.due_date, 20270506u); /* the first birthday */
    cr_assert_not(d.overdue);
    cr_assert_eq(hv_contacts_due(&c, ONE_YEAR, NOON(20270510), &d), 0);
    cr_assert(d.overdue);
    cr_assert_eq(d.days_overdue, 4);
    cr_assert_eq(hv_contacts_due(&c, TWO_YEAR, NOON(20280601), &d), 0);
    cr_assert_eq(d.due_date, 20281106u); /* 30 months */
    cr_assert_not(d.overdue);
    cr_assert_eq(hv_contacts_due(&c, TWO_YEAR, NOON(20281107), &d), 0);
    cr_assert(d.overdue);
    cr_assert_eq(hv_contacts_record(&c, ONE_YEAR, 20270420, 0), 0);
    cr_assert_eq(hv_contacts_due(&c, ONE_YEAR, NOON(20270510), &d), 1);
    cr_assert_eq(hv_contacts_record(&c, TWO_YEAR, 20281020, 0), 0);
    cr_assert_eq(hv_contacts_due(&c, TWO_YEAR, NOON(20281201), &d), 1);
    cr_assert_str_eq(hv_contacts_name(ONE_YEAR), "1 year review");
    cr_assert_str_eq(hv_contacts_name(TWO_YEAR), "2-2½ year review");
}

Test(hv_contacts, a_month_without_the_birthday_uses_its_last_day)
{
    hv_contacts_t c = { 0 };
    cadence_due_t d;
    cr_assert_eq(hv_contacts_record(&c, 0, 0, 20260831), 0);
    cr_assert_eq(hv_contacts_due(&c, TWO_YEAR, NOON(20270101), &d), 0);
    cr_assert_eq(d.due_date, 20290228u); /* 31 August + 30 months: February has 28 days */
    cr_assert_eq(hv_contacts_record(&c, 0, 0, 20280229), 0);
    cr_assert_eq(hv_contacts_due(&c, ONE_YEAR, NOON(20280301), &d), 0);
    cr_assert_eq(d.due_date, 20290228u); /* a leap-day baby's first birthday */
    cr_assert_eq(hv_contacts_due(&c, TWO_YEAR, NOON(20280301), &d), 0);
    cr_assert_eq(d.due_date, 20300829u);
}

Test(hv_contacts, a_later_contact_recorded_overtakes_the_earlier_ones)
{
    hv_contacts_t c = { 0 };
    /* A family who moved in with a 10-month-old: first seen at the 1 year review. */
    cr_assert_eq(hv_contacts_record(&c, ONE_YEAR, 20270401, 20260506), 0);
    cadence_due_t d;
    cr_assert_eq(hv_contacts_due(&c, NEW_BIRTH, NOON(20270501), &d), 1);
    cr_assert_eq(hv_contacts_due(&c, SIX_EIGHT, NOON(20270501), &d), 1);
    cr_assert_eq(hv_contacts_due(&c, ANTENATAL, NOON(20270501), &d), 1);
    cr_assert_eq(hv_contacts_due(&c, TWO_YEAR, NOON(20270501), &d), 0);
    cr_assert_eq(d.due_date, 20281106u);
}

Test(hv_contacts, refusals)
{
    hv_contacts_t c = { 0 };
    cadence_due_t d;
    cr_assert_eq(hv_contacts_due(&c, NEW_BIRTH, NOON(20260601), &d), TACNET_EINVAL);
    cr_assert_eq(hv_contacts_record(&c, 0, 0, 20260231), TACNET_EINVAL);
    cr_assert_eq(hv_contacts_record(&c, 9, 20260101, 0), TACNET_EENUM);
    cr_assert_eq(hv_contacts_record(&c, 6, 20260101, 0), TACNET_EENUM);
    cr_assert_eq(hv_contacts_record(NULL, 0, 0, 20260101), TACNET_EINVAL);
    cr_assert_eq(hv_contacts_record(&c, 0, 0, 20260506), 0);
    cr_assert_eq(hv_contacts_due(&c, 0, NOON(20260601), &d), TACNET_EENUM);
    cr_assert_eq(hv_contacts_due(&c, 6, NOON(20260601), &d), TACNET_EENUM);
    cr_assert_eq(hv_contacts_due(&c, NEW_BIRTH, NOON(20260601), NULL), TACNET_EINVAL);
    cr_assert_str_eq(hv_contacts_name(SIX_EIGHT), "6-8 week review");
    cr_assert_null(hv_contacts_name(0));
}

Test(cadence, date_due)
{
    cadence_due_t d;
    cr_assert_eq(cadence_date_due(AT(20260101), NOON(20260103), &d), 0);
    cr_assert(d.overdue);
    cr_assert_eq(d.days_overdue, 2);
    cr_assert_eq(cadence_date_due(0, NOON(20260103), &d), TACNET_EINVAL);
}
