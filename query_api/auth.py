"""Header authentication for the Flight gateway, as ADBC and pyarrow send it.

* `authorization: Bearer <token>`: a configured token, or one issued by a Basic login.
* `authorization: Basic <base64 user:password>` (ADBC's Go driver sends it unpadded; padded is
  accepted too): checked against the configured users; the reply carries
  `authorization: Bearer <issued token>`, which ADBC and pyarrow's `authenticate_basic_token`
  then send on every call.

With no `FlightAuth`, every call is accepted. The tenant is read from `x-scope-orgid` either way.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import secrets
import threading
from dataclasses import dataclass, field

import pyarrow.flight as fl

ORG_HEADER = "x-scope-orgid"


@dataclass
class FlightAuth:
    tokens: frozenset[str] = frozenset()
    users: dict[str, str] = field(default_factory=dict)  # user -> password
    _issued: set[str] = field(default_factory=set)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def login(self, header_value: str) -> str:
        """A Basic credential -> a fresh bearer token (raises FlightUnauthenticatedError)."""
        try:
            raw = base64.b64decode(header_value + "=" * (-len(header_value) % 4), validate=True)
            user, sep, password = raw.decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            raise fl.FlightUnauthenticatedError("malformed basic credentials") from None
        expected = self.users.get(user)
        if not sep or expected is None or not hmac.compare_digest(expected.encode(), password.encode()):
            raise fl.FlightUnauthenticatedError("invalid username or password")
        token = secrets.token_urlsafe(24)
        with self._lock:
            self._issued.add(token)
        return token

    def valid(self, token: str) -> bool:
        with self._lock:
            issued = token in self._issued
        return issued or any(hmac.compare_digest(token.encode(), t.encode()) for t in self.tokens)


class GatewayMiddleware(fl.ServerMiddleware):
    def __init__(self, org: str, issued: str | None = None) -> None:
        self.org = org
        self.issued = issued

    def sending_headers(self) -> dict[str, str]:
        return {"authorization": f"Bearer {self.issued}"} if self.issued else {}


class GatewayMiddlewareFactory(fl.ServerMiddlewareFactory):
    def __init__(self, auth: FlightAuth | None, default_org: str) -> None:
        self.auth = auth
        self.default_org = default_org

    def start_call(self, info: fl.CallInfo, headers: dict[str, list[str]]) -> GatewayMiddleware:
        org = (headers.get(ORG_HEADER) or [""])[0] or self.default_org
        if self.auth is None:
            return GatewayMiddleware(org)
        value = (headers.get("authorization") or [""])[0]
        scheme, _, credential = value.partition(" ")
        if scheme.lower() == "basic":
            return GatewayMiddleware(org, self.auth.login(credential.strip()))
        if scheme.lower() == "bearer" and self.auth.valid(credential.strip()):
            return GatewayMiddleware(org)
        raise fl.FlightUnauthenticatedError("missing or invalid authorization header")


class NoopAuthHandler(fl.ServerAuthHandler):
    """Lets the Handshake RPC succeed; the middleware does the real checking."""

    def authenticate(self, outgoing: fl.ServerAuthSender, incoming: fl.ServerAuthReader) -> None:
        return None

    def is_valid(self, token: bytes) -> str:
        return ""
