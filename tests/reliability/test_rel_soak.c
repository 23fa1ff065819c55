/* Reliability T19 and T24: the broker is blind to bodies (a canary in event bodies never shows
 * in its LMDB, its log or a loopback capture, and never reaches an agency outside the case), and
 * a bounded soak with floods and kill -9 loses and repeats nothing while the broker's memory and
 * descriptors stay flat. Sizes: REL_SOAK_SECONDS (90; large 1800), REL_SOAK_RATE (200 ev/s),
 * REL_SOAK_KILL_S (20), REL_SOAK_UNAUTH_PER_MIN (1000), REL_SOAK_QUOTA (100 ev/s per agency). */
#include "../integration/harness.c"
#include "rel.c"

#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <sys/socket.h>

#define CA  TACNET__AGENCY__CAMHS
#define SCH TACNET__AGENCY__SCHOOL
#define HV  TACNET__AGENCY__HEALTH_VISITING
#define SC  TACNET__AGENCY__SOCIAL_CARE

static rel_world_t world;
static pid_t s_tcpdump;

static void s_down(void)
{
    if (s_tcpdump > 0) {
        kill(s_tcpdump, SIGKILL);
        waitpid(s_tcpdump, NULL, 0);
        s_tcpdump = 0;
    }
    rel_world_down(&world);
}

TestSuite(rel_soak, .fini = s_down, .timeout = 3600);

/* ---------------------------------------------------------------- T19 */

/* Start tcpdump on lo for PORT into PCAP. Returns 0 once it is capturing, or writes why not. */
static int s_capture_start(const char *pcap, int port, char *why, size_t wl)
{
    char errlog[800], filter[64];
    snprintf(errlog, sizeof(errlog), "%s.err", pcap);
    snprintf(filter, sizeof(filter), "tcp port %d", port);
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        int fd = open(errlog, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        if (fd >= 0) {
            dup2(fd, STDERR_FILENO);
            dup2(fd, STDOUT_FILENO);
            close(fd);
        }
        execlp("tcpdump", "tcpdump", "-i", "lo", "-U", "-s", "0", "-n", "-w", pcap, filter,
               (char *)NULL);
        _exit(127);
    }
    s_tcpdump = pid;
    for (int i = 0; i < 500; i++) {
        int st;
        if (waitpid(pid, &st, WNOHANG) == pid) {
            s_tcpdump = 0;
            snprintf(why, wl, "tcpdump exited (status %d) before capturing; see %.600s", st,
                     errlog);
            return -1;
        }
        if (h_file_contains(errlog, "listening on"))
            return 0;
        h_sleep_ms(10);
    }
    snprintf(why, wl, "tcpdump did not start listening on lo within 5 s");
    return -1;
}

static void s_capture_stop(void)
{
    if (s_tcpdump <= 0)
        return;
    h_sleep_ms(300); /* -U writes each packet at once; give the last ones a moment */
    kill(s_tcpdump, SIGINT);
    waitpid(s_tcpdump, NULL, 0);
    s_tcpdump = 0;
}

/* Publish through AGENCY's daemon (local API) the JSON request REQ; returns the code. */
static int s_api_publish(tn_client_t *api, const char *req)
{
    json_t *j = json_loads(req, 0, NULL);
    cr_assert_not_null(j, "bad JSON: %s", req);
    char why[256] = "";
    Tacnet__PublishRequest *pr = (Tacnet__PublishRequest *)pbjson_to_message(
        &tacnet__publish_request__descriptor, j, why, sizeof(why));
    json_decref(j);
    cr_assert_not_null(pr, "pbjson: %s", why);
    Tacnet__ApiReply *r = NULL;
    int rc = tn_client_publish(api, pr, &r, 5000);
    protobuf_c_message_free_unpacked(&pr->base, NULL);
    tn_client_reply_free(&r);
    return rc;
}

