/* names: every enum the API can print comes out in lower case, whatever order the enums are
 * first used in (a fixed cache of 16 once printed the 17th and later in upper case). */
#include <criterion/criterion.h>
#include <ctype.h>
#include <string.h>

#include "api.pb-c.h"
#include "err.h"
#include "names.h"
#include "roster.pb-c.h"
#include "wire.pb-c.h"

#define MAX_SEEN 256

typedef struct {
    const ProtobufCMessageDescriptor *msgs[MAX_SEEN];
    const ProtobufCEnumDescriptor *enums[MAX_SEEN];
    size_t n_msgs, n_enums;
} seen_t;

/* Every enum reachable from message M's fields, into SEEN (each once). */
static void s_walk(seen_t *seen, const ProtobufCMessageDescriptor *m)
{
    for (size_t i = 0; i < seen->n_msgs; i++)
        if (seen->msgs[i] == m)
            return;
    cr_assert_lt(seen->n_msgs, MAX_SEEN);
    seen->msgs[seen->n_msgs++] = m;
    for (unsigned f = 0; f < m->n_fields; f++) {
        const ProtobufCFieldDescriptor *fd = &m->fields[f];
        if (fd->type == PROTOBUF_C_TYPE_MESSAGE) {
            s_walk(seen, fd->descriptor);
        } else if (fd->type == PROTOBUF_C_TYPE_ENUM) {
            size_t e = 0;
            while (e < seen->n_enums && seen->enums[e] != fd->descriptor)
                e++;
            if (e == seen->n_enums) {
                cr_assert_lt(seen->n_enums, MAX_SEEN);
                seen->enums[seen->n_enums++] = fd->descriptor;
            }
        }
    }
}

static void s_expect_lower(const ProtobufCEnumDescriptor *d)
{
    for (unsigned i = 0; i < d->n_values; i++) {
        const ProtobufCEnumValue *v = &d->values[i];
        const char *got = names_enum(d, v->value);
        cr_assert_not_null(got, "%s.%s", d->name, v->name);
        cr_expect_eq(strlen(got), strlen(v->name), "%s.%s", d->name, v->name);
        for (size_t c = 0; got[c]; c++)
            cr_expect_eq(got[c], (char)tolower((unsigned char)v->name[c]), "%s.%s printed as %s",
                         d->name, v->name, got);
    }
}

Test(names, every_enum_of_the_api_and_the_wire_prints_in_lower_case)
{
    seen_t seen = { 0 };
    s_walk(&seen, &tacnet__api_request__descriptor);
    s_walk(&seen, &tacnet__api_reply__descriptor);
    s_walk(&seen, &tacnet__header__descriptor);
    s_walk(&seen, &tacnet__roster__descriptor);
    /* More enums than the old cache held, so the test fails without the fix. */
    cr_assert_gt(seen.n_enums, 16, "only %zu enums reached", seen.n_enums);
    for (size_t e = 0; e < seen.n_enums; e++)
        s_expect_lower(seen.enums[e]);
    /* Asked again (now from the cache), in the opposite order: the same names. */
    for (size_t e = seen.n_enums; e-- > 0;)
        s_expect_lower(seen.enums[e]);
}

Test(names, a_lower_case_name_parses_back_to_its_value)
{
    int v = -1;
    cr_expect_eq(names_enum_parse(&tacnet__publish_state__descriptor, "publish_accepted", &v), 0);
    cr_expect_eq(v, TACNET__PUBLISH_STATE__PUBLISH_ACCEPTED);
    cr_expect_str_eq(names_enum(&tacnet__publish_state__descriptor, v), "publish_accepted");
    cr_expect_eq(names_enum_parse(&tacnet__publish_state__descriptor, "no_such_state", &v),
                 TACNET_EENUM);
}
