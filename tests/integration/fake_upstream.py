#!/usr/bin/env python3
"""A misbehaving HTTPS upstream for the mirror's fault tests, run as its own process.

  fake_upstream.py --mode MODE --cert CHAIN --key KEY --body-size N --release-file F --log L

Listens on 127.0.0.1, port 0, and prints "fake upstream listening on https://127.0.0.1:PORT".
Every request target it reads is appended to L (one per line). MODE decides the answers:
  truncate         paths outside /images/ (the mirror's index refresh): 404; /images/ paths:
                   status 200, Content-Length N, the first N/2 bytes of fake_upstream_body(N),
                   then, once F exists (the test says so), a close without TLS close_notify
  stall-headers    TLS handshake, reads a request, never answers (any path)
  stall-handshake  accepts the TCP connection and never speaks TLS
  status           paths outside /images/: 404; /images/ paths: the status given by --status, with
                   a short text body (and a Location to /elsewhere for a 3xx)
Each connection is served on its own thread; a stalled one lasts until the peer goes away.
"""
import argparse
import os
import socket
import ssl
import sys
import threading
import time

from lxcdn_testlib import fake_upstream_body


def read_head(conn):
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(4096)
        if not chunk:
            return None
        data += chunk
    return data.split(b"\r\n", 1)[0].decode("latin-1")


def hold_until_peer_closes(conn):
    try:
        while conn.recv(4096):
            pass
    except OSError:
        pass


def serve(conn, args, tls, log_lock):
    try:
        if args.mode == "stall-handshake":
            hold_until_peer_closes(conn)
            return
        conn = tls.wrap_socket(conn, server_side=True)
        while True:
            line = read_head(conn)
            if line is None:
                return
            target = line.split(" ")[1] if line.count(" ") >= 2 else line
            with log_lock, open(args.log, "a") as f:
                f.write(target + "\n")
            if args.mode == "stall-headers":
                hold_until_peer_closes(conn)
                return
            if not target.startswith("/images/"):
                conn.sendall(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")
                continue
            if args.mode == "status":
                body = b"the origin says %d\n" % args.status
                location = b"Location: /elsewhere\r\n" if 300 <= args.status < 400 else b""
                conn.sendall(b"HTTP/1.1 %d Whatever\r\n%bContent-Length: %d\r\n\r\n%b"
                             % (args.status, location, len(body), body))
                continue
            body = fake_upstream_body(args.body_size)
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n"
                         b"Content-Length: %d\r\n\r\n" % len(body) + body[:len(body) // 2])
            # A deliberately misbehaving peer: it waits for the test's word, then goes away
            # in the middle of the body.
            while not os.path.exists(args.release_file):
                time.sleep(0.01)
            conn.shutdown(socket.SHUT_RDWR)  # on an SSLSocket: no close_notify
            return
    except (OSError, ssl.SSLError):
        return
    finally:
        conn.close()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--mode", required=True, choices=("truncate", "stall-headers", "stall-handshake", "status"))
    p.add_argument("--status", type=int, default=403)
    p.add_argument("--cert", required=True)
    p.add_argument("--key", required=True)
    p.add_argument("--body-size", type=int, default=1 << 20)
    p.add_argument("--release-file", required=True)
    p.add_argument("--log", required=True)
    args = p.parse_args()

    tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    tls.minimum_version = ssl.TLSVersion.TLSv1_3
    tls.load_cert_chain(args.cert, args.key)
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    print(f"fake upstream listening on https://127.0.0.1:{listener.getsockname()[1]}", flush=True)
    log_lock = threading.Lock()
    while True:
        raw, _ = listener.accept()
        threading.Thread(target=serve, args=(raw, args, tls, log_lock), daemon=True).start()


if __name__ == "__main__":
    sys.exit(main())
