"""A real PostgreSQL server of the suite's own: started in a temporary folder, listening on
a Unix socket only, torn down at the end. A test may stop and restart it (the database
killed for a while).

The server binaries come from the ``pgserver`` package (the ``test`` extra installs it:
PostgreSQL's own programs in a wheel), or else from Debian's ``postgresql`` package.
PostgreSQL refuses to run as root; under root the server runs as an unprivileged user,
created if missing, which owns only the server's folder.
"""

from __future__ import annotations

import glob
import hashlib
import importlib.util
import os
import pwd
import shutil
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path

SERVER_USER = "parley-test-pg"


def server_binaries() -> Path | None:
    """The folder holding ``initdb`` and ``pg_ctl``, or ``None`` when no server is installed."""
    spec = importlib.util.find_spec("pgserver")
    candidates = [Path(location) / "pginstall" / "bin" for location in (spec.submodule_search_locations or [])] \
        if spec else []
    candidates += [Path(p) for p in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)]
    return next((folder for folder in candidates if (folder / "initdb").exists()), None)


class PostgresServer:
    def __init__(self, binaries: Path, *, durable: bool = False):
        self.binaries = binaries
        self.durable = durable  # False: no fsync (tests); True: as a real server writes (benchmarks)
        self.folder = Path(tempfile.mkdtemp(prefix="parley-pg-"))
        self.data = self.folder / "data"
        self.socket_dir = self.folder  # the socket's path must stay under 107 bytes
        self._as_user: list[str] = []
        if os.geteuid() == 0:
            _ensure_user(SERVER_USER)
            os.chmod(self.folder, 0o755)
            shutil.chown(self.folder, SERVER_USER, SERVER_USER)
            self._as_user = ["runuser", "-u", SERVER_USER, "--"]
            self.binaries = _reachable_by(SERVER_USER, binaries)
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8",
                  "--no-instructions")

    def _run(self, program: str, *args: str) -> None:
        command = [*self._as_user, str(self.binaries / program), *args]
        result = subprocess.run(command, capture_output=True, text=True, timeout=120)
        if result.returncode != 0:
            raise RuntimeError(f"{program} failed: {result.stderr.strip() or result.stdout.strip()}")

    def start(self) -> None:
        options = f"-k {self.socket_dir} -c listen_addresses='' -c max_connections=200"
        if not self.durable:
            options += " -c fsync=off"
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.folder / "server.log"), "-o", options, "-w", "start")

    def stop(self, mode: str = "fast") -> None:
        """``mode="immediate"``: as if the server were killed (no clean shutdown)."""
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "stop")

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@/{database}?host={self.socket_dir}"

    def new_database(self) -> str:
        """A fresh, empty database on this server; its URL."""
        return new_database(self.url())

    def destroy(self) -> None:
        try:
            self.stop("immediate")
        except RuntimeError:
            pass  # already stopped
        shutil.rmtree(self.folder, ignore_errors=True)


def _reachable_by(user: str, binaries: Path) -> Path:
    """``binaries``, or a copy of their installation the server's user can run: a checkout
    in a private folder (a mktemp directory is mode 0700) keeps its venv out of that user's
    reach. The copy (34 MB) is made once per installation, under /tmp, readable by all."""
    probe = subprocess.run(["runuser", "-u", user, "--", "test", "-x", str(binaries / "initdb")])
    if probe.returncode == 0:
        return binaries
    # pgserver's programs find their libraries at $ORIGIN/../../../pgserver.libs: copy both,
    # keeping where they stand relative to each other.
    installation = binaries.parent  # .../site-packages/pgserver/pginstall
    packages = installation.parent.parent
    parts = [installation.relative_to(packages), *([Path("pgserver.libs")] if (packages / "pgserver.libs").is_dir() else [])]
    tag = hashlib.sha256(f"{installation}:{installation.stat().st_mtime_ns}".encode()).hexdigest()[:12]
    copy = Path(tempfile.gettempdir()) / f"parley-pg-install-{tag}"
    if not copy.is_dir():
        staged = Path(tempfile.mkdtemp(prefix=f".{copy.name}-", dir=copy.parent))
        for part in parts:
            shutil.copytree(packages / part, staged / "install" / part, symlinks=True)
        for folder in [staged, *(path for path in staged.rglob("*") if path.is_dir())]:
            os.chmod(folder, 0o755)
        try:
            os.rename(staged / "install", copy)  # atomic: a concurrent run keeps its own copy
        except OSError:
            pass
        shutil.rmtree(staged, ignore_errors=True)
    return copy / parts[0] / binaries.name


def _ensure_user(name: str) -> None:
    try:
        pwd.getpwnam(name)
    except KeyError:
        subprocess.run(["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", name],
                       check=True, capture_output=True)


def new_database(server_url: str) -> str:
    """A fresh, empty database on the server of ``server_url``; its URL."""
    from urllib.parse import urlsplit, urlunsplit

    import psycopg

    name = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(server_url, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')  # a generated name, never user input
    return urlunsplit(urlsplit(server_url)._replace(path=f"/{name}"))


def main(argv: list[str]) -> int:
    """``python -m tests.postgres -- COMMAND…``: run COMMAND with PARLEY_DATABASE_URL naming a
    PostgreSQL server started for it, then tear the server down (CI's second pass)."""
    command = argv[1:] if argv[:1] == ["--"] else argv
    binaries = server_binaries()
    if binaries is None:
        print("no PostgreSQL server binaries (pip install -e '.[test]' installs pgserver)", file=sys.stderr)
        return 2
    server = PostgresServer(binaries, durable=True)
    try:
        server.start()
        # "{url}" in the command stands for the server's URL (e.g. `parley bench --database-url {url}`).
        command = [part.replace("{url}", server.url()) for part in command]
        return subprocess.call(command, env={**os.environ, "PARLEY_DATABASE_URL": server.url()})
    finally:
        server.destroy()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
