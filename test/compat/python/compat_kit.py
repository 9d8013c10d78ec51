# What the Python client scripts of test/compat/python share: inputs, a log of every request the
# SDKs send, the loopback resolver for vault hosts (test only), and the one-line JSON report.
#
# A script runs under Debian's /usr/bin/python3 with only Debian's packages (python3-azure,
# python3-azure-storage); it reads its inputs from TESSERA_COMPAT_* variables and prints one JSON
# line, `PythonOutput` of harness.ts: {"ok", "step"?, "error"?, "results", "requests"}.
import json
import os
import socket
import sys
import traceback
from urllib.parse import urlsplit

from azure.core.pipeline.transport import RequestsTransport


def inp(name):
    """The value of TESSERA_COMPAT_{name}; fails when it is unset or empty."""
    value = os.environ.get(f"TESSERA_COMPAT_{name}", "")
    if value == "":
        raise RuntimeError(f"TESSERA_COMPAT_{name} is not set")
    return value


# Every request any SDK client of this process sent (identity's included), in order:
# `METHOD host/path?query -> status` (or `-> ExceptionName` when no answer came).
_requests = []
_send = RequestsTransport.send


def _logged_send(self, request, **kwargs):
    parts = urlsplit(request.url)
    line = f"{request.method} {parts.netloc}{parts.path}{'?' + parts.query if parts.query else ''}"
    try:
        response = _send(self, request, **kwargs)
    except BaseException as error:
        _requests.append(f"{line} -> {type(error).__name__}")
        raise
    _requests.append(f"{line} -> {response.status_code}")
    return response


# Observes, changes nothing: azure-core's requests transport is what every client here sends with.
RequestsTransport.send = _logged_send


def resolve_to_loopback(suffix, address="127.0.0.1"):
    """
    TEST ONLY: makes this process resolve `suffix` and every name under it (a vault's
    `{name}.vault.localhost`) to the IPv4 `address`, as a hosts entry or a private DNS zone would
    on a user's machine (glibc does not resolve `*.localhost`). The SDK still connects, checks the
    certificate and the Key Vault challenge under the vault URI's own name. urllib3 looks names up
    through `socket.getaddrinfo` on each connection, so patching the module attribute is enough.
    """
    real = socket.getaddrinfo

    def getaddrinfo(host, port, family=0, type=0, proto=0, flags=0):
        name = host.lower().rstrip(".") if isinstance(host, str) else None
        if name is not None and (name == suffix or name.endswith("." + suffix)):
            return real(address, port, socket.AF_INET, type, proto, flags)
        return real(host, port, family, type, proto, flags)

    socket.getaddrinfo = getaddrinfo


def error_of(error):
    """An SDK exception as the report shows it: its class, message, HTTP status and error code."""
    reported = {"type": type(error).__name__, "message": str(error)}
    status = getattr(error, "status_code", None)
    if status is not None:
        reported["status"] = status
    code = getattr(error, "error_code", None)
    if code is not None:
        reported["code"] = str(code)
    return reported


def outcome_of(run):
    """{"value": run()}, or {"error": …} for calls meant to fail."""
    try:
        return {"value": run()}
    except Exception as error:  # pylint: disable=broad-except
        return {"error": error_of(error)}


def token_of(access_token):
    """azure-core's AccessToken as JSON."""
    return {"token": access_token.token, "expires_on": access_token.expires_on}


def report(steps):
    """
    Runs `steps(step)`, where `step(name, run)` runs one named step and reports what it returns
    under that name; then prints the JSON line: `ok` when every step ran, otherwise the step that
    raised and its error (exit code 1; the traceback goes to stderr).
    """
    results = {}
    current = ["start"]

    def step(name, run):
        current[0] = name
        value = run()
        results[name] = value
        return value

    outcome = {"ok": True}
    try:
        steps(step)
    except Exception as error:  # pylint: disable=broad-except
        traceback.print_exc()
        outcome = {"ok": False, "step": current[0], "error": error_of(error)}
    sys.stdout.write(json.dumps({**outcome, "results": results, "requests": _requests}) + "\n")
    sys.stdout.flush()
    if not outcome["ok"]:
        sys.exit(1)
