/* Unit tests of the dashboard's buffers and form fields (services/dashboard/buf.c). */
#include <criterion/criterion.h>
#include <string.h>

#include "dashboard/buf.h"
#include "err.h"

static int s_parse(dashboard_kv_t *kv, const char *body)
{
    return dashboard_kv_parse(kv, body, strlen(body));
}

Test(dashboard_buf, form_fields_are_percent_decoded_in_order)
{
    dashboard_kv_t kv = { 0 };
    cr_assert_eq(s_parse(&kv, "initials=AB&password=a+b%26c%3D&initials=CD&empty="), 0);
    cr_assert_eq(kv.n, 4);
    cr_assert_str_eq(dashboard_kv_get(&kv, "initials"), "AB", "the first of a repeated key");
    cr_assert_str_eq(dashboard_kv_get(&kv, "password"), "a b&c=");
    cr_assert_str_eq(kv.v[2].value, "CD");
    cr_assert_str_eq(dashboard_kv_get(&kv, "empty"), "");
    cr_assert_null(dashboard_kv_get(&kv, "missing"));
    dashboard_kv_clear(&kv);
    cr_assert_eq(kv.n, 0);
}

Test(dashboard_buf, an_encoded_nul_is_refused)
{
    dashboard_kv_t kv = { 0 };
    cr_assert_eq(s_parse(&kv, "a=1&password=secret%00hidden"), TACNET_EBADMSG);
    cr_assert_str_eq(dashboard_kv_get(&kv, "a"), "1", "fields before the refusal are kept");
    cr_assert_null(dashboard_kv_get(&kv, "password"));
    dashboard_kv_clear(&kv);
}

Test(dashboard_buf, a_malformed_escape_is_refused)
{
    const char *bad[] = { "a=%zz", "a=%4", "a=%", "%G1=x" };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        dashboard_kv_t kv = { 0 };
        cr_assert_eq(s_parse(&kv, bad[i]), TACNET_EBADMSG, "%s", bad[i]);
        dashboard_kv_clear(&kv);
    }
}

Test(dashboard_buf, fields_past_the_limit_and_nameless_ones_are_dropped)
{
    dashboard_kv_t kv = { 0 };
    cr_assert_eq(s_parse(&kv, "=nameless&k=v"), 0);
    cr_assert_eq(kv.n, 1);
    for (int i = 0; i < DASHBOARD_KV_MAX + 10; i++)
        dashboard_kv_add(&kv, "x", "y");
    cr_assert_eq(kv.n, DASHBOARD_KV_MAX);
    dashboard_kv_clear(&kv);
}

Test(dashboard_buf, html_escaping_covers_markup_quotes_and_nul)
{
    dashboard_buf_t b = { 0 };
    const char in[] = "<a href=\"x\">'&'</a>\0!";
    dashboard_buf_html(&b, in, sizeof(in) - 1);
    cr_assert_str_eq(b.data, "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;\xef\xbf\xbd!");
    dashboard_buf_free(&b);
    cr_assert_null(b.data);
    cr_assert_eq(b.len, 0);
}

Test(dashboard_buf, a_buffer_keeps_its_contents_as_it_grows)
{
    dashboard_buf_t b = { 0 };
    for (int i = 0; i < 5000; i++)
        dashboard_buf_printf(&b, "%04d", i);
    cr_assert_eq(b.len, 20000);
    cr_assert(b.cap > b.len);
    cr_assert_eq(memcmp(b.data, "000000010002", 12), 0);
    cr_assert_str_eq(b.data + 19996, "4999");
    dashboard_buf_free(&b);
}
