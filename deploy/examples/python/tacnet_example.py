#!/usr/bin/python3
"""An agency system talking to its tacnet daemon from Python: the local API is language-neutral.

It speaks the same protocol as libtacnet-client: a ZeroMQ REQ socket on
ipc://<data_dir>/api.sock, one tacnet.ApiRequest per call, one tacnet.ApiReply back, both
protobuf messages generated from proto/*.proto. Only Debian packages are used: python3-zmq,
python3-protobuf and protobuf-compiler (protoc generates the Python classes at start-up into a
temporary directory, so nothing generated is committed).

    tacnet_example.py --data-dir DIR cases
    tacnet_example.py --data-dir DIR publish-concern --case LA7-2026-000123 --initials TB \\
        --summary "Late most Mondays."
    tacnet_example.py --data-dir DIR follow [--cursor-file FILE]

Each command prints one JSON object per line, in the shapes of the HTTP API and `tacnet --json`:
enums by name, times in ISO 8601 UTC ("last_activity": "2026-11-02T09:30:00Z"), levels of need
keyed by agency name ({"school": 4}). A refusal prints {"code": ..., "error": "E_...",
"reason": ..., "findings": [...]} and exits 3, the same code the tacnet command uses; as the
command does, it also says "refused: E_TEXT (free text contains identifying details): ..." on
standard error. Scripts should match the error name, which is stable: the names and texts are
read at start-up from common/err.h (its TACNET_ERR_MAP), the table every part of tacnet uses.
"""
import argparse
import datetime
import importlib
import json
import os
import re
import subprocess
import sys
import tempfile

import zmq

HERE = os.path.dirname(os.path.abspath(__file__))
PROTO_DIR = os.path.normpath(os.path.join(HERE, "..", "..", "..", "proto"))
ERR_HEADER = os.path.normpath(os.path.join(HERE, "..", "..", "..", "common", "err.h"))
AGENCIES_CONF = os.path.normpath(os.path.join(HERE, "..", "..", "agencies.conf"))


def load_agencies(path):
    """The partnership's agencies beyond the enum's named four, {id: name}, from agencies.conf
    ([name] sections with id = N). The daemons send them under their roster id (6 to 14)."""
    names, section = {}, None
    if not os.path.exists(path):
        return names
    with open(path) as fh:
        for line in fh:
            line = line.strip()
            m = re.match(r"\[([a-z0-9_]+)\]$", line)
            if m:
                section = m.group(1)
            m = re.match(r"id\s*=\s*(\d+)$", line)
            if m and section:
                names[int(m.group(1))] = section
    return names


def load_messages(proto_dir, extra_ids=()):
    """Generate the Python classes for the tacnet protos and import api_pb2.

    proto2 enums are closed: Python keeps a value the enum does not name out of the field (it
    reads 0), so an event from an agency the roster adds (family_support, id 6) would lose its
    sender. The copy generated here names those ids (AGENCY_6 ...) in the Agency enum; the
    roster's names for them come from agencies.conf (load_agencies)."""
    out = tempfile.mkdtemp(prefix="tacnet-py-")
    src = os.path.join(out, "proto")
    os.mkdir(src)
    protos = sorted(p for p in os.listdir(proto_dir) if p.endswith(".proto"))
    for name in protos:
        with open(os.path.join(proto_dir, name)) as fh:
            text = fh.read()
        if name == "wire.proto" and extra_ids:
            extra = "".join("  AGENCY_%d = %d;\n" % (i, i) for i in sorted(extra_ids))
            text = re.sub(r"(\n)(\s*BROKER = 15;)", lambda m: m.group(1) + extra + m.group(2),
                          text, count=1)
        with open(os.path.join(src, name), "w") as fh:
            fh.write(text)
    subprocess.run(["protoc", "-I", src, "--python_out", out] + protos, cwd=src, check=True)
    sys.path.insert(0, out)
    return importlib.import_module("api_pb2"), importlib.import_module("wire_pb2")


def load_errors(err_header):
    """The error table, {code: (name, text)}, from err.h's TACNET_ERR_MAP(X) entries."""
    with open(err_header) as fh:
        src = fh.read()
    return {int(code): ("E_" + name, text)
            for name, code, text in re.findall(r'X\((\w+),\s*(-\d+),\s*"([^"]*)"\)', src)}


class Daemon:
    """One REQ socket to the daemon's local API; call() sends a request and waits for its reply."""

    def __init__(self, api, data_dir, timeout_ms=5000):
        self.api = api
        self.sock = zmq.Context.instance().socket(zmq.REQ)
        self.sock.setsockopt(zmq.LINGER, 0)
        self.sock.setsockopt(zmq.RCVTIMEO, timeout_ms)
        self.sock.connect("ipc://" + os.path.join(data_dir, "api.sock"))
        self.next_id = 1

    def call(self, **op):
        req = self.api.ApiRequest(id=self.next_id, **op)
        self.next_id += 1
        self.sock.send(req.SerializeToString())
        reply = self.api.ApiReply()
        reply.ParseFromString(self.sock.recv())
        # A REQ socket gets only the answer to what it sent. Id 0 with a code is the daemon's
        # refusal of a request it could not read at all (too large), which names no id.
        if reply.id != req.id and not (reply.id == 0 and reply.code != 0):
            raise RuntimeError("reply to another request")
        return reply


