#!/usr/bin/env python3
"""Generate tests/vectors/merkle_kat.txt ONCE: an independent implementation of the batched
signature in common/merkle.h (Python hashlib BLAKE2b, the tree and its paths written from the
recursive definitions of RFC 9162 section 2.1, Ed25519 through ctypes over the system
libsodium), so the C known-answer test checks merkle.c against a second reading of the spec.

Run: python3 tests/vectors/gen_merkle_kat.py > tests/vectors/merkle_kat.txt
The "headers" and "sealed bodies" are synthetic byte strings: the leaf hashes them as opaque
bytes, so no event needs to be made.
"""
import ctypes
import hashlib
import struct

na = ctypes.CDLL("libsodium.so.23")
assert na.sodium_init() >= 0


def h(*parts):
    m = hashlib.blake2b(digest_size=32)
    for p in parts:
        m.update(p)
    return m.digest()


def leaf(header, sealed):
    return h(b"TACNET-LEAF/1", header, h(sealed))


def node(left, right):
    return h(b"TACNET-NODE/1", left, right)


def split(n):
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def mth(d):
    if len(d) == 1:
        return d[0]
    k = split(len(d))
    return node(mth(d[:k]), mth(d[k:]))


def path(m, d):
    if len(d) == 1:
        return []
    k = split(len(d))
    if m < k:
        return path(m, d[:k]) + [mth(d[k:])]
    return path(m - k, d[k:]) + [mth(d[:k])]


seed = hashlib.blake2b(b"tacnet merkle kat sign", digest_size=32).digest()
pk, sk = ctypes.create_string_buffer(32), ctypes.create_string_buffer(64)
assert na.crypto_sign_seed_keypair(pk, sk, seed) == 0


def sign(msg):
    sig = ctypes.create_string_buffer(64)
    assert na.crypto_sign_detached(sig, None, msg, ctypes.c_ulonglong(len(msg)), sk) == 0
    return sig.raw


print("# Known-answer vectors for common/merkle.c, generated once by tests/vectors/gen_merkle_kat.py.")
print("# Event I of every batch: header 'kat header I', sealed body 'kat sealed body I' (ASCII).")
print("sign_seed", seed.hex())
print("sign_pk", pk.raw.hex())
for n in (1, 2, 3, 5):
    d = [leaf(b"kat header %d" % i, b"kat sealed body %d" % i) for i in range(n)]
    root = mth(d)
    sig = sign(b"TACNET-ROOT/1" + struct.pack(">I", n) + root)
    print("n%d_root" % n, root.hex())
    for i in range(n):
        frame = sig + root + struct.pack(">II", i, n) + b"".join(path(i, d))
        print("n%d_leaf%d" % (n, i), d[i].hex())
        print("n%d_frame%d" % (n, i), frame.hex())
