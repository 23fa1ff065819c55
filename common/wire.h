/* wire: the tacnet protocol's messages (docs/ARCHITECTURE.md) over ZeroMQ, and safe decoding.
 *
 * A message is [routing id (ROUTER side only)] and ONE ZeroMQ frame holding its parts, lengths
 * little-endian:
 *   "TACN02" (6) | command byte (1) | u32 ctl length | ctl (protobuf, one message type per
 *   command) [| u32 header length | clear Header | u32 sealed length | sealed body | signature:
 *   the rest, one event's Ed25519 signature or a batch's with this event's Merkle proof
 *   (merkle.h)]. The bracketed parts appear on PUBLISH, DELIVER and REGRANT only; nothing may
 *   follow the last part.
 * DELIVERS (broker -> a daemon that asked for it in its HELLO) carries several DELIVERs in the
 * one frame: an empty ctl, then each DELIVER's whole frame after its u32 length (1 to
 * WIRE_BATCH_MAX of them). It is one ZeroMQ message, one CURVE box and one wake-up of the
 * daemon for all of them; each DELIVER in it is exactly what would have been sent alone.
 * PUBACKS (broker -> a sender whose PUBLISH asked for it) is the same for PUBACKs.
 * Under CURVE libzmq seals every ZeroMQ frame on its own, so one frame per message costs one
 * encryption, one MAC and one allocation instead of six.
 *
 * Sizes are checked part by part before anything is unpacked; protobuf is unpacked with a
 * budgeted, zero-filling allocator; the Header must re-encode to exactly its input (so duplicate
 * fields, unknown fields and embedded NULs in strings are rejected) and every enum must be a
 * known value.
 */
#ifndef TACNET_WIRE_H
#define TACNET_WIRE_H

#include <protobuf-c/protobuf-c.h>
#include <stddef.h>
#include <stdint.h>

#include "wire.pb-c.h"

#define WIRE_PROTOCOL       "TACN02" /* 02: one ZeroMQ frame per message */
#define WIRE_PROTOCOL_LEN   6
#define WIRE_SCHEMA_VERSION 2 /* 2: consent scope and cover, direct care */
#define WIRE_MAX_RID        256
#define WIRE_MAX_CTL        1024
#define WIRE_MAX_HEADER     2048
#define WIRE_MAX_SEALED     (256 * 1024)
#define WIRE_MAX_MSG        (WIRE_MAX_SEALED + 8192) /* ZMQ_MAXMSGSIZE */
#define WIRE_LEN_BYTES      4                        /* each length prefix: u32, little-endian */
#define WIRE_FIXED_BYTES    (WIRE_PROTOCOL_LEN + 1 + WIRE_LEN_BYTES) /* before the ctl */
#define WIRE_USER_ID_MAX    64
#define WIRE_BATCH_MAX      64          /* DELIVERs in one DELIVERS */
#define WIRE_BATCH_BYTES    (64 * 1024) /* a DELIVERS is closed once it holds this much */

enum wire_cmd {
    WIRE_HELLO = 1,
    WIRE_WELCOME = 2,
    WIRE_PUBLISH = 3,
    WIRE_PUBACK = 4,
    WIRE_DELIVER = 5,
    WIRE_ACK = 6,
    WIRE_NACK = 7,
    WIRE_PING = 8,
    WIRE_PONG = 9,
    WIRE_ERROR = 10,
    WIRE_GRANT = 11,    /* daemon -> broker: a body key for a late member (history on joining) */
    WIRE_GRANTACK = 12, /* broker -> daemon: the grant's fate */
    WIRE_REGRANT = 13,  /* daemon -> broker: a grant with the body sealed again (+ event parts) */
    WIRE_DELIVERS = 14, /* broker -> daemon: several DELIVERs in one frame */
    WIRE_PUBACKS = 15,  /* broker -> sender: several PUBACKs in one frame */
};

/* One received message. The parts point into the received ZeroMQ frame, which the struct owns
 * (FRAME) until wire_msg_clear; the struct may be copied by value to move it (once). */
typedef struct wire_msg {
    uint8_t rid[WIRE_MAX_RID]; /* ROUTER routing id */
    size_t rid_len;
    char user_id[WIRE_USER_ID_MAX]; /* ZAP User-Id of the connection ("" if none) */
    uint8_t cmd;
    uint8_t *ctl; /* the command header */
    size_t ctl_len;
    uint8_t *header; /* the clear Header (PUBLISH/DELIVER/REGRANT), else NULL */
    size_t header_len;
    uint8_t *sealed; /* the sealed body */
    size_t sealed_len;
    uint8_t *sig; /* SEAL_SIG_BYTES, or a batched signature (merkle_frame_len_ok) */
    size_t sig_len;
    uint8_t *batch; /* DELIVERS, PUBACKS: the length-prefixed inner frames */
    size_t batch_len;
    int src_fd;  /* the connection's socket as libzmq reports it (ZMQ_SRCFD), -1 if unknown */
    void *frame; /* the zmq_msg_t (heap) the parts point into; NULL when none is held */
} wire_msg_t;