def iso_time(ms):
    """Epoch milliseconds as the HTTP API and `tacnet --json` give times: ISO 8601 UTC."""
    t = datetime.datetime.fromtimestamp(ms / 1000.0, tz=datetime.timezone.utc)
    text = t.strftime("%Y-%m-%dT%H:%M:%S")
    return text + (".%03dZ" % (ms % 1000) if ms % 1000 else "Z")


AGENCY_NAMES = {}


def agency(wire, value):
    """An agency's name as the JSON gives it: the enum's, or the roster's for ids it adds."""
    return AGENCY_NAMES.get(value) or wire.Agency.Name(value).lower()


def by_agency(wire, levels):
    """level_of_need (indexed by agency value) as the JSON gives it: keyed by agency name."""
    return {agency(wire, a): v for a, v in enumerate(levels) if a and v}


def refusal(reply, errors):
    """A refusal as JSON, with the code's stable name ("E_TEXT"), told on stderr as the tacnet
    command tells it."""
    name, text = errors.get(reply.code, ("E_UNKNOWN", "unknown error"))
    findings = [{"field": f.field, "kind": f.kind, "start": f.start, "end": f.end}
                for f in reply.findings]
    print("refused: %s (%s)%s" % (name, text, ": " + reply.reason if reply.reason else ""),
          file=sys.stderr)
    return {"code": reply.code, "error": name, "reason": reply.reason, "findings": findings}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data-dir", required=True, help="the agency daemon's data directory")
    ap.add_argument("--proto-dir", default=PROTO_DIR)
    ap.add_argument("--err-header", default=ERR_HEADER, help="tacnet's common/err.h")
    ap.add_argument("--agencies", default=AGENCIES_CONF,
                    help="the partnership's agencies.conf (names of agencies beyond the four)")
    sub = ap.add_subparsers(dest="cmd", required=True)
    sub.add_parser("cases")
    p = sub.add_parser("publish-concern")
    p.add_argument("--case", required=True)
    p.add_argument("--initials", required=True)
    p.add_argument("--summary", required=True)
    f = sub.add_parser("follow")
    f.add_argument("--cursor-file", help="keeps the last local_seq read, so a restart misses nothing")
    args = ap.parse_args()

    AGENCY_NAMES.update({i: n for i, n in load_agencies(args.agencies).items() if 6 <= i <= 14})
    api, wire = load_messages(args.proto_dir, AGENCY_NAMES.keys())
    errors = load_errors(args.err_header)
    d = Daemon(api, args.data_dir)

    if args.cmd == "cases":
        r = d.call(list_cases=api.ListCasesRequest())
        if r.code:
            print(json.dumps(refusal(r, errors)))
            return 3
        for c in r.cases.cases:
            print(json.dumps({"case_ref": c.case_ref.decode(), "initials": c.initials.decode(),
                              "lead": agency(wire, c.lead) if c.HasField("lead") else None,
                              "members": [agency(wire, m) for m in c.members],
                              "open_escalations": c.open_escalations,
                              "overdue_items": c.overdue_items,
                              "level_of_need": by_agency(wire, c.level_of_need),
                              "last_activity": iso_time(c.last_activity_ms)
                              if c.HasField("last_activity_ms") else None}))
        return 0

    if args.cmd == "publish-concern":
        req = api.PublishRequest(kind=wire.CONCERN, case_ref=args.case.encode(),
                                 initials=args.initials.encode())
        req.body.concern.category = 1  # ATTENDANCE (events.proto ConcernCategory)
        req.body.concern.summary = args.summary
        r = d.call(publish=req)
        if r.code:
            print(json.dumps(refusal(r, errors)))
            return 3
        print(json.dumps({"msg_id": r.published.msg_id.hex(), "local_seq": r.published.local_seq}))
        return 0

    # follow: read everything applied after the cursor, then remember where we stopped.
    after = 0
    if args.cursor_file and os.path.exists(args.cursor_file):
        with open(args.cursor_file) as fh:
            after = int(fh.read().strip() or 0)
    while True:
        r = d.call(follow=api.FollowRequest(after_local_seq=after, max=500))
        if r.code:
            print(json.dumps(refusal(r, errors)))
            return 3
        for e in r.follow.entries:
            h = e.header
            print(json.dumps({"local_seq": e.local_seq, "kind": wire.EventKind.Name(h.kind).lower(),
                              "sender": agency(wire, h.sender),
                              "case_ref": h.case_ref.decode(), "msg_id": h.msg_id.hex(),
                              "created_at": iso_time(h.created_at_ms)}))
        if r.follow.next_local_seq == after:
            break
        after = r.follow.next_local_seq
    if args.cursor_file:
        tmp = args.cursor_file + ".tmp"
        with open(tmp, "w") as fh:
            fh.write(str(after))
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, args.cursor_file)
    return 0


if __name__ == "__main__":
    sys.exit(main())
