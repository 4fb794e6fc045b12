#!/usr/bin/env python3
"""mgc_check.py - a tiny H.248 text MGC used to exercise megaco_mg.escript
(or any MG / IMS-AGW stand-in) on loopback. Project copy (origin:
/work/shared/peers/mgc_check.py), extended for the MG's Notify, error-injection,
ImmAckRequired and restart features.

It listens on 127.0.0.1:<port> (UDP, or TCP with TPKT framing as H.248.1
Annex D.1 / megaco_tcp use), waits for the MG's ServiceChange, answers it,
then runs one Iq-style session:

  1. Add two ephemeral terminations (access side + core side) in Context $,
     each with an audio stream and an MSRP (TCP/TLS/MSRP) stream, and for the
     access side a BFCP (TCP/TLS/BFCP) stream, all with "$" placeholders;
  2. Modify the access termination with a Remote descriptor;
  3. AuditValue on ROOT;
  4. Subtract = * on the context;
  5. an unknown ContextID Subtract, expecting an error descriptor;
  6. an Add whose Local SDP carries "a=x-mg-fail:430", expecting Error 430;
  7. AuditValue in Context * on *, expecting Error 431: no context left behind;
  8. with --expect-notify: the MG's Notify (hangterm/thb, requested by the
     first Add's Events descriptor) arrives and is answered;
  9. with --expect-restart: an Add, then the MG's new ServiceChange Restart is
     answered, and a Context * audit shows the MG dropped its contexts.
Incoming Notify / ServiceChange requests are answered whenever they arrive;
replies with ImmAckRequired get a TransactionResponseAck at once.

It prints every message sent/received and ends with 'N passed, N failed'.
Standard library only. Everything stays on 127.0.0.1.
"""
import argparse
import re
import socket
import struct
import sys
import time

MID = "[127.0.0.1]:2944"


def pretty(version, body):
    return f"MEGACO/{version} {MID}\n{body}\n"


class Transport:
    def __init__(self, kind, port, timeout):
        self.kind = kind
        self.timeout = timeout
        if kind == "udp":
            self.s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            self.s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            self.s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
            self.s.bind(("127.0.0.1", port))
            self.s.settimeout(timeout)
            self.peer = None
        else:
            ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            ls.bind(("127.0.0.1", port))
            ls.listen(1)
            ls.settimeout(timeout)
            self.s, self.peer = ls.accept()
            self.s.settimeout(timeout)
            ls.close()
            self.buf = b""

    def recv(self):
        if self.kind == "udp":
            data, self.peer = self.s.recvfrom(65535)
            return data.decode()
        while True:
            if len(self.buf) >= 4:
                ver, _res, length = struct.unpack("!BBH", self.buf[:4])
                assert ver == 3, f"bad TPKT version {ver}"
                if len(self.buf) >= length:
                    msg, self.buf = self.buf[4:length], self.buf[length:]
                    return msg.decode()
            chunk = self.s.recv(65535)
            if not chunk:
                raise ConnectionError("MG closed the TCP connection")
            self.buf += chunk

    def send(self, text):
        m = re.search(r"\b(?:Transaction|T)\s*=\s*(\d+)", text)
        if m and not text.lstrip().split("\n", 1)[-1].lstrip().startswith(("Reply", "P=")):
            LAST_SENT[int(m.group(1))] = text
        data = text.encode()
        if self.kind == "udp":
            self.s.sendto(data, self.peer)
        else:
            self.s.sendall(struct.pack("!BBH", 3, 0, len(data) + 4) + data)


def show(direction, text):
    print(f"----- {direction} -----")
    print(text.rstrip())
    sys.stdout.flush()


SEEN_SC = set()     # ServiceChange transaction ids already answered
LAST_SENT = {}     # transaction id -> request text (for --retransmit)
RETRANSMIT = [0.0]  # seconds; 0 = off (UDP only makes sense)
UNSOLICITED = {"notify": [], "service_change": [], "acks_sent": []}
REQ_RX = re.compile(r"\b(?:Transaction|T)\s*=\s*(\d+)\s*\{\s*(?:Context|C)\s*=\s*"
                    r"([\w$*-]+)\s*\{\s*(\w+)\s*=\s*([\w/$*]+)")
IA_RX = re.compile(r"\b(?:Reply|P)\s*=\s*(\d+)\s*\{\s*(?:ImmAckRequired|IA)\b")
VERSION = [3]