/* Receive one whole message from SOCK (ROUTER when IS_ROUTER): the routing id (ROUTER) and one
 * frame. FLAGS as zmq_msg_recv (ZMQ_DONTWAIT). All of a message's ZeroMQ frames are drained even
 * when it is rejected. Returns 0 or a negative TACNET_E* code, never a raw errno:
 *   - the message was read and refused: as wire_decode, or TACNET_EFRAMES for a message of
 *     another number of ZeroMQ frames; the next message may be read;
 *   - nothing was read: TACNET_EAGAIN (no message, with ZMQ_DONTWAIT), TACNET_EINTR (a signal)
 *     or TACNET_EIO (the socket failed: context terminated, socket closed). These come only from
 *     the first frame, so nothing was consumed and the caller stops reading for now.
 * An EINTR inside a started message is retried here, and a message whose remaining frames are
 * missing gives TACNET_EFRAMES instead of blocking. OUT is overwritten (clear it before reuse).
 * On error OUT holds whatever could be read (the routing id at least, to answer a NACK) and
 * must still be cleared. USER_ID is empty when the connection has no ZAP User-Id or one longer
 * than WIRE_USER_ID_MAX - 1. */
int wire_recv(void *sock, int is_router, int flags, wire_msg_t *out);

/* Split one message frame DATA (LEN bytes, no routing id) into OUT's cmd, ctl, header, sealed
 * and sig, which point into DATA (nothing is copied or allocated; OUT's other fields are left
 * alone). Returns 0 or the reason to refuse the whole message: TACNET_EFRAMES (protocol id or
 * command byte wrong, a part missing or cut, a length past the end, bytes after the last part),
 * TACNET_ETOOBIG (a part over its cap: WIRE_MAX_CTL, WIRE_MAX_HEADER, WIRE_MAX_SEALED, a
 * signature over MERKLE_FRAME_MAX) or TACNET_EBADMSG (a signature of a length
 * merkle_frame_len_ok refuses). On error the parts of OUT are unset (NULL, 0). */
int wire_decode(const uint8_t *data, size_t len, wire_msg_t *out);

/* Free the frame MSG holds and zero it. Null-safe. */
void wire_msg_clear(wire_msg_t *msg);

/* Take the frame MSG holds (its parts keep pointing into it) for wire_frame_free: how the
 * DELIVERs read out of one DELIVERS stay valid until the batch they are in is applied. */
void *wire_msg_take_frame(wire_msg_t *msg);
void wire_frame_free(void *frame);

/* The next inner message of the DELIVERS or PUBACKS M from *OFF (0 to start): 1 with SUB's cmd,
 * ctl, header, sealed and sig pointing into M's frame (SUB holds no frame; its routing id and
 * User-Id are M's), 0 at the end. wire_decode has checked every one already, so none fails. */
int wire_batch_next(const wire_msg_t *m, size_t *off, wire_msg_t *sub);

/* A DELIVERS or PUBACKS being filled: whole frames of one command, each after its length.
 * Zero-initialise. */
typedef struct wire_batch {
    uint8_t *buf;
    size_t len, cap, n;
    uint8_t inner; /* WIRE_DELIVER or WIRE_PUBACK, set by the first add */
} wire_batch_t;

/* Add one DELIVER or PUBACK (CMD; the other arguments as wire_send_sig). Returns 0,
 * TACNET_EINVAL or TACNET_ETOOBIG (as wire_send_sig; EINVAL too for another command than the
 * batch holds; ETOOBIG when it holds WIRE_BATCH_MAX already or would pass WIRE_MAX_MSG): then
 * nothing was added. */
int wire_batch_add(wire_batch_t *b, uint8_t cmd, const ProtobufCMessage *ctl, const uint8_t *header,
                   size_t hlen, const uint8_t *sealed, size_t sealed_len, const uint8_t *sig,
                   size_t sig_len);
/* Send the batch to RID as one DELIVERS or PUBACKS and empty it, sent or not (returns as
 * wire_send). */
int wire_batch_send(void *sock, const uint8_t *rid, size_t rid_len, wire_batch_t *b);
void wire_batch_free(wire_batch_t *b);

/* Send a message: the routing id RID (NULL on the DEALER side) and one frame built in place.
 * CTL is packed as the command header (NULL: empty). HEADER/SEALED/SIG must be NULL for
 * commands without an event and HEADER and SIG (SEAL_SIG_BYTES) set for PUBLISH, DELIVER and
 * REGRANT. Sends with ZMQ_DONTWAIT (and retries an EINTR). Returns 0 or a negative TACNET_E*
 * code, never a raw errno: TACNET_EAGAIN (the peer's pipe is full) or TACNET_EHOSTUNREACH (a
 * ROUTER's peer is gone): nothing was sent, the caller keeps the item pending; TACNET_EIO (the
 * socket failed); TACNET_EINVAL (unknown command or parts not matching it) or TACNET_ETOOBIG (a
 * part over its cap; nothing sent). */
