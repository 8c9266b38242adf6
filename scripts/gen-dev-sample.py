#!/usr/bin/env python3
"""Generates config/samples/development.jsonl: the development profile's event sample.

A deterministic (no randomness, fixed clock) run of ~200 Jetstream v1 events for the labeler
did:plc:randomlabelerdevelopment, exercising every rule of the pipeline: follows of the labeler
and of others, unfollows, a duplicate follow record, a deactivation + reactivation, a takedown,
a transient relay status, posts/likes/reposts to be ignored, identity events, Jetstream v2's
top-level `cursor`, and one malformed line. It also writes development.expected.json: which
accounts hold a label at the end and how many labels are issued and negated, for the tests.

Usage: scripts/gen-dev-sample.py [OUT_DIR]   (default config/samples)
"""
import hashlib
import json
import os
import sys

LABELER = "did:plc:randomlabelerdevelopment"
B32 = "abcdefghijklmnopqrstuvwxyz234567"
S32 = "234567abcdefghijklmnopqrstuvwxyz"  # base32-sortable (TIDs)
T0 = 1764403200000000  # 2025-11-29T08:00:00Z in microseconds
STEP = 250000          # 0.25 s between events


def did(name):
    h = hashlib.sha256(("random-labeler development " + name).encode()).digest()
    bits = int.from_bytes(h, "big")
    return "did:plc:" + "".join(B32[(bits >> (5 * i)) & 31] for i in range(24))


def tid(us, clock=7):
    v = (us << 10) | clock
    return "".join(S32[(v >> (5 * (12 - i))) & 31] for i in range(13))


def cid(seed):
    h = hashlib.sha256(seed.encode()).digest()
    bits = int.from_bytes(h, "big")
    return "bafyrei" + "".join(B32[(bits >> (5 * i)) & 31] for i in range(52))


class Sample:
    def __init__(self):
        self.lines = []
        self.t = T0
        self.v2seq = 0

    def tick(self):
        self.t += STEP
        return self.t

    def emit(self, ev, v2=False):
        if v2:  # Jetstream v2 adds a top-level cursor
            self.v2seq += 1
            ev["cursor"] = 500000 + self.v2seq
        self.lines.append(json.dumps(ev, separators=(",", ":")))

    def commit(self, who, op, coll, rkey, record=None, v2=False):
        t = self.tick()
        c = {"rev": tid(t, 1), "operation": op, "collection": coll, "rkey": rkey}
        if record is not None:
            c["record"] = record
            c["cid"] = cid(f"{who}/{coll}/{rkey}/{t}")
        self.emit({"did": who, "time_us": t, "kind": "commit", "commit": c}, v2)
        return rkey

    def follow(self, who, subject, v2=False):
        rkey = tid(self.t + STEP)
        rec = {"$type": "app.bsky.graph.follow", "createdAt": iso(self.t + STEP), "subject": subject}
        return self.commit(who, "create", "app.bsky.graph.follow", rkey, rec, v2)

    def unfollow(self, who, rkey):
        return self.commit(who, "delete", "app.bsky.graph.follow", rkey)

    def post(self, who, text):
        rkey = tid(self.t + STEP)
        rec = {"$type": "app.bsky.feed.post", "createdAt": iso(self.t + STEP), "langs": ["en"],
               "text": text}
        return self.commit(who, "create", "app.bsky.feed.post", rkey, rec)

    def like(self, who, uri):
        rkey = tid(self.t + STEP)
        rec = {"$type": "app.bsky.feed.like", "createdAt": iso(self.t + STEP),
               "subject": {"cid": cid(uri), "uri": uri}}
        return self.commit(who, "create", "app.bsky.feed.like", rkey, rec)

    def repost(self, who, uri):
        rkey = tid(self.t + STEP)
        rec = {"$type": "app.bsky.feed.repost", "createdAt": iso(self.t + STEP),
               "subject": {"cid": cid(uri), "uri": uri}}
        return self.commit(who, "create", "app.bsky.feed.repost", rkey, rec)

    def account(self, who, active, status=None):
        t = self.tick()
        a = {"active": active, "did": who, "seq": 9000 + len(self.lines), "time": iso(t)}
        if status:
            a["status"] = status
        self.emit({"did": who, "time_us": t, "kind": "account", "account": a})

    def identity(self, who, handle):
        t = self.tick()
        self.emit({"did": who, "time_us": t, "kind": "identity",
                   "identity": {"did": who, "handle": handle, "seq": 9000 + len(self.lines),
                                "time": iso(t)}})

    def raw(self, text):
        self.tick()
        self.lines.append(text)


