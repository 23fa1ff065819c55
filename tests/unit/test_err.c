#include <criterion/criterion.h>
#include <string.h>

#include "err.h"

Test(err, every_code_has_a_name_and_text)
{
#define X(name, code, text)                             \
    cr_assert_str_eq(tacnet_errname(code), "E_" #name); \
    cr_assert_str_eq(tacnet_strerror(code), text);      \
    cr_assert_str_neq(tacnet_strerror(code), "unknown error");
    TACNET_ERR_MAP(X)
#undef X
}

Test(err, codes_are_distinct)
{
    static const int codes[] = {
#define X(name, code, text) code,
        TACNET_ERR_MAP(X)
#undef X
    };
    size_t n = sizeof(codes) / sizeof(codes[0]);
    for (size_t i = 0; i < n; i++)
        for (size_t j = i + 1; j < n; j++)
            cr_assert_neq(codes[i], codes[j], "code %d used twice", codes[i]);
}

Test(err, unknown_and_zero_codes)
{
    cr_assert_str_eq(tacnet_strerror(0), "ok");
    cr_assert_str_eq(tacnet_errname(-1), "E_UNKNOWN");
    cr_assert_str_eq(tacnet_strerror(-99999), "unknown error");
}
