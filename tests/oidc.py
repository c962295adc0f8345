"""A real OpenID provider for the tests: node-oidc-provider (tests/oidc_provider, from
its committed lockfile) started on 127.0.0.1, with test accounts, a web client, a
client-credentials client and keys the suite generates, so it can also sign tokens of
its own choosing with the provider's published key (the refusal matrix)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from uuid import uuid4

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from domain.values import Role
from tests.processes import REPO, eventually, free_port

PROVIDER = REPO / "tests" / "oidc_provider"
REQUIRED = os.environ.get("CRAFTING_REQUIRE_TOOLS") == "1"  # CI: never skipped
AUDIENCE = "https://crafting.test/api"
WEB_CLIENT = "crafting-web"
WEB_SECRET = "web-" + uuid4().hex + uuid4().hex
INTEGRATION_CLIENT = "workday-connector"
INTEGRATION_SECRET = "int-" + uuid4().hex + uuid4().hex
# Groups as a company's directory names them, mapped to our roles (CRAFTING_OIDC_ROLE_MAP).
ROLE_MAP = {
    "crafting-employees": "EMPLOYEE",
    "crafting-managers": "MANAGER",
    "crafting-hr": "HR",
    "crafting-auditors": "AUDITOR",
    "crafting-connectors": "INTEGRATION",
}
GROUP_OF = {Role(role): group for group, role in ROLE_MAP.items()}


def new_key(kid: str | None = None) -> dict[str, Any]:
    """A private RSA JWK (the provider publishes its public part)."""
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    jwk: dict[str, Any] = json.loads(RSAAlgorithm.to_jwk(private))
    return jwk | {"kid": kid or uuid4().hex[:12], "alg": "RS256", "use": "sig"}


def sign(claims: dict[str, Any], key: dict[str, Any], **header: Any) -> str:
    """A token signed with `key` (RS256), with header fields as given."""
    return jwt.encode(
        claims, RSAAlgorithm.from_jwk(json.dumps(key)), algorithm="RS256",
        headers={"kid": key["kid"], **header},
    )  # fmt: skip


def node() -> str:
    """node, with the provider's packages installed (fails in CI rather than skipping)."""
    found = shutil.which("node")
    if found is None or not (PROVIDER / "node_modules" / "oidc-provider").is_dir():
        if REQUIRED:
            pytest.fail("node and `npm ci --prefix tests/oidc_provider` are needed")
        pytest.skip("needs node and `npm ci --prefix tests/oidc_provider`")
    return found


