#!/usr/bin/env python3
"""aptproxy.py -- a tiny HTTP proxy for the lab hosts' apt, that reaches ONLY the Debian mirror
this machine's own apt uses (the URIs in /etc/apt/sources.list*), and nothing else.

  aptproxy.py LISTEN_ADDR PORT CACHE_DIR [PORT_FILE]

PORT 0 lets the kernel pick a free port; the port listened on is written to PORT_FILE (when given)
once the socket is bound, so a caller polls that file instead of guessing.

Lab hosts set `Acquire::http::Proxy "http://LISTEN_ADDR:PORT/";`. A request is served only when its
absolute URL starts with one of the allowed mirror URIs; anything else gets 403. Pool files (.deb,
immutable by name) are cached under CACHE_DIR so N hosts installing the same package fetch it from the
mirror once; index files (dists/...) pass through uncached. No CONNECT (no https tunnelling).
Standard library only.
"""
import glob
import hashlib
import os
import re
import shutil
import sys
import tempfile
import threading
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def mirror_uris():
    """The http:// URIs in this machine's apt sources (one-line and deb822 formats)."""
    uris = set()
    files = glob.glob('/etc/apt/sources.list') + glob.glob('/etc/apt/sources.list.d/*.list') + \
        glob.glob('/etc/apt/sources.list.d/*.sources')
    for f in files:
        try:
            text = open(f, encoding='utf-8', errors='replace').read()
        except OSError:
            continue
        for line in text.splitlines():
            line = line.split('#', 1)[0].strip()
            if f.endswith('.sources'):
                m = re.match(r'^URIs:\s*(.*)$', line, re.I)
                if m:
                    uris.update(m.group(1).split())
            else:
                m = re.match(r'^deb(-src)?\s+(\[[^\]]*\]\s+)?(\S+)', line)
                if m:
                    uris.add(m.group(3))
    return sorted(u.rstrip('/') + '/' for u in uris if u.startswith('http://'))


ALLOWED = mirror_uris()
CACHE = sys.argv[3] if len(sys.argv) > 3 else os.path.join(os.environ.get('TMPDIR', '/tmp'), 'provision-lab', 'cache', 'proxy')
LOCKS = {}
LOCKS_GUARD = threading.Lock()


def lock_for(key):
    with LOCKS_GUARD:
        return LOCKS.setdefault(key, threading.Lock())


class Handler(BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'

    def log_message(self, fmt, *args):
        sys.stderr.write('%s %s\n' % (self.client_address[0], fmt % args))

    def deny(self, code, why):
        body = (why + '\n').encode()
        self.send_response(code)
        self.send_header('Content-Type', 'text/plain')
        self.send_header('Content-Length', str(len(body)))
        self.end_headers()
        if self.command != 'HEAD':
            self.wfile.write(body)

    def do_CONNECT(self):
        self.deny(403, 'aptproxy: CONNECT is not allowed')

    def do_POST(self):
        self.deny(403, 'aptproxy: only GET/HEAD')

    def do_HEAD(self):
        self.do_GET()

    def do_GET(self):
        url = self.path
        if not any(url.startswith(u) for u in ALLOWED) or '/../' in url:
            return self.deny(403, 'aptproxy: not the mirror: %s (allowed: %s)' % (url, ' '.join(ALLOWED)))
        cacheable = '/pool/' in url and url.endswith('.deb')
        path = os.path.join(CACHE, hashlib.sha256(url.encode()).hexdigest()[:32] + '-' + os.path.basename(url))
        if cacheable:
            with lock_for(path):
                if not os.path.exists(path):
                    try:
                        self.fetch_to(url, path)
                    except urllib.error.HTTPError as e:
                        return self.deny(e.code, 'aptproxy: upstream %s' % e.code)
                    except Exception as e:  # noqa: BLE001
                        return self.deny(502, 'aptproxy: upstream failed: %s' % e)
            return self.send_file(path)
        # index files: pass through, streamed
        try:
            req = urllib.request.Request(url, method=self.command)
            for h in ('If-Modified-Since', 'If-None-Match', 'Range', 'If-Range'):
                if self.headers.get(h):
                    req.add_header(h, self.headers[h])
            resp = urllib.request.urlopen(req, timeout=60)
        except urllib.error.HTTPError as e:
            self.send_response(e.code)
            for h in ('Last-Modified', 'ETag', 'Content-Range'):
                if e.headers.get(h):
                    self.send_header(h, e.headers[h])
            self.send_header('Content-Length', '0')
            self.end_headers()
            return
        except Exception as e:  # noqa: BLE001
            return self.deny(502, 'aptproxy: upstream failed: %s' % e)
        with resp:
            self.send_response(resp.status)
            for h in ('Content-Type', 'Content-Length', 'Last-Modified', 'ETag', 'Content-Range'):
                if resp.headers.get(h):
                    self.send_header(h, resp.headers[h])
            if not resp.headers.get('Content-Length'):
                self.send_header('Connection', 'close')
                self.close_connection = True
            self.end_headers()
            if self.command != 'HEAD':
                shutil.copyfileobj(resp, self.wfile, 1 << 16)

    def fetch_to(self, url, path):
        with urllib.request.urlopen(url, timeout=120) as resp:
            fd, tmp = tempfile.mkstemp(dir=CACHE, prefix='.part-')
            try:
                with os.fdopen(fd, 'wb') as out:
                    shutil.copyfileobj(resp, out, 1 << 16)
                os.rename(tmp, path)
            except BaseException:
                os.unlink(tmp)
                raise

    def send_file(self, path):
        size = os.path.getsize(path)
        self.send_response(200)
        self.send_header('Content-Type', 'application/vnd.debian.binary-package')
        self.send_header('Content-Length', str(size))
        self.end_headers()
        if self.command != 'HEAD':
            with open(path, 'rb') as f:
                shutil.copyfileobj(f, self.wfile, 1 << 16)


def main():
    addr, port = sys.argv[1], int(sys.argv[2])
    os.makedirs(CACHE, exist_ok=True)
    if not ALLOWED:
        sys.exit('aptproxy: no http:// mirror URI found in /etc/apt/sources.list*')
    ThreadingHTTPServer.request_queue_size = 128
    srv = ThreadingHTTPServer((addr, port), Handler)
    srv.daemon_threads = True
    port = srv.server_address[1]
    if len(sys.argv) > 4:
        tmp = sys.argv[4] + '.tmp'
        with open(tmp, 'w') as f:
            f.write('%d\n' % port)
        os.rename(tmp, sys.argv[4])
    sys.stderr.write('aptproxy: listening on %s:%d, allowed: %s\n' % (addr, srv.server_address[1], ' '.join(ALLOWED)))
    sys.stderr.flush()
    srv.serve_forever()


if __name__ == '__main__':
    main()
