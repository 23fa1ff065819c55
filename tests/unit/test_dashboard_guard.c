#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dashboard/guard.h"
#include "err.h"

static dashboard_guard_t *s_new(const char *listen, const char *hosts)
{
    dashboard_config_t c = { .listen = listen, .port = 8402, .hosts = hosts };
    int err = 0;
    char why[256] = "";
    dashboard_guard_t *g = dashboard_guard_new(&c, &err, why, sizeof(why));
    cr_assert_not_null(g, "%s (%s)", why, tacnet_errname(err));
    return g;
}

Test(dashboard_guard, the_default_hosts_are_the_listen_address_and_loopback_names)
{
    dashboard_guard_t *g = s_new("127.0.0.1", NULL);
    cr_expect_eq(dashboard_guard_host(g, "127.0.0.1:8402"), 0);
    cr_expect_eq(dashboard_guard_host(g, "LOCALHOST:8402"), 0, "names are case-insensitive");
    cr_expect_eq(dashboard_guard_host(g, "[::1]:8402"), 0);
    cr_expect_eq(dashboard_guard_host(g, "localhost"), 0);
    cr_expect_eq(dashboard_guard_host(g, "evil.example:8402"), TACNET_EFORBIDDEN);
    cr_expect_eq(dashboard_guard_host(g, "localhost.evil.example"), TACNET_EFORBIDDEN);
    cr_expect_eq(dashboard_guard_host(g, NULL), TACNET_EFORBIDDEN, "no Host at all");
    cr_expect_eq(dashboard_guard_host(g, "[::1"), TACNET_EFORBIDDEN);
    cr_expect_eq(dashboard_guard_host(g, ""), TACNET_EFORBIDDEN);
    cr_expect_eq(dashboard_guard_secure(g), 0);
    cr_expect_null(dashboard_guard_cert(g));
    dashboard_guard_destroy(&g);
    cr_expect_null(g);
}

Test(dashboard_guard, a_hosts_list_replaces_the_default)
{
    dashboard_guard_t *g = s_new("127.0.0.1", "tacnet.school.example, [2001:db8::7]");
    cr_expect_eq(dashboard_guard_host(g, "tacnet.school.example"), 0);
    cr_expect_eq(dashboard_guard_host(g, "[2001:db8::7]:443"), 0);
    cr_expect_eq(dashboard_guard_host(g, "localhost"), TACNET_EFORBIDDEN);
    dashboard_guard_destroy(&g);
    dashboard_config_t c = { .listen = "127.0.0.1", .port = 1, .hosts = "ok.example, bad/host" };
    int err = 0;
    char why[256] = "";
    cr_expect_null(dashboard_guard_new(&c, &err, why, sizeof(why)));
    cr_expect_eq(err, TACNET_ECONFIG);
    cr_expect(strstr(why, "bad/host"), "%s", why);
}

Test(dashboard_guard, a_post_must_come_from_this_origin)
{
    dashboard_guard_t *g = s_new("127.0.0.1", NULL);
    char why[256];
    const char *host = "127.0.0.1:8402";
    cr_expect_eq(dashboard_guard_origin(g, "http://127.0.0.1:8402", host, NULL, why, 256), 0);
    cr_expect_eq(dashboard_guard_origin(g, NULL, host, NULL, why, 256), 0, "curl, python");
    cr_expect_eq(dashboard_guard_origin(g, NULL, host, "same-origin", why, 256), 0);
    cr_expect_eq(dashboard_guard_origin(g, "http://evil.example", host, NULL, why, 256),
                 TACNET_EFORBIDDEN);
    cr_expect(strstr(why, "evil.example"), "%s", why);
    cr_expect_eq(dashboard_guard_origin(g, "null", host, NULL, why, 256), TACNET_EFORBIDDEN);
    cr_expect_eq(dashboard_guard_origin(g, "null", host, "cross-site", why, 256),
                 TACNET_EFORBIDDEN);
    cr_expect_eq(dashboard_guard_origin(g, "null", host, "same-origin", why, 256), 0,
                 "the browser's word for a page whose Origin is hidden");
    cr_expect_eq(dashboard_guard_origin(g, "https://127.0.0.1:8402", host, NULL, why, 256),
                 TACNET_EFORBIDDEN, "another scheme is another origin");
    cr_expect_eq(dashboard_guard_origin(g, "http://127.0.0.1:8403", host, NULL, why, 256),
                 TACNET_EFORBIDDEN, "another port is another origin");
    cr_expect_eq(dashboard_guard_origin(g, NULL, host, "cross-site", why, 256), TACNET_EFORBIDDEN);
    cr_expect_eq(dashboard_guard_origin(g, NULL, host, "same-site", why, 256), TACNET_EFORBIDDEN);
    dashboard_guard_destroy(&g);
}

