"""A real, throw-away PostgreSQL server for tests: initdb into a temporary folder, start it on a
free port, stop it and remove the folder afterwards.

Debian's server binaries live in /usr/lib/postgresql/<version>/bin (the `postgresql` package;
.ci/run installs it when missing). PostgreSQL refuses to run as root, so as root the server
runs as the `postgres` user.
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

USER, PASSWORD, DATABASE = "gtm_reader", "s3cret-pw", "billing"


@dataclass(frozen=True)
class Postgres:
    port: int
    socket_dir: Path

    @property
    def url(self) -> str:
        """What a user puts in GTM_SQL_URL: password authentication over TCP."""
        return f"postgresql+psycopg://{USER}:{PASSWORD}@127.0.0.1:{self.port}/{DATABASE}"

    def admin(self, sql: str, database: str = DATABASE) -> list[tuple]:
        """Run SQL as the superuser over the server's socket (trusted)."""
        import psycopg

        with psycopg.connect(
            host=str(self.socket_dir), port=self.port, user="postgres", dbname=database, autocommit=True
        ) as con:
            cur = con.execute(sql)
            return cur.fetchall() if cur.description else []


def server_binaries() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not found:
        raise RuntimeError("PostgreSQL server binaries not found: apt-get install postgresql (.ci/run does)")
    return Path(found[-1]).parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _as_server_user(command: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command


@contextlib.contextmanager
def running_postgres() -> Iterator[Postgres]:
    bin_dir = server_binaries()
    root = Path(tempfile.mkdtemp(prefix="gtm-pg-"))
    data, sockets = root / "data", root / "sockets"
    sockets.mkdir()
    if os.geteuid() == 0:
        shutil.chown(root, "postgres")
        shutil.chown(sockets, "postgres")
    port = _free_port()
    server = None
    try:
        subprocess.run(
            _as_server_user(
                [
                    str(bin_dir / "initdb"),
                    "-D",
                    str(data),
                    "-U",
                    "postgres",
                    "--auth-local=trust",
                    "--auth-host=scram-sha-256",
                    "-E",
                    "UTF8",
                    "--no-sync",
                ]
            ),
            check=True,
            capture_output=True,
        )
        server = subprocess.Popen(
            _as_server_user(
                [
                    str(bin_dir / "postgres"),
                    "-D",
                    str(data),
                    "-p",
                    str(port),
                    "-k",
                    str(sockets),
                    "-c",
                    "listen_addresses=127.0.0.1",
                    "-c",
                    "fsync=off",
                ]
            ),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        instance = Postgres(port, sockets)
        deadline = time.monotonic() + 30
        while True:
            try:
                instance.admin("select 1", database="postgres")
                break
            except Exception:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise RuntimeError("PostgreSQL did not start") from None
                time.sleep(0.2)
        instance.admin(f"create role {USER} login password '{PASSWORD}'", database="postgres")
        instance.admin(f"create database {DATABASE} owner {USER}", database="postgres")
        yield instance
    finally:
        if server is not None:
            server.terminate()
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()
        shutil.rmtree(root, ignore_errors=True)
