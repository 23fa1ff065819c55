/* harness: broker process control and a raw-protocol agency client (see harness.h). */
/* nftw() for removing the temp dir. */
#define _XOPEN_SOURCE 700
#include "harness.h"
#include "merkle.h"
#include "grant.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

#include "agencies.h"
#include "cli/provision.h"
#include "err.h"
#include "kinds.h"
#include "names.h"
#include "events.pb-c.h"
#include "roster.pb-c.h"

static const struct {
    uint32_t agency;
    const char *name;
} h_nodes[] = {
    { TACNET__AGENCY__CAMHS, "camhs" },
    { TACNET__AGENCY__SCHOOL, "school" },
    { TACNET__AGENCY__HEALTH_VISITING, "health_visiting" },
    { TACNET__AGENCY__SOCIAL_CARE, "social_care" },
    /* deploy/agencies.conf's fifth agency, served by the generic daemon. */
    { H_FAMILY_SUPPORT, "family_support" },
    { TACNET__AGENCY__BROKER, "broker" },
};

uint64_t h_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

void h_sleep_ms(int ms)
{
    struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

const char *h_sharing_path = NULL;
const char *h_agencies_path = NULL;
const char *h_escalation_path = NULL;
int h_with_partnership = 0;
const char *h_bind = NULL;

const char *h_src(void)
{
    const char *s = getenv("TACNET_SRC");
    return s && *s ? s : ".";
}

static const char *h_bin(void)
{
    static char path[1024];
    const char *b = getenv("TACNET_BIN");
    snprintf(path, sizeof(path), "%s/tacnet-broker", b && *b ? b : "build/default/bin");
    return path;
}

/* exec BIN as ARGV0 --config CONF, prefixed by $TACNET_WRAP when set (words split on spaces,
 * e.g. "valgrind --error-exitcode=1 --log-file=/tmp/vg.%p"), as scripts/valgrind.sh does. Only
 * returns if the exec failed. */
static void h_exec(const char *bin, const char *argv0, const char *conf)
{
    const char *wrap = getenv("TACNET_WRAP");
    if (!wrap || !*wrap) {
        execl(bin, argv0, "--config", conf, (char *)NULL);
        return;
    }
    static char words[4096];
    char *argv[64];
    int n = 0;
    snprintf(words, sizeof(words), "%s", wrap);
    for (char *save = NULL, *w = strtok_r(words, " ", &save); w && n < 59;
         w = strtok_r(NULL, " ", &save))
        argv[n++] = w;
    argv[n++] = (char *)bin;
    argv[n++] = (char *)"--config";
    argv[n++] = (char *)conf;
    argv[n] = NULL;
    execvp(argv[0], argv);
}

static int h_rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    chmod(path, 0700);
    return remove(path) == 0 ? 0 : 0;
}

/* Open PATH for writing, created owner-only as scripts/run-local.sh and the systemd units leave
 * configs and logs, whatever the test's umask. */
static FILE *h_fopen_private(const char *path, const char *mode)
{
    int fd = open(path, O_WRONLY | O_CREAT | (mode[0] == 'a' ? O_APPEND : O_TRUNC), 0600);
    FILE *f = fd >= 0 ? fdopen(fd, mode) : NULL;
    if (!f && fd >= 0)
        close(fd);
    return f;
}

void h_config_write(h_env_t *e, const char *extra)
{
    FILE *f = h_fopen_private(e->conf, "w");
    CHECK(f != NULL, "cannot write %s", e->conf);
    fprintf(f,
            "[broker]\nbind = %s\ndata_dir = %s\nroster = %s/roster.bin\n"
            "root_key = %s/root.pub\nkey = %s/keys/broker.key\n%s\n",
            h_bind ? h_bind : "tcp://127.0.0.1:*", e->data, e->pdir, e->pdir, e->pdir,
            extra ? extra : "");
    fclose(f);
}

