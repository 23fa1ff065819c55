/* kin: who each registered name is to the child, and registers stored before roles existed. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "casework/kin.h"
#include "err.h"

Test(kin, parse_takes_a_relationship_or_a_bare_name)
{
    kin_role_t r;
    const char *n;
    cr_assert_eq(kin_parse("child:Tamsin Brightwater", &r, &n), 0);
    cr_assert_eq(r, KIN_CHILD);
    cr_assert_str_eq(n, "Tamsin Brightwater");
    cr_assert_eq(kin_parse(" Mother :  Orla Brightwater", &r, &n), 0);
    cr_assert_eq(r, KIN_MOTHER);
    cr_assert_str_eq(n, "Orla Brightwater");
    cr_assert_eq(kin_parse("Dov Pennywhistle", &r, &n), 0);
    cr_assert_eq(r, KIN_UNKNOWN, "an old invocation: the name alone");
    cr_assert_str_eq(n, "Dov Pennywhistle");
    cr_assert_eq(kin_parse("grandparent:Ida Brightwater", &r, &n), 0);
    cr_assert_eq(r, KIN_GRANDPARENT);
}

Test(kin, parse_refuses_what_would_leave_a_name_unprotected)
{
    kin_role_t r;
    const char *n;
    cr_assert_eq(kin_parse("chlid:Tamsin Brightwater", &r, &n), TACNET_EFIELD);
    cr_assert_eq(kin_parse("unknown:Tamsin Brightwater", &r, &n), TACNET_EFIELD);
    cr_assert_eq(kin_parse("child:   ", &r, &n), TACNET_EFIELD);
    cr_assert_eq(kin_parse(":Tamsin", &r, &n), TACNET_EFIELD);
    cr_assert_eq(kin_parse("Tamsin\x1f Brightwater", &r, &n), TACNET_EFIELD);
    cr_assert_eq(kin_parse(NULL, &r, &n), TACNET_EINVAL);
}

/* The name's own length, for the limit on a name: what kin_parse gives as the name. */
Test(kin, name_len_is_the_name_s_not_the_relationship_s)
{
    const char *lines[] = { "child:Tamsin Brightwater", " Mother :  Orla Brightwater",
                            "Dov Pennywhistle", "grandparent:\tIda Brightwater" };
    for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
        kin_role_t r;
        const char *n;
        cr_assert_eq(kin_parse(lines[i], &r, &n), 0);
        cr_assert_eq(kin_name_len(lines[i], strlen(lines[i])), strlen(n), "%s", lines[i]);
    }
    /* Only LEN bytes are read: a line of a longer form. */
    const char *form = "sibling: Bo\nmother: Orla";
    cr_assert_eq(kin_name_len(form, 11), 2);
    cr_assert_eq(kin_name_len("child:", 6), 0);
    cr_assert_eq(kin_name_len(NULL, 0), 0);
}

Test(kin, entries_round_trip_and_bare_ones_read_as_unknown)
{
    char e[64];
    kin_role_t r;
    const char *n;
    size_t l = kin_entry_encode(KIN_FATHER, "Ned Brightwater", e, sizeof(e));
    cr_assert_eq(l, strlen("\x1f"
                           "father"
                           "\x1f"
                           "Ned Brightwater"));
    kin_entry_decode(e, &r, &n);
    cr_assert_eq(r, KIN_FATHER);
    cr_assert_str_eq(n, "Ned Brightwater");
    cr_assert_eq(kin_entry_encode(KIN_UNKNOWN, "Ned Brightwater", e, sizeof(e)), 15);
    cr_assert_str_eq(e, "Ned Brightwater", "unknown is stored as registers always stored it");
    kin_entry_decode("Orla Brightwater", &r, &n);
    cr_assert_eq(r, KIN_UNKNOWN);
    cr_assert_str_eq(n, "Orla Brightwater");
    kin_entry_decode("\x1f"
                     "stepmother"
                     "\x1f"
                     "Orla Brightwater",
                     &r, &n);
    cr_assert_eq(r, KIN_UNKNOWN, "a word a later version wrote");
    cr_assert_str_eq(n, "Orla Brightwater");
    cr_assert_eq(kin_entry_encode(KIN_CHILD, "Tamsin Brightwater", e, 10), 0, "too small");
    cr_assert_eq(kin_entry_encode(KIN_COUNT, "Tamsin", e, sizeof(e)), 0);
    cr_assert_str_eq(kin_role_name(KIN_CARER), "carer");
    cr_assert_str_eq(kin_role_name(KIN_UNKNOWN), "unknown");
    cr_assert_null(kin_role_name(KIN_COUNT));
}