def handle_incoming(t, msg):
    """Answer requests from the MG (Notify, ServiceChange) and ack replies
    that carry ImmAckRequired. Returns nothing; records what it saw."""
    for m in REQ_RX.finditer(msg):
        tid, ctx, cmd, term = m.group(1), m.group(2), m.group(3), m.group(4)
        if cmd in ("ServiceChange", "SC") and tid in SEEN_SC:
            # a retransmission of a ServiceChange already answered: answer again
            rep = pretty(VERSION[0], f"Reply = {tid} {{ Context = - {{ ServiceChange = {term} }} }}")
        elif cmd in ("Notify", "N"):
            UNSOLICITED["notify"].append((ctx, term, msg))
            rep = pretty(VERSION[0], f"Reply = {tid} {{ Context = {ctx} {{ Notify = {term} }} }}")
        elif cmd in ("ServiceChange", "SC"):
            UNSOLICITED["service_change"].append(msg)
            SEEN_SC.add(tid)
            rep = pretty(VERSION[0], f"Reply = {tid} {{ Context = - {{ ServiceChange = {term} }} }}")
        else:
            rep = pretty(VERSION[0], f"Reply = {tid} {{ Context = {ctx} {{ Error = 501 "
                                     f"{{ \"Not Implemented\" }} }} }}")
        show("send", rep)
        t.send(rep)
    for m in IA_RX.finditer(msg):
        ack = pretty(VERSION[0], f"TransactionResponseAck {{ {m.group(1)} }}")
        UNSOLICITED["acks_sent"].append(int(m.group(1)))
        show("send", ack)
        t.send(ack)


def recv_reply(t, tid, deadline):
    """Receive until a Reply (or compact P=) for transaction tid arrives."""
    pat = re.compile(r"\b(?:Reply|P)\s*=\s*%d\b" % tid)
    while time.time() < deadline:
        if RETRANSMIT[0] > 0:
            t.s.settimeout(RETRANSMIT[0])
            try:
                msg = t.recv()
            except (socket.timeout, TimeoutError):
                if tid in LAST_SENT:
                    print(f"----- retransmit {tid} -----")
                    t.send(LAST_SENT[tid])
                continue
            finally:
                t.s.settimeout(t.timeout)
        else:
            msg = t.recv()
        show("recv", msg)
        handle_incoming(t, msg)
        if pat.search(msg):
            return msg
    raise TimeoutError(f"no reply for transaction {tid}")


def wait_for(t, cond, deadline):
    """Receive (answering MG requests) until cond() holds or the deadline."""
    while not cond() and time.time() < deadline:
        t.s.settimeout(max(0.05, min(1.0, deadline - time.time())))
        try:
            msg = t.recv()
        except (socket.timeout, TimeoutError):
            continue
        show("recv", msg)
        handle_incoming(t, msg)
    t.s.settimeout(t.timeout)
    return cond()


