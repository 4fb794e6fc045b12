#!/usr/bin/env python3
"""udp_lossy_relay.py - a small UDP relay that loses and reorders datagrams,
for the Iq loss test (issue 6: 20 % loss, some reordering; H.248.1 Annex D.1
application-level framing must still complete every transaction exactly once).

    MG  <-->  relay --listen  <-->  relay back socket  <-->  MGC --target

Point the MG at the relay (megaco_mg.escript --mgc <listen>); the relay sends
what it gets from the MG to --target from its own ephemeral socket, and what
comes back on that socket to the MG's last source address. The MGC must answer
(and send its own requests) to the source address of the MG's datagrams, which
is the relay's back socket.

Each datagram, in each direction, is dropped with probability --drop, else
delayed by --delay-ms (uniform 0..N) with probability --reorder so that later
datagrams overtake it, else forwarded at once. --seed makes a run repeatable.
Stops after --duration seconds and prints one line of counters:
    RELAY up fwd=.. drop=.. reordered=.. | down fwd=.. drop=.. reordered=..
Standard library only; binds to 127.0.0.1 by default.
"""
import argparse
import heapq
import random
import select
import socket
import sys
import time


def addr(s):
    host, port = s.rsplit(":", 1)
    return host, int(port)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--listen", default="127.0.0.1:2944", help="address the MG sends to")
    ap.add_argument("--target", required=True, help="the MGC's address")
    ap.add_argument("--drop", type=float, default=0.2)
    ap.add_argument("--reorder", type=float, default=0.1)
    ap.add_argument("--delay-ms", type=int, default=60)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--duration", type=float, default=60.0)
    a = ap.parse_args()
    rng = random.Random(a.seed)

    front = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    front.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    front.bind(addr(a.listen))
    back = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    back.bind((addr(a.listen)[0], 0))
    target = addr(a.target)
    mg = None
    stats = {d: {"fwd": 0, "drop": 0, "reordered": 0} for d in ("up", "down")}
    held = []  # heap of (due, seq, sock, data, dest)
    seq = 0
    end = time.monotonic() + a.duration
    print(f"RELAY listen={a.listen} back={back.getsockname()[0]}:{back.getsockname()[1]} "
          f"target={a.target} drop={a.drop} reorder={a.reorder} seed={a.seed}", flush=True)

    def route(direction, sock, data, dest):
        nonlocal seq
        st = stats[direction]
        r = rng.random()
        if r < a.drop:
            st["drop"] += 1
        elif r < a.drop + a.reorder:
            st["reordered"] += 1
            seq += 1
            due = time.monotonic() + rng.uniform(0, a.delay_ms) / 1000.0
            heapq.heappush(held, (due, seq, sock, data, dest))
        else:
            st["fwd"] += 1
            sock.sendto(data, dest)

    while time.monotonic() < end:
        now = time.monotonic()
        while held and held[0][0] <= now:
            _, _, sock, data, dest = heapq.heappop(held)
            sock.sendto(data, dest)
        timeout = min(end - now, (held[0][0] - now) if held else 0.2)
        ready, _, _ = select.select([front, back], [], [], max(0.0, timeout))
        for s in ready:
            data, src = s.recvfrom(65535)
            if s is front:
                mg = src
                route("up", back, data, target)
            elif mg is not None:
                route("down", front, data, mg)
    u, d = stats["up"], stats["down"]
    print(f"RELAY up fwd={u['fwd']} drop={u['drop']} reordered={u['reordered']} | "
          f"down fwd={d['fwd']} drop={d['drop']} reordered={d['reordered']}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