/* How many of the daemon's view entries are on case REF, and how many bodies hold NEEDLE. */
static void s_view_scan(h_agency_t *a, const char *ref, const char *needle, size_t *on_case,
                        size_t *with_needle)
{
    int err = 0;
    tn_client_t *api = tn_client_new(a->data, &err);
    cr_assert_not_null(api);
    *on_case = *with_needle = 0;
    uint64_t after = 0;
    for (;;) {
        Tacnet__ApiReply *r = NULL;
        cr_assert_eq(tn_client_follow(api, after, 500, &r, 5000), 0);
        Tacnet__FollowReply *f = r->follow;
        for (size_t i = 0; i < f->n_entries; i++) {
            const Tacnet__Header *h = f->entries[i]->header;
            if (h->case_ref.len != strlen(ref) || memcmp(h->case_ref.data, ref, h->case_ref.len))
                continue;
            (*on_case)++;
            const Tacnet__Body *b = f->entries[i]->body;
            if (b && b->event_case == TACNET__BODY__EVENT_CONCERN && b->concern &&
                b->concern->summary && strstr(b->concern->summary, needle))
                (*with_needle)++;
        }
        size_t got = f->n_entries;
        after = f->next_local_seq;
        tn_client_reply_free(&r);
        if (!got)
            break;
    }
    tn_client_destroy(&api);
}

/* Every regular file under DIR that contains NEEDLE (count). */
static int s_dir_hits(const char *dir, const char *needle)
{
    DIR *d = opendir(dir);
    if (!d)
        return 0;
    int hits = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        char path[1200];
        struct stat st;
        snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
        if (stat(path, &st) == 0 && S_ISREG(st.st_mode) && h_file_contains(path, needle))
            hits++;
    }
    closedir(d);
    return hits;
}

