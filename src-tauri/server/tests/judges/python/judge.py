"""What every supabase_auth judge script shares: the report format, the environment, the
control surface, and small helpers. See ../README.md."""

from __future__ import annotations

import json
import os
import sys
import urllib.error
import urllib.request
from typing import Any, Callable

import httpx
from supabase_auth import SyncGoTrueClient, SyncMemoryStorage
from supabase_auth.errors import AuthApiError, AuthError

_counts = {"passed": 0, "failed": 0}


def report(check: str, ok: bool, detail: str) -> None:
    _counts["passed" if ok else "failed"] += 1
    print(json.dumps({"check": check, "ok": bool(ok), "detail": str(detail)}), flush=True)


def finish() -> None:
    print(f"{_counts['passed']} passed, {_counts['failed']} failed", flush=True)
    sys.exit(0 if _counts["failed"] == 0 else 1)


def short(token: Any) -> str:
    """Never more than the first 6 characters of a token."""
    if not isinstance(token, str):
        return repr(token)
    return f"{token[:6]}...({len(token)})"


def describe(error: BaseException | None) -> str:
    if error is None:
        return "no error"
    parts = [type(error).__name__]
    if hasattr(error, "status"):
        parts.append(f"status={getattr(error, 'status')}")
    if hasattr(error, "code"):
        parts.append(f"code={getattr(error, 'code')}")
    parts.append(f"message={json.dumps(str(getattr(error, 'message', error)))}")
    return " ".join(parts)


REQUIRED_ENV = ["GOTRUE_URL", "ANON_KEY", "EMULATOR_URL", "DEMO_EMAIL", "DEMO_PASSWORD"]
_missing = [name for name in REQUIRED_ENV if not os.environ.get(name)]
if _missing:
    report("environment", False, f"missing environment variables: {', '.join(_missing)}")
    finish()

GOTRUE_URL = os.environ["GOTRUE_URL"].rstrip("/")
ANON_KEY = os.environ["ANON_KEY"]
EMULATOR_URL = os.environ["EMULATOR_URL"].rstrip("/")
DEMO_EMAIL = os.environ["DEMO_EMAIL"]
DEMO_PASSWORD = os.environ["DEMO_PASSWORD"]


def emulator(method: str, path: str, body: Any = None, expected: tuple[int, ...] = (200, 201, 204)) -> Any:
    """Plain HTTP JSON call to the emulator's control surface; raises on an unexpected status."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(f"{EMULATOR_URL}{path}", data=data, method=method)
    if data is not None:
        request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            status, text = response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        status, text = error.code, error.read().decode()
    if status not in expected:
        raise RuntimeError(f"{method} {path} answered {status}: {text[:200]}")
    return json.loads(text) if text else None


clients: list[SyncGoTrueClient] = []


def new_client(seen: list[httpx.Response] | None = None) -> SyncGoTrueClient:
    """A fresh client with its own storage. With `seen`, every response the client receives
    is appended to it (the client's own view of the exchange)."""
    http_client = None
    if seen is not None:
        http_client = httpx.Client(event_hooks={"response": [seen.append]})
    client = SyncGoTrueClient(
        url=GOTRUE_URL,
        headers={"apikey": ANON_KEY, "Authorization": f"Bearer {ANON_KEY}"},
        auto_refresh_token=False,
        persist_session=True,
        storage=SyncMemoryStorage(),
        http_client=http_client,
    )
    clients.append(client)
    return client


def close_clients() -> None:
    """Stops every client's timers and connections."""
    for client in clients:
        try:
            client.close()
        except Exception:  # noqa: BLE001 - closing is best effort
            pass


def sign_in(client: SyncGoTrueClient, email: str = DEMO_EMAIL, password: str = DEMO_PASSWORD):
    response = client.sign_in_with_password({"email": email, "password": password})
    if response.session is None:
        raise RuntimeError("sign_in_with_password returned no session")
    return response.session


def refresh_error(client: SyncGoTrueClient, token: str | None = None) -> tuple[Any, BaseException | None]:
    """refresh_session, returning (session, None) or (None, the exception the client raised)."""
    try:
        return client.refresh_session(token).session, None
    except AuthError as error:
        return None, error


def is_already_used(error: BaseException | None) -> bool:
    return (
        isinstance(error, AuthApiError)
        and error.code == "refresh_token_already_used"
        and error.status == 400
    )


def scenario(name: str, body: Callable[[], None]) -> None:
    """Runs one scenario; an exception becomes a failed check named after it."""
    try:
        body()
    except Exception as error:  # noqa: BLE001 - reported, never swallowed silently
        report(name, False, f"scenario threw: {describe(error)}")
