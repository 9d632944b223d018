"""CI: a plain install of the wheel serves a store on MariaDB.

Builds the wheel from the tree's files (what a clean clone has: no compiled
catalogs, no var/), installs it without the test extras into a new virtualenv
(pinned by requirements/constraints.txt), and from a directory outside the tree
runs what the README tells an operator: ``backoffice init``, ``servers add``,
``tenants create``, then ``pserve`` on the installed production.ini and
``backoffice serve``, fetches ``/healthz`` and a store's pages over HTTP, and
drops everything it created. Standard library only::

    python3 scripts/ci_wheel_smoke.py   # BACKOFFICE_TEST_MYSQL_URL picks the server
"""

from __future__ import annotations

import configparser
import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CONSTRAINTS = ROOT / "requirements" / "constraints.txt"
MYSQL_URL = os.environ.get("BACKOFFICE_TEST_MYSQL_URL", "mysql+pymysql://root@127.0.0.1:3306/")
OWNER = ("owner@smoke.example", "smoke-password")

# Run by the installed virtualenv's Python: PyMySQL comes with the wheel.
SQL = """
import sys, pymysql
from sqlalchemy.engine import make_url
url = make_url(sys.argv[1])
conn = pymysql.connect(host=url.host, port=url.port or 3306, user=url.username,
                       password=url.password or "", autocommit=True)
with conn.cursor() as cur:
    if sys.argv[2] == "create":
        cur.execute(f"CREATE DATABASE `{sys.argv[3]}`")
    else:  # drop the control DB, and whatever a failed run left under the prefix
        prefix = sys.argv[4].replace("_", "\\\\_") + "%"
        cur.execute("SELECT schema_name FROM information_schema.schemata "
                    "WHERE schema_name = %s OR schema_name LIKE %s", (sys.argv[3], prefix))
        for (name,) in cur.fetchall():
            cur.execute(f"DROP DATABASE `{name}`")
        cur.execute("SELECT user, host FROM mysql.user WHERE user LIKE %s", (prefix,))
        for user, host in cur.fetchall():
            cur.execute("DROP USER %s@%s", (user, host))
"""


def step(message: str) -> None:
    print(f"-- {message}", flush=True)


def run(*args, env=None, cwd=None) -> str:
    done = subprocess.run(
        [str(a) for a in args], env=env, cwd=cwd, capture_output=True, text=True, check=False
    )
    if done.returncode:
        sys.exit(f"FAILED: {' '.join(map(str, args))}\n{done.stdout}{done.stderr}")
    return done.stdout


def tree_files() -> list[str]:
    """Tracked and new files, without anything git ignores (.mo, var/, .venv)."""
    listed = run("git", "ls-files", "-z", "--cached", "--others", "--exclude-standard", cwd=ROOT)
    return [name for name in listed.split("\0") if name and (ROOT / name).is_file()]


def build_wheel(work: Path, venv: Path) -> Path:
    source = work / "source"
    for name in tree_files():
        (source / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, source / name)
    run(venv / "bin" / "pip", "wheel", "-qq", "--no-deps", "-w", work / "dist", source)
    (wheel,) = (work / "dist").glob("backoffice-*.whl")
    return wheel


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def ini_on_port(installed: Path, target: Path, port: int) -> Path:
    """The installed production.ini, its server listening on *port* of the loopback."""
    parser = configparser.RawConfigParser()
    parser.optionxform = str
    parser.read(installed, encoding="utf-8")
    server = parser["server:main"]
    for key, value in (("listen", f"127.0.0.1:{port}"), ("bind", f"127.0.0.1:{port}")):
        if key in server:
            server[key] = value
    if "host" in server or not {"listen", "bind"} & set(server):
        server["host"], server["port"] = "127.0.0.1", str(port)
    with target.open("w", encoding="utf-8") as fh:
        parser.write(fh)
    return target


def fetch(url: str, headers: dict | None = None) -> tuple[int, str]:
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read().decode("utf-8")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode("utf-8", "replace")


def serve(args, env, cwd, port: int, log: Path) -> subprocess.Popen:
    with log.open("w") as out:
        server = subprocess.Popen(
            [str(a) for a in args], env=env, cwd=cwd, stdout=out, stderr=subprocess.STDOUT
        )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            sys.exit(f"FAILED: {args[0]} exited {server.returncode}\n{log.read_text()}")
        try:
            fetch(f"http://127.0.0.1:{port}/healthz")
            return server
        except OSError:
            time.sleep(0.3)
    stop(server)
    sys.exit(f"FAILED: {args[0]} did not answer on port {port}\n{log.read_text()}")


