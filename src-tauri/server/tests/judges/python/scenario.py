"""Judge: drives a running local-gotrue server with the official `supabase_auth` Python
client (its synchronous client) and checks what the client itself reports.

Environment: GOTRUE_URL, ANON_KEY, EMULATOR_URL, DEMO_EMAIL, DEMO_PASSWORD.
Output: one JSON object per check on stdout, then a closing "N passed, M failed" line.
Exit status 0 only when no check failed. See ../README.md.
"""

from __future__ import annotations

import json
import secrets
import time
from typing import Any

from supabase_auth.errors import (
    AuthApiError,
    AuthError,
    AuthRetryableError,
    AuthSessionMissingError,
)

from judge import (
    DEMO_EMAIL,
    DEMO_PASSWORD,
    close_clients,
    describe,
    emulator,
    finish,
    is_already_used,
    new_client,
    refresh_error,
    report,
    scenario,
    short,
    sign_in,
)

REFRESH_ROUTE = "POST /token?grant_type=refresh_token"


def random_email(tag: str) -> str:
    return f"judge-py-{tag}-{secrets.token_hex(5)}@example.com"


# ---------------------------------------------------------------------------------------------


def s1_password_sign_in() -> None:
    client = new_client()
    try:
        response = client.sign_in_with_password({"email": DEMO_EMAIL, "password": DEMO_PASSWORD})
    except AuthError as error:
        report("password_sign_in", False, describe(error))
        return
    session = response.session
    stored = client.get_session()
    ok = (
        session is not None
        and (session.user.email or "").lower() == DEMO_EMAIL.lower()
        and isinstance(session.refresh_token, str)
        and len(session.refresh_token) == 12
        and bool(session.access_token)
        and stored is not None
        and stored.refresh_token == session.refresh_token
    )
    report(
        "password_sign_in",
        ok,
        f"session={session is not None} email={session.user.email if session else None} "
        f"refresh_token={short(session.refresh_token if session else None)} "
        f"stored_in_client={stored is not None and session is not None and stored.refresh_token == session.refresh_token}",
    )


def s2_refresh_rotates() -> None:
    client = new_client()
    first = sign_in(client)
    # Access tokens carry second-resolution iat/exp and no jti (as GoTrue's): wait past the
    # second so the new token is necessarily a different string.
    time.sleep(1.1)
    nxt, error = refresh_error(client)
    stored = client.get_session()
    ok = (
        error is None
        and nxt is not None
        and nxt.access_token != first.access_token
        and nxt.refresh_token != first.refresh_token
        and len(nxt.refresh_token) == 12
        and isinstance(nxt.expires_at, int)
        and nxt.expires_at > int(time.time())
        and stored is not None
        and stored.refresh_token == nxt.refresh_token
    )
    report(
        "refresh_rotates",
        ok,
        describe(error)
        if error
        else f"refresh {short(first.refresh_token)} -> {short(nxt.refresh_token)}, "
        f"access token changed={nxt.access_token != first.access_token}, expires_at={nxt.expires_at}, "
        f"client stored the new session={stored is not None and stored.refresh_token == nxt.refresh_token}",
    )


def s3_parent_of_active() -> None:
    client = new_client()
    rt0 = sign_in(client).refresh_token
    rt1 = client.refresh_session().session.refresh_token
    got, error = refresh_error(client, rt0)
    got_token = got.refresh_token if got else None
    report(
        "parent_of_active_returns_active",
        error is None and got_token == rt1 and rt1 != rt0,
        f"refresh with the parent failed: {describe(error)}"
        if error
        else f"rt0={short(rt0)} rt1(active)={short(rt1)}; refresh with rt0 returned {short(got_token)} "
        f"(same as active: {got_token == rt1})",
    )


def s4_reuse_inside_interval() -> None:
    client = new_client()
    a0 = sign_in(client).refresh_token
    a1 = client.refresh_session().session.refresh_token
    a2 = client.refresh_session().session.refresh_token
    got, error = refresh_error(client, a0)
    token = got.refresh_token if got else None
    ok = error is None and token is not None and token not in (a0, a1, a2) and len(token) == 12
    report(
        "reuse_inside_interval",
        ok,
        f"refresh with grandparent a0 failed: {describe(error)}"
        if error
        else f"a0={short(a0)} a1={short(a1)} a2={short(a2)}; refresh with a0 returned new token {short(token)}",
    )