def load(t, version, n, window, timeout):
    """Pipeline n Add($ in $) + Subtract(*) pairs, at most `window` open."""
    add_tpl = ("Transaction = {tid} {{ Context = $ {{ Add = $ {{ Media {{ "
               "Stream = 1 {{ Local {{\nv=0\nc=IN IP4 $\n"
               "m=audio $ RTP/AVP 0\n}} }} }} }} }} }}")
    sub_tpl = "Transaction = {tid} {{ Context = {ctx} {{ Subtract = * }} }}"
    t.s.settimeout(2.0)
    next_tid = 100000
    open_tx = {}          # tid -> kind
    sent_adds = done = errors = 0
    t0 = time.time()
    deadline = t0 + max(timeout, n / 50)
    rx = re.compile(r"\b(?:Reply|P)\s*=\s*(\d+)\s*\{\s*(?:Context|C)\s*=\s*(\d+)")
    while done < 2 * n:
        while len(open_tx) < window and sent_adds < n:
            tid = next_tid; next_tid += 1
            t.send(pretty(version, add_tpl.format(tid=tid)))
            open_tx[tid] = "add"; sent_adds += 1
        if time.time() > deadline:
            errors += len(open_tx); break
        try:
            msg = t.recv()
        except (socket.timeout, TimeoutError):
            # no retransmission here: a lost UDP datagram ends the run
            errors += len(open_tx); break
        for m in rx.finditer(msg):
            tid, ctx = int(m.group(1)), m.group(2)
            kind = open_tx.pop(tid, None)
            if kind is None:
                continue
            if "Error" in msg or "ER=" in msg:
                errors += 1
            done += 1
            if kind == "add":
                stid = next_tid; next_tid += 1
                t.send(pretty(version, sub_tpl.format(tid=stid, ctx=ctx)))
                open_tx[stid] = "sub"
    return done / (time.time() - t0), errors


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--transport", choices=["udp", "tcp"], default="udp")
    ap.add_argument("--port", type=int, default=2944)
    ap.add_argument("--version", type=int, default=3)
    ap.add_argument("--timeout", type=float, default=20.0)
    ap.add_argument("--load", type=int, default=0,
                    help="after the checks, run N Add+Subtract pairs "
                         "(window --window) and report transactions/s")
    ap.add_argument("--window", type=int, default=32)
    ap.add_argument("--expect-notify", action="store_true",
                    help="expect the MG's Notify for the first Add's Events")
    ap.add_argument("--retransmit", type=float, default=0.0,
                    help="resend a request after this many seconds without "
                         "its reply (UDP loss tests)")
    ap.add_argument("--expect-restart", action="store_true",
                    help="expect a new ServiceChange Restart from the MG")
    a = ap.parse_args()
    VERSION[0] = a.version
    RETRANSMIT[0] = a.retransmit

    results = []

    def check(name, cond):
        results.append((name, bool(cond)))
        print(f"{'PASS' if cond else 'FAIL'}: {name}")

    t = Transport(a.transport, a.port, a.timeout)
    deadline = time.time() + a.timeout

    # 1. ServiceChange from the MG
    msg = t.recv()
    show("recv", msg)
    m = re.search(r"\b(?:Transaction|T)\s*=\s*(\d+)", msg)
    check("MG sent ServiceChange on ROOT",
          m and re.search(r"\b(ServiceChange|SC)\s*=\s*ROOT", msg, re.I))
    check("ServiceChange method Restart",
          re.search(r"\b(Method|MT)\s*=\s*(Restart|RS)\b", msg))
    sc_tid = int(m.group(1))
    SEEN_SC.add(m.group(1))
    reply = pretty(a.version, f"Reply = {sc_tid} {{\n"
                   "\tContext = - {\n\t\tServiceChange = ROOT\n\t}\n}")
    show("send", reply)
    t.send(reply)

    # 2. Add access + core terminations with $ placeholders
    add = pretty(a.version, """Transaction = 10 {
\tContext = $ {
\t\tAdd = $ {
\t\t\tMedia {
\t\t\t\tStream = 1 {
\t\t\t\t\tLocalControl { Mode = SendReceive },
\t\t\t\t\tLocal {
v=0
c=IN IP4 $
m=audio $ RTP/AVP 0 101
\t\t\t\t\t}
\t\t\t\t},
\t\t\t\tStream = 2 {
\t\t\t\t\tLocalControl { Mode = SendReceive },
\t\t\t\t\tLocal {
v=0
c=IN IP4 $
m=message $ TCP/TLS/MSRP *
a=accept-types:message/cpim text/plain
a=setup:passive
\t\t\t\t\t}
\t\t\t\t},
\t\t\t\tStream = 3 {
\t\t\t\t\tLocal {
v=0
c=IN IP4 $
m=application $ TCP/TLS/BFCP *
a=floorctrl:s-only
a=setup:passive
\t\t\t\t\t}
\t\t\t\t}
\t\t\t},
\t\t\tEvents = 1 { hangterm/thb { timerx = 60 } }
\t\t},
\t\tAdd = $ {
\t\t\tMedia {
\t\t\t\tStream = 1 {
\t\t\t\t\tLocal {
v=0
c=IN IP4 $
m=audio $ RTP/AVP 0 101
\t\t\t\t\t}
\t\t\t\t},
\t\t\t\tStream = 2 {
\t\t\t\t\tLocal {
v=0
c=IN IP4 $
m=message $ TCP/MSRP *
\t\t\t\t\t}
\t\t\t\t}
\t\t\t}
\t\t}
\t}
}""")
    show("send", add)
    t.send(add)
    r = recv_reply(t, 10, deadline)
    cm = re.search(r"\b(?:Context|C)\s*=\s*(\d+)", r)
    terms = re.findall(r"\b(?:Add|A)\s*=\s*([\w/]+)", r)
    check("Add reply assigns a numeric ContextID", cm)
    check("Add reply names two terminations", len(terms) == 2)
    check("no $ left in Add reply", "$" not in r)
    check("audio port resolved", re.search(r"m=audio \d+ RTP/AVP 0 101", r))
    check("MSRP TLS m-line echoed with port",
          re.search(r"m=message \d+ TCP/TLS/MSRP \*", r))
    check("BFCP TLS m-line echoed with port",
          re.search(r"m=application \d+ TCP/TLS/BFCP \*", r))
    check("c= resolved to 127.0.0.1", "c=IN IP4 127.0.0.1" in r)
    ctx = cm.group(1) if cm else "1"
    access = terms[0] if terms else "ip/1"

    if a.expect_notify:
        got = wait_for(t, lambda: UNSOLICITED["notify"], time.time() + 5)
        check("MG sent Notify for the access termination (hangterm/thb)",
              got and UNSOLICITED["notify"][0][1] == access
              and "hangterm/thb" in UNSOLICITED["notify"][0][2])

    # 3. Modify the access termination with a Remote descriptor
    mod = pretty(a.version, f"""Transaction = 11 {{
\tContext = {ctx} {{
\t\tModify = {access} {{
\t\t\tMedia {{
\t\t\t\tStream = 1 {{
\t\t\t\t\tRemote {{
v=0
c=IN IP4 127.0.0.2
m=audio 50000 RTP/AVP 0 101
\t\t\t\t\t}}
\t\t\t\t}}
\t\t\t}}
\t\t}}
\t}}
}}""")
    show("send", mod)
    t.send(mod)
    r = recv_reply(t, 11, deadline)
    check("Modify reply for access termination",
          re.search(r"\b(?:Modify|MF)\s*=\s*" + re.escape(access), r))
    check("Modify reply keeps local audio port",
          re.search(r"m=audio \d+ RTP/AVP", r))

    # 4. AuditValue on ROOT
    aud = pretty(a.version, "Transaction = 12 {\n\tContext = - {\n"
                 "\t\tAuditValue = ROOT {\n\t\t\tAudit { }\n\t\t}\n\t}\n}")
    show("send", aud)
    t.send(aud)
    r = recv_reply(t, 12, deadline)
    check("AuditValue reply on ROOT",
          re.search(r"\b(?:AuditValue|AV)\s*=\s*ROOT", r, re.I))

    # 5. Subtract all terminations in the context
    sub = pretty(a.version, f"Transaction = 13 {{\n\tContext = {ctx} {{\n"
                 "\t\tSubtract = *\n\t}\n}")
    show("send", sub)
    t.send(sub)
    r = recv_reply(t, 13, deadline)
    check("Subtract * returns two subtract replies",
          len(re.findall(r"\b(?:Subtract|S)\s*=", r)) == 2)

    # 6. Subtract in an unknown context -> error descriptor
    bad = pretty(a.version, "Transaction = 14 {\n\tContext = 999 {\n"
                 "\t\tSubtract = ip/999\n\t}\n}")
    show("send", bad)
    t.send(bad)
    r = recv_reply(t, 14, deadline)
    check("unknown termination yields Error=430",
          re.search(r"\b(?:Error|ER)\s*=\s*430", r))

    # 7. error injection: the MG answers this Add with Error 430
    fail = pretty(a.version, """Transaction = 15 {
\tContext = $ {
\t\tAdd = $ {
\t\t\tMedia {
\t\t\t\tStream = 1 {
\t\t\t\t\tLocal {
v=0
c=IN IP4 $
m=message $ TCP/MSRP *
a=x-mg-fail:430
\t\t\t\t\t}
\t\t\t\t}
\t\t\t}
\t\t}
\t}
}""")
    show("send", fail)
    t.send(fail)
    r = recv_reply(t, 15, deadline)
    check("Add with a=x-mg-fail:430 yields Error=430",
          re.search(r"\b(?:Error|ER)\s*=\s*430", r))

    # 8. no context left behind: AuditValue in Context * -> Error 431
    audit_all = pretty(a.version, "Transaction = 16 { Context = * { "
                       "AuditValue = * { Audit { } } } }")
    show("send", audit_all)
    t.send(audit_all)
    r = recv_reply(t, 16, deadline)
    check("Context * audit: no context left (Error=431)",
          re.search(r"\b(?:Error|ER)\s*=\s*431", r))

    # 9. gateway restart while a session exists
    if a.expect_restart:
        add2 = pretty(a.version, "Transaction = 17 { Context = $ { Add = $ { Media { "
                      "Stream = 1 { Local {\nv=0\nc=IN IP4 $\nm=message $ TCP/MSRP *\n"
                      "} } } } } }")
        show("send", add2)
        t.send(add2)
        r = recv_reply(t, 17, deadline)
        check("Add before restart assigns a context",
              re.search(r"\b(?:Context|C)\s*=\s*\d+", r))
        got = wait_for(t, lambda: UNSOLICITED["service_change"],
                       time.time() + a.timeout)
        check("MG re-registered with ServiceChange Restart",
              got and re.search(r"\b(Method|MT)\s*=\s*(Restart|RS)\b",
                                UNSOLICITED["service_change"][0]))
        audit_all = pretty(a.version, "Transaction = 18 { Context = * { "
                           "AuditValue = * { Audit { } } } }")
        show("send", audit_all)
        t.send(audit_all)
        r = recv_reply(t, 18, time.time() + a.timeout)
        check("after restart the MG has no contexts (Error=431)",
              re.search(r"\b(?:Error|ER)\s*=\s*431", r))

    if UNSOLICITED["acks_sent"]:
        print(f"INFO: TransactionResponseAck sent for {UNSOLICITED['acks_sent']}")

    if a.load:
        rate, errors = load(t, a.version, a.load, a.window, a.timeout)
        print(f"LOAD: {2 * a.load} transactions in window {a.window}: "
              f"{rate:.0f} transactions/s, {errors} errors")
        check("load run without errors", errors == 0)

    passed = sum(1 for _, ok in results if ok)
    failed = len(results) - passed
    print(f"{passed} passed, {failed} failed")
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
