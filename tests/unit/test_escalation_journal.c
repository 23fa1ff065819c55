/* escalation: the broker's live engine against a real journal, without sockets — in particular
 * that a write transaction LMDB runs again (after growing a full map) leaves exactly one of each
 * record and notice. */
#define _XOPEN_SOURCE 700
#include <criterion/criterion.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "broker/escalation_journal.h"
#include "cli/provision.h"
#include "err.h"
#include "seal.h"
#include "store.h"
#include "wire.h"

#define CASE "LA7-2026-000777"

static struct {
    char dir[64];
    roster_t *roster;
    seal_keys_t *keys;
    seal_ctx_t *seal;
    journal_t *journal;
    notice_t *notice;
    escalation_journal_t *esc;
} W;

static const char *s_src(void)
{
    const char *s = getenv("TACNET_SRC");
    return s && *s ? s : ".";
}

static void s_up(void)
{
    memset(&W, 0, sizeof(W));
    cr_assert_eq(seal_init(), 0);
    snprintf(W.dir, sizeof(W.dir), "/tmp/tacnet-esc-XXXXXX");
    cr_assert_not_null(mkdtemp(W.dir));
    char p[256], sharing[512], escalation[512], why[256];
    snprintf(p, sizeof(p), "%s/p", W.dir);
    snprintf(sharing, sizeof(sharing), "%s/deploy/sharing.conf", s_src());
    snprintf(escalation, sizeof(escalation), "%s/deploy/escalation.conf", s_src());
    FILE *devnull = fopen("/dev/null", "w");
    provision_opts_t o = { .out_dir = p, .sharing_path = sharing, .escalation_path = escalation };
    cr_assert_eq(provision_run(&o, devnull), 0);
    fclose(devnull);
    uint8_t root_pk[SEAL_KEY_BYTES];
    char path[512];
    snprintf(path, sizeof(path), "%s/root.pub", p);
    cr_assert_eq(roster_root_load(path, root_pk), 0);
    snprintf(path, sizeof(path), "%s/roster.bin", p);
    int err = 0;
    W.roster = roster_load(path, root_pk, &err);
    cr_assert_not_null(W.roster);
    snprintf(path, sizeof(path), "%s/keys/broker.key", p);
    cr_assert_eq(seal_keys_load(path, &W.keys, why, sizeof(why)), 0, "%s", why);
    W.seal = seal_ctx_new(W.keys);
    snprintf(path, sizeof(path), "%s/data", W.dir);
    cr_assert_eq(mkdir(path, 0700), 0);
    W.journal = journal_open(path, 1 << 20, &err);
    cr_assert_not_null(W.journal, "%s", tacnet_errname(err));
    W.notice = notice_new(W.journal, W.roster, W.keys, W.seal, NULL);
    W.esc = escalation_journal_new(W.journal, W.notice, W.roster, NULL, &err, why, sizeof(why));
    cr_assert_not_null(W.esc, "%s", why);
}

static int s_rm(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    remove(path);
    return 0;
}

static void s_down(void)
{
    escalation_journal_destroy(&W.esc);
    notice_destroy(&W.notice);
    journal_destroy(&W.journal);
    seal_ctx_destroy(&W.seal);
    seal_keys_destroy(&W.keys);
    roster_destroy(&W.roster);
    if (W.dir[0])
        nftw(W.dir, s_rm, 8, FTW_DEPTH | FTW_PHYS);
}

TestSuite(escalation, .init = s_up, .fini = s_down, .timeout = 30);

/* One event to feed through a transaction. */
typedef struct ev {
    Tacnet__Header h;
    uint8_t msg_id[16];
    uint8_t ref[16];
    Tacnet__Agency rcpt[4];
} ev_t;

