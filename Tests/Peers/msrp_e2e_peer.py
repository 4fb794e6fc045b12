#!/usr/bin/env python3
"""msrp_e2e_peer.py - the two MSRP (RFC 4975) ends of the ims-agw end-to-end test (stdlib only).
Adapted from /work/shared/peers/msrp_tls_peer.py.

  client: the UE (or, with --plain, a core end that connects). Connects with TLS (its own certificate --cert/--key, the one whose fingerprint the
          UE put in its SDP; the gateway's certificate is not CA-verified, RFC 4572 style), sends one
          SEND, requires its 200 OK, then waits for the far end's SEND and answers 200 OK.
  server: the core end. Listens on plain TCP (or TLS with --tls), answers the first SEND with 200 OK,
          then sends its own SEND back and requires its 200 OK.
Each prints 'SEND out ok' / 'SEND in ok' and exits 0 when both directions worked, 1 otherwise,
2 when the connection or the TLS handshake was refused ('refused: ...').
  --print: also prints every MSRP frame sent ('>> ') and received ('<< ') (the lab demo).
  The TLS client prints the SHA-256 fingerprint of the certificate the server presented.
  --hold N: after the exchange keeps the connection up to N seconds and prints 'closed by peer'
            when the far end (the gateway) closes or resets it, 'held' otherwise.
"""
import argparse
import hashlib
import re
import secrets
import socket
import ssl
import sys

from msrp_frames import read_frame  # noqa: E402  (Tests/Peers, beside this script)

SHOW = False


def show(prefix, frame):
    if SHOW:
        text = frame.decode(errors="replace").rstrip("\r\n")
        print("\n".join(prefix + line for line in text.split("\r\n")), flush=True)


def hold(sock, seconds):
    """Waits for the far end to close the connection (a killed gateway: FIN or RST)."""
    sock.settimeout(seconds)
    try:
        while sock.recv(65536):
            pass
        print("closed by peer", flush=True)
    except socket.timeout:
        print("held", flush=True)
    except (ssl.SSLError, OSError):
        print("closed by peer", flush=True)



def send_request(sock, buf, to_path, from_path, text):
    tid = secrets.token_hex(6)
    body = text.encode()
    req = (f"MSRP {tid} SEND\r\nTo-Path: {to_path}\r\nFrom-Path: {from_path}\r\n"
           f"Message-ID: {secrets.token_hex(4)}\r\nByte-Range: 1-{len(body)}/{len(body)}\r\n"
           f"Content-Type: text/plain\r\n\r\n").encode() + body + f"\r\n-------{tid}$\r\n".encode()
    sock.sendall(req)
    show(">> ", req)
    frame, buf = read_frame(sock, buf)
    show("<< ", frame)
    line = frame.split(b"\r\n", 1)[0].split(b" ")
    if line[1].decode() != tid or line[2] != b"200":
        raise ValueError(f"unexpected response {frame[:80]!r}")
    print("SEND out ok", flush=True)
    return buf


def answer_request(sock, buf, expect):
    frame, buf = read_frame(sock, buf)
    show("<< ", frame)
    line = frame.split(b"\r\n", 1)[0].split(b" ")
    if line[2] != b"SEND" or expect.encode() not in frame:
        raise ValueError(f"unexpected request {frame[:80]!r}")
    tid = line[1].decode()
    to_path = re.search(rb"To-Path: (\S+)", frame).group(1).decode()
    from_path = re.search(rb"From-Path: (\S+)", frame).group(1).decode()
    ok = f"MSRP {tid} 200 OK\r\nTo-Path: {from_path}\r\nFrom-Path: {to_path}\r\n-------{tid}$\r\n".encode()
    sock.sendall(ok)
    show(">> ", ok)
    print("SEND in ok", flush=True)
    return buf, from_path, to_path


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=["client", "server"])
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--cert")
    ap.add_argument("--key")
    ap.add_argument("--tls", action="store_true", help="server: TLS instead of plain TCP")
    ap.add_argument("--plain", action="store_true", help="client: plain TCP instead of TLS")
    ap.add_argument("--timeout", type=float, default=15)
    ap.add_argument("--keylog")
    ap.add_argument("--print", action="store_true", help="print every MSRP frame sent and received")
    ap.add_argument("--hold", type=float, default=0, help="after the exchange, wait up to N s for the far end to close")
    a = ap.parse_args()
    global SHOW
    SHOW = a.print
    try:
        if a.mode == "client":
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
            ctx.minimum_version = ssl.TLSVersion.TLSv1_2
            if a.cert:
                ctx.load_cert_chain(a.cert, a.key)
            if a.keylog:
                ctx.keylog_filename = a.keylog
            raw = socket.create_connection((a.host, a.port), timeout=a.timeout)
            try:
                sock = raw if a.plain else ctx.wrap_socket(raw)
            except (ssl.SSLError, OSError) as e:
                print(f"refused: {e}", flush=True)
                return 2
            if not a.plain:
                der = sock.getpeercert(binary_form=True) or b""
                fp = ":".join(f"{b:02X}" for b in hashlib.sha256(der).digest())
                print(f"server certificate sha-256 {fp}", flush=True)
            me = f"msrps://{a.host}:{sock.getsockname()[1]}/ue1;tcp"
            far = f"msrp://{a.host}:{a.port}/far1;tcp"
            try:
                buf = send_request(sock, b"", far, me, "hello from the UE over TLS")
                buf, _, _ = answer_request(sock, buf, "hello from the core")
                if a.hold > 0:
                    hold(sock, a.hold)
            except (ssl.SSLError, ConnectionError, OSError) as e:
                print(f"refused: {e}", flush=True)
                return 2
        else:
            srv = socket.socket()
            srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            srv.bind((a.host, a.port))
            srv.listen(4)
            srv.settimeout(a.timeout)
            conn, _ = srv.accept()
            conn.settimeout(a.timeout)
            if a.tls:
                ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
                ctx.load_cert_chain(a.cert, a.key)
                conn = ctx.wrap_socket(conn, server_side=True)
            print("connected", flush=True)
            buf, peer, me = answer_request(conn, b"", "hello from the UE")
            send_request(conn, buf, peer, me, "hello from the core over TCP")
            if a.hold > 0:
                hold(conn, a.hold)
        return 0
    except Exception as e:  # noqa: BLE001 - a test peer reports and fails
        print(f"failed: {e}", flush=True)
        return 1


if __name__ == "__main__":
    sys.exit(main())