void h_setup(h_env_t *e, const char *extra)
{
    memset(e, 0, sizeof(*e));
    CHECK(seal_init() == 0);
    snprintf(e->dir, sizeof(e->dir), "/tmp/tacnet-it-XXXXXX");
    CHECK(mkdtemp(e->dir) != NULL);
    snprintf(e->pdir, sizeof(e->pdir), "%s/p", e->dir);
    snprintf(e->data, sizeof(e->data), "%s/data", e->dir);
    snprintf(e->conf, sizeof(e->conf), "%s/broker.conf", e->dir);
    snprintf(e->log, sizeof(e->log), "%s/broker.log", e->dir);
    CHECK(mkdir(e->data, 0700) == 0);

    char sharing[1024], escalation[1024], agencies[1024], plog[600];
    if (h_agencies_path) {
        /* A copy the test's `tacnet` commands read too (TACNET_AGENCIES, h_cli). */
        snprintf(e->agencies_conf, sizeof(e->agencies_conf), "%s/agencies.conf", e->dir);
        char text[16384];
        FILE *in = fopen(h_agencies_path, "r"), *out = h_fopen_private(e->agencies_conf, "w");
        CHECK(in && out, "%s", h_agencies_path);
        size_t n = fread(text, 1, sizeof(text), in);
        CHECK(n < sizeof(text) && fwrite(text, 1, n, out) == n);
        fclose(in);
        fclose(out);
        snprintf(agencies, sizeof(agencies), "%s", e->agencies_conf);
    } else
        snprintf(agencies, sizeof(agencies), "%s/deploy/agencies.conf", h_src());
    if (h_sharing_path)
        snprintf(sharing, sizeof(sharing), "%s", h_sharing_path);
    else
        snprintf(sharing, sizeof(sharing), "%s/deploy/sharing.conf", h_src());
    if (h_escalation_path)
        snprintf(escalation, sizeof(escalation), "%s", h_escalation_path);
    else
        snprintf(escalation, sizeof(escalation), "%s/deploy/escalation.conf", h_src());
    snprintf(plog, sizeof(plog), "%s/provision.log", e->dir);
    FILE *pl = h_fopen_private(plog, "w");
    CHECK(pl != NULL);
    provision_opts_t o = { .out_dir = e->pdir,
                           .sharing_path = sharing,
                           .escalation_path = escalation,
                           .agencies_path = agencies,
                           .agencies_required = 1,
                           .validity_days = 30,
                           .partnership = h_with_partnership };
    int rc = provision_run(&o, pl);
    fclose(pl);
    CHECK(rc == 0, "provision_run: %s", tacnet_errname(rc));

    char path[1024], why[256];
    uint8_t root_pk[SEAL_KEY_BYTES];
    snprintf(path, sizeof(path), "%s/root.pub", e->pdir);
    CHECK(roster_root_load(path, root_pk) == 0);
    snprintf(path, sizeof(path), "%s/roster.bin", e->pdir);
    int err = 0;
    e->roster = roster_load(path, root_pk, &err);
    CHECK(e->roster != NULL, "roster_load: %s", tacnet_errname(err));
    for (size_t i = 0; i < sizeof(h_nodes) / sizeof(h_nodes[0]); i++) {
        uint32_t a = h_nodes[i].agency;
        snprintf(path, sizeof(path), "%s/keys/%s.key", e->pdir, h_nodes[i].name);
        CHECK(seal_keys_load(path, &e->keys[a], why, sizeof(why)) == 0, "%s", why);
        e->seal[a] = seal_ctx_new(e->keys[a]);
        CHECK(e->seal[a] != NULL);
    }
    /* The roster's other agencies (h_agencies_path), by the names it gives them. */
    for (uint32_t a = AGENCIES_EXTRA_FIRST; a <= AGENCIES_EXTRA_LAST; a++) {
        if (e->keys[a] || !agencies_name(a))
            continue;
        snprintf(path, sizeof(path), "%s/keys/%s.key", e->pdir, agencies_name(a));
        CHECK(seal_keys_load(path, &e->keys[a], why, sizeof(why)) == 0, "%s", why);
        e->seal[a] = seal_ctx_new(e->keys[a]);
        CHECK(e->seal[a] != NULL);
    }
    if (h_with_partnership) {
        uint32_t a = TACNET__AGENCY__PARTNERSHIP;
        snprintf(path, sizeof(path), "%s/keys/partnership.key", e->pdir);
        CHECK(seal_keys_load(path, &e->keys[a], why, sizeof(why)) == 0, "%s", why);
        e->seal[a] = seal_ctx_new(e->keys[a]);
        CHECK(e->seal[a] != NULL);
    }
    e->ctx = zmq_ctx_new();
    h_config_write(e, extra);
}

int h_log_contains(const h_env_t *e, const char *needle)
{
    return h_file_contains(e->log, needle);
}

int h_file_contains(const char *path, const char *needle)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return 0;
    size_t cap = 1 << 16, len = 0, nl = strlen(needle);
    char *buf = malloc(cap);
    size_t got;
    while ((got = fread(buf + len, 1, cap - len, f)) > 0) {
        len += got;
        if (len == cap)
            buf = realloc(buf, cap *= 2);
    }
    fclose(f);
    int found = 0;
    for (size_t i = 0; !found && nl <= len && i <= len - nl; i++)
        found = memcmp(buf + i, needle, nl) == 0;
    free(buf);
    return found;
}

void h_close(h_client_t **c_p)
{
    if (!c_p || !*c_p)
        return;
    h_client_t *c = *c_p;
    for (size_t i = 0; i < sizeof(c->env->clients) / sizeof(c->env->clients[0]); i++)
        if (c->env->clients[i] == c)
            c->env->clients[i] = NULL;
    zmq_close(c->sock);
    free(c);
    *c_p = NULL;
}

int h_broker_signal_wait(h_env_t *e, int sig)
{
    int status = 0;
    if (!e->pid)
        return -1;
    kill(e->pid, sig);
    /* A clean stop flushes and exits quickly; give sanitizers time to write their report. */
    for (int i = 0; i < 1000; i++) {
        pid_t r = waitpid(e->pid, &status, WNOHANG);
        if (r == e->pid) {
            e->pid = 0;
            return status;
        }
        h_sleep_ms(10);
    }
    kill(e->pid, SIGKILL);
    waitpid(e->pid, &status, 0);
    e->pid = 0;
    return status;
}

static void s_agency_teardown(h_agency_t *a)
{
    if (a->pid) {
        int st = h_agency_signal_wait(a, SIGTERM);
        CHECK_EXPECT(WIFEXITED(st) && WEXITSTATUS(st) == 0, "agency %u did not stop cleanly (%d)",
                     a->agency, st);
    }
    CHECK_EXPECT(!h_file_contains(a->log, "LeakSanitizer"), "agency log %s has a leak report",
                 a->log);
    CHECK_EXPECT(!h_file_contains(a->log, "runtime error"), "agency log %s has a UBSan report",
                 a->log);
    CHECK_EXPECT(!h_file_contains(a->log, "AddressSanitizer"), "agency log %s has an ASan report",
                 a->log);
    free(a);
}