static void s_ev(ev_t *e, uint32_t sender, Tacnet__EventKind kind, uint8_t id_fill,
                 const uint8_t *ref)
{
    memset(e, 0, sizeof(*e));
    tacnet__header__init(&e->h);
    memset(e->msg_id, id_fill, 16);
    e->h.schema_version = WIRE_SCHEMA_VERSION;
    e->h.msg_id = (ProtobufCBinaryData){ 16, e->msg_id };
    e->h.sender = (Tacnet__Agency)sender;
    e->h.kind = kind;
    e->h.case_ref = (ProtobufCBinaryData){ strlen(CASE), (uint8_t *)CASE };
    e->h.initials = (ProtobufCBinaryData){ 2, (uint8_t *)"KM" };
    e->h.sender_seq = id_fill;
    e->h.sensitivity = TACNET__SENSITIVITY__ROUTINE;
    e->h.lawful_basis = TACNET__LAWFUL_BASIS__LEGAL_DUTY;
    e->rcpt[0] = TACNET__AGENCY__CAMHS;
    e->rcpt[1] = TACNET__AGENCY__SCHOOL;
    e->rcpt[2] = TACNET__AGENCY__SOCIAL_CARE;
    e->h.recipients = e->rcpt;
    e->h.n_recipients = 3;
    if (ref) {
        memcpy(e->ref, ref, 16);
        e->h.refers_to = (ProtobufCBinaryData){ 16, e->ref };
        e->h.has_refers_to = 1;
    }
}

/* The transaction the broker runs for a batch, reduced to what escalation needs. */
typedef struct batch {
    ev_t *ev;
    route_case_t c;
    int code;
    const char *detail;
    int runs;
    uint64_t head; /* journal head before store_write: every run starts from it */
} batch_t;

static int s_write(MDB_txn *txn, void *arg)
{
    batch_t *b = arg;
    b->runs++;
    uint64_t seq = b->head, now = clock_now_ms();
    escalation_journal_begin(W.esc);
    b->code = escalation_journal_check(W.esc, txn, &b->ev->h, &b->c, now, &b->detail);
    if (b->code != 0)
        return 0; /* refused: nothing journalled */
    size_t hlen = 0;
    uint8_t *hbuf = wire_pack(&b->ev->h.base, &hlen), sig[64] = { 0 }, sealed[8] = { 0 };
    int rc = journal_append(W.journal, txn, ++seq, &b->ev->h, hbuf, hlen, sealed, sizeof(sealed),
                            sig, sizeof(sig), 0x16, now);
    free(hbuf);
    if (rc != 0)
        return rc;
    route_case_t before = b->c;
    route_apply(&b->c, &b->ev->h);
    if ((rc = escalation_journal_apply(W.esc, txn, &b->ev->h, &before, &b->c, now, &seq)) != 0)
        return rc;
    if ((rc = escalation_journal_persist(W.esc, txn)) != 0)
        return rc;
    journal_head_set(W.journal, seq);
    return 0;
}

static int s_run(batch_t *b, int fail_commits)
{
    uint64_t head = journal_head(W.journal);
    store_test_fail_commits(journal_store(W.journal), fail_commits);
    b->runs = 0;
    b->head = head;
    int rc = store_write(journal_store(W.journal), s_write, b);
    if (rc == 0) {
        escalation_journal_commit(W.esc);
    } else {
        escalation_journal_abort(W.esc);
        journal_head_set(W.journal, head);
    }
    return rc;
}

static int s_count_rec(const uint8_t *rec, size_t len, void *arg)
{
    (void)rec;
    (void)len;
    ++*(size_t *)arg;
    return 0;
}

static size_t s_records(void)
{
    MDB_txn *txn;
    cr_assert_eq(store_read_begin(journal_store(W.journal), &txn), 0);
    size_t n = 0;
    cr_assert_eq(journal_escalations_each(W.journal, txn, s_count_rec, &n), 0);
    mdb_txn_abort(txn);
    return n;
}

static route_case_t s_team(void)
{
    route_case_t c;
    memset(&c, 0, sizeof(c));
    c.members = (1u << TACNET__AGENCY__CAMHS) | (1u << TACNET__AGENCY__SCHOOL) |
                (1u << TACNET__AGENCY__SOCIAL_CARE);
    c.lead = TACNET__AGENCY__SOCIAL_CARE;
    c.consent = TACNET__CONSENT_STATE__GIVEN;
    return c;
}

