#!/usr/bin/python3
"""A local HTTP server for download tests: serves files from --root on 127.0.0.1 at an
OS-chosen port, which it prints (alone, on the first stdout line) once it listens.

Supports single `Range: bytes=N-` / `bytes=N-M` requests (206 / 416). Path prefixes
select misbehaviour, applied to the file named by the rest of the path:
  /cut/NAME    a response starting at byte 0 declares the full length but stops after
               half the file and closes the connection (a resumed request is served fully)
  /stall/NAME  sends the headers, then hangs for --stall seconds without a body byte
  /norange/NAME  ignores Range and always answers 200 with the whole file
Each request is appended to --log as "PATH RANGE" (RANGE is "-" when absent).
"""
import argparse
import http.server
import os
import re
import sys
import threading
import time


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--root", required=True)
    ap.add_argument("--log", default="")
    ap.add_argument("--stall", type=float, default=30.0)
    args = ap.parse_args()
    log_lock = threading.Lock()

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *a):  # keep the test output clean
            pass

        def do_GET(self):
            rng = self.headers.get("Range")
            if args.log:
                with log_lock, open(args.log, "a") as f:
                    f.write("%s %s\n" % (self.path, rng or "-"))
            mode, name = "", self.path.lstrip("/")
            for m in ("cut", "stall", "norange"):
                if name.startswith(m + "/"):
                    mode, name = m, name[len(m) + 1:]
            path = os.path.join(args.root, name)
            if "/" in name or name.startswith(".") or not os.path.isfile(path):
                self.send_error(404)
                return
            with open(path, "rb") as f:
                data = f.read()
            size = len(data)
            start, end = 0, size - 1
            status = 200
            if rng and mode != "norange":
                m = re.fullmatch(r"bytes=(\d+)-(\d*)", rng.strip())
                if not m:
                    self.send_error(400)
                    return
                start = int(m.group(1))
                end = int(m.group(2)) if m.group(2) else size - 1
                if start >= size:
                    self.send_response(416)
                    self.send_header("Content-Range", "bytes */%d" % size)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                end = min(end, size - 1)
                status = 206
            body = data[start:end + 1]
            self.send_response(status)
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("Accept-Ranges", "bytes")
            self.send_header("Content-Length", str(len(body)))
            if status == 206:
                self.send_header("Content-Range", "bytes %d-%d/%d" % (start, end, size))
            self.end_headers()
            if mode == "cut" and start == 0:
                self.wfile.write(body[: len(body) // 2])
                self.wfile.flush()
                self.close_connection = True
                return
            if mode == "stall":
                self.wfile.flush()
                time.sleep(args.stall)
                self.close_connection = True
                return
            self.wfile.write(body)

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    print(server.server_address[1], flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    sys.exit(0)


if __name__ == "__main__":
    main()