def s5_reuse_outside_interval() -> None:
    client = new_client()
    b0 = sign_in(client).refresh_token
    b1 = client.refresh_session().session.refresh_token
    b2 = client.refresh_session().session.refresh_token
    try:
        emulator("PUT", "/clock", {"skew_seconds": 30})
        got, error = refresh_error(client, b0)
        report(
            "reuse_outside_interval.b0",
            is_already_used(error) and got is None,
            f"clock +30 s; refresh with b0={short(b0)}: {describe(error)}",
        )
        # GoTrue's RevokeTokenFamily also touches updated_at of the token it revokes (b2, the
        # active one), which re-opens b2's own reuse interval for 10 s. Step past that before
        # presenting the rest of the family.
        emulator("PUT", "/clock", {"skew_seconds": 45})
        for label, token in (("b1", b1), ("b2", b2)):
            got, error = refresh_error(new_client(), token)
            report(
                f"reuse_outside_interval.{label}",
                is_already_used(error) and got is None,
                f"clock +45 s (past the family revocation's interval); refresh with {label}={short(token)}: "
                f"{describe(error)}",
            )
    finally:
        emulator("PUT", "/clock", {"skew_seconds": 0})


def s6_sign_out() -> None:
    email = random_email("signout")
    password = "judge-password-1"
    emulator("POST", "/users", {"email": email, "password": password}, expected=(201,))
    c1 = new_client()
    session = sign_in(c1, email, password)
    old_refresh, old_access = session.refresh_token, session.access_token
    sign_out_error = None
    try:
        c1.sign_out({"scope": "global"})
    except AuthError as error:
        sign_out_error = error
    after = c1.get_session()
    report(
        "sign_out.global",
        sign_out_error is None and after is None,
        f"sign_out({{'scope': 'global'}}): {describe(sign_out_error)}; client session cleared={after is None}",
    )

    c2 = new_client()
    got, error = refresh_error(c2, old_refresh)
    report(
        "sign_out.refresh_not_found",
        isinstance(error, AuthApiError)
        and error.code == "refresh_token_not_found"
        and error.status == 400
        and got is None,
        f"refresh with signed-out token {short(old_refresh)}: {describe(error)}",
    )

    user_error: BaseException | None = None
    user = None
    try:
        user = c2.get_user(old_access)
    except AuthError as error:
        user_error = error
    # supabase_auth's handle_exception has no special case for session_not_found (auth-js turns
    # it into AuthSessionMissingError): get_user raises a plain AuthApiError carrying the
    # server's 403 and code.
    report(
        "sign_out.get_user_session_missing",
        isinstance(user_error, AuthApiError)
        and not isinstance(user_error, AuthSessionMissingError)
        and user_error.code == "session_not_found"
        and user_error.status == 403
        and user is None,
        f"get_user(old access token {short(old_access)}): {describe(user_error)} "
        "(supabase_auth raises AuthApiError(403, session_not_found); unlike auth-js it does not map "
        "it to AuthSessionMissingError)",
    )


def s7_retry_503() -> None:
    client = new_client()
    before = sign_in(client)
    try:
        emulator("DELETE", "/requests")
        emulator("POST", "/faults", {"count": 3, "status": 503, "path": "/token"}, expected=(201,))
        # refresh_session() goes straight to one POST /token: supabase_auth retries retryable
        # errors only inside its auto-refresh timer, never in an explicit refresh_session().
        got, error = refresh_error(client)
        first_count = (emulator("GET", "/requests").get("routes") or {}).get(REFRESH_ROUTE, 0)
        kept = client.get_session()
        report(
            "retry_503.no_internal_retry",
            isinstance(error, AuthRetryableError)
            and getattr(error, "status", None) == 503
            and got is None
            and first_count == 1
            and kept is not None
            and kept.refresh_token == before.refresh_token,
            f"refresh_session() raised {describe(error)} after {first_count} request(s); "
            f"session kept in storage={kept is not None and kept.refresh_token == before.refresh_token}",
        )
        # The caller retries, with auth-js's backoff (200, 400, 800 ms), on the retryable class.
        attempts = 1
        raised = [type(error).__name__ if error else "none"]
        while error is not None and isinstance(error, AuthRetryableError) and attempts < 4:
            time.sleep(0.2 * 2 ** (attempts - 1))
            got, error = refresh_error(client)
            attempts += 1
            raised.append(type(error).__name__ if error else "session")
        counts = emulator("GET", "/requests")
        k = (counts.get("routes") or {}).get(REFRESH_ROUTE, 0)
        report(
            "retry_503.recovers",
            error is None and got is not None and got.refresh_token != before.refresh_token and k == 4,
            f"caller-driven retries: {' -> '.join(raised)}; {REFRESH_ROUTE} seen {k} times "
            f"(expected 4); total={counts.get('total')}"
            + (f"; last error {describe(error)}" if error else f"; new token {short(got.refresh_token)}"),
        )
    finally:
        emulator("DELETE", "/faults")


