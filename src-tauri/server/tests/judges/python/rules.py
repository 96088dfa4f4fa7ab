"""Judge of GoTrue's refresh rules as supabase_auth lives with them (issue 11, items 1 and 2):
the server runs in the configuration named by JUDGE_SERVER (`legacy-no-rotation` or `v2`),
and the client's own httpx hooks show the `sb-auth-*` headers of each answer.
Output and environment as scenario.py; see ../README.md."""

from __future__ import annotations

import os

import httpx

from judge import (
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


def header(seen: list[httpx.Response], name: str) -> str | None:
    return seen[-1].headers.get(name) if seen else None


def legacy_swaps_without_rotation() -> None:
    seen: list[httpx.Response] = []
    client = new_client(seen)
    t0 = sign_in(client).refresh_token
    t1 = client.refresh_session().session.refresh_token
    report("rules.legacy_swaps_without_rotation.new_token", t1 != t0 and len(t1) == 12, f"t0={short(t0)} t1={short(t1)}")
    report(
        "rules.legacy_swaps_without_rotation.headers",
        header(seen, "sb-auth-refresh-token-reuse") == "false"
        and header(seen, "sb-auth-refresh-token-prefix") == t1[:5]
        and header(seen, "sb-auth-refresh-token-rotated") is None
        and header(seen, "sb-auth-refresh-token-reuse-cause") is None,
        f"reuse={header(seen, 'sb-auth-refresh-token-reuse')} rotated={header(seen, 'sb-auth-refresh-token-rotated')}",
    )
    t2 = client.refresh_session().session.refresh_token
    try:
        emulator("PUT", "/clock", {"skew_seconds": 30})
        _, error = refresh_error(new_client(), t0)
        report("rules.legacy_swaps_without_rotation.reuse_fails", is_already_used(error), f"clock +30 s, t0 again: {describe(error)}")
        head, error = refresh_error(client, t2)
        report(
            "rules.legacy_swaps_without_rotation.family_kept",
            error is None and head is not None and head.refresh_token != t2,
            f"the client's own t2 still refreshes: {describe(error)}",
        )
    finally:
        emulator("PUT", "/clock", {"skew_seconds": 0})


def parent_of_active() -> None:
    seen: list[httpx.Response] = []
    client = new_client(seen)
    t0 = sign_in(client).refresh_token
    t1 = client.refresh_session().session.refresh_token
    again, error = refresh_error(new_client(seen), t0)
    report("rules.parent_of_active.same_token", again is not None and again.refresh_token == t1, describe(error))
    report(
        "rules.parent_of_active.no_reuse_header",
        header(seen, "sb-auth-refresh-token-reuse") is None and header(seen, "sb-auth-refresh-token-prefix") == t1[:5],
        f"reuse={header(seen, 'sb-auth-refresh-token-reuse')}",
    )


def v2_causes() -> None:
    seen: list[httpx.Response] = []
    client = new_client(seen)
    t0 = sign_in(client).refresh_token
    t1 = client.refresh_session().session.refresh_token
    report(
        "rules.v2_causes.normal",
        header(seen, "sb-auth-refresh-token-reuse") == "false" and header(seen, "sb-auth-refresh-token-counter") == "1",
        f"counter={header(seen, 'sb-auth-refresh-token-counter')}",
    )
    again, error = refresh_error(new_client(seen), t0)
    report(
        "rules.v2_causes.joined",
        again is not None
        and again.refresh_token == t1
        and header(seen, "sb-auth-refresh-token-reuse-cause") == "concurrent-refresh,fail-to-save"
        and header(seen, "sb-auth-refresh-token-reuse") is None,
        f"cause={header(seen, 'sb-auth-refresh-token-reuse-cause')} {describe(error)}",
    )


def v2_termination() -> None:
    seen: list[httpx.Response] = []
    client = new_client(seen)
    t0 = sign_in(client).refresh_token
    client.refresh_session()
    t2 = client.refresh_session().session.refresh_token
    try:
        emulator("PUT", "/clock", {"skew_seconds": 30})
        _, error = refresh_error(new_client(seen), t0)
        report(
            "rules.v2_termination.rotated",
            is_already_used(error)
            and header(seen, "sb-auth-refresh-token-rotated") == "true"
            and header(seen, "sb-auth-session-id") is not None,
            f"{describe(error)} rotated={header(seen, 'sb-auth-refresh-token-rotated')}",
        )
        _, error = refresh_error(client, t2)
        report(
            "rules.v2_termination.session_gone",
            getattr(error, "code", None) == "refresh_token_not_found",
            f"the owner's t2 afterwards: {describe(error)}",
        )
    finally:
        emulator("PUT", "/clock", {"skew_seconds": 0})


SERVER = os.environ.get("JUDGE_SERVER")
if SERVER == "legacy-no-rotation":
    scenario("rules.legacy_swaps_without_rotation", legacy_swaps_without_rotation)
    scenario("rules.parent_of_active", parent_of_active)
elif SERVER == "v2":
    scenario("rules.v2_causes", v2_causes)
    scenario("rules.v2_termination", v2_termination)
else:
    report("environment", False, f"JUDGE_SERVER must be legacy-no-rotation or v2, not {SERVER}")
close_clients()
finish()
