"""A real SMTP server for the tests (aiosmtpd), run in its own process so a test can
kill and restart it: `python -m tests.smtp_sink PORT DIR [--refuse SUFFIX]`. Each
message it accepts is written to DIR as one file (written, then renamed: a reader
never sees half a mail). Recipients ending in SUFFIX are refused with 550."""

from __future__ import annotations

import argparse
import asyncio
import ssl
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from tests.processes import REPO, free_port


class Sink:
    """Writes every accepted message to a directory."""

    def __init__(self, directory: Path, refuse: str | None, delay: float = 0.0) -> None:
        self.directory, self.refuse, self.delay = directory, refuse, delay

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        if self.refuse and address.endswith(self.refuse):
            return "550 5.1.1 mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.delay:
            await asyncio.sleep(self.delay)
        name = f"{time.time_ns()}-{uuid.uuid4().hex}"
        tmp = self.directory / f".{name}.tmp"
        tmp.write_bytes(envelope.original_content or envelope.content)
        tmp.rename(self.directory / f"{name}.eml")
        return "250 Message accepted"


def main() -> None:
    from aiosmtpd.controller import Controller

    parser = argparse.ArgumentParser()
    parser.add_argument("port", type=int)
    parser.add_argument("directory", type=Path)
    parser.add_argument("--refuse")
    parser.add_argument("--delay", type=float, default=0.0)
    parser.add_argument("--cert")  # with --key: STARTTLS required (or implicit TLS)
    parser.add_argument("--key")
    parser.add_argument("--implicit", action="store_true")
    parser.add_argument("--login")  # user:password, required after TLS
    args = parser.parse_args()
    sink = Sink(args.directory, args.refuse, args.delay)
    options: dict[str, Any] = {}
    if args.cert:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(args.cert, args.key)
        if args.implicit:
            options["ssl_context"] = context
        else:
            options |= {"tls_context": context, "require_starttls": True}
    if args.login:
        user, _, password = args.login.partition(":")

        def check(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> Any:
            from aiosmtpd.smtp import AuthResult, LoginPassword

            ok = isinstance(data, LoginPassword) and (data.login, data.password) == (
                user.encode(),
                password.encode(),
            )
            return AuthResult(success=ok)

        options |= {"authenticator": check, "auth_required": True, "auth_require_tls": True}
    controller = Controller(sink, hostname="127.0.0.1", port=args.port, **options)
    controller.start()
    print("ready", flush=True)
    try:
        while True:
            time.sleep(3600)
    finally:
        controller.stop()


class SmtpServer:
    """The sink as a child process, on a fixed port so it can come back after a kill."""

    def __init__(
        self,
        directory: Path,
        refuse: str | None = None,
        delay: float = 0.0,
        extra: tuple[str, ...] = (),
    ) -> None:
        self.directory = directory
        self.port = free_port()
        self.refuse = refuse
        self.delay = delay
        self.extra = extra  # --cert/--key/--implicit/--login
        self.process: subprocess.Popen[str] | None = None
        directory.mkdir(parents=True, exist_ok=True)

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    def start(self) -> None:
        args = [sys.executable, "-m", "tests.smtp_sink", str(self.port), str(self.directory)]
        if self.refuse:
            args += ["--refuse", self.refuse]
        if self.delay:
            args += ["--delay", str(self.delay)]
        args += list(self.extra)
        self.process = subprocess.Popen(args, stdout=subprocess.PIPE, text=True, cwd=REPO)
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        assert line.strip() == "ready", line
        if "--implicit" in self.extra:  # aiosmtpd's TLS handshake check may still be running
            time.sleep(0.2)

    def kill(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait(10)
            self.process = None

    def count(self) -> int:
        return len(list(self.directory.glob("*.eml")))

    def messages(self) -> list[EmailMessage]:
        found = []
        for path in sorted(self.directory.glob("*.eml")):
            parsed = message_from_bytes(path.read_bytes(), policy=policy.default)
            assert isinstance(parsed, EmailMessage)
            found.append(parsed)
        return found


@contextmanager
def smtp_server(
    directory: Path, refuse: str | None = None, delay: float = 0.0
) -> Iterator[SmtpServer]:
    """A running SMTP sink, killed at the end."""
    server = SmtpServer(directory, refuse, delay)
    server.start()
    try:
        yield server
    finally:
        server.kill()


if __name__ == "__main__":
    main()


def self_signed(directory: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and its key (PEM files): (cert, key)."""
    import datetime as dt
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(hours=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "smtp-cert.pem", directory / "smtp-key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path
