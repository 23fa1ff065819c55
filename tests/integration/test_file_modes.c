/* Integration tests of file modes: nothing under a running system's directory is open to other
 * users, whatever umask it was started with. Once for a harness-started broker and agency
 * (with a user, a token, a published event, a backup), once for `make run` itself
 * (scripts/run-local.sh on ports of its own). */
/* nftw() for the walk. */
#define _XOPEN_SOURCE 700
#include "harness.h"

#include <criterion/criterion.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "err.h"

#include <arpa/inet.h>
#include <jansson.h>
#include <netinet/in.h>
#include <sodium.h>
#include <sys/socket.h>

#include "client/client.h"
#include "pbjson.h"

#define CALL_MS 10000

static h_env_t env;
static int env_up;

/* ------------------------------------------------------------------ the walk */

typedef struct {
    long entries, open_to_others;
    char first[700];
    mode_t first_mode;
} walk_t;

static walk_t s_walk_result;

static int s_walk_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)flag;
    (void)ftw;
    s_walk_result.entries++;
    if (S_ISLNK(st->st_mode))
        return 0;
    if (st->st_mode & S_IRWXO) {
        if (!s_walk_result.open_to_others++) {
            snprintf(s_walk_result.first, sizeof(s_walk_result.first), "%s", path);
            s_walk_result.first_mode = st->st_mode & 07777;
        }
    }
    return 0;
}

/* Every file, directory and socket under DIR (DIR itself included). */
static walk_t s_walk(const char *dir)
{
    memset(&s_walk_result, 0, sizeof(s_walk_result));
    cr_assert_eq(nftw(dir, s_walk_one, 16, FTW_PHYS), 0, "cannot walk %s", dir);
    return s_walk_result;
}

/* ------------------------------------------------------------------ harness-started */

/* A port nobody listens on now, and the next four too (run-local.sh's dashboards). */
/* N consecutive ports free now, below the kernel's ephemeral range (32768 up, by default): a
 * port picked inside it could be taken by any outgoing connection of a test running beside this
 * one before run-local.sh binds it. */