def stop(server: subprocess.Popen) -> None:
    server.terminate()
    try:
        server.wait(timeout=15)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()


def check_pages(port: int, slug: str) -> None:
    base = f"http://127.0.0.1:{port}"
    status, body = fetch(f"{base}/healthz")
    assert status == 200 and '"status": "ok"' in body, (status, body)
    status, body = fetch(f"{base}/s/{slug}/admin/login")
    assert status == 200 and "Smoke Tea" in body and "Sign in" in body, (status, body[:500])
    # The Russian page needs the compiled catalog the build step put in the wheel.
    status, body = fetch(f"{base}/s/{slug}/admin/login?_LOCALE_=ru")
    assert status == 200 and "Войти" in body, (status, body[:500])
    status, body = fetch(f"{base}/s/{slug}/admin/static/admin.css")
    assert status == 200 and "{" in body, (status, body[:200])
    status, body = fetch(f"{base}/s/{slug}/checkout", {"Accept-Language": "uk"})
    assert status == 200 and 'lang="uk"' in body, (status, body[:500])


def main() -> None:
    started = time.monotonic()
    work = Path(tempfile.mkdtemp(prefix="backoffice-wheel-smoke-"))
    venv, bin_ = work / "venv", work / "venv" / "bin"
    tag = secrets.token_hex(2)
    control_db, prefix, slug = f"smoke_control_{tag}", f"s{tag}_", f"smoke-{tag}"
    try:
        step("building the wheel and installing it (no test extras) into a new virtualenv")
        run(sys.executable, "-m", "venv", venv)
        wheel = build_wheel(work, venv)
        run(bin_ / "pip", "install", "-qq", "-c", CONSTRAINTS, wheel)
        env = {k: v for k, v in os.environ.items() if not k.startswith(("BACKOFFICE_", "PYTHON"))}
        env["PATH"] = f"{bin_}{os.pathsep}{env.get('PATH', '')}"
        home = work / "home"  # outside the tree: only the installed files are there
        home.mkdir()
        where = run(
            bin_ / "python", "-c", "import backoffice; print(backoffice.__file__)", cwd=home
        )
        assert where.startswith(str(venv)), where
        print(run(bin_ / "backoffice", "--version", env=env, cwd=home).strip(), "from", wheel.name)

        installed_ini = Path(
            run(bin_ / "backoffice", "config", "path", "production.ini", env=env, cwd=home).strip()
        )
        assert installed_ini.is_relative_to(venv), installed_ini
        run(bin_ / "python", "-c", SQL, MYSQL_URL, "create", control_db)
        url = MYSQL_URL.rstrip("/")
        env.update(
            BACKOFFICE_CONFIG=str(installed_ini),
            BACKOFFICE_CONTROL_URL=f"{url}/{control_db}",
            BACKOFFICE_KEYS=run(bin_ / "backoffice", "keys", "generate", env=env).strip(),
            BACKOFFICE_SESSION_SECRET=secrets.token_urlsafe(32),
            BACKOFFICE_ENVIRONMENT="production",
            BACKOFFICE_DB_PREFIX=prefix,
            BACKOFFICE_BACKUP_DIR=str(work / "backups"),
        )
        step(f"backoffice init; servers add; tenants create {slug}")
        cli = [bin_ / "backoffice"]
        run(*cli, "init", env=env, cwd=home)
        run(*cli, "servers", "add", "smoke", f"{url}/", "--default", env=env, cwd=home)
        owner = ["--owner-email", OWNER[0], "--owner-password", OWNER[1]]
        run(*cli, "tenants", "create", slug, "--name", "Smoke Tea", *owner, env=env, cwd=home)

        port = free_port()
        step(f"pserve production.ini on port {port}")
        ini = ini_on_port(installed_ini, home / "production.ini", port)
        server = serve([bin_ / "pserve", ini], env, home, port, work / "pserve.log")
        try:
            check_pages(port, slug)
        finally:
            stop(server)

        port = free_port()
        step(f"backoffice serve on port {port}")
        serve_env = dict(env, BACKOFFICE_LISTEN_PORT=str(port))
        server = serve([*cli, "serve"], serve_env, home, port, work / "serve.log")
        try:
            check_pages(port, slug)
        finally:
            stop(server)

        run(*cli, "tenants", "drop", slug, "--yes", env=env, cwd=home)
    finally:
        if (bin_ / "python").exists():
            subprocess.run(
                [bin_ / "python", "-c", SQL, MYSQL_URL, "drop", control_db, prefix], check=False
            )
        shutil.rmtree(work, ignore_errors=True)
    print(f"wheel smoke test passed in {time.monotonic() - started:.0f} s")


if __name__ == "__main__":
    main()