@dataclass
class Provider:
    """One oidc-provider process; `rotate` and `restart` rewrite its file and restart it."""

    node: str
    folder: Path
    redirect_base: str
    port: int = field(default_factory=free_port)
    keys: list[dict[str, Any]] = field(default_factory=lambda: [new_key()])
    accounts: dict[str, dict[str, Any]] = field(default_factory=dict)
    process: subprocess.Popen[bytes] | None = None

    @property
    def issuer(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def settings(self, **more: Any) -> dict[str, Any]:
        """The service's settings for this provider."""
        return {
            "oidc_issuer": self.issuer,
            "oidc_audience": AUDIENCE,
            "oidc_roles_claim": "groups",
            "oidc_role_map": ROLE_MAP,
            "oidc_client_id": WEB_CLIENT,
            "oidc_client_secret": WEB_SECRET,
            "oidc_integration_clients": INTEGRATION_CLIENT,
            "oidc_scopes": "openid email profile groups",
            "oidc_provider_name": "Test IdP",
        } | more

    def environment(self, **more: Any) -> dict[str, str]:
        """The same, as CRAFTING_ variables for a `crafting serve` process."""
        return {
            f"CRAFTING_{name.upper()}": value if isinstance(value, str) else json.dumps(value)
            for name, value in self.settings(**more).items()
        }

    def start(self) -> Provider:
        config = {
            "port": self.port,
            "audience": AUDIENCE,
            "keys": self.keys,
            "web": {
                "client_id": WEB_CLIENT,
                "client_secret": WEB_SECRET,
                "redirect_uris": [f"{self.redirect_base}/oidc/callback"],
                "post_logout_redirect_uris": [f"{self.redirect_base}/signin?signed_out=1"],
            },
            "integration": {"client_id": INTEGRATION_CLIENT, "client_secret": INTEGRATION_SECRET},
            "accounts": self.accounts,
        }
        path = self.folder / f"provider-{self.port}.json"
        path.write_text(json.dumps(config))
        log = (self.folder / f"provider-{self.port}.log").open("ab")
        self.process = subprocess.Popen(
            [self.node, str(PROVIDER / "provider.mjs"), str(path)],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        assert eventually(self._answers, 30), self.log()
        return self

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        self.process = None

    def restart(self) -> None:
        self.stop()
        self.start()

    def rotate(self) -> dict[str, Any]:
        """A new signing key; the old one stays published (until its tokens expire)."""
        key = new_key()
        self.keys = [key, *self.keys]
        self.restart()
        return key

    def log(self) -> str:
        path = self.folder / f"provider-{self.port}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def _answers(self) -> bool:
        try:
            return httpx.get(f"{self.issuer}/test/stats", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    def jwks_fetches(self) -> int:
        count: int = httpx.get(f"{self.issuer}/test/stats", timeout=5).json()["jwks"]
        return count

    def person_token(self, sub: str, *roles: Role, **claims: Any) -> str:
        """An access token the provider issues for the account `sub`, its groups the
        ones our ROLE_MAP maps to `roles`."""
        groups = [GROUP_OF[r] for r in roles]
        body = {"sub": sub, "claims": {"groups": groups, **claims}}
        response = httpx.post(f"{self.issuer}/test/token", json=body, timeout=10)
        response.raise_for_status()
        token: str = response.json()["access_token"]
        return token

    def client_credentials_token(
        self, client: str = INTEGRATION_CLIENT, secret: str = INTEGRATION_SECRET
    ) -> str:
        """A client-credentials token from the provider's token endpoint."""
        response = httpx.post(
            f"{self.issuer}/token",
            data={"grant_type": "client_credentials", "scope": "api"},
            auth=(client, secret),
            timeout=10,
        )
        response.raise_for_status()
        token: str = response.json()["access_token"]
        return token

    def claims(self, **claims: Any) -> dict[str, Any]:
        """Valid access-token claims, changed as given."""
        now = int(time.time())
        return {
            "iss": self.issuer,
            "aud": AUDIENCE,
            "sub": "someone",
            "groups": ["crafting-employees"],
            "iat": now,
            "exp": now + 300,
        } | claims


@pytest.fixture(scope="session")
def oidc_provider(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Provider]:
    """One provider for the session (tests that rotate or stop it start their own)."""
    provider = Provider(node(), tmp_path_factory.mktemp("oidc"), "http://127.0.0.1:1")
    provider.start()
    yield provider
    provider.stop()


@pytest.fixture
def own_provider(tmp_path: Path) -> Iterator[Provider]:
    """A provider of this test's own, to rotate or stop."""
    provider = Provider(node(), tmp_path, "http://127.0.0.1:1")
    provider.start()
    yield provider
    provider.stop()


def sign_in_at_provider(authorization_url: str, login: str, callback_prefix: str) -> str:
    """Go through the provider's own login and consent pages (its devInteractions) as
    `login`, without a browser: the URL it sends the browser back to (our callback)."""
    import re
    from urllib.parse import urljoin

    with httpx.Client(timeout=10) as browser:
        url, form = authorization_url, None
        for _ in range(12):
            response = (
                browser.get(url) if form is None else browser.post(url, data=form)
            )  # fmt: skip
            form = None
            location = response.headers.get("location")
            if location is not None:
                url = urljoin(url, location)
                if url.startswith(callback_prefix):
                    return url
                continue
            action = re.search(r'action="([^"]+)"', response.text)
            assert response.status_code == 200 and action, response.text
            url = urljoin(url, action.group(1))
            if 'name="login"' in response.text:
                form = {"prompt": "login", "login": login, "password": "any"}
            else:
                form = {"prompt": "consent"}
        raise AssertionError("the provider did not send the browser back")
