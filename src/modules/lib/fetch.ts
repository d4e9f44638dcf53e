// Fetching a URL from the host: one shell function that uses curl, wget or python3, whichever the host has.
import { quote } from '../../connection/quote.js';

export interface FetchOptions {
  /** Seconds one request may take. */
  timeout: number;
  headers?: Record<string, string>;
}

// urllib: the fallback where neither curl nor wget is; an HTTP error status is an answer (the body is kept).
const pythonFetch = `import email.utils, json, os, sys, urllib.error, urllib.request
url, out, ims, timeout, headers = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4]), json.loads(sys.argv[5])
req = urllib.request.Request(url, headers=headers)
if ims:
    req.add_header('If-Modified-Since', email.utils.formatdate(os.path.getmtime(ims), usegmt=True))
try:
    r = urllib.request.urlopen(req, timeout=timeout)
except urllib.error.HTTPError as e:
    r = e
except Exception as e:
    sys.stderr.write('%s: %s\\n' % (url, getattr(e, 'reason', e)))
    sys.exit(1)
with open(out, 'wb') as f:
    while True:
        b = r.read(65536)
        if not b:
            break
        f.write(b)
sys.stdout.write(str(r.getcode() or 200))`;

/**
 * The shell function `fetch URL OUT [IMS]`: writes the body to OUT and prints the HTTP status (200 for a `file://`
 * URL); IMS, when not empty, is a file whose mtime goes out as If-Modified-Since (a 304 then leaves OUT empty).
 * Fails (non-zero) only when no answer came; a host with none of the three tools is told so.
 */
export function fetchFunction(o: FetchOptions): string {
  const headers = Object.entries(o.headers ?? {});
  const t = String(o.timeout);
  const curlHeaders = headers.map(([k, v]) => `-H ${quote(`${k}: ${v}`)}`).join(' ');
  const wgetHeaders = headers.map(([k, v]) => `--header=${quote(`${k}: ${v}`)}`).join(' ');
  return [
    'fetch() {',
    '  if command -v curl >/dev/null 2>&1; then',
    `    _s=$(curl -sS -L --max-time ${quote(t)} ${curlHeaders} \${3:+-z "$3"} -o "$2" -w '%{http_code}' -- "$1") || return 1`,
    '    case $_s in 000) echo 200 ;; *) echo "$_s" ;; esac',
    '  elif command -v wget >/dev/null 2>&1; then',
    '    case $1 in file://*) echo "wget cannot fetch $1 (no curl or python3 on this host)" >&2; return 1 ;; esac',
    `    _ims=; [ -z "$3" ] || _ims="If-Modified-Since: $(TZ=GMT date -R -r "$3" | sed 's/+0000$/GMT/')"`,
    `    wget -q -S -O "$2" -T ${quote(t)} ${wgetHeaders} \${_ims:+--header="$_ims"} -- "$1" 2>"$2.h"`,
    `    _s=$(awk '/^ *HTTP\\//{s=$2} END{print s}' "$2.h"); rm -f -- "$2.h"`,
    '    [ -n "$_s" ] || { echo "wget: no answer from $1" >&2; return 1; }',
    '    echo "$_s"',
    '  elif command -v python3 >/dev/null 2>&1; then',
    `    python3 -c ${quote(pythonFetch)} "$1" "$2" "\${3:-}" ${quote(t)} ${quote(JSON.stringify(o.headers ?? {}))}`,
    '  else',
    '    echo "this host has none of curl, wget or python3 to fetch $1" >&2; return 127',
    '  fi',
    '}',
  ].join('\n');
}