static int s_free_ports(int n)
{
    for (int tries = 0; tries < 200; tries++) {
        int base = 20000 + (int)randombytes_uniform(12000);
        int ok = 1;
        for (int i = 0; i < n && ok; i++) {
            int fd = socket(AF_INET, SOCK_STREAM, 0);
            struct sockaddr_in sa = { .sin_family = AF_INET,
                                      .sin_port = htons((uint16_t)(base + i)),
                                      .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
            ok = bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;
            close(fd);
        }
        if (ok)
            return base;
    }
    cr_assert_fail("no free ports");
    return 0;
}


static void s_publish(const h_agency_t *a, const char *json)
{
    json_t *j = json_loads(json, 0, NULL);
    cr_assert_not_null(j);
    char why[256];
    Tacnet__PublishRequest *req = (Tacnet__PublishRequest *)pbjson_to_message(
        &tacnet__publish_request__descriptor, j, why, sizeof(why));
    json_decref(j);
    cr_assert_not_null(req, "%s", why);
    int err = 0;
    tn_client_t *c = tn_client_new(a->data, &err);
    cr_assert_not_null(c, "%s", tacnet_errname(err));
    Tacnet__ApiReply *r = NULL;
    cr_assert_eq(tn_client_publish(c, req, &r, CALL_MS), 0);
    tn_client_reply_free(&r);
    tn_client_destroy(&c);
    protobuf_c_message_free_unpacked(&req->base, NULL);
}

static void s_call(const h_agency_t *a, Tacnet__ApiRequest *req)
{
    int err = 0;
    tn_client_t *c = tn_client_new(a->data, &err);
    cr_assert_not_null(c, "%s", tacnet_errname(err));
    Tacnet__ApiReply *r = NULL;
    cr_assert_eq(tn_client_call(c, req, &r, CALL_MS), 0);
    cr_assert_eq(r->code, 0, "%s: %s", tacnet_errname(r->code), r->reason ? r->reason : "");
    tn_client_reply_free(&r);
    tn_client_destroy(&c);
}

static void s_user_and_token(const h_agency_t *a)
{
    char hash[crypto_pwhash_STRBYTES];
    const char *pw = "synthetic-password-1";
    cr_assert_eq(crypto_pwhash_str(hash, pw, strlen(pw), crypto_pwhash_OPSLIMIT_MIN,
                                   crypto_pwhash_MEMLIMIT_MIN),
                 0);
    Tacnet__AddUserRequest au = TACNET__ADD_USER_REQUEST__INIT;
    au.initials = (ProtobufCBinaryData){ 2, (uint8_t *)"DL" };
    au.role = TACNET__ROLE__DSL;
    au.password_hash = hash;
    Tacnet__ApiRequest req = TACNET__API_REQUEST__INIT;
    req.op_case = TACNET__API_REQUEST__OP_ADD_USER;
    req.add_user = &au;
    s_call(a, &req);
    Tacnet__AddTokenRequest at = TACNET__ADD_TOKEN_REQUEST__INIT;
    at.system = (char *)"school-mis";
    Tacnet__ApiRequest treq = TACNET__API_REQUEST__INIT;
    treq.op_case = TACNET__API_REQUEST__OP_ADD_TOKEN;
    treq.add_token = &at;
    s_call(a, &treq);
}

static void s_down(void)
{
    if (env_up)
        h_teardown(&env);
    env_up = 0;
}

TestSuite(file_modes, .fini = s_down, .timeout = 180);

Test(file_modes, a_running_system_leaves_nothing_open_to_other_users)
{
    /* The umask a careless shell hands over: the daemons must narrow it themselves. */
    umask(022);
    h_setup(&env, NULL);
    env_up = 1;
    cr_assert_eq(h_broker_start(&env, NULL), 0);
    h_agency_t *school = h_agency_add(&env, TACNET__AGENCY__SCHOOL);
    FILE *f = fopen(school->conf, "a");
    cr_assert_not_null(f);
    fprintf(f, "[http]\nport = %d\n", s_free_ports(1));
    fclose(f);
    cr_assert_eq(h_agency_start(school, NULL), 0, "the school daemon did not start");
    s_publish(school, "{\"kind\":\"concern\",\"case_ref\":\"LA7-2026-000321\",\"initials\":\"TB\","
                      "\"sensitivity\":\"routine\",\"body\":{\"concern\":{\"category\":"
                      "\"attendance\",\"summary\":\"Late most Mondays.\"}}}");
    s_user_and_token(school);
    /* A hot backup, written by the command. */
    char cmd[2048];
    const char *bin = getenv("TACNET_BIN");
    snprintf(cmd, sizeof(cmd),
             "umask 022; '%s/tacnet' backup --data-dir '%s' --out '%s/school.bak' "
             ">/dev/null 2>&1",
             bin && *bin ? bin : "build/default/bin", school->data, env.dir);
    cr_assert_eq(system(cmd), 0, "tacnet backup failed");
    walk_t w = s_walk(env.dir);
    cr_expect_gt(w.entries, 10, "only %ld entries under %s", w.entries, env.dir);
    cr_expect_eq(w.open_to_others, 0, "%ld of %ld entries open to other users, first %s (%04o)",
                 w.open_to_others, w.entries, w.first, (unsigned)w.first_mode);
    fprintf(stderr, "[modes] harness-started system: %ld entries, %ld open to other users\n",
            w.entries, w.open_to_others);
}

/* ------------------------------------------------------------------ make run */

static char s_run_dir[256];
static pid_t s_run_pid;

static void s_run_down(void)
{
    if (s_run_pid > 0) {
        kill(-s_run_pid, SIGINT);
        int status;
        for (int i = 0; i < 150 && waitpid(s_run_pid, &status, WNOHANG) == 0; i++)
            h_sleep_ms(100);
        kill(-s_run_pid, SIGKILL);
        waitpid(s_run_pid, &status, 0);
    }
    s_run_pid = 0;
    if (s_run_dir[0] && !getenv("TACNET_KEEP")) {
        char cmd[400];
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", s_run_dir);
        if (system(cmd) != 0)
            fprintf(stderr, "could not remove %s\n", s_run_dir);
    }
}

TestSuite(file_modes_run, .fini = s_run_down, .timeout = 240);

Test(file_modes_run, make_run_leaves_nothing_open_to_other_users)
{
    cr_assert_eq(sodium_init() >= 0, 1);
    snprintf(s_run_dir, sizeof(s_run_dir), "/tmp/tacnet-run-XXXXXX");
    cr_assert_not_null(mkdtemp(s_run_dir));
    char run[300], out[320], port_broker[16], port_http[16];
    snprintf(run, sizeof(run), "%s/run", s_run_dir);
    snprintf(out, sizeof(out), "%s/stdout", s_run_dir);
    snprintf(port_broker, sizeof(port_broker), "%d", s_free_ports(1));
    snprintf(port_http, sizeof(port_http), "%d", s_free_ports(5));
    const char *src = getenv("TACNET_SRC"), *bin = getenv("TACNET_BIN");
    char script[1024];
    snprintf(script, sizeof(script), "%s/scripts/run-local.sh", src && *src ? src : ".");
    s_run_pid = fork();
    cr_assert_geq(s_run_pid, 0);
    if (s_run_pid == 0) {
        setpgid(0, 0);
        umask(022);
        int fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        if (fd >= 0) {
            dup2(fd, STDOUT_FILENO);
            dup2(fd, STDERR_FILENO);
            close(fd);
        }
        setenv("TACNET_RUN", run, 1);
        setenv("TACNET_BROKER_PORT", port_broker, 1);
        setenv("TACNET_HTTP_BASE", port_http, 1);
        setenv("TACNET_SCENARIO", "/nonexistent", 1);
        execl("/bin/bash", "bash", script, bin && *bin ? bin : "build/default/bin", (char *)NULL);
        _exit(127);
    }
    setpgid(s_run_pid, s_run_pid);
    int up = 0;
    for (int i = 0; i < 1200 && !up; i++) {
        up = h_file_contains(out, "run: everything is up");
        int status;
        if (!up && waitpid(s_run_pid, &status, WNOHANG) == s_run_pid) {
            s_run_pid = 0;
            char tail[1200] = "";
            FILE *f = fopen(out, "r");
            if (f) {
                long at = fseek(f, 0, SEEK_END) == 0 ? ftell(f) : 0;
                at = at > (long)sizeof(tail) - 1 ? at - (long)sizeof(tail) + 1 : 0;
                if (fseek(f, at, SEEK_SET) == 0)
                    tail[fread(tail, 1, sizeof(tail) - 1, f)] = '\0';
                fclose(f);
            }
            cr_assert_fail("run-local.sh exited early; the end of its output:\n%s", tail);
        }
        if (!up)
            h_sleep_ms(100);
    }
    cr_assert(up, "run-local.sh did not come up in 120 s (output in %s)", out);
    walk_t w = s_walk(run);
    cr_expect_gt(w.entries, 20, "only %ld entries under %s", w.entries, run);
    cr_expect_eq(w.open_to_others, 0, "%ld of %ld entries open to other users, first %s (%04o)",
                 w.open_to_others, w.entries, w.first, (unsigned)w.first_mode);
    fprintf(stderr, "[modes] make run: %ld entries, %ld open to other users\n", w.entries,
            w.open_to_others);
}