void h_teardown(h_env_t *e)
{
    for (size_t i = 0; i < sizeof(e->clients) / sizeof(e->clients[0]); i++)
        h_close(&e->clients[i]);
    for (size_t i = 0; i < sizeof(e->agencies) / sizeof(e->agencies[0]); i++) {
        if (e->agencies[i])
            s_agency_teardown(e->agencies[i]);
        e->agencies[i] = NULL;
    }
    if (e->pid) {
        int st = h_broker_signal_wait(e, SIGTERM);
        CHECK_EXPECT(WIFEXITED(st) && WEXITSTATUS(st) == 0, "broker did not stop cleanly (%d)", st);
    }
    CHECK_EXPECT(!h_log_contains(e, "LeakSanitizer"), "broker log %s has a leak report", e->log);
    CHECK_EXPECT(!h_log_contains(e, "runtime error"), "broker log %s has a UBSan report", e->log);
    CHECK_EXPECT(!h_log_contains(e, "AddressSanitizer"), "broker log %s has an ASan report",
                 e->log);
    if (e->ctx)
        zmq_ctx_term(e->ctx);
    for (int a = 0; a < H_MAX_AGENCY; a++) {
        seal_ctx_destroy(&e->seal[a]);
        seal_keys_destroy(&e->keys[a]);
    }
    roster_destroy(&e->roster);
    if (e->dir[0] && !getenv("TACNET_KEEP"))
        nftw(e->dir, h_rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static pid_t h_spawn(h_env_t *e, const char *fault)
{
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        int fd = open(e->log, O_WRONLY | O_CREAT | O_APPEND, 0600);
        if (fd >= 0) {
            dup2(fd, STDERR_FILENO);
            dup2(fd, STDOUT_FILENO);
            close(fd);
        }
        if (fault)
            setenv("TACNET_FAULT", fault, 1);
        else
            unsetenv("TACNET_FAULT");
        h_exec(h_bin(), "tacnet-broker", e->conf);
        _exit(127);
    }
    return pid;
}

int h_broker_start(h_env_t *e, const char *fault)
{
    char path[600];
    snprintf(path, sizeof(path), "%s/endpoint", e->data);
    unlink(path);
    e->pid = h_spawn(e, fault);
    for (int i = 0; i < 2000; i++) {
        int status;
        if (waitpid(e->pid, &status, WNOHANG) == e->pid) {
            e->pid = 0;
            return 1000 + (WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
        }
        FILE *f = fopen(path, "r");
        if (f) {
            int ok = fgets(e->endpoint, sizeof(e->endpoint), f) != NULL;
            fclose(f);
            size_t n = strlen(e->endpoint);
            if (ok && n > 0 && e->endpoint[n - 1] == '\n') {
                e->endpoint[n - 1] = 0;
                return 0;
            }
        }
        h_sleep_ms(10);
    }
    CHECK_FAIL("broker did not write %s", path);
    return -1;
}

int h_broker_run_expect_exit(h_env_t *e, int timeout_ms)
{
    e->pid = h_spawn(e, NULL);
    for (int waited = 0; waited < timeout_ms; waited += 10) {
        int status;
        if (waitpid(e->pid, &status, WNOHANG) == e->pid) {
            e->pid = 0;
            return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        }
        h_sleep_ms(10);
    }
    h_broker_signal_wait(e, SIGKILL);
    return -1;
}

/* ---------------------------------------------------------------- client */

h_client_t *h_connect_raw(h_env_t *e, int security, const seal_keys_t *client_keys,
                          const uint8_t *server_pk)
{
    h_client_t *c = calloc(1, sizeof(*c));
    c->env = e;
    c->sock = zmq_socket(e->ctx, ZMQ_DEALER);
    CHECK(c->sock != NULL);
    int zero = 0;
    zmq_setsockopt(c->sock, ZMQ_LINGER, &zero, sizeof(zero));
    if (security == 1) {
        zmq_setsockopt(c->sock, ZMQ_PLAIN_USERNAME, "camhs", 5);
        zmq_setsockopt(c->sock, ZMQ_PLAIN_PASSWORD, "secret", 6);
    } else if (security == 2) {
        char spk[SEAL_Z85_BYTES], cpk[SEAL_Z85_BYTES], csk[SEAL_Z85_BYTES];
        if (!server_pk) {
            const Tacnet__NodeKey *bk =
                roster_key_current(e->roster, TACNET__AGENCY__BROKER, (uint64_t)time(NULL) * 1000);
            CHECK(bk != NULL);
            server_pk = bk->curve_pk.data;
        }
        seal_z85(server_pk, spk);
        if (client_keys) {
            seal_z85(client_keys->curve_pk, cpk);
            seal_z85(client_keys->curve_sk, csk);
        } else {
            CHECK(zmq_curve_keypair(cpk, csk) == 0);
        }
        CHECK(zmq_setsockopt(c->sock, ZMQ_CURVE_SERVERKEY, spk, 40) == 0);
        CHECK(zmq_setsockopt(c->sock, ZMQ_CURVE_PUBLICKEY, cpk, 40) == 0);
        CHECK(zmq_setsockopt(c->sock, ZMQ_CURVE_SECRETKEY, csk, 40) == 0);
    }
    CHECK(zmq_connect(c->sock, e->endpoint) == 0, "connect %s", e->endpoint);
    for (size_t i = 0; i < sizeof(e->clients) / sizeof(e->clients[0]); i++) {
        if (!e->clients[i]) {
            e->clients[i] = c;
            return c;
        }
    }
    CHECK_FAIL("too many clients");
    return NULL;
}

h_client_t *h_connect(h_env_t *e, uint32_t agency)
{
    CHECK(e->keys[agency] != NULL);
    h_client_t *c = h_connect_raw(e, 2, e->keys[agency], NULL);
    c->agency = agency;
    return c;
}

int h_recv(h_client_t *c, int timeout_ms, wire_msg_t *m)
{
    memset(m, 0, sizeof(*m));
    zmq_pollitem_t it = { c->sock, 0, ZMQ_POLLIN, 0 };
    if (zmq_poll(&it, 1, timeout_ms) <= 0 || !(it.revents & ZMQ_POLLIN))
        return TACNET_ETIMEOUT;
    int rc = wire_recv(c->sock, 0, 0, m);
    CHECK(rc == 0, "wire_recv from broker: %d", rc);
    return 0;
}

int h_hello(h_client_t *c, uint64_t last_applied, uint32_t credit, uint64_t *head)
{
    Tacnet__Hello hello = TACNET__HELLO__INIT;
    hello.last_applied_seq = last_applied;
    hello.credit = credit;
    CHECK(wire_send(c->sock, NULL, 0, WIRE_HELLO, &hello.base, NULL, 0, NULL, 0, NULL) == 0);
    uint64_t deadline = h_now_ms() + 5000;
    while (h_now_ms() < deadline) {
        wire_msg_t m;
        if (h_recv(c, (int)(deadline - h_now_ms()), &m) != 0)
            break;
        int found = m.cmd == WIRE_WELCOME;
        if (found && head) {
            int err = 0;
            Tacnet__Welcome *w =
                (Tacnet__Welcome *)wire_ctl_unpack(WIRE_WELCOME, m.ctl, m.ctl_len, &err);
            CHECK(w != NULL);
            *head = w->head_seq;
            wire_free(&w->base);
        }
        wire_msg_clear(&m);
        if (found)
            return 0;
    }
    return TACNET_ETIMEOUT;
}

void h_pub_init(h_pub_t *p, uint32_t sender, Tacnet__EventKind kind, const char *case_ref,
                uint64_t sender_seq)
{
    h_pub_free(p);
    memset(p, 0, sizeof(*p));
    tacnet__header__init(&p->h);
    wire_msgid_new(p->msg_id);
    snprintf(p->case_ref, sizeof(p->case_ref), "%s", case_ref);
    snprintf(p->initials, sizeof(p->initials), "JS");
    p->h.schema_version = WIRE_SCHEMA_VERSION;
    p->h.msg_id = (ProtobufCBinaryData){ 16, p->msg_id };
    p->h.sender = (Tacnet__Agency)sender;
    p->h.kind = kind;
    p->h.case_ref = (ProtobufCBinaryData){ strlen(p->case_ref), (uint8_t *)p->case_ref };
    p->h.initials = (ProtobufCBinaryData){ strlen(p->initials), (uint8_t *)p->initials };
    p->h.sender_seq = sender_seq;
    p->h.created_at_ms = (uint64_t)time(NULL) * 1000;
    p->h.sender_key_id = 1;
    p->h.policy_version = 1;
    p->h.sensitivity = TACNET__SENSITIVITY__ROUTINE;
    p->h.lawful_basis = TACNET__LAWFUL_BASIS__LEGAL_DUTY;
    p->rcpt[0] = (Tacnet__Agency)sender;
    p->h.recipients = p->rcpt;
    p->h.n_recipients = 1;
}

void h_pub_initials(h_pub_t *p, const char *initials)
{
    snprintf(p->initials, sizeof(p->initials), "%s", initials);
    p->h.initials = (ProtobufCBinaryData){ strlen(p->initials), (uint8_t *)p->initials };
}

void h_pub_rcpt(h_pub_t *p, size_t n, const uint32_t *agencies)
{
    CHECK(n <= 8);
    for (size_t i = 0; i < n; i++)
        p->rcpt[i] = (Tacnet__Agency)agencies[i];
    p->h.n_recipients = n;
}

void h_pub_free(h_pub_t *p)
{
    free(p->header);
    free(p->sealed);
    p->header = p->sealed = NULL;
}

void h_pub_seal(h_env_t *e, h_pub_t *p, uint32_t signer, const char *summary, const uint32_t *wrap,
                size_t n_wrap)
{
    h_pub_free(p);
    p->h.recipients = p->rcpt;
    p->header = wire_pack(&p->h.base, &p->hlen);
    CHECK(p->header != NULL);

    Tacnet__Body body = TACNET__BODY__INIT;
    Tacnet__Concern concern = TACNET__CONCERN__INIT;
    body.msg_id = (ProtobufCBinaryData){ 16, p->msg_id };
    body.has_msg_id = 1;
    body.sender = p->h.sender;
    body.has_sender = 1;
    concern.summary = (char *)(summary ? summary : "Synthetic test concern.");
    body.event_case = TACNET__BODY__EVENT_CONCERN;
    body.concern = &concern;
    /* Any other kind gets an empty event of its own member, as a recipient wants it (a header
     * kind that is no kind, for the broker to refuse, keeps the concern). */
    Tacnet__Body__EventCase member;
    ProtobufCMessage *ev = NULL;
    if (p->h.kind != TACNET__EVENT_KIND__CONCERN && kinds_body_member(p->h.kind, &member) == 0) {
        const ProtobufCFieldDescriptor *f =
            protobuf_c_message_descriptor_get_field(&tacnet__body__descriptor, (unsigned)member);
        CHECK(f != NULL);
        const ProtobufCMessageDescriptor *d = f->descriptor;
        ev = calloc(1, d->sizeof_message);
        protobuf_c_message_init(d, ev);
        body.event_case = member;
        memcpy((uint8_t *)&body + f->offset, &ev, sizeof(ev));
        /* The header's clear facts that a recipient checks against the body. */
        if (p->h.kind == TACNET__EVENT_KIND__ESCALATION_ACK && p->h.has_resolution_accepted) {
            Tacnet__EscalationAck *ack = (Tacnet__EscalationAck *)ev;
            ack->has_accepted = 1;
            ack->accepted = p->h.resolution_accepted;
        }
    }
    size_t blen = protobuf_c_message_get_packed_size(&body.base);
    uint8_t *b = malloc(blen + 1);
    protobuf_c_message_pack(&body.base, b);
    free(ev);

    seal_recipient_t r[8];
    size_t n = wrap ? n_wrap : p->h.n_recipients;
    uint64_t now = (uint64_t)time(NULL) * 1000;
    for (size_t i = 0; i < n; i++) {
        uint32_t a = wrap ? wrap[i] : (uint32_t)p->h.recipients[i];
        int err = 0;
        const Tacnet__NodeKey *k = roster_key_find(e->roster, a, 1, now, &err);
        CHECK(k != NULL, "no roster key for agency %u", a);
        r[i].agency = a;
        r[i].key_id = k->key_id;
        memcpy(r[i].seal_pk, k->seal_pk.data, SEAL_KEY_BYTES);
    }
    int rc = seal_event(e->seal[signer], p->header, p->hlen, b, blen, r, n, &p->sealed, &p->slen,
                        p->sig);
    p->sig_len = SEAL_SIG_BYTES;
    free(b);
    CHECK(rc == 0, "seal_event: %s", tacnet_errname(rc));
}

void h_pub_batch(h_env_t *e, h_pub_t *const *ps, size_t n, uint32_t signer)
{
    const uint8_t **headers = calloc(n, sizeof(*headers));
    size_t *hlens = calloc(n, sizeof(*hlens)), *lens = calloc(n, sizeof(*lens));
    uint8_t *digests = calloc(n, SEAL_DIGEST_LEN), *frames = calloc(n, MERKLE_FRAME_MAX);
    CHECK(headers && hlens && lens && digests && frames);
    for (size_t i = 0; i < n; i++) {
        headers[i] = ps[i]->header;
        hlens[i] = ps[i]->hlen;
        seal_digest(ps[i]->sealed, ps[i]->slen, digests + i * SEAL_DIGEST_LEN);
    }
    int rc = merkle_sign(e->seal[signer], headers, hlens, digests, n, frames, lens);
    CHECK(rc == 0, "merkle_sign: %s", tacnet_errname(rc));
    for (size_t i = 0; i < n; i++) {
        memcpy(ps[i]->sig, frames + i * MERKLE_FRAME_MAX, lens[i]);
        ps[i]->sig_len = lens[i];
    }
    free(headers);
    free(hlens);
    free(lens);
    free(digests);
    free(frames);
}

uint8_t *h_frame_of(size_t n, const void *const *data, const size_t *lens, size_t *out_len)
{
    size_t total = 0;
    for (size_t i = 0; i < n; i++)
        total += lens[i] + (i >= 2 && i <= 4 ? 4 : 0);
    uint8_t *out = xmalloc(total ? total : 1), *p = out;
    for (size_t i = 0; i < n; i++) {
        if (i >= 2 && i <= 4) {
            p[0] = (uint8_t)lens[i], p[1] = (uint8_t)(lens[i] >> 8);
            p[2] = (uint8_t)(lens[i] >> 16), p[3] = (uint8_t)(lens[i] >> 24);
            p += 4;
        }
        if (lens[i])
            memcpy(p, data[i], lens[i]);
        p += lens[i];
    }
    *out_len = total;
    return out;
}

void h_send_frames(h_client_t *c, size_t n, const void *const *data, const size_t *lens)
{
    size_t len;
    uint8_t *frame = h_frame_of(n, data, lens, &len);
    CHECK(zmq_send(c->sock, frame, len, 0) >= 0);
    free(frame);
}

void h_send_zmq_frames(h_client_t *c, size_t n, const void *const *data, const size_t *lens)
{
    for (size_t i = 0; i < n; i++)
        CHECK(zmq_send(c->sock, data[i], lens[i], i + 1 < n ? ZMQ_SNDMORE : 0) >= 0);
}

void h_send_split_last(h_client_t *c, size_t n, const void *const *data, const size_t *lens)
{
    size_t len;
    uint8_t *one = h_frame_of(n - 1, data, lens, &len);
    const void *two[] = { one, data[n - 1] };
    h_send_zmq_frames(c, 2, two, (const size_t[]){ len, lens[n - 1] });
    free(one);
}

void h_send_pub(h_client_t *c, const h_pub_t *p)
{
    size_t sig_len = p->sig_len ? p->sig_len : SEAL_SIG_BYTES;
    int rc = wire_send_sig(c->sock, NULL, 0, WIRE_PUBLISH, NULL, p->header, p->hlen, p->sealed,
                           p->slen, p->sig, sig_len);
    for (int i = 0; rc == TACNET_EAGAIN && i < 500; i++) {
        h_sleep_ms(10);
        rc = wire_send_sig(c->sock, NULL, 0, WIRE_PUBLISH, NULL, p->header, p->hlen, p->sealed,
                           p->slen, p->sig, sig_len);
    }
    CHECK(rc == 0, "wire_send PUBLISH: %d", rc);
}

int h_result(h_client_t *c, const uint8_t *msg_id, int timeout_ms, uint64_t *seq, int *dup)
{
    uint64_t deadline = h_now_ms() + (uint64_t)timeout_ms;
    while (h_now_ms() < deadline) {
        wire_msg_t m;
        if (h_recv(c, (int)(deadline - h_now_ms()), &m) != 0)
            break;
        int err = 0, result = 1;
        if (m.cmd == WIRE_PUBACK) {
            Tacnet__Puback *a = (Tacnet__Puback *)wire_ctl_unpack(m.cmd, m.ctl, m.ctl_len, &err);
            CHECK(a != NULL);
            if (!msg_id || (a->msg_id.len == 16 && memcmp(a->msg_id.data, msg_id, 16) == 0)) {
                result = 0;
                if (seq)
                    *seq = a->seq;
                if (dup)
                    *dup = a->has_duplicate && a->duplicate;
            }
            wire_free(&a->base);
        } else if (m.cmd == WIRE_NACK || m.cmd == WIRE_ERROR) {
            Tacnet__Nack *n = (Tacnet__Nack *)wire_ctl_unpack(m.cmd, m.ctl, m.ctl_len, &err);
            CHECK(n != NULL);
            if (!msg_id || !n->has_msg_id ||
                (n->msg_id.len == 16 && memcmp(n->msg_id.data, msg_id, 16) == 0))
                result = n->code;
            wire_free(&n->base);
        }
        wire_msg_clear(&m);
        if (result <= 0)
            return result;
    }
    return TACNET_ETIMEOUT;
}

int h_publish(h_client_t *c, const h_pub_t *p, uint64_t *seq)
{
    h_send_pub(c, p);
    return h_result(c, p->msg_id, 5000, seq, NULL);
}

/* A granted DELIVER as the daemons open it: the grant's signature under the granter's key, then
 * the body with the granted key (or, re-sealed by its sender, as an ordinary body). Returns 0
 * with *BODY, 1 for a done grant, or a code. */
static int s_open_granted(h_client_t *c, const Tacnet__Grant *g, const Tacnet__Header *h,
                          const wire_msg_t *m, uint8_t **body, size_t *blen)
{
    const Tacnet__NodeKey *gk = roster_key_find(
        c->env->roster, (uint32_t)g->granter, g->granter_key_id, (uint64_t)time(NULL) * 1000, NULL);
    if (!gk)
        return TACNET_EKEYID;
    int done = g->has_done && g->done;
    uint8_t digest[SEAL_DIGEST_LEN] = { 0 };
    if (!done)
        seal_digest(m->sealed, m->sealed_len, digest);
    int rc = grant_verify(gk->sign_pk.data, g, digest);
    if (rc != 0 || done)
        return rc != 0 ? rc : 1;
    if (g->has_resealed && g->resealed)
        return seal_open(c->env->seal[c->agency], gk->seal_pk.data, m->header, m->header_len,
                         m->sealed, m->sealed_len, body, blen);
    (void)h;
    return seal_open_granted(c->env->seal[c->agency], gk->seal_pk.data, g->wrap_nonce.data,
                             g->wrap.data, m->header, m->header_len, m->sealed, m->sealed_len, body,
                             blen, NULL);
}

int h_open_deliver(h_client_t *c, const wire_msg_t *m, uint64_t *seq, uint64_t *prev,
                   Tacnet__Header **hp)
{
    int err = 0, rc = 0;
    if (m->cmd != WIRE_DELIVER)
        return TACNET_EINVAL;
    Tacnet__Deliver *d = (Tacnet__Deliver *)wire_ctl_unpack(m->cmd, m->ctl, m->ctl_len, &err);
    if (!d)
        return err;
    *seq = d->seq;
    *prev = d->prev_seq;
    Tacnet__Header *h = wire_header_unpack(m->header, m->header_len, &err);
    if (!h) {
        wire_free(&d->base);
        return err;
    }
    uint8_t *body = NULL;
    size_t blen = 0;
    const Tacnet__NodeKey *k = roster_key_find(c->env->roster, (uint32_t)h->sender,
                                               h->sender_key_id, (uint64_t)time(NULL) * 1000, &err);
    int done = d->grant && d->grant->has_done && d->grant->done;
    if (d->grant && !done &&
        (!k || merkle_verify(NULL, k->sign_pk.data, m->header, m->header_len, m->sealed,
                             m->sealed_len, m->sig, m->sig_len) != 0)) {
        rc = k ? TACNET_ESIGNATURE : TACNET_EKEYID; /* the sender's signature first, as always */
    } else if (d->grant) {
        /* History on joining: a daemon granted this client an earlier event's key. */
        rc = s_open_granted(c, d->grant, h, m, &body, &blen);
        if (rc == 1) {
            rc = 0; /* a done grant: nothing to open */
            wire_free(&d->base);
            if (hp)
                *hp = h;
            else
                wire_free(&h->base);
            return 0;
        }
    } else if (!k) {
        rc = TACNET_EKEYID;
    } else if ((rc = merkle_verify(NULL, k->sign_pk.data, m->header, m->header_len, m->sealed,
                                   m->sealed_len, m->sig, m->sig_len)) == 0) {
        rc = seal_open(c->env->seal[c->agency], k->seal_pk.data, m->header, m->header_len,
                       m->sealed, m->sealed_len, &body, &blen);
    }
    wire_free(&d->base);
    if (rc == 0) {
        Tacnet__Body *b = tacnet__body__unpack(NULL, blen, body);
        rc = b ? seal_body_matches(h, b) : TACNET_EBADMSG;
        if (b)
            tacnet__body__free_unpacked(b, NULL);
    }
    free(body);
    if (hp && rc == 0)
        *hp = h;
    else
        wire_free(&h->base);
    return rc;
}

void h_ack(h_client_t *c, uint64_t upto)
{
    Tacnet__Ack a = TACNET__ACK__INIT;
    a.upto_seq = upto;
    CHECK(wire_send(c->sock, NULL, 0, WIRE_ACK, &a.base, NULL, 0, NULL, 0, NULL) == 0);
}

size_t h_collect(h_client_t *c, size_t want, int timeout_ms, uint64_t *seqs, uint64_t *sseqs,
                 size_t cap)
{
    size_t n = 0;
    uint64_t last = 0, deadline = h_now_ms() + (uint64_t)timeout_ms;
    while (n < want && h_now_ms() < deadline) {
        wire_msg_t m;
        if (h_recv(c, (int)(deadline - h_now_ms()), &m) != 0)
            break;
        if (m.cmd == WIRE_DELIVER) {
            uint64_t seq, prev;
            Tacnet__Header *h = NULL;
            int rc = h_open_deliver(c, &m, &seq, &prev, &h);
            CHECK(rc == 0, "DELIVER %llu does not verify/open: %s", (unsigned long long)seq,
                  tacnet_errname(rc));
            if (n > 0)
                CHECK(prev == last, "DELIVER %llu names prev %llu, expected %llu",
                      (unsigned long long)seq, (unsigned long long)prev, (unsigned long long)last);
            CHECK(seq > prev);
            if (n < cap && seqs)
                seqs[n] = seq;
            if (n < cap && sseqs)
                sseqs[n] = h->sender_seq;
            wire_free(&h->base);
            n++;
            last = seq;
            if (n % 128 == 0)
                h_ack(c, last);
        }
        wire_msg_clear(&m);
    }
    if (n)
        h_ack(c, last);
    return n;
}

uint8_t *h_data_mdb(const h_env_t *e, size_t *len)
{
    char path[600];
    snprintf(path, sizeof(path), "%s/data.mdb", e->data);
    FILE *f = fopen(path, "rb");
    CHECK(f != NULL, "%s", path);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *b = malloc((size_t)n + 1);
    CHECK(fread(b, 1, (size_t)n, f) == (size_t)n);
    fclose(f);
    *len = (size_t)n;
    return b;
}

int h_cli(const h_agency_t *a, const char *args, char *out, size_t cap)
{
    char cmd[4096], path[700];
    snprintf(path, sizeof(path), "%s/cli.out", a->env->dir);
    char env[600] = "";
    if (a->env->agencies_conf[0])
        snprintf(env, sizeof(env), "TACNET_AGENCIES=%s ", a->env->agencies_conf);
    snprintf(cmd, sizeof(cmd), "%s%s/tacnet --agency %s --data-dir %s %s >%s 2>&1", env,
             getenv("TACNET_BIN"), names_agency(a->agency), a->data, args, path);
    int st = system(cmd);
    FILE *f = fopen(path, "r");
    size_t n = f ? fread(out, 1, cap - 1, f) : 0;
    out[n] = 0;
    if (f)
        fclose(f);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

char *h_admin_status(const h_env_t *e)
{
    char ep[700];
    snprintf(ep, sizeof(ep), "ipc://%s/admin.sock", e->data);
    void *req = zmq_socket(e->ctx, ZMQ_REQ);
    int zero = 0;
    zmq_setsockopt(req, ZMQ_LINGER, &zero, sizeof(zero));
    CHECK(zmq_connect(req, ep) == 0);
    CHECK(zmq_send(req, "status", 6, 0) == 6);
    zmq_pollitem_t it = { req, 0, ZMQ_POLLIN, 0 };
    char *out = NULL;
    if (zmq_poll(&it, 1, 5000) == 1) {
        zmq_msg_t m;
        zmq_msg_init(&m);
        if (zmq_msg_recv(&m, req, 0) >= 0) {
            out = malloc(zmq_msg_size(&m) + 1);
            memcpy(out, zmq_msg_data(&m), zmq_msg_size(&m));
            out[zmq_msg_size(&m)] = 0;
        }
        zmq_msg_close(&m);
    }
    zmq_close(req);
    return out;
}

void h_roster_revoke(h_env_t *e, uint32_t agency, uint32_t version)
{
    char path[700], tmp[700], why[256];
    snprintf(path, sizeof(path), "%s/roster.bin", e->pdir);
    FILE *f = fopen(path, "rb");
    CHECK(f != NULL);
    uint8_t buf[65536];
    size_t n = fread(buf, 1, sizeof(buf), f);
    fclose(f);
    Tacnet__SignedRoster *sr = tacnet__signed_roster__unpack(NULL, n, buf);
    CHECK(sr != NULL);
    Tacnet__Roster *r = tacnet__roster__unpack(NULL, sr->roster.len, sr->roster.data);
    CHECK(r != NULL);
    r->version = version;
    for (size_t i = 0; i < r->n_keys; i++) {
        if ((uint32_t)r->keys[i]->agency == agency) {
            r->keys[i]->has_revoked = 1;
            r->keys[i]->revoked = 1;
        }
    }
    seal_keys_t *root = NULL;
    snprintf(tmp, sizeof(tmp), "%s/root/root.key", e->pdir);
    CHECK(seal_keys_load(tmp, &root, why, sizeof(why)) == 0, "%s", why);
    uint8_t *out = NULL;
    size_t outlen = 0;
    CHECK(roster_sign(r, root, &out, &outlen) == 0);
    seal_keys_destroy(&root);
    tacnet__roster__free_unpacked(r, NULL);
    tacnet__signed_roster__free_unpacked(sr, NULL);
    snprintf(tmp, sizeof(tmp), "%s/roster.bin.new", e->pdir);
    f = h_fopen_private(tmp, "wb");
    CHECK(f != NULL);
    CHECK(fwrite(out, 1, outlen, f) == outlen);
    fclose(f);
    free(out);
    CHECK(rename(tmp, path) == 0);
}

/* ---------------------------------------------------------------- agency daemons */

static const char *h_agency_name(uint32_t agency)
{
    for (size_t i = 0; i < sizeof(h_nodes) / sizeof(h_nodes[0]); i++)
        if (h_nodes[i].agency == agency)
            return h_nodes[i].name;
    return agencies_name(agency); /* another agency the roster declares */
}

static const char *h_agency_bin(uint32_t agency)
{
    switch (agency) {
    case TACNET__AGENCY__CAMHS:
        return "tacnet-camhs";
    case TACNET__AGENCY__SCHOOL:
        return "tacnet-school";
    case TACNET__AGENCY__HEALTH_VISITING:
        return "tacnet-hv";
    case TACNET__AGENCY__SOCIAL_CARE:
        return "tacnet-social-care";
    default:
        /* Any other agency the roster declares: the generic daemon, told its name. */
        return agencies_name(agency) ? "tacnet-agency" : NULL;
    }
}

h_agency_t *h_agency_add(h_env_t *e, uint32_t agency)
{
    const char *name = h_agency_name(agency);
    CHECK(name && h_agency_bin(agency), "no daemon for agency %u", agency);
    h_agency_t *a = calloc(1, sizeof(*a));
    a->env = e;
    a->agency = agency;
    snprintf(a->data, sizeof(a->data), "%s/%s", e->dir, name);
    snprintf(a->conf, sizeof(a->conf), "%s/%s.conf", e->dir, name);
    snprintf(a->log, sizeof(a->log), "%s/%s.log", e->dir, name);
    CHECK(mkdir(a->data, 0700) == 0, "mkdir %s", a->data);
    FILE *f = h_fopen_private(a->conf, "w");
    CHECK(f != NULL);
    fprintf(f,
            "[agency]\nname = %s\ndata_dir = %s\nbroker_endpoint_file = %s/endpoint\n"
            "roster = %s/roster.bin\nroot_key = %s/root.pub\nkey = %s/keys/%s.key\n"
            "gazetteer = %s/deploy/gazetteer\nmap_size_mb = 64\nheartbeat_ms = 500\n",
            name, a->data, e->data, e->pdir, e->pdir, e->pdir, name, h_src());
    fclose(f);
    for (size_t i = 0; i < sizeof(e->agencies) / sizeof(e->agencies[0]); i++) {
        if (!e->agencies[i]) {
            e->agencies[i] = a;
            return a;
        }
    }
    CHECK_FAIL("too many agencies");
    return NULL;
}

h_agency_t *h_agency_up(h_env_t *e, uint32_t agency)
{
    h_agency_t *a = h_agency_add(e, agency);
    int rc = h_agency_start(a, NULL);
    CHECK(rc == 0, "agency %u did not start (log %s)", agency, a->log);
    return a;
}

int h_agency_start(h_agency_t *a, const char *fault)
{
    char sock[600], bin[1024];
    const char *b = getenv("TACNET_BIN");
    snprintf(bin, sizeof(bin), "%s/%s", b && *b ? b : "build/default/bin", h_agency_bin(a->agency));
    snprintf(sock, sizeof(sock), "%s/api.sock", a->data);
    unlink(sock);
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        int fd = open(a->log, O_WRONLY | O_CREAT | O_APPEND, 0600);
        if (fd >= 0) {
            dup2(fd, STDERR_FILENO);
            dup2(fd, STDOUT_FILENO);
            close(fd);
        }
        if (fault)
            setenv("TACNET_FAULT", fault, 1);
        else
            unsetenv("TACNET_FAULT");
        h_exec(bin, h_agency_bin(a->agency), a->conf);
        _exit(127);
    }
    a->pid = pid;
    for (int i = 0; i < 2000; i++) {
        int status;
        if (waitpid(a->pid, &status, WNOHANG) == a->pid) {
            a->pid = 0;
            return 1000 + (WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
        }
        struct stat st;
        if (stat(sock, &st) == 0)
            return 0;
        h_sleep_ms(10);
    }
    CHECK_FAIL("agency %u did not create %s", a->agency, sock);
    return -1;
}

int h_agency_signal_wait(h_agency_t *a, int sig)
{
    int status = 0;
    if (!a->pid)
        return -1;
    kill(a->pid, sig);
    for (int i = 0; i < 1000; i++) {
        if (waitpid(a->pid, &status, WNOHANG) == a->pid) {
            a->pid = 0;
            return status;
        }
        h_sleep_ms(10);
    }
    kill(a->pid, SIGKILL);
    waitpid(a->pid, &status, 0);
    a->pid = 0;
    return status;
}

int h_agency_wait_exit(h_agency_t *a, int timeout_ms)
{
    int status = 0;
    if (!a->pid)
        return -1;
    for (int waited = 0; waited <= timeout_ms; waited += 10) {
        if (waitpid(a->pid, &status, WNOHANG) == a->pid) {
            a->pid = 0;
            return status;
        }
        h_sleep_ms(10);
    }
    return -1;
}