Test(escalation, a_retried_transaction_opens_one_escalation_with_one_notice)
{
    ev_t decision, dis;
    batch_t b = { .c = s_team() };
    s_ev(&decision, TACNET__AGENCY__CAMHS, TACNET__EVENT_KIND__DECISION, 1, NULL);
    b.ev = &decision;
    cr_assert_eq(s_run(&b, 0), 0);
    cr_assert_eq(journal_head(W.journal), 1);

    /* The disagreement's transaction is run three times: twice "the map is full". */
    s_ev(&dis, TACNET__AGENCY__SCHOOL, TACNET__EVENT_KIND__DISAGREEMENT, 2, decision.msg_id);
    b.ev = &dis;
    cr_assert_eq(s_run(&b, 2), 0);
    cr_assert_eq(b.runs, 3);
    cr_assert_eq(b.code, 0);
    cr_assert_eq(journal_head(W.journal), 3, "the event and one OPENED notice");
    cr_assert_eq(s_records(), 1);
    json_t *st = escalation_journal_status_json(W.esc, 10);
    cr_assert_eq(json_integer_value(json_object_get(st, "open")), 1);
    json_t *first = json_array_get(json_object_get(st, "escalations"), 0);
    cr_assert_str_eq(json_string_value(json_object_get(first, "case_ref")), CASE);
    json_decref(st);

    /* The notice names the escalation and is addressed to both parties and the lead. */
    MDB_txn *txn;
    cr_assert_eq(store_read_begin(journal_store(W.journal), &txn), 0);
    journal_entry_t e;
    cr_assert_eq(journal_get(W.journal, txn, 3, &e), 0);
    int err = 0;
    Tacnet__Header *h = wire_header_unpack(e.header, e.header_len, &err);
    cr_assert_not_null(h);
    cr_assert_eq(h->kind, TACNET__EVENT_KIND__ESCALATION_NOTICE);
    cr_assert_eq(h->escalation_event, TACNET__ESCALATION_EVENT__ESC_OPENED);
    cr_assert_arr_eq(h->refers_to.data, dis.msg_id, 16);
    cr_assert_eq(h->n_recipients, 3);
    wire_free(&h->base);
    mdb_txn_abort(txn);

    /* A transaction that finally fails leaves neither record nor notice, in memory or on disk. */
    ev_t res;
    s_ev(&res, TACNET__AGENCY__CAMHS, TACNET__EVENT_KIND__ESCALATION_RESOLVED, 3, dis.msg_id);
    b.ev = &res;
    cr_assert_eq(s_run(&b, 1000), TACNET_EMAPFULL);
    cr_assert_eq(journal_head(W.journal), 3);
    st = escalation_journal_status_json(W.esc, 10);
    cr_assert_eq(json_integer_value(json_object_get(st, "resolving")), 0);
    json_decref(st);
    cr_assert_eq(s_run(&b, 0), 0);
    st = escalation_journal_status_json(W.esc, 10);
    cr_assert_eq(json_integer_value(json_object_get(st, "resolving")), 1);
    json_decref(st);
}

Test(escalation, header_facts_are_refused_with_a_reason_and_change_nothing)
{
    ev_t decision, ev;
    batch_t b = { .c = s_team() };
    s_ev(&decision, TACNET__AGENCY__CAMHS, TACNET__EVENT_KIND__DECISION, 1, NULL);
    b.ev = &decision;
    cr_assert_eq(s_run(&b, 0), 0);
    uint8_t unknown[16];
    memset(unknown, 0xee, sizeof(unknown));
    struct {
        uint32_t sender;
        Tacnet__EventKind kind;
        const uint8_t *ref;
        int want;
    } cases[] = {
        { TACNET__AGENCY__SCHOOL, TACNET__EVENT_KIND__DISAGREEMENT, NULL, TACNET_EFIELD },
        { TACNET__AGENCY__SCHOOL, TACNET__EVENT_KIND__DISAGREEMENT, unknown, TACNET_EREFERSTO },
        { TACNET__AGENCY__CAMHS, TACNET__EVENT_KIND__DISAGREEMENT, decision.msg_id, TACNET_EFIELD },
        { TACNET__AGENCY__SCHOOL, TACNET__EVENT_KIND__ESCALATION_ACK, decision.msg_id,
          TACNET_EREFERSTO },
        { TACNET__AGENCY__SCHOOL, TACNET__EVENT_KIND__ESCALATION_RESPONSE, NULL, TACNET_EFIELD },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        s_ev(&ev, cases[i].sender, cases[i].kind, (uint8_t)(10 + i), cases[i].ref);
        b.ev = &ev;
        cr_assert_eq(s_run(&b, 0), 0);
        cr_expect_eq(b.code, cases[i].want, "case %zu: %s", i, tacnet_errname(b.code));
        cr_expect_not_null(b.detail, "case %zu names what was wrong", i);
    }
    cr_assert_eq(journal_head(W.journal), 1);
    cr_assert_eq(s_records(), 0);

    /* Challenging one's own decision works once the challenged agency is named. */
    s_ev(&ev, TACNET__AGENCY__CAMHS, TACNET__EVENT_KIND__DISAGREEMENT, 20, decision.msg_id);
    ev.h.has_subject_agency = 1;
    ev.h.subject_agency = TACNET__AGENCY__SCHOOL;
    b.ev = &ev;
    cr_assert_eq(s_run(&b, 0), 0);
    cr_assert_eq(b.code, 0);
    cr_assert_eq(s_records(), 1);
}