def s8_rate_limit() -> None:
    client = new_client()
    sign_in(client)
    hit_at = None
    other_at = None
    last_error: BaseException | None = None
    try:
        # A burst of 30 refilled at one request per 5 minutes: the 31st refresh is refused
        # however slow the machine (GoTrue's 150 per 5 minutes would refill one every 2 s).
        emulator("PUT", "/rate-limit", {"enabled": True, "per_five_minutes": 1, "burst": 30})
        for i in range(1, 41):
            _, error = refresh_error(client)
            if error is None:
                continue
            last_error = error
            if (
                isinstance(error, AuthApiError)
                and error.status == 429
                and error.code == "over_request_rate_limit"
            ):
                hit_at = i
            else:
                other_at = i
            break
    finally:
        emulator("PUT", "/rate-limit", {"enabled": False})
    if hit_at is not None:
        detail = f"refresh #{hit_at} raised {describe(last_error)}"
    elif other_at is not None:
        detail = f"unexpected error at refresh #{other_at}: {describe(last_error)}"
    else:
        detail = "no 429 within 40 refreshes"
    report("rate_limit_429", hit_at == 31, detail)


def s9_invariants() -> None:
    violations = emulator("GET", "/invariants").get("violations")
    ok = isinstance(violations, list) and not violations
    report("invariants", ok, "no violations" if ok else json.dumps(violations))


def main() -> None:
    # Start from a known emulator state (a previous judge may have left something behind).
    emulator("PUT", "/clock", {"skew_seconds": 0})
    emulator("DELETE", "/faults")
    emulator("PUT", "/rate-limit", {"enabled": False})

    scenario("password_sign_in", s1_password_sign_in)
    scenario("refresh_rotates", s2_refresh_rotates)
    scenario("parent_of_active_returns_active", s3_parent_of_active)
    scenario("reuse_inside_interval", s4_reuse_inside_interval)
    scenario("reuse_outside_interval", s5_reuse_outside_interval)
    scenario("sign_out", s6_sign_out)
    scenario("retry_503", s7_retry_503)
    scenario("rate_limit_429", s8_rate_limit)
    # Issue 11 (session ending, refresh-first sign-out): the block before the entry point.
    for name, body in SESSION_ENDING_SCENARIOS:
        scenario(name, body)
    scenario("key_rotation", s_key_rotation)
    scenario("invariants", s9_invariants)



# ---- Issue 11, items 5 and 6: how a session ends, and sign-out with an expired access token ----
# What supabase_auth does: a rejected refresh raises and the session stays stored, whether or not
# its access token still works (unlike current auth-js, it never removes it on a refresh
# failure); sign_out runs get_session first, so an expired access token is refreshed before
# /logout and the server session is gone.


def own_user(tag: str) -> tuple[str, str, str]:
    email = random_email(tag)
    password = "judge-password-1"
    user = emulator("POST", "/users", {"email": email, "password": password}, expected=(201,))
    return email, password, user["id"]


def server_sessions_of(user_id: str) -> list[Any]:
    return [s for s in emulator("GET", "/sessions") if s["user_id"] == user_id]


def session_id_of(session: Any) -> str:
    import base64

    payload = session.access_token.split(".")[1]
    payload += "=" * (-len(payload) % 4)
    return json.loads(base64.urlsafe_b64decode(payload))["session_id"]


def sign_in_expired(client: SyncGoTrueClient, email: str, password: str):
    """Signs in on a server clock two hours behind: the access token is already expired."""
    emulator("PUT", "/clock", {"skew_seconds": -7200})
    try:
        return sign_in(client, email, password)
    finally:
        emulator("PUT", "/clock", {"skew_seconds": 0})


def watch_events(client: SyncGoTrueClient) -> list[str]:
    events: list[str] = []
    client.on_auth_state_change(lambda event, _session: events.append(event))
    return events


