#!/usr/bin/env python3
"""Generate tests/vectors/seal_kat.txt ONCE: an independent implementation of the sealed format
in common/seal.h (Python + ctypes over the system libsodium, its own layout code), so the C
known-answer test checks seal.c against a second reading of the spec, not against itself.

Run: python3 tests/vectors/gen_seal_kat.py > tests/vectors/seal_kat.txt
All data is synthetic (invented case reference and initials).
"""
import ctypes
import hashlib
import struct

na = ctypes.CDLL("libsodium.so.23")
assert na.sodium_init() >= 0


def buf(n):
    return ctypes.create_string_buffer(n)


def seed(label):
    return hashlib.blake2b(b"tacnet seal kat " + label, digest_size=32).digest()


def box_seed_keypair(s):
    pk, sk = buf(32), buf(32)
    assert na.crypto_box_seed_keypair(pk, sk, s) == 0
    return pk.raw, sk.raw


def sign_seed_keypair(s):
    pk, sk = buf(32), buf(64)
    assert na.crypto_sign_seed_keypair(pk, sk, s) == 0
    return pk.raw, sk.raw


def varint(v):
    out = b""
    while True:
        b = v & 0x7F
        v >>= 7
        if v:
            out += bytes([b | 0x80])
        else:
            return out + bytes([b])


def field(num, wt, payload):
    key = varint(num << 3 | wt)
    if wt == 0:
        return key + varint(payload)
    return key + varint(len(payload)) + payload


msg_id = hashlib.blake2b(b"tacnet seal kat msg_id", digest_size=16).digest()
sender_agency, sender_key_id = 1, 7                       # CAMHS
rcpts = [(2, 3, b"rcpt1"), (4, 1, b"rcpt2")]              # SCHOOL, SOCIAL_CARE

# A canonical tacnet.Header (wire.proto field order) and a Body repeating msg_id and sender.
header = (field(1, 0, 1) + field(2, 2, msg_id) + field(3, 0, sender_agency) +
          b"".join(field(4, 0, a) for a, _, _ in rcpts) + field(5, 0, 2) +
          field(6, 2, b"LA7-2026-000123") + field(7, 2, b"JD") + field(8, 0, 5) +
          field(9, 0, 1790000000000) + field(10, 0, sender_key_id) + field(11, 0, 1) +
          field(12, 0, 1) + field(13, 0, 1))
body = field(1, 2, msg_id) + field(2, 0, sender_agency)

sender_seal_seed, sender_sign_seed = seed(b"sender seal"), seed(b"sender sign")
k, nonce, wrap_nonce = seed(b"content key"), seed(b"nonce")[:24], seed(b"wrap nonce")[:24]

_, sender_seal_sk = box_seed_keypair(sender_seal_seed)
_, sender_sign_sk = sign_seed_keypair(sender_sign_seed)

table = b""
for agency, key_id, label in rcpts:
    r_pk, _ = box_seed_keypair(seed(label + b" seal"))
    shared = buf(32)
    assert na.crypto_box_beforenm(shared, r_pk, sender_seal_sk) == 0
    w = buf(48)
    assert na.crypto_box_easy_afternm(w, k, ctypes.c_ulonglong(32), wrap_nonce, shared) == 0
    table += bytes([agency]) + struct.pack(">I", key_id) + w.raw

ad = b"TACNET/1" + header
c = buf(len(body) + 16)
clen = ctypes.c_ulonglong(0)
assert na.crypto_aead_xchacha20poly1305_ietf_encrypt(
    c, ctypes.byref(clen), body, ctypes.c_ulonglong(len(body)), ad, ctypes.c_ulonglong(len(ad)),
    None, nonce, k) == 0
sealed = nonce + wrap_nonce + bytes([len(rcpts)]) + table + c.raw[:clen.value]

msg = b"TACNET-SIG/1" + header + hashlib.blake2b(sealed, digest_size=32).digest()
sig = buf(64)
assert na.crypto_sign_detached(sig, None, msg, ctypes.c_ulonglong(len(msg)), sender_sign_sk) == 0

print("# Known-answer vector for common/seal.c, generated once by tests/vectors/gen_seal_kat.py.")
print("# Seeds feed crypto_box_seed_keypair (seal, curve) and crypto_sign_seed_keypair (sign).")
rows = [
    ("sender_agency", struct.pack(">I", sender_agency)),
    ("sender_key_id", struct.pack(">I", sender_key_id)),
    ("sender_seal_seed", sender_seal_seed),
    ("sender_sign_seed", sender_sign_seed),
]
for i, (agency, key_id, label) in enumerate(rcpts, 1):
    rows += [(f"rcpt{i}_agency", struct.pack(">I", agency)),
             (f"rcpt{i}_key_id", struct.pack(">I", key_id)),
             (f"rcpt{i}_seal_seed", seed(label + b" seal")),
             (f"rcpt{i}_sign_seed", seed(label + b" sign"))]
rows += [("content_key", k), ("nonce", nonce), ("wrap_nonce", wrap_nonce), ("header", header),
         ("body", body), ("sealed", sealed), ("sig", sig.raw)]
for name, value in rows:
    print(name, value.hex())
