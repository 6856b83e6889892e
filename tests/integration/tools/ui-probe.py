#!/usr/bin/env python3
"""ui-probe.py: the web UIs of a spark-slurm job as another user and as its owner see them
(issue 28). Bounded: every request has a timeout, and goes only to the targets given.

  ui-probe.py stranger COOKIE_NAME HOST:PORT...
      For each target, over HTTP and HTTPS (certificates unchecked, as a stranger would), GETs
      pages of every UI (/, /json/, /jmx, /conf, /logs/, /api/v1/applications, /environment/,
      /logPage/...) three ways: with no cookie, with a guessed value of the job's cookie, and with
      the cookie another job would have (its own name and value). Prints one JSON line a request:
      {"target", "scheme", "path", "cookie", "status" (null: no HTTP answer), "body"} (the body's
      first 200 bytes). A target that gives no HTTP answer to a scheme's first request is not asked
      again in that scheme.

  ui-probe.py owner URL TOKEN_FILE PATH...
      The owner's browser in miniature: GETs URL?spark-slurm-login=TOKEN (the token read from
      TOKEN_FILE, never on a command line), which answers with an HttpOnly, SameSite=Strict
      cookie and a page that refreshes to the clean URL ("location": the refresh's target), then
      GETs each PATH with the cookie only. Prints one JSON line a request: {"path", "status",
      "set_cookie", "location", "body"} (the whole body).
"""
import hashlib
import html
import http.client
import json
import os
import re
import secrets
import ssl
import sys
import urllib.parse
from concurrent.futures import ThreadPoolExecutor

TIMEOUT = 4
PAGES = ["/", "/json/", "/jmx", "/conf", "/logs/", "/api/v1/applications", "/environment/",
         "/logPage/?appId=app-0&executorId=0&logType=stdout", "/dfshealth.html", "/stacks"]


def request(scheme, host, port, path, headers):
    if scheme == "https":
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        connection = http.client.HTTPSConnection(host, port, timeout=TIMEOUT, context=context)
    else:
        connection = http.client.HTTPConnection(host, port, timeout=TIMEOUT)
    try:
        connection.request("GET", path, headers=headers)
        response = connection.getresponse()
        body = response.read(1 << 20)
        return response.status, dict(response.getheaders()), body
    except (OSError, http.client.HTTPException, ssl.SSLError):
        return None, {}, b""
    finally:
        connection.close()


def other_jobs_cookie():
    # What UiCredential.java makes of another job's token.
    token = secrets.token_hex(32)
    name = "spark-slurm-ui-" + hashlib.sha256(("spark-slurm ui cookie name\n" + token).encode()).hexdigest()[:12]
    value = hashlib.sha256(("spark-slurm ui session\n" + token).encode()).hexdigest()
    return f"{name}={value}"


def stranger(cookie_name, targets):
    variants = {"none": None, "guessed": f"{cookie_name}={secrets.token_hex(32)}",
                "other-job": other_jobs_cookie()}

    def probe_target(target):
        host, port = target.rsplit(":", 1)
        lines = []
        for scheme in ("http", "https"):
            for path in PAGES:
                for variant, cookie in variants.items():
                    headers = {"Cookie": cookie} if cookie else {}
                    status, _, body = request(scheme, host, int(port), path, headers)
                    lines.append({"target": target, "scheme": scheme, "path": path, "cookie": variant,
                                  "status": status, "body": body[:200].decode("utf-8", "replace")})
                    if status is None:
                        break
                if lines[-1]["status"] is None and path == PAGES[0]:
                    break
        return lines

    with ThreadPoolExecutor(max_workers=8) as pool:
        for lines in pool.map(probe_target, targets):
            for line in lines:
                print(json.dumps(line), flush=True)


def owner(url, token_file, paths):
    token = open(token_file).read().strip()
    parsed = urllib.parse.urlsplit(url)
    host, port = parsed.hostname, parsed.port
    status, headers, body = request(parsed.scheme, host, port, "/?spark-slurm-login=" + token, {})
    set_cookie = headers.get("Set-Cookie", "")
    page = body.decode("utf-8", "replace")
    refresh = re.search(r'http-equiv="refresh" content="0;url=([^"]*)"', page)
    print(json.dumps({"path": "login", "status": status, "set_cookie": set_cookie.replace(token, "TOKEN"),
                      "location": html.unescape(refresh.group(1)) if refresh else headers.get("Location", ""),
                      "referrer_policy": headers.get("Referrer-Policy", ""),
                      "body": page.replace(token, "TOKEN")}),
          flush=True)
    cookie = set_cookie.split(";", 1)[0]
    for path in paths:
        status, headers, body = request(parsed.scheme, host, port, path, {"Cookie": cookie} if cookie else {})
        print(json.dumps({"path": path, "status": status, "set_cookie": "", "location": headers.get("Location", ""),
                          "body": body.decode("utf-8", "replace")}), flush=True)


if __name__ == "__main__":
    if len(sys.argv) >= 3 and sys.argv[1] == "stranger":
        stranger(sys.argv[2], sys.argv[3:])
    elif len(sys.argv) >= 4 and sys.argv[1] == "owner":
        owner(sys.argv[2], sys.argv[3], sys.argv[4:])
    else:
        sys.exit(__doc__)
