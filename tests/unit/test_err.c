#include <criterion/criterion.h>
#include <errno.h>
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

Test(err, system_errnos_translate_into_the_one_space)
{
    cr_assert_eq(tacnet_err_from_errno(0), 0);
    cr_assert_eq(tacnet_err_from_errno(EAGAIN), TACNET_EAGAIN);
    cr_assert_eq(tacnet_err_from_errno(EWOULDBLOCK), TACNET_EAGAIN);
    cr_assert_eq(tacnet_err_from_errno(EINTR), TACNET_EINTR);
    cr_assert_eq(tacnet_err_from_errno(EHOSTUNREACH), TACNET_EHOSTUNREACH);
    cr_assert_eq(tacnet_err_from_errno(ENOMEM), TACNET_ENOMEM);
    cr_assert_eq(tacnet_err_from_errno(EINVAL), TACNET_EINVAL);
    cr_assert_eq(tacnet_err_from_errno(ENOENT), TACNET_ENOTFOUND);
    cr_assert_eq(tacnet_err_from_errno(EEXIST), TACNET_EEXISTS);
    cr_assert_eq(tacnet_err_from_errno(ENOSPC), TACNET_EDISKFULL);
    cr_assert_eq(tacnet_err_from_errno(EDQUOT), TACNET_EDISKFULL);
    cr_assert_eq(tacnet_err_from_errno(ETIMEDOUT), TACNET_ETIMEOUT);
    cr_assert_eq(tacnet_err_from_errno(EIO), TACNET_EIO);
    cr_assert_eq(tacnet_err_from_errno(EPIPE), TACNET_EIO, "anything else is an I/O error");
    /* already in tacnet's space: unchanged */
    cr_assert_eq(tacnet_err_from_errno(TACNET_EMAPFULL), TACNET_EMAPFULL);
}

Test(err, socket_codes_have_stable_names)
{
    cr_assert_str_eq(tacnet_errname(TACNET_EAGAIN), "E_AGAIN");
    cr_assert_str_eq(tacnet_errname(TACNET_EINTR), "E_INTR");
    cr_assert_str_eq(tacnet_errname(TACNET_EUNAVAILABLE), "E_UNAVAILABLE");
    cr_assert_str_eq(tacnet_errname(TACNET_EFENCED), "E_FENCED");
    cr_assert_str_eq(tacnet_errname(TACNET_EHOSTUNREACH), "E_HOSTUNREACH");
    cr_assert_eq(TACNET_EAGAIN, -1013);
    cr_assert_eq(TACNET_EINTR, -1014);
    cr_assert_eq(TACNET_EHOSTUNREACH, -1015);
    /* a raw errno is not a tacnet code */
    cr_assert_str_eq(tacnet_errname(EAGAIN), "E_UNKNOWN");
}