int wire_send(void *sock, const uint8_t *rid, size_t rid_len, uint8_t cmd,
              const ProtobufCMessage *ctl, const uint8_t *header, size_t hlen,
              const uint8_t *sealed, size_t sealed_len, const uint8_t *sig);

/* The same with a signature of SIG_LEN bytes: a single signature or a batched one (merkle.h);
 * TACNET_EINVAL for a length merkle_frame_len_ok refuses. */
int wire_send_sig(void *sock, const uint8_t *rid, size_t rid_len, uint8_t cmd,
                  const ProtobufCMessage *ctl, const uint8_t *header, size_t hlen,
                  const uint8_t *sealed, size_t sealed_len, const uint8_t *sig, size_t sig_len);

/* Send a NACK or ERROR with CODE and its tacnet_strerror text plus DETAIL (may be NULL; the
 * reason is cut at 255 bytes). MSG_ID may be NULL. Returns as wire_send. */
int wire_send_nack(void *sock, const uint8_t *rid, size_t rid_len, uint8_t cmd,
                   const uint8_t *msg_id, size_t msg_id_len, int code, const char *detail);

/* Unpack DATA as DESC with a budget of BUDGET bytes of decoded memory (0: 4 x len + 4096).
 * Returns the message (free with wire_free) or NULL with *ERR = TACNET_EBADMSG or
 * TACNET_EBUDGET. Also rejects a message that does not re-encode to LEN bytes
 * (TACNET_ENONCANON) when CANONICAL is set. */
ProtobufCMessage *wire_unpack(const ProtobufCMessageDescriptor *desc, const uint8_t *data,
                              size_t len, size_t budget, int canonical, int *err);

/* Free a message from wire_unpack, wire_header_unpack or wire_ctl_unpack. Null-safe. */
void wire_free(ProtobufCMessage *msg);

/* Unpack and check a clear Header: size cap, budget, canonical encoding, no unknown fields,
 * every enum a known value, msg_id 16 bytes, refers_to 16 bytes when present, 1 to 8
 * recipients, none AGENCY_UNKNOWN and no duplicates among them, kind not KIND_UNKNOWN,
 * level_of_need and escalation_stage 1..4 when present. Does NOT check schema version,
 * identifiers or signatures (the broker's pipeline does those next, in that order). Returns the
 * header (free with wire_free) or NULL with *ERR = TACNET_ETOOBIG, TACNET_EBADMSG (not a Header,
 * required field missing), TACNET_EBUDGET, TACNET_ENONCANON (re-encodes differently, unknown
 * fields), TACNET_EENUM (a value not in its enum), TACNET_EMSGID, TACNET_EKIND or TACNET_EFIELD
 * (recipients, level_of_need, escalation_stage). */
Tacnet__Header *wire_header_unpack(const uint8_t *data, size_t len, int *err)
    __attribute__((warn_unused_result));

/* Unpack the command header for CMD (Hello, Welcome, ...; NACK and ERROR carry a Nack),
 * canonically. Free with wire_free. NULL with *ERR as wire_unpack, TACNET_ETOOBIG over
 * WIRE_MAX_CTL or TACNET_EINVAL for an unknown CMD. */
ProtobufCMessage *wire_ctl_unpack(uint8_t cmd, const uint8_t *data, size_t len, int *err);

/* Pack any message into a malloc'd buffer (caller frees); *LEN gets its length. */
uint8_t *wire_pack(const ProtobufCMessage *msg, size_t *len);

/* A new msg_id: the creation time in ms (6 bytes, big-endian) then 10 random bytes. Ids made
 * later sort later, so the broker's and the views' msg_id indexes are appended to at their right
 * edge instead of touching a random page per event (fewer pages per synced commit, and a cost
 * that does not grow with the journal). The time is no secret: the header carries created_at_ms
 * in the clear. 80 random bits per millisecond keep ids unique. */
void wire_msgid_new(uint8_t id[16]);

/* The creation time (ms since the epoch) a 16-byte msg_id made by wire_msgid_new starts with. */
uint64_t wire_msgid_time(const uint8_t id[16]);

/* Lowercase hex of a 16-byte msg_id into OUT (33 bytes), for logs. */
void wire_msgid_hex(const uint8_t *id, size_t len, char out[33]);

/* Where a msg_id's short id starts: the first 6 bytes are its creation time, shared by events
 * sent together, so people see and type the random part after it. */
#define WIRE_SHORT_ID_FROM 6

/* Does the 16-byte msg_id ID match PREFIX (hex, any case), from its start or from its short
 * id? 1 or 0. */
int wire_msgid_prefix_matches(const uint8_t id[16], const char *prefix);

#endif