def iso(us):
    import datetime
    d = datetime.datetime.fromtimestamp(us // 1000000, datetime.timezone.utc)
    return d.strftime("%Y-%m-%dT%H:%M:%S") + ".%03dZ" % ((us // 1000) % 1000)


def main():
    out_dir = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "..", "config", "samples")
    names = ["alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi", "ivan", "judy",
             "mallory", "niaj"]
    users = {n: did(n) for n in names}
    others = [did(f"bystander{i}") for i in range(8)]
    s = Sample()
    posts = []

    # Accounts appear; a little chatter before anyone follows the labeler.
    for n in names[:6]:
        s.identity(users[n], f"{n}.dev.test")
    for i, o in enumerate(others):
        p = s.post(o, f"hello from bystander {i}")
        posts.append(f"at://{o}/app.bsky.feed.post/{p}")
    for i, o in enumerate(others):
        s.like(users[names[i % 12]], posts[(i + 3) % len(posts)])
        s.follow(o, others[(i + 1) % len(others)])

    # Everyone follows the labeler (v2-style events carry a top-level cursor).
    rk = {}
    for i, n in enumerate(names):
        rk[n] = s.follow(users[n], LABELER, v2=(i % 3 == 0))
        s.post(others[i % len(others)], f"post number {i}")
        s.like(others[(i + 2) % len(others)], posts[i % len(posts)])
        s.follow(users[n], others[i % len(others)])  # and someone else

    # Chatter.
    for i in range(30):
        who = users[names[i % 12]] if i % 2 else others[i % len(others)]
        if i % 3 == 0:
            p = s.post(who, f"chatter {i}")
            posts.append(f"at://{who}/app.bsky.feed.post/{p}")
        elif i % 3 == 1:
            s.like(who, posts[i % len(posts)])
        else:
            s.repost(who, posts[(i * 7) % len(posts)])

    # bob unfollows: his label is negated.
    s.unfollow(users["bob"], rk["bob"])
    # carol holds a duplicate follow record, then deletes the older one: she keeps her label.
    carol2 = s.follow(users["carol"], LABELER)
    s.post(users["carol"], "following twice, oops")
    s.unfollow(users["carol"], rk["carol"])
    # dave deactivates (negated), then comes back (labelled again).
    s.account(users["dave"], False, "deactivated")
    for i in range(10):
        s.like(others[i % len(others)], posts[(i * 3) % len(posts)])
    s.account(users["dave"], True)
    # erin is taken down: negated for good.
    s.account(users["erin"], False, "takendown")
    # frank unfollows and follows again: negated, then a new label.
    s.unfollow(users["frank"], rk["frank"])
    s.post(users["frank"], "changed my mind")
    rk["frank"] = s.follow(users["frank"], LABELER)
    # grace's relay reports a transient status: not user state, ignored.
    s.account(users["grace"], False, "desynchronized")
    # A deleted follow of someone else, and an account event of a stranger: nothing.
    s.unfollow(users["heidi"], tid(T0 + 123 * STEP))
    s.account(others[0], False, "deactivated")
    # One malformed line, counted and skipped.
    s.raw('{"did":"did:plc:broken","time_us":17644,"kind":"commit","commit":{')
    # heidi follows again with a second record: she already holds a label, no second one.
    s.follow(users["heidi"], LABELER)

    # Tail of ignored traffic up to ~200 events.
    i = 0
    while len(s.lines) < 200:
        who = others[i % len(others)]
        if i % 4 == 0:
            s.identity(who, f"bystander{i % len(others)}.dev.test")
        elif i % 4 == 1:
            p = s.post(who, f"tail {i}")
            posts.append(f"at://{who}/app.bsky.feed.post/{p}")
        elif i % 4 == 2:
            s.like(users[names[i % 12]], posts[i % len(posts)])
        else:
            s.repost(who, posts[(i * 5) % len(posts)])
        i += 1

    holders = sorted(users[n] for n in names if n not in ("bob", "erin"))
    expected = {
        "labeler": LABELER,
        "events": len(s.lines),
        "malformed_lines": 1,
        "holders": holders,
        "not_holders": sorted([users["bob"], users["erin"]]),
        "accounts": users,
        # 12 first follows + dave's reactivation + frank's re-follow; bob, dave, erin, frank
        "labels_issued": 14,
        "labels_negated": 4,
        "first_time_us": T0 + STEP,
        "last_time_us": s.t,
    }
    os.makedirs(out_dir, exist_ok=True)
    with open(os.path.join(out_dir, "development.jsonl"), "w") as f:
        f.write("\n".join(s.lines) + "\n")
    with open(os.path.join(out_dir, "development.expected.json"), "w") as f:
        json.dump(expected, f, indent=2, sort_keys=True)
        f.write("\n")


if __name__ == "__main__":
    main()
