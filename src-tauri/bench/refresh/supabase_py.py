"""The official Python client beside Python's own raw HTTP, against the server session-bench
started: supabase_auth `refresh_session()` and a plain httpx POST of the same refresh grant
(supabase_auth's own HTTP library, one client kept open), interleaved round by round. Prints
one JSON line: p50/p99 of each, in ms. Environment: GOTRUE_URL, ANON_KEY, DEMO_EMAIL,
DEMO_PASSWORD, ROUNDS. Run with the judges' venv (target/judges/venv)."""

from __future__ import annotations

import json
import os
import time

import httpx
from supabase_auth import SyncGoTrueClient, SyncMemoryStorage

url = os.environ["GOTRUE_URL"].rstrip("/")
key = os.environ["ANON_KEY"]
rounds = int(os.environ.get("ROUNDS", "1000"))
email, password = os.environ["DEMO_EMAIL"], os.environ["DEMO_PASSWORD"]
headers = {"apikey": key, "Authorization": f"Bearer {key}"}

client = SyncGoTrueClient(
    url=url,
    headers=headers,
    auto_refresh_token=False,
    persist_session=True,
    storage=SyncMemoryStorage(),
)
client.sign_in_with_password({"email": email, "password": password})
# The app listens to its client's events: so does the benchmark.
client.on_auth_state_change(lambda event, session: None)

http = httpx.Client()
token = http.post(
    f"{url}/token", params={"grant_type": "password"}, headers=headers,
    json={"email": email, "password": password},
).json()["refresh_token"]


def raw() -> None:
    global token
    response = http.post(
        f"{url}/token",
        params={"grant_type": "refresh_token"},
        headers={**headers, "X-Supabase-Api-Version": "2024-01-01"},
        json={"refresh_token": token},
    )
    token = response.json()["refresh_token"]


def official() -> None:
    if client.refresh_session().session is None:
        raise RuntimeError("refresh_session returned no session")


def timed(samples: list[float], work) -> None:
    started = time.perf_counter()
    work()
    samples.append((time.perf_counter() - started) * 1000)


for _ in range(100):
    raw()
    official()
raw_samples: list[float] = []
client_samples: list[float] = []
for i in range(rounds):
    if i % 2 == 0:
        timed(raw_samples, raw)
        timed(client_samples, official)
    else:
        timed(client_samples, official)
        timed(raw_samples, raw)


def pct(samples: list[float], p: float) -> float:
    ordered = sorted(samples)
    return ordered[round((len(ordered) - 1) * p)]


print(json.dumps({
    "rounds": rounds,
    "raw_p50": pct(raw_samples, 0.5),
    "raw_p99": pct(raw_samples, 0.99),
    "client_p50": pct(client_samples, 0.5),
    "client_p99": pct(client_samples, 0.99),
}))
client.close() if hasattr(client, "close") else None