Test(escalation, a_restarted_broker_reloads_records_and_keeps_deduplicating)
{
    ev_t decision, dis, again;
    batch_t b = { .c = s_team() };
    s_ev(&decision, TACNET__AGENCY__CAMHS, TACNET__EVENT_KIND__DECISION, 1, NULL);
    b.ev = &decision;
    cr_assert_eq(s_run(&b, 0), 0);
    s_ev(&dis, TACNET__AGENCY__SCHOOL, TACNET__EVENT_KIND__DISAGREEMENT, 2, decision.msg_id);
    b.ev = &dis;
    cr_assert_eq(s_run(&b, 0), 0);
    uint64_t head = journal_head(W.journal);

    int err = 0;
    char why[256];
    escalation_journal_destroy(&W.esc);
    W.esc = escalation_journal_new(W.journal, W.notice, W.roster, NULL, &err, why, sizeof(why));
    cr_assert_not_null(W.esc, "%s", why);
    s_ev(&again, TACNET__AGENCY__SCHOOL, TACNET__EVENT_KIND__DISAGREEMENT, 3, decision.msg_id);
    b.ev = &again;
    cr_assert_eq(s_run(&b, 0), 0);
    cr_assert_eq(b.code, 0, "accepted, joining the open escalation");
    cr_assert_eq(journal_head(W.journal), head + 1, "the event only, no second OPENED");
    cr_assert_eq(s_records(), 1);
}

/* The initials of a case's latest event, which timer notices take: kept in the case's record by
 * journal_append and rewritten only when they or the routing state change; a case whose record
 * is in an older layout (its latest seq in the record, or in by_case) still answers from that
 * event, and its next event moves it to the new layout. */
typedef struct last_arg {
    ev_t *ev;
    uint64_t seq;
} last_arg_t;

static int s_append_routed(MDB_txn *txn, void *arg)
{
    last_arg_t *a = arg;
    route_case_t c;
    int found = 0, rc;
    if ((rc = journal_case_get(W.journal, txn, a->ev->h.case_ref.data, a->ev->h.case_ref.len, &c,
                               &found)) != 0)
        return rc;
    route_apply(&c, &a->ev->h);
    if ((rc = journal_case_put(W.journal, txn, a->ev->h.case_ref.data, a->ev->h.case_ref.len, &c)))
        return rc;
    size_t hlen = 0;
    uint8_t *hbuf = wire_pack(&a->ev->h.base, &hlen), sig[64] = { 0 }, sealed[8] = { 0 };
    rc = journal_append(W.journal, txn, a->seq, &a->ev->h, hbuf, hlen, sealed, sizeof(sealed), sig,
                        sizeof(sig), 0x16, clock_now_ms());
    free(hbuf);
    return rc;
}

typedef struct legacy_arg {
    const char *ref;
    uint64_t seq;
    int in_record; /* the seq after the routing state; else a by_case entry */
} legacy_arg_t;

static int s_write_legacy_case(MDB_txn *txn, void *arg)
{
    const legacy_arg_t *a = arg;
    /* What an older broker left: the routing state, then the latest seq or nothing (by_case). */
    route_case_t c;
    memset(&c, 0, sizeof(c));
    c.members = 1u << TACNET__AGENCY__SCHOOL;
    size_t rl = strlen(a->ref);
    uint8_t b[ROUTE_CASE_BYTES + 8], ck[16 + 9] = { 0 };
    route_case_encode(&c, b);
    store_u64_put(b + ROUTE_CASE_BYTES, a->seq);
    int rc = store_put(txn, journal_dbi(W.journal, "cases"), a->ref, rl, b,
                       a->in_record ? sizeof(b) : ROUTE_CASE_BYTES, 0);
    if (rc != 0 || a->in_record)
        return rc;
    memcpy(ck, a->ref, rl);
    store_u64_put(ck + rl + 1, a->seq);
    return store_put(txn, journal_dbi(W.journal, "by_case"), ck, rl + 9, "", 0, 0);
}