def s_rejected_refresh_keeps_a_valid_session() -> None:
    email, password, _ = own_user("rejected-valid")
    client = new_client()
    events = watch_events(client)
    session = sign_in(client, email, password)
    emulator("DELETE", f"/sessions/{session_id_of(session)}")
    _, error = refresh_error(client)
    kept = client.get_session()
    ok = (
        isinstance(error, AuthApiError)
        and error.code == "refresh_token_not_found"
        and kept is not None
        and kept.refresh_token == session.refresh_token
        and "SIGNED_OUT" not in events
    )
    report(
        "rejected_refresh_keeps_a_valid_session",
        ok,
        f"refresh: {describe(error)}; session kept={kept is not None and kept.refresh_token == session.refresh_token}; "
        f"events={','.join(events)}",
    )


def s_rejected_refresh_of_an_expired_session() -> None:
    email, password, _ = own_user("rejected-expired")
    client = new_client()
    events = watch_events(client)
    session = sign_in_expired(client, email, password)
    emulator("DELETE", f"/sessions/{session_id_of(session)}")
    errors = []
    for _ in range(2):
        try:
            client.get_session()
            errors.append(None)
        except AuthError as error:
            errors.append(error)
    ok = (
        all(isinstance(e, AuthApiError) and e.code == "refresh_token_not_found" for e in errors)
        and "SIGNED_OUT" not in events
    )
    report(
        "rejected_refresh_of_an_expired_session",
        ok,
        f"get_session twice: {'; '.join(describe(e) for e in errors)}; events={','.join(events)} "
        "(the client keeps the dead session and raises on every get_session)",
    )


def s_sign_out_refreshes_an_expired_access_token() -> None:
    email, password, user_id = own_user("signout-expired")
    client = new_client()
    events = watch_events(client)
    sign_in_expired(client, email, password)
    before = len(server_sessions_of(user_id))
    sign_out_error = None
    try:
        client.sign_out({"scope": "global"})
    except AuthError as error:
        sign_out_error = error
    after = len(server_sessions_of(user_id))
    ok = (
        sign_out_error is None
        and before == 1
        and after == 0
        and "TOKEN_REFRESHED" in events
        and events[-1] == "SIGNED_OUT"
    )
    report(
        "sign_out_refreshes_an_expired_access_token",
        ok,
        f"sign_out: {describe(sign_out_error)}; server sessions before={before} after={after}; "
        f"events={','.join(events)}",
    )


SESSION_ENDING_SCENARIOS = [
    ("rejected_refresh_keeps_a_valid_session", s_rejected_refresh_keeps_a_valid_session),
    ("rejected_refresh_of_an_expired_session", s_rejected_refresh_of_an_expired_session),
    ("sign_out_refreshes_an_expired_access_token", s_sign_out_refreshes_an_expired_access_token),
]

# ---- end of the issue 11 block ----


# ---- Issue 11, item 7: get_claims after a signing-key rotation refetches the JWKS ----


def s_key_rotation() -> None:
    seen: list[Any] = []
    client = new_client(seen)
    jwks_fetches = lambda: sum(1 for r in seen if r.request.url.path.endswith("/.well-known/jwks.json"))  # noqa: E731
    user_calls = lambda: sum(1 for r in seen if r.request.url.path.endswith("/user"))  # noqa: E731
    try:
        first = emulator("POST", "/signing-keys/rotate", {"algorithm": "es256"})
        before = sign_in(client)
        claims = client.get_claims(before.access_token)
        report(
            "key_rotation.first_key_verifies",
            claims is not None and claims["headers"]["kid"] == first["kid"] and jwks_fetches() == 1 and user_calls() == 0,
            f"kid={claims and claims['headers'].get('kid')} (rotated in {first['kid']}); JWKS fetched {jwks_fetches()} times",
        )
        second = emulator("POST", "/signing-keys/rotate", {"algorithm": "es256"})
        after = sign_in(client)
        claims = client.get_claims(after.access_token)
        report(
            "key_rotation.new_key_verifies_after_refetch",
            claims is not None and claims["headers"]["kid"] == second["kid"] != first["kid"] and jwks_fetches() == 2,
            f"kid={claims and claims['headers'].get('kid')}; JWKS fetched {jwks_fetches()} times "
            f"(a refetch for the unknown kid), GET /user {user_calls()} times",
        )
    finally:
        emulator("POST", "/signing-keys/rotate", {"algorithm": "hs256"})

if __name__ == "__main__":
    try:
        main()
    except Exception as crash:  # noqa: BLE001
        report("judge", False, f"judge crashed: {describe(crash)}")
    finally:
        close_clients()
    finish()
