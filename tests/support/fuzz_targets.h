/* fuzz_targets: one function per decoder that bytes from outside reach. Each takes arbitrary
 * bytes, must never crash, leak or trip a sanitizer, and returns 0.
 *
 * The libFuzzer programs (tests/fuzz/fuzz_<target>.c, `make fuzz`) call one each and link
 * fuzz_targets.o built with the fuzzer's instrumentation; the Criterion test
 * tests/fuzz/test_fuzz_corpus.c replays the committed corpora (tests/fuzz/corpus/<target>/)
 * through all of them in `make test`, linking it from the test support library. Targets that
 * need the gazetteer read it from $TACNET_SRC/deploy/gazetteer once per process (abort if it is
 * missing).
 */
#ifndef TACNET_TEST_FUZZ_TARGETS_H
#define TACNET_TEST_FUZZ_TARGETS_H

#include <stddef.h>
#include <stdint.h>

typedef int (*fuzz_fn)(const uint8_t *data, size_t len);

/* The clear Header, decoded as the broker and the daemons decode it. */
int fuzz_header(const uint8_t *data, size_t len);
/* A command header; the first byte picks the command. */
int fuzz_ctl(const uint8_t *data, size_t len);
/* An opened Body, unpacked within a budget, then every free-text field text-checked. */
int fuzz_body(const uint8_t *data, size_t len);
/* The identifier policy on raw text (lines from `tacnet policy check`, API free text). */
int fuzz_policy_text(const uint8_t *data, size_t len);
/* A signed roster: first byte 0, the bytes as a SignedRoster file; otherwise the rest is the
 * inner Roster, signed with a fixed root key to reach the checks after the signature. */
int fuzz_roster(const uint8_t *data, size_t len);
/* A local API request, decoded as the daemon decodes it. */
int fuzz_api_request(const uint8_t *data, size_t len);
/* A config file against a table with every option type. */
int fuzz_cfg(const uint8_t *data, size_t len);
/* An intake file for one of the four agencies (the first byte picks it). */
int fuzz_intake(const uint8_t *data, size_t len);

/* A signature frame F5: one signature, or a batched one with its Merkle proof (common/merkle.h);
 * also a real batch's frame changed by the input, checked with the path memo warm and from
 * scratch, which must agree. */
int fuzz_merkle(const uint8_t *data, size_t len);

/* A whole message frame (common/wire.h: protocol id, command, length-prefixed parts, signature),
 * split by wire_decode and each part then decoded as the broker and the daemons do. */
int fuzz_frame(const uint8_t *data, size_t len);

/* Every target by name (the corpus directory's name). */
typedef struct fuzz_target {
    const char *name;
    fuzz_fn fn;
} fuzz_target_t;
extern const fuzz_target_t fuzz_targets[];
extern const size_t fuzz_n_targets;

#endif