/* Where the case record of REF lies in the map: a rewrite puts it on another page (copy on
 * write), so the same address after a commit means the commit left the record alone. */
static const void *s_case_at(const char *ref, char initials[9])
{
    MDB_txn *txn;
    MDB_val v;
    uint8_t in[8];
    size_t il = 0;
    cr_assert_eq(store_read_begin(journal_store(W.journal), &txn), 0);
    cr_assert_eq(store_get(txn, journal_dbi(W.journal, "cases"), ref, strlen(ref), &v), 0);
    cr_assert_eq(journal_case_initials(W.journal, txn, (const uint8_t *)ref, strlen(ref), in, &il),
                 0);
    memcpy(initials, in, il);
    initials[il] = 0;
    mdb_txn_abort(txn);
    return v.mv_data;
}

static void s_append_on(ev_t *e, const char *ref, const char *initials, uint64_t seq)
{
    s_ev(e, TACNET__AGENCY__CAMHS, TACNET__EVENT_KIND__CONCERN, (uint8_t)seq, NULL);
    e->h.case_ref = (ProtobufCBinaryData){ strlen(ref), (uint8_t *)ref };
    e->h.initials = (ProtobufCBinaryData){ strlen(initials), (uint8_t *)initials };
    last_arg_t a = { e, seq };
    cr_assert_eq(store_write(journal_store(W.journal), s_append_routed, &a), 0);
}

Test(escalation, a_cases_initials_are_kept_in_its_record_and_rewritten_only_when_they_change)
{
    ev_t e;
    char in[9];
    s_append_on(&e, CASE, "KM", 1);
    const void *at = s_case_at(CASE, in);
    cr_assert_str_eq(in, "KM");
    s_append_on(&e, CASE, "KM", 2);
    cr_assert_eq(s_case_at(CASE, in), at, "a concern changing nothing left the record alone");
    s_append_on(&e, CASE, "KMX", 3);
    cr_assert_neq(s_case_at(CASE, in), at, "new initials rewrite it");
    cr_assert_str_eq(in, "KMX");
    MDB_txn *txn;
    MDB_stat st;
    uint8_t out[8];
    size_t ol;
    route_case_t c;
    int found = 0;
    cr_assert_eq(store_read_begin(journal_store(W.journal), &txn), 0);
    cr_assert_eq(mdb_stat(txn, journal_dbi(W.journal, "by_case"), &st), 0);
    cr_assert_eq(st.ms_entries, 0, "by_case is no longer written");
    /* The routing state still reads back whole beside the initials. */
    cr_assert_eq(journal_case_get(W.journal, txn, (const uint8_t *)CASE, strlen(CASE), &c, &found),
                 0);
    cr_assert(found && (c.members & (1u << TACNET__AGENCY__CAMHS)));
    cr_assert_eq(journal_case_initials(W.journal, txn, (const uint8_t *)"NONE", 4, out, &ol),
                 TACNET_ENOTFOUND);
    mdb_txn_abort(txn);
}

