"""Real servers as subprocesses for the serving tests: the back office, pserve, nginx.

``started(command, url)`` runs a command in its own session, waits until ``url``
answers and stops the process it started (SIGTERM, then SIGKILL) afterwards.
``nginx_site(...)`` renders ``deploy/nginx/backoffice.conf`` with test ports and
paths and runs nginx with its own prefix, pid and temp directories.
"""

from __future__ import annotations

import datetime
import ipaddress
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import pytest
import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "deploy" / "nginx" / "backoffice.conf"
BIN = Path(sys.executable).parent
REQUIRE_NGINX = os.environ.get("BACKOFFICE_REQUIRE_NGINX") == "1"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def clean_environ(**settings: str) -> dict[str, str]:
    """This process' environment without the developer's BACKOFFICE_* variables."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("BACKOFFICE_")}
    env.update(settings)
    return env


def write_ini(path: Path, settings: dict[str, str]) -> Path:
    lines = ["[app:main]", "use = egg:backoffice"]
    lines += [f"{key} = {value.replace('%', '%%')}" for key, value in settings.items()]
    path.write_text("\n".join(lines) + "\n")
    return path


@contextmanager
def started(command: list[str], url: str, *, env=None, log: Path, verify=True, timeout=60):
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            command, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        _wait_until_up(proc, url, log, verify, timeout)
        yield proc
    finally:
        _stop(proc)


def _wait_until_up(proc, url, log: Path, verify, timeout) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"{url}: the server exited ({proc.returncode}):\n{log.read_text()}")
        try:
            requests.get(url, timeout=5, verify=verify, allow_redirects=False)
            return
        # Not listening yet, or listening while its workers still start (a slow,
        # busy machine): both mean "not up yet", until the deadline.
        except (requests.ConnectionError, requests.Timeout):
            time.sleep(0.2)
    pytest.fail(f"{url} did not answer within {timeout} s:\n{log.read_text()}")


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(c) for c in path.read_text().split()] if path.exists() else []


def nginx_binary() -> str:
    found = shutil.which("nginx") or next(
        (p for p in ("/usr/sbin/nginx", "/usr/local/sbin/nginx") if os.access(p, os.X_OK)), None
    )
    if found is None:
        if REQUIRE_NGINX:
            pytest.fail("nginx is required (BACKOFFICE_REQUIRE_NGINX=1) but not installed")
        pytest.skip("nginx is not installed")
    return found


def self_signed(directory: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and localhost, and its key."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(key.public_key()), critical=False
        )
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


def render_sample(https_port: int, http_port: int, backend_port: int, cert: Path, key: Path):
    """The shipped sample with test ports and paths: nothing else is changed."""
    text = SAMPLE.read_text()
    for old, new in {
        "server 127.0.0.1:6543;": f"server 127.0.0.1:{backend_port};",
        "    listen [::]:80;\n": "",
        "    listen [::]:443 ssl;\n": "",
        "listen 80;": f"listen 127.0.0.1:{http_port};",
        "listen 443 ssl;": f"listen 127.0.0.1:{https_port} ssl;",
        "server_name shops.example.com *.shops.example.com;": "server_name 127.0.0.1 localhost;",
        "/etc/ssl/certs/shops.example.com.pem": str(cert),
        "/etc/ssl/private/shops.example.com.key": str(key),
    }.items():
        assert old in text, f"the sample no longer has {old!r}: update the test"
        text = text.replace(old, new)
    return text


@contextmanager
def nginx_site(directory: Path, backend_port: int):
    """nginx with the sample site on two free ports; yields (https base URL, http base URL, CA)."""
    binary = nginx_binary()
    directory.mkdir(parents=True, exist_ok=True)
    for sub in ("logs", "temp"):
        (directory / sub).mkdir(exist_ok=True)
    cert, key = self_signed(directory)
    https_port, http_port = free_port(), free_port()
    site = directory / "backoffice.conf"
    site.write_text(render_sample(https_port, http_port, backend_port, cert, key))
    temp = directory / "temp"
    main = directory / "nginx.conf"
    main.write_text(
        f"pid {directory / 'nginx.pid'};\n"
        f"error_log {directory / 'logs' / 'error.log'} warn;\n"
        "events { worker_connections 64; }\n"
        "http {\n"
        f"  access_log {directory / 'logs' / 'access.log'};\n"
        + "".join(
            f"  {kind}_temp_path {temp / kind};\n"
            for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
        )
        + f"  include {site};\n"
        "}\n"
    )
    command = [
        binary,
        "-p",
        str(directory),
        "-c",
        str(main),
        "-g",
        "daemon off;",
    ]
    base = f"https://127.0.0.1:{https_port}"
    with started(command, f"{base}/healthz", log=directory / "nginx.out", verify=str(cert)):
        yield base, f"http://127.0.0.1:{http_port}", str(cert)
