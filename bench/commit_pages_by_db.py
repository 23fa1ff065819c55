#!/usr/bin/env python3
"""Which database each page of a synced commit belongs to (the profile behind the README's
pages-per-commit figures).

Usage: commit_pages_by_db.py DATA.MDB STRACE

STRACE is `strace -f -e trace=pwrite64,writev,fdatasync,lseek -p PID -o STRACE` of a broker or
daemon; DATA.MDB is a copy of its data file taken while the process was stopped (kill -STOP) right
after, so the pages its last commits wrote are still the live copies. The LMDB file is read
directly (page header, branch and leaf nodes, the named databases in the main tree): no LMDB
library, so nothing is changed. Prints, for the last few complete commits, how many pages each
database had written.
"""
import re
import struct
import sys
from collections import Counter

PS = 4096
P_BRANCH, P_LEAF = 0x01, 0x02
F_BIGDATA, F_SUBDATA = 0x01, 0x02


def main(mdb_path, strace_path):
    data = open(mdb_path, 'rb').read()

    def page(n):
        return data[n * PS:(n + 1) * PS]

    def meta(n):
        p = page(n)
        roots, off = [], 16 + 24  # page header, then magic, version, address, mapsize
        for _ in range(2):  # FREE_DBI, MAIN_DBI: MDB_db is 48 bytes, md_root last
            roots.append(struct.unpack_from('<Q', p, off + 40)[0])
            off += 48
        last_pg, txnid = struct.unpack_from('<QQ', p, off)
        return txnid, roots

    owner = {}

    def walk(root, name):
        stack = [] if root == 0xffffffffffffffff else [root]
        while stack:
            pg = stack.pop()
            p = page(pg)
            flags, lower = struct.unpack_from('<HH', p, 10)
            owner[pg] = name
            for i in range((lower - 16) // 2):
                o = struct.unpack_from('<H', p, 16 + 2 * i)[0]
                lo, hi, fl, ks = struct.unpack_from('<HHHH', p, o)
                if flags & P_BRANCH:
                    stack.append(lo | hi << 16 | fl << 32)
                elif flags & P_LEAF:
                    if fl & F_BIGDATA:
                        owner[struct.unpack_from('<Q', p, o + 8 + ks)[0]] = name + ' (overflow)'
                    if fl & F_SUBDATA and name == 'main':
                        sub = struct.unpack_from('<Q', p, o + 8 + ks + 40)[0]
                        walk(sub, p[o + 8:o + 8 + ks].decode(errors='replace'))

    _, roots = max(meta(0), meta(1))
    walk(roots[0], 'free pages')
    walk(roots[1], 'main')

    commits, cur, seek = [], [], 0
    data_fd = None
    for line in open(strace_path):
        m = re.search(r'fdatasync\((\d+)', line)
        if m and 'resumed' not in line:
            data_fd = data_fd or m.group(1)
            commits.append(cur)
            cur = []
            continue
        m = re.search(r'pwrite64\((\d+), .*, (\d+), (\d+)\) = (\d+)', line)
        if m and m.group(1) == (data_fd or m.group(1)):
            cur += [int(m.group(3)) // PS + i for i in range(int(m.group(4)) // PS)]
        m = re.search(r'lseek\((\d+), (\d+), SEEK_SET\)', line)
        if m:
            seek = int(m.group(2))
        m = re.search(r'writev\((\d+), \[.*\], \d+\) = (\d+)', line)
        if m and m.group(1) == (data_fd or m.group(1)):
            cur += [seek // PS + i for i in range(int(m.group(2)) // PS)]
    for c in commits[-4:]:
        counts = Counter(owner.get(pg, 'rewritten since') for pg in c)
        print(f'{len(c):3d} pages: ' + ', '.join(f'{k} {v}' for k, v in counts.most_common()))


if __name__ == '__main__':
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2])
