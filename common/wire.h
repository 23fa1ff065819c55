/* wire: the frames of the tacnet protocol (DESIGN §3) over ZeroMQ, and safe decoding.
 *
 * A message is: [routing id (ROUTER side only)] F0 "TACN01" | F1 command byte | F2 command
 * header (protobuf, one message type per command) | F3 clear Header | F4 sealed body | F5
 * Ed25519 signature. F3..F5 appear on PUBLISH and DELIVER only.
 *
 * Sizes are checked frame by frame before anything is unpacked; protobuf is unpacked with a
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

#define WIRE_PROTOCOL       "TACN01"
#define WIRE_PROTOCOL_LEN   6
#define WIRE_SCHEMA_VERSION 1
#define WIRE_MAX_RID        256
#define WIRE_MAX_CTL        1024
#define WIRE_MAX_HEADER     2048
#define WIRE_MAX_SEALED     (256 * 1024)
#define WIRE_MAX_MSG        (WIRE_MAX_SEALED + 8192) /* ZMQ_MAXMSGSIZE */
#define WIRE_USER_ID_MAX    64

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
};

/* One received message: frames copied out of ZeroMQ, owned by the struct. */
typedef struct wire_msg {
    uint8_t rid[WIRE_MAX_RID]; /* ROUTER routing id */
    size_t rid_len;
    char user_id[WIRE_USER_ID_MAX]; /* ZAP User-Id of the connection ("" if none) */
    uint8_t cmd;
    uint8_t *ctl; /* F2 */
    size_t ctl_len;
    uint8_t *header; /* F3 (PUBLISH/DELIVER) */
    size_t header_len;
    uint8_t *sealed; /* F4 */
    size_t sealed_len;
    uint8_t *sig; /* F5, SEAL_SIG_BYTES */
    size_t sig_len;
} wire_msg_t;

/* Receive one whole message from SOCK (ROUTER when IS_ROUTER). FLAGS as zmq_msg_recv
 * (ZMQ_DONTWAIT). All frames are drained even when the message is rejected. Returns 0,
 * TACNET_EFRAMES (frame count, protocol id or command byte wrong), TACNET_ETOOBIG (a frame over
 * its cap), or a positive errno from ZeroMQ (EAGAIN, EINTR, ...). On error OUT holds whatever
 * could be read (the routing id at least, to answer a NACK) and must still be cleared. */
int wire_recv(void *sock, int is_router, int flags, wire_msg_t *out);

/* Free the frames of MSG and zero it. Null-safe. */
void wire_msg_clear(wire_msg_t *msg);

/* Send a message. RID may be NULL (DEALER side). CTL is packed into F2. HEADER/SEALED/SIG may
 * be NULL for commands without an event. Sends with ZMQ_DONTWAIT. Returns 0 or a positive errno
 * (EAGAIN, EHOSTUNREACH: the peer is gone or full; the caller keeps the item pending). */
int wire_send(void *sock, const uint8_t *rid, size_t rid_len, uint8_t cmd,
              const ProtobufCMessage *ctl, const uint8_t *header, size_t hlen,
              const uint8_t *sealed, size_t sealed_len, const uint8_t *sig);

/* Send a NACK or ERROR with CODE and its tacnet_strerror text plus DETAIL (may be NULL). */
int wire_send_nack(void *sock, const uint8_t *rid, size_t rid_len, uint8_t cmd,
                   const uint8_t *msg_id, size_t msg_id_len, int code, const char *detail);

/* Unpack DATA as DESC with a budget of BUDGET bytes of decoded memory (0: 4 x len + 4096).
 * Returns the message (free with wire_free) or NULL with *ERR = TACNET_EBADMSG or
 * TACNET_EBUDGET. Also rejects a message that does not re-encode to LEN bytes
 * (TACNET_ENONCANON) when CANONICAL is set. */
ProtobufCMessage *wire_unpack(const ProtobufCMessageDescriptor *desc, const uint8_t *data,
                              size_t len, size_t budget, int canonical, int *err);
void wire_free(ProtobufCMessage *msg);

/* Unpack and check a clear Header: size cap, budget, canonical encoding, no unknown fields,
 * every enum a known value, msg_id 16 bytes, refers_to 0 or 16 bytes, at most 8 recipients, no
 * duplicates among them. Does NOT check schema version, identifiers or signatures (the broker's
 * pipeline does those next, in that order). Returns the header (free with wire_free) or NULL
 * with *ERR set. */
Tacnet__Header *wire_header_unpack(const uint8_t *data, size_t len, int *err)
    __attribute__((warn_unused_result));

/* Unpack the F2 command header for CMD (Hello, Welcome, ...). NULL with *ERR on bad input. */
ProtobufCMessage *wire_ctl_unpack(uint8_t cmd, const uint8_t *data, size_t len, int *err);

/* Pack any message into a malloc'd buffer. */
uint8_t *wire_pack(const ProtobufCMessage *msg, size_t *len);

/* Lowercase hex of a 16-byte msg_id into OUT (33 bytes), for logs. */
void wire_msgid_hex(const uint8_t *id, size_t len, char out[33]);

#endif