Test(escalation, cases_in_older_record_layouts_answer_from_their_latest_event)
{
    /* Their latest events, journalled on cases with no record yet (so the layout is the old one
     * written below), then the old records. */
    static const legacy_arg_t legs[] = { { "LEG", 4, 0 }, { "LG8", 5, 1 } };
    static const char *const initials[] = { "CD", "AB" };
    ev_t e;
    char in[9];
    for (size_t i = 0; i < 2; i++) {
        s_ev(&e, TACNET__AGENCY__CAMHS, TACNET__EVENT_KIND__CONCERN, (uint8_t)legs[i].seq, NULL);
        e.h.case_ref = (ProtobufCBinaryData){ 3, (uint8_t *)legs[i].ref };
        e.h.initials = (ProtobufCBinaryData){ 2, (uint8_t *)initials[i] };
        last_arg_t a = { &e, legs[i].seq };
        cr_assert_eq(store_write(journal_store(W.journal), s_append_routed, &a), 0);
        cr_assert_eq(store_write(journal_store(W.journal), s_write_legacy_case, (void *)&legs[i]),
                     0);
        s_case_at(legs[i].ref, in);
        cr_assert_str_eq(in, initials[i], "%s answers from seq %llu", legs[i].ref,
                         (unsigned long long)legs[i].seq);
    }
    route_case_t c;
    int found = 0;
    MDB_txn *txn;
    cr_assert_eq(store_read_begin(journal_store(W.journal), &txn), 0);
    cr_assert_eq(journal_case_get(W.journal, txn, (const uint8_t *)"LG8", 3, &c, &found), 0);
    cr_assert(found && c.members == 1u << TACNET__AGENCY__SCHOOL);
    mdb_txn_abort(txn);
    /* The next event moves each into the new layout. */
    s_append_on(&e, "LEG", "EF", 6);
    s_append_on(&e, "LG8", "GH", 7);
    s_case_at("LEG", in);
    cr_assert_str_eq(in, "EF");
    s_case_at("LG8", in);
    cr_assert_str_eq(in, "GH");
}

/* A case record whose routing state is version 1 (32 bytes, route.h), as a broker stored it
 * before roster agencies beyond 6 and 7: the school alone, consent given, covering the school
 * for everything and agency 6 for routine; then nothing (the latest seq in by_case), the latest
 * seq, or the initials. */
typedef struct v1_arg {
    const char *ref;
    uint64_t seq;
    size_t tail; /* 0, 8 or 9 */
    const char *initials;
} v1_arg_t;

static int s_write_v1_case(MDB_txn *txn, void *arg)
{
    const v1_arg_t *a = arg;
    uint8_t b[ROUTE_CASE_BYTES_V1 + 9] = { 0 }, ck[16 + 9] = { 0 };
    size_t rl = strlen(a->ref);
    b[0] = 1;
    b[4] = 1u << TACNET__AGENCY__SCHOOL;
    b[5] = TACNET__AGENCY__SCHOOL;
    b[7] = TACNET__CONSENT_STATE__GIVEN;
    b[25 + TACNET__AGENCY__SCHOOL - 1] = ROUTE_CLASSES_ALL;
    b[29] = ROUTE_CLASS_BIT(TACNET__SENSITIVITY__ROUTINE);
    b[31] = 1;
    if (a->tail == 8)
        store_u64_put(b + ROUTE_CASE_BYTES_V1, a->seq);
    if (a->tail == 9) {
        b[ROUTE_CASE_BYTES_V1] = (uint8_t)strlen(a->initials);
        memcpy(b + ROUTE_CASE_BYTES_V1 + 1, a->initials, strlen(a->initials));
    }
    int rc = store_put(txn, journal_dbi(W.journal, "cases"), a->ref, rl, b,
                       ROUTE_CASE_BYTES_V1 + a->tail, 0);
    if (rc != 0 || a->tail)
        return rc;
    memcpy(ck, a->ref, rl);
    store_u64_put(ck + rl + 1, a->seq);
    return store_put(txn, journal_dbi(W.journal, "by_case"), ck, rl + 9, "", 0, 0);
}

/* The stored record of REF: its size and first byte (the routing state's version), and the
 * routing state read back. */
static size_t s_case_raw(const char *ref, uint8_t *version, route_case_t *c)
{
    MDB_txn *txn;
    MDB_val v;
    int found = 0;
    cr_assert_eq(store_read_begin(journal_store(W.journal), &txn), 0);
    cr_assert_eq(store_get(txn, journal_dbi(W.journal, "cases"), ref, strlen(ref), &v), 0);
    size_t n = v.mv_size;
    *version = ((const uint8_t *)v.mv_data)[0];
    cr_assert_eq(journal_case_get(W.journal, txn, (const uint8_t *)ref, strlen(ref), c, &found), 0,
                 "%s", ref);
    cr_assert(found);
    mdb_txn_abort(txn);
    return n;
}

