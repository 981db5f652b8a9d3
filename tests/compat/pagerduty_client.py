"""PagerDuty's official Python client against Klaxon, with only the base URL changed.

Run by crates/klaxon/tests/compat.rs, which starts `klaxon serve`; needs `pip install
pagerduty` and the `openssl` command. Environment: KLAXON_URL (the server), KLAXON_TOKEN
(an admin token). Exits non-zero, saying why, if anything behaves differently from
PagerDuty.

The client insists on https, so the script puts a TLS-terminating proxy in front of
Klaxon, as a production deployment has one, with a throwaway certificate the client is
told to trust.
"""

import http.client
import http.server
import json
import os
import ssl
import subprocess
import sys
import tempfile
import threading
import urllib.parse
import urllib.request

from pagerduty import EventsApiV2Client

URL = os.environ["KLAXON_URL"]
TOKEN = os.environ["KLAXON_TOKEN"]
UPSTREAM = urllib.parse.urlsplit(URL).netloc


class Forward(http.server.BaseHTTPRequestHandler):
    """Relays each request to Klaxon unchanged and its answer back."""

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        upstream = http.client.HTTPConnection(UPSTREAM, timeout=10)
        headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "connection")}
        upstream.request("POST", self.path, body=body, headers=headers)
        answer = upstream.getresponse()
        data = answer.read()
        self.send_response(answer.status)
        for key, value in answer.getheaders():
            if key.lower() not in ("transfer-encoding", "connection", "content-length"):
                self.send_header(key, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


def tls_proxy():
    """Starts the proxy on a free port; returns its https URL and the certificate to trust."""
    directory = tempfile.mkdtemp()
    cert, key = os.path.join(directory, "cert.pem"), os.path.join(directory, "key.pem")
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", key, "-out", cert],
        check=True, capture_output=True,
    )
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Forward)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"https://127.0.0.1:{server.server_address[1]}", cert


def api(method, path, body=None):
    request = urllib.request.Request(
        f"{URL}/api/v1{path}",
        method=method,
        data=None if body is None else json.dumps(body).encode(),
        headers={"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request) as response:
        return json.loads(response.read() or b"null")


def eventually(read, check, what):
    """Klaxon answers 202 once an event is committed and applies it a moment later:
    reads until `check` holds, for up to 10 seconds."""
    import time
    deadline = time.monotonic() + 10
    while True:
        value = read()
        if check(value) or time.monotonic() > deadline:
            expect(check(value), f"{what}: {value}")
            return value
        time.sleep(0.02)


def expect(condition, message):
    if not condition:
        sys.exit(f"FAILED: {message}")


service = api("POST", "/services", {"name": "pd-client"})
base_url, certificate = tls_proxy()
client = EventsApiV2Client(service["integration_key"], base_url=base_url, verify=certificate)

dedup_key = client.trigger("DISK at 99% on prod-datapipe03", "prod-datapipe03.example.com", severity="critical")
expect(isinstance(dedup_key, str) and len(dedup_key) > 0, f"trigger returned {dedup_key!r}")
same = client.trigger("DISK at 99% on prod-datapipe03", "prod-datapipe03.example.com", dedup_key=dedup_key)
expect(same == dedup_key, f"a repeat trigger returned {same!r}, not {dedup_key!r}")

alerts = eventually(
    lambda: api("GET", f"/alerts?service=pd-client")["alerts"],
    lambda a: len(a) == 1 and a[0]["repeat_count"] == 2,
    "one alert counting two triggers",
)
alert = alerts[0]
expect(alert["status"] == "triggered", f"after two triggers: {alert}")
expect(alert["incident"] is not None, "a critical alert opens an incident")

expect(client.acknowledge(dedup_key) == dedup_key, "acknowledge echoes the dedup key")
eventually(lambda: api("GET", f"/alerts/{alert['id']}")["status"], lambda s: s == "acknowledged", "the alert is acknowledged")
expect(client.resolve(dedup_key) == dedup_key, "resolve echoes the dedup key")
eventually(lambda: api("GET", f"/alerts/{alert['id']}")["status"], lambda s: s == "resolved", "the alert is resolved")

# submit() without a timestamp trips over a bug in the client itself (7.2.0 calls
# datetime.datetime.timezone); with one it sends the event as documented.
client.submit(
    "Deploy api v2.1.3", source="github-actions", custom_details={"sha": "abc123"}, timestamp="2026-11-26T10:05:00+0000"
)

print("pagerduty client: trigger, repeat, acknowledge, resolve and change event all accepted")