Test(dashboard_guard, login_tokens_are_this_daemons_and_expire)
{
    dashboard_guard_t *g = s_new("127.0.0.1", NULL), *other = s_new("127.0.0.1", NULL);
    char t[65], u[65];
    uint64_t now = 1000000;
    dashboard_guard_login_token(g, now, t);
    dashboard_guard_login_token(g, now, u);
    cr_expect_eq(strlen(t), 64);
    cr_expect_neq(strcmp(t, u), 0, "each token is fresh");
    cr_expect_eq(dashboard_guard_login_check(g, t, now), 0);
    cr_expect_eq(dashboard_guard_login_check(g, t, now + DASHBOARD_LOGIN_TOKEN_MS - 1), 0);
    cr_expect_eq(dashboard_guard_login_check(g, t, now + DASHBOARD_LOGIN_TOKEN_MS), TACNET_ECSRF);
    cr_expect_eq(dashboard_guard_login_check(g, t, now - 1), TACNET_ECSRF, "from the future");
    cr_expect_eq(dashboard_guard_login_check(other, t, now), TACNET_ECSRF, "another daemon's");
    for (int i = 0; i < 64; i++) {
        char b[65];
        memcpy(b, t, 65);
        b[i] = b[i] == '0' ? '1' : '0';
        cr_expect_eq(dashboard_guard_login_check(g, b, now), TACNET_ECSRF, "digit %d changed", i);
    }
    cr_expect_eq(dashboard_guard_login_check(g, "", now), TACNET_ECSRF);
    cr_expect_eq(dashboard_guard_login_check(g, NULL, now), TACNET_ECSRF);
    dashboard_guard_destroy(&g);
    dashboard_guard_destroy(&other);
}

Test(dashboard_guard, plain_http_beyond_loopback_needs_a_tls_proxy)
{
    int err = 0;
    char why[256] = "";
    dashboard_config_t c = { .listen = "0.0.0.0", .port = 8402 };
    cr_expect_null(dashboard_guard_new(&c, &err, why, sizeof(why)));
    cr_expect_eq(err, TACNET_ECONFIG);
    cr_expect(strstr(why, "beyond loopback"), "%s", why);
    c.listen = "::1";
    dashboard_guard_t *g = dashboard_guard_new(&c, &err, why, sizeof(why));
    cr_expect_not_null(g, "IPv6 loopback is loopback");
    dashboard_guard_destroy(&g);
    c.listen = "127.9.9.9";
    g = dashboard_guard_new(&c, &err, why, sizeof(why));
    cr_expect_not_null(g, "all of 127/8 is loopback");
    dashboard_guard_destroy(&g);
    c.listen = "0.0.0.0";
    c.behind_tls_proxy = 1;
    g = dashboard_guard_new(&c, &err, why, sizeof(why));
    cr_assert_not_null(g, "%s", why);
    cr_expect_eq(dashboard_guard_secure(g), 1);
    char w2[256];
    cr_expect_eq(dashboard_guard_origin(g, "https://x.example", "x.example", NULL, w2, 256), 0);
    cr_expect_eq(dashboard_guard_origin(g, "http://x.example", "x.example", NULL, w2, 256),
                 TACNET_EFORBIDDEN);
    dashboard_guard_destroy(&g);
}

Test(dashboard_guard, cert_and_key_go_together_and_the_key_is_private)
{
    char dir[] = "/tmp/tacnet-guard-XXXXXX", cert[128], key[128];
    cr_assert_not_null(mkdtemp(dir));
    snprintf(cert, sizeof(cert), "%s/c.pem", dir);
    snprintf(key, sizeof(key), "%s/k.pem", dir);
    FILE *f = fopen(cert, "w");
    fputs("-----BEGIN CERTIFICATE-----\nnot checked here\n-----END CERTIFICATE-----\n", f);
    fclose(f);
    f = fopen(key, "w");
    fputs("-----BEGIN PRIVATE KEY-----\nnot checked here\n-----END PRIVATE KEY-----\n", f);
    fclose(f);
    int err = 0;
    char why[256] = "";
    dashboard_config_t c = { .listen = "127.0.0.1", .port = 8402, .cert = cert };
    cr_expect_null(dashboard_guard_new(&c, &err, why, sizeof(why)));
    cr_expect_eq(err, TACNET_ECONFIG, "a cert without a key");
    c.key = key;
    chmod(key, 0644);
    cr_expect_null(dashboard_guard_new(&c, &err, why, sizeof(why)));
    cr_expect_eq(err, TACNET_EPERM, "a key others can read: %s", why);
    chmod(key, 0600);
    dashboard_guard_t *g = dashboard_guard_new(&c, &err, why, sizeof(why));
    cr_assert_not_null(g, "%s", why);
    cr_expect(strstr(dashboard_guard_cert(g), "BEGIN CERTIFICATE"));
    cr_expect(strstr(dashboard_guard_key(g), "BEGIN PRIVATE KEY"));
    cr_expect_eq(dashboard_guard_secure(g), 1);
    dashboard_guard_destroy(&g);
    c.key = "/nonexistent/k.pem";
    cr_expect_null(dashboard_guard_new(&c, &err, why, sizeof(why)));
    cr_expect_eq(err, TACNET_EIO);
    unlink(cert);
    unlink(key);
    rmdir(dir);
}