Test(escalation, version_1_case_records_are_read_and_written_again_as_version_2)
{
    static const v1_arg_t olds[] = { { "V1A", 1, 0, NULL },
                                     { "V1B", 2, 8, NULL },
                                     { "V1C", 3, 9, "IJ" } };
    static const char *const journalled[] = { "CD", "AB", "ZZ" };
    static const char *const expect[] = { "CD", "AB", "IJ" };
    ev_t e;
    char in[9];
    uint8_t version;
    route_case_t c;
    for (size_t i = 0; i < 3; i++) {
        s_ev(&e, TACNET__AGENCY__CAMHS, TACNET__EVENT_KIND__CONCERN, (uint8_t)olds[i].seq, NULL);
        e.h.case_ref = (ProtobufCBinaryData){ 3, (uint8_t *)olds[i].ref };
        e.h.initials = (ProtobufCBinaryData){ 2, (uint8_t *)journalled[i] };
        last_arg_t a = { &e, olds[i].seq };
        cr_assert_eq(store_write(journal_store(W.journal), s_append_routed, &a), 0);
        cr_assert_eq(store_write(journal_store(W.journal), s_write_v1_case, (void *)&olds[i]), 0);
        cr_assert_eq(s_case_raw(olds[i].ref, &version, &c), ROUTE_CASE_BYTES_V1 + olds[i].tail);
        cr_assert_eq(version, 1);
        cr_assert_eq(c.members, 1u << TACNET__AGENCY__SCHOOL, "%s", olds[i].ref);
        cr_assert_eq(c.consent, TACNET__CONSENT_STATE__GIVEN);
        cr_assert(route_consent_covers(&c, 6, TACNET__SENSITIVITY__ROUTINE));
        cr_assert_not(route_consent_covers(&c, 6, TACNET__SENSITIVITY__HEALTH));
        s_case_at(olds[i].ref, in);
        cr_assert_str_eq(in, expect[i], "%s", olds[i].ref);
    }
    /* The next event writes each as version 2 with its initials, the consent kept. */
    for (size_t i = 0; i < 3; i++) {
        s_append_on(&e, olds[i].ref, "KL", 4 + i);
        cr_assert_eq(s_case_raw(olds[i].ref, &version, &c), ROUTE_CASE_BYTES + 9, "%s",
                     olds[i].ref);
        cr_assert_eq(version, 2);
        cr_assert_eq(c.members, (1u << TACNET__AGENCY__SCHOOL) | (1u << TACNET__AGENCY__CAMHS) |
                                    (1u << TACNET__AGENCY__SOCIAL_CARE));
        cr_assert(route_consent_covers(&c, 6, TACNET__SENSITIVITY__ROUTINE));
        cr_assert(route_consent_covers(&c, TACNET__AGENCY__SCHOOL, TACNET__SENSITIVITY__HEALTH));
        s_case_at(olds[i].ref, in);
        cr_assert_str_eq(in, "KL");
    }
}

/* ---------------------------------------------------------------- delivery index */

static int s_append_masked(MDB_txn *txn, void *arg)
{
    const uint32_t *mask = arg;
    ev_t e;
    uint64_t seq = journal_head(W.journal);
    for (int i = 0; i < 6; i++) {
        s_ev(&e, TACNET__AGENCY__CAMHS, TACNET__EVENT_KIND__CONCERN, (uint8_t)(seq + 1), NULL);
        size_t hlen = 0;
        uint8_t *hbuf = wire_pack(&e.h.base, &hlen), sig[64] = { 0 }, sealed[8] = { 0 };
        int rc = journal_append(W.journal, txn, ++seq, &e.h, hbuf, hlen, sealed, sizeof(sealed),
                                sig, sizeof(sig), mask[i], clock_now_ms());
        free(hbuf);
        if (rc != 0)
            return rc;
    }
    journal_head_set(W.journal, seq);
    return 0;
}

/* Every seq addressed to AGENCY, in order, as the broker's pump finds them. */
static size_t s_for(uint32_t agency, uint64_t *out, size_t cap, uint64_t *scanned)
{
    MDB_txn *txn;
    cr_assert_eq(store_read_begin(journal_store(W.journal), &txn), 0);
    MDB_cursor *cur = NULL;
    size_t n = 0;
    uint64_t at = 0;
    int rc;
    while (n < cap && (rc = journal_next_for(W.journal, txn, &cur, agency, at, &at, scanned)) == 0)
        out[n++] = at;
    if (n < cap)
        cr_assert_eq(rc, TACNET_ENOTFOUND);
    if (cur)
        mdb_cursor_close(cur);
    mdb_txn_abort(txn);
    return n;
}