Test(rel_soak, t19_the_broker_never_sees_a_body_and_outsiders_get_nothing)
{
    rel_seed_init("T19");
    long n_events = rel_env("REL_T19_EVENTS", 20);
    rel_world_up(&world);
    int port = 0;
    const char *colon = strrchr(world.env.endpoint, ':');
    cr_assert_not_null(colon);
    port = atoi(colon + 1);
    char pcap[700], why[1024];
    snprintf(pcap, sizeof(pcap), "%s/lo.pcap", world.env.dir);
    int capturing = s_capture_start(pcap, port, why, sizeof(why)) == 0;
    if (!capturing)
        rel_skip("T19 loopback capture", why);
    /* Reconnect every daemon so the capture sees whole sessions, handshakes included. */
    for (size_t i = 0; i < 4; i++) {
        h_agency_t *a = world.daemon[rel_agencies[i]];
        h_agency_signal_wait(a, SIGTERM);
        cr_assert_eq(h_agency_start(a, NULL), 0);
    }

    /* The school opens a case and refers it to social care; CAMHS and health visiting are not
     * in it. Then concerns, each with its own random canary. */
    const char *ref = "LA7-2026-000190";
    int err = 0;
    tn_client_t *api = tn_client_new(world.daemon[SCH]->data, &err);
    cr_assert_not_null(api);
    char req[1024];
    snprintf(req, sizeof(req),
             "{\"kind\":\"concern\",\"case_ref\":\"%s\",\"initials\":\"TB\",\"body\":{\"concern\":"
             "{\"category\":\"attendance\",\"summary\":\"Tired in class.\"}}}",
             ref);
    cr_assert_eq(s_api_publish(api, req), 0);
    snprintf(req, sizeof(req),
             "{\"kind\":\"consent_recorded\",\"case_ref\":\"%s\",\"initials\":\"TB\",\"body\":"
             "{\"consent_recorded\":{\"state\":\"given\",\"scope\":[\"routine\",\"health\","
             "\"safeguarding\"],\"given_by\":\"mother\",\"recorded_date\":\"2026-11-03\"}}}",
             ref);
    cr_assert_eq(s_api_publish(api, req), 0);
    snprintf(req, sizeof(req),
             "{\"kind\":\"referral\",\"case_ref\":\"%s\",\"initials\":\"TB\",\"subject_agency\":"
             "\"social_care\",\"body\":{\"referral\":{\"to_agency\":\"social_care\",\"category\":"
             "\"neglect\",\"summary\":\"Persistent absence.\",\"family_aware\":true,"
             "\"consent_obtained\":true,\"referred_date\":\"2026-11-05\"}}}",
             ref);
    cr_assert_eq(s_api_publish(api, req), 0);
    char(*canary)[40] = calloc((size_t)n_events, sizeof(*canary));
    for (long i = 0; i < n_events; i++) {
        uint8_t rnd[12];
        randombytes_buf(rnd, sizeof(rnd));
        char hex[25];
        sodium_bin2hex(hex, sizeof(hex), rnd, sizeof(rnd));
        snprintf(canary[i], sizeof(canary[i]), "zq%sqz", hex);
        snprintf(req, sizeof(req),
                 "{\"kind\":\"concern\",\"case_ref\":\"%s\",\"initials\":\"TB\",\"body\":"
                 "{\"concern\":{\"category\":\"attendance\",\"summary\":\"Marker %s noted.\"}}}",
                 ref, canary[i]);
        cr_assert_eq(s_api_publish(api, req), 0, "canary publish %ld refused", i);
    }
    tn_client_destroy(&api);

    /* Positive control: social care (a recipient) opens every canary. */
    size_t on_case = 0, seen = 0;
    for (int t = 0; t < 150 && seen < (size_t)n_events; t++) {
        s_view_scan(world.daemon[SC], ref, "Marker zq", &on_case, &seen);
        if (seen < (size_t)n_events)
            h_sleep_ms(200);
    }
    cr_assert_eq(seen, (size_t)n_events, "social care opened %zu of %ld canary events", seen,
                 n_events);
    s_capture_stop();

    /* Outsiders: no envelope of the case at all. */
    long outsider_entries = 0;
    const uint32_t outsiders[2] = { CA, HV };
    for (size_t o = 0; o < 2; o++) {
        uint32_t a = outsiders[o];
        size_t oc = 0, os = 0;
        s_view_scan(world.daemon[a], ref, "Marker zq", &oc, &os);
        outsider_entries += (long)oc;
        cr_expect_eq(oc, 0, "agency %u (not in the case) holds %zu of its events", a, oc);
    }
    /* Broker files, broker log, the capture; and each daemon's files (bodies encrypted at
     * rest). */
    long hits_broker = 0, hits_log = 0, hits_pcap = 0, hits_rest = 0;
    for (long i = 0; i < n_events; i++) {
        hits_broker += s_dir_hits(world.env.data, canary[i]);
        hits_log += h_log_contains(&world.env, canary[i]);
        hits_pcap += capturing && h_file_contains(pcap, canary[i]);
        for (size_t k = 0; k < 4; k++)
            hits_rest += s_dir_hits(world.daemon[rel_agencies[k]]->data, canary[i]);
    }
    if (capturing) {
        /* The capture really saw the broker's traffic: ZMTP's CURVE greeting and MESSAGE
         * commands name themselves in clear. */
        struct stat st;
        cr_assert_eq(stat(pcap, &st), 0);
        cr_expect(h_file_contains(pcap, "CURVE") && h_file_contains(pcap, "MESSAGE"),
                  "the capture (%lld bytes) holds no ZMTP traffic: it proves nothing",
                  (long long)st.st_size);
        fprintf(stderr, "[rel] T19: capture %lld bytes on port %d\n", (long long)st.st_size, port);
    }
    cr_expect_eq(hits_broker, 0, "canary found in the broker's data directory (%ld)", hits_broker);
    cr_expect_eq(hits_log, 0, "canary found in the broker log (%ld)", hits_log);
    cr_expect_eq(hits_pcap, 0, "canary found in the loopback capture (%ld)", hits_pcap);
    cr_expect_eq(hits_rest, 0, "canary found in a daemon's files at rest (%ld)", hits_rest);
    rel_stat("canary_events", n_events);
    rel_stat("canary_hits", hits_broker + hits_log + hits_pcap + hits_rest + outsider_entries);
    fprintf(stderr,
            "[rel] T19: %ld canaries; hits: broker files %ld, broker log %ld, capture %ld, "
            "daemon files %ld; outsider entries %ld\n",
            n_events, hits_broker, hits_log, hits_pcap, hits_rest, outsider_entries);
    free(canary);
}
