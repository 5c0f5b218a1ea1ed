#!/usr/bin/env python3
"""An independent check of ghor's Merkle proofs, with nothing but hashlib.

Reads one proof as `ghor audit prove` or `ghor audit consistency` prints it (JSON on
standard input) and checks it as RFC 9162 says (2.1.3.2 inclusion, 2.1.4.2 consistency).
Prints "ok" and exits 0 when it holds; prints why not and exits 1 otherwise.
"""
import hashlib
import json
import sys


def leaf(data: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + data).digest()


def node(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def inclusion(proof: dict) -> bool:
    index, size = proof["leaf_index"], proof["tree_size"]
    head = proof["tree_head"]
    if index >= size or head["size"] != size:
        return False
    r = leaf(proof["leaf"].encode("utf-8"))
    fn, sn = index, size - 1
    for p in map(bytes.fromhex, proof["audit_path"]):
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node(p, r)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            r = node(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == bytes.fromhex(head["root"])


def consistency(proof: dict) -> bool:
    m, n = proof["first"]["size"], proof["second"]["size"]
    first, second = bytes.fromhex(proof["first"]["root"]), bytes.fromhex(proof["second"]["root"])
    path = [bytes.fromhex(h) for h in proof["proof"]]
    if m == n:
        return not path and first == second
    if m == 0 or m > n or not path:
        return False
    if m & (m - 1) == 0:
        path.insert(0, first)
    fn, sn = m - 1, n - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr, sr = node(c, fr), node(c, sr)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            sr = node(sr, c)
        fn >>= 1
        sn >>= 1
    return fr == first and sr == second and sn == 0


def main() -> int:
    proof = json.load(sys.stdin)
    kind, holds = ("inclusion", inclusion(proof)) if "audit_path" in proof else ("consistency", consistency(proof))
    print("ok" if holds else f"the {kind} proof does not hold")
    return 0 if holds else 1


if __name__ == "__main__":
    sys.exit(main())