/* The entries of register LIST (LEN bytes), decoded, as "role=name;..." in OUT. */
static void s_show(const uint8_t *list, size_t len, char *out, size_t cap)
{
    out[0] = '\0';
    for (size_t off = 0; off < len;) {
        const char *entry = (const char *)list + off;
        kin_role_t r;
        const char *n;
        kin_entry_decode(entry, &r, &n);
        size_t at = strlen(out);
        snprintf(out + at, cap - at, "%s=%s;", kin_role_name(r), n);
        off += strlen(entry) + 1;
    }
}

Test(kin, merge_into_an_old_register_keeps_each_name_once_and_learns_roles)
{
    /* A register written before roles: two bare names. */
    static const uint8_t old[] = "Tamsin Brightwater\0Orla Brightwater";
    char *add[] = { "mother:Orla Brightwater", "Ned Brightwater", "child: Tamsin Brightwater",
                    "father:Ned Brightwater" };
    size_t cap = kin_merge_bound(sizeof(old), add, 4), n = 0;
    uint8_t out[256];
    cr_assert_leq(cap, sizeof(out));
    cr_assert_eq(kin_merge(old, sizeof(old), add, 4, out, cap, &n), 0);
    char shown[256];
    s_show(out, n, shown, sizeof(shown));
    cr_assert_str_eq(shown,
                     "child=Tamsin Brightwater;mother=Orla Brightwater;father=Ned Brightwater;");
    /* The same names again without roles (an intake file imported again) forget nothing. */
    char *again[] = { "Orla Brightwater", "Tamsin Brightwater" };
    uint8_t out2[256];
    size_t n2 = 0;
    cr_assert_eq(kin_merge(out, n, again, 2, out2, kin_merge_bound(n, again, 2), &n2), 0);
    cr_assert_eq(n2, n);
    cr_assert_eq(memcmp(out, out2, n), 0);
    /* A role given later replaces the one stored. */
    char *fix[] = { "carer:Ned Brightwater" };
    cr_assert_eq(kin_merge(out, n, fix, 1, out2, kin_merge_bound(n, fix, 1), &n2), 0);
    s_show(out2, n2, shown, sizeof(shown));
    cr_assert_str_eq(shown,
                     "child=Tamsin Brightwater;mother=Orla Brightwater;carer=Ned Brightwater;");
}

Test(kin, merge_refuses_a_bad_role_and_too_small_a_buffer)
{
    char *bad[] = { "child:Tamsin Brightwater", "muther:Orla Brightwater" };
    uint8_t out[128];
    size_t n = 0;
    cr_assert_eq(kin_merge(NULL, 0, bad, 2, out, sizeof(out), &n), TACNET_EFIELD);
    char *ok[] = { "child:Tamsin Brightwater" };
    cr_assert_eq(kin_merge(NULL, 0, ok, 1, out, 8, &n), TACNET_EINVAL);
    cr_assert_eq(kin_merge(NULL, 0, ok, 1, out, sizeof(out), &n), 0);
    cr_assert_eq(n, strlen("\x1f"
                           "child"
                           "\x1f"
                           "Tamsin Brightwater") +
                        1);
}