Test(escalation, the_delivery_index_finds_each_agencys_events_and_says_how_far_it_looked)
{
    const uint32_t school = 1u << TACNET__AGENCY__SCHOOL,
                   hv = 1u << TACNET__AGENCY__HEALTH_VISITING;
    uint32_t masks[6] = { school, hv, school | hv, 0, hv, hv };
    cr_assert_eq(store_write(journal_store(W.journal), s_append_masked, masks), 0);
    uint64_t got[8], scanned = 0;
    cr_assert_eq(s_for(TACNET__AGENCY__SCHOOL, got, 8, &scanned), 2);
    cr_assert_eq(got[0], 1);
    cr_assert_eq(got[1], 3);
    /* After its last event, the search looked at everything: 4..6 hold nothing for school. */
    cr_assert_eq(scanned, 6);
    cr_assert_eq(s_for(TACNET__AGENCY__HEALTH_VISITING, got, 8, &scanned), 4);
    cr_assert(got[0] == 2 && got[1] == 3 && got[2] == 5 && got[3] == 6);
    cr_assert_eq(s_for(TACNET__AGENCY__SOCIAL_CARE, got, 8, &scanned), 0);
    cr_assert_eq(scanned, 6, "social care: all six looked at once, none for it");
    MDB_txn *txn;
    cr_assert_eq(store_read_begin(journal_store(W.journal), &txn), 0);
    cr_assert_eq(journal_backlog(W.journal, txn, TACNET__AGENCY__HEALTH_VISITING, 2, 100), 3);
    cr_assert_eq(journal_backlog(W.journal, txn, TACNET__AGENCY__HEALTH_VISITING, 2, 2), 2);
    mdb_txn_abort(txn);
}

static int s_write_legacy_rcpt(MDB_txn *txn, void *arg)
{
    (void)arg;
    /* What an older broker kept: one by_rcpt key per (agency, seq), for seqs 1..3. */
    static const uint8_t pairs[][2] = { { TACNET__AGENCY__SCHOOL, 1 },
                                        { TACNET__AGENCY__HEALTH_VISITING, 1 },
                                        { TACNET__AGENCY__SCHOOL, 2 },
                                        { TACNET__AGENCY__SOCIAL_CARE, 3 } };
    for (size_t i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++) {
        uint8_t k[9] = { pairs[i][0] };
        store_u64_put(k + 1, pairs[i][1]);
        int rc = store_put(txn, journal_dbi(W.journal, "by_rcpt"), k, 9, "", 0, 0);
        if (rc != 0)
            return rc;
    }
    return 0;
}

Test(escalation, an_older_journals_per_recipient_index_is_folded_in_when_it_opens)
{
    cr_assert_eq(store_write(journal_store(W.journal), s_write_legacy_rcpt, NULL), 0);
    escalation_journal_destroy(&W.esc);
    notice_destroy(&W.notice);
    journal_destroy(&W.journal);
    char path[600], why[256];
    int err = 0;
    snprintf(path, sizeof(path), "%s/data", W.dir);
    W.journal = journal_open(path, 1 << 20, &err);
    cr_assert_not_null(W.journal, "%s", tacnet_errname(err));
    W.notice = notice_new(W.journal, W.roster, W.keys, W.seal, NULL);
    W.esc = escalation_journal_new(W.journal, W.notice, W.roster, NULL, &err, why, sizeof(why));
    cr_assert_not_null(W.esc, "%s", why);
    uint64_t got[8], scanned = 0;
    cr_assert_eq(s_for(TACNET__AGENCY__SCHOOL, got, 8, &scanned), 2);
    cr_assert(got[0] == 1 && got[1] == 2);
    cr_assert_eq(s_for(TACNET__AGENCY__HEALTH_VISITING, got, 8, &scanned), 1);
    cr_assert_eq(got[0], 1);
    cr_assert_eq(s_for(TACNET__AGENCY__SOCIAL_CARE, got, 8, &scanned), 1);
    cr_assert_eq(got[0], 3);
    MDB_txn *txn;
    MDB_stat st;
    cr_assert_eq(store_read_begin(journal_store(W.journal), &txn), 0);
    cr_assert_eq(mdb_stat(txn, journal_dbi(W.journal, "by_rcpt"), &st), 0);
    cr_assert_eq(st.ms_entries, 0, "by_rcpt is emptied once folded in");
    mdb_txn_abort(txn);
}
