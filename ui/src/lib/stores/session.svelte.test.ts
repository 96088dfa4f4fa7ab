import { afterEach, describe, expect, it } from "vitest";
import { clearMocks, mockIPC } from "@tauri-apps/api/mocks";
import type { AuthEventKind, LogItem, SessionView } from "../types";
import { LiveLog } from "../live-log.svelte";
import { SessionStore } from "./session.svelte";

afterEach(() => clearMocks());

const session = (fingerprint: string): SessionView => ({
  user: { id: "5a3f7c1e", email: "ada@example.com", phone: "", role: "authenticated", isAnonymous: false, newEmail: null, emailChangeSentAt: null },
  sessionId: "0d9c8b7a",
  expiresAt: 1_714_575_600,
  issuedAt: 1_714_572_000,
  tokenType: "bearer",
  header: { alg: "ES256" },
  claims: { sub: "5a3f7c1e" },
  accessTokenFingerprint: `at:${fingerprint}`,
  refreshTokenFingerprint: `rt:${fingerprint}`,
  refreshTokenShape: { format: "legacy" },
  clients: [],
});

let seq = 0;
const at = "2024-05-01T14:02:11.000Z";
const event = (kind: AuthEventKind, s: SessionView | null): LogItem => ({
  type: "event",
  seq: ++seq,
  at,
  event: { kind, previous: null, at, reason: null, exchangeId: null, causeLabel: null, session: s, rejection: null },
});
const clock = (offsetMs: number): LogItem => ({ type: "clock", seq: ++seq, at, offsetMs });
const profile = (): LogItem => ({ type: "profile", seq: ++seq, at, profile: "demo" });

const rejected = (s: SessionView): LogItem => ({
  type: "event",
  seq: ++seq,
  at,
  event: {
    kind: "REFRESH_REJECTED",
    previous: "INITIAL_SESSION",
    at,
    reason: "refresh_token_not_found",
    exchangeId: null,
    causeLabel: null,
    session: s,
    rejection: {
      code: "refresh_token_not_found",
      status: 400,
      message: "Invalid Refresh Token: Refresh Token Not Found",
      accessTokenExpiresAt: s.expiresAt,
      refreshTokenFingerprint: s.refreshTokenFingerprint,
      text: "refresh token rejected: refresh_token_not_found; …",
    },
  },
});

describe("SessionStore and a rejected refresh token", () => {
  it("keeps the session, marks it, and lifts the mark on a new token or the session's end", () => {
    const store = new SessionStore();
    store.receive(event("INITIAL_SESSION", session("a")));
    store.receive(rejected(session("a")));
    expect(store.session?.refreshTokenFingerprint).toBe("rt:a");
    expect(store.rejection?.code).toBe("refresh_token_not_found");
    store.receive(event("USER_UPDATED", session("a")));
    expect(store.rejection, "the same refresh token: still rejected").not.toBeNull();
    store.receive(event("TOKEN_REFRESHED", session("b")));
    expect(store.rejection).toBeNull();
    store.receive(rejected(session("b")));
    store.receive(event("SIGNED_OUT", null));
    expect(store.rejection).toBeNull();
    expect(store.session).toBeNull();
  });

  it("takes a standing mark from INITIAL_SESSION (a window that subscribes later)", () => {
    const store = new SessionStore();
    const marked = rejected(session("a"));
    if (marked.type !== "event") throw new Error("an event");
    store.receive({ ...marked, event: { ...marked.event, kind: "INITIAL_SESSION", previous: null } });
    expect(store.rejection?.code).toBe("refresh_token_not_found");
    expect(store.session?.refreshTokenFingerprint).toBe("rt:a");
  });

  it("End it now asks the app and waits for SIGNED_OUT from the log", async () => {
    const calls: string[] = [];
    mockIPC((cmd) => {
      calls.push(cmd);
      return null;
    });
    const store = new SessionStore();
    store.receive(rejected(session("a")));
    await store.endSession();
    expect(calls).toEqual(["auth_end_session"]);
    expect(store.session, "still there until the log says SIGNED_OUT").not.toBeNull();
  });
});

describe("SessionStore.receive", () => {
  it("takes the session from auth events and keeps every row in the log", () => {
    const store = new SessionStore();
    store.receive(event("INITIAL_SESSION", session("a")));
    store.receive(event("TOKEN_REFRESHED", session("b")));
    expect(store.session?.refreshTokenFingerprint).toBe("rt:b");
    store.receive(event("SIGNED_OUT", null));
    expect(store.session).toBeNull();
    expect(store.items.map((i) => i.type === "event" && i.event.kind)).toEqual([
      "INITIAL_SESSION",
      "TOKEN_REFRESHED",
      "SIGNED_OUT",
    ]);
  });

  it("applies the server's clock offset without logging it, and forgets it with the profile", () => {
    const store = new SessionStore();
    store.receive(clock(60_000));
    expect(store.offsetMs).toBe(60_000);
    store.receive(clock(1_500)); // under Date's one-second resolution: noise
    expect(store.offsetMs).toBe(0);
    store.receive(clock(-5_000));
    expect(store.items).toHaveLength(0);
    store.refreshError = { kind: "api", message: "boom" };
    store.receive(profile());
    expect(store.offsetMs).toBe(0);
    expect(store.refreshError).toBeNull();
    expect(store.items).toHaveLength(1);
  });

  it("clears a refresh error on a new session, but not on SIGNED_OUT", () => {
    const store = new SessionStore();
    store.refreshError = { kind: "api", message: "boom" };
    store.receive(event("SIGNED_OUT", null));
    expect(store.refreshError).not.toBeNull();
    store.receive(event("SIGNED_IN", session("c")));
    expect(store.refreshError).toBeNull();
  });

  it("takes the session at once and leaves the log's display to the next frame", () => {
    const frames: (() => void)[] = [];
    const store = new SessionStore(new LiveLog(10, (work) => frames.push(work)));
    const version = store.log.version;
    store.receive(event("INITIAL_SESSION", session("a")));
    store.receive(event("TOKEN_REFRESHED", session("b")));
    expect(store.session?.refreshTokenFingerprint, "the session follows every item in order").toBe("rt:b");
    expect(store.items).toHaveLength(2);
    expect(frames, "one frame for the batch").toHaveLength(1);
    expect(store.log.version).toBe(version);
    frames.shift()!();
    expect(store.log.version).toBe(version + 1);
    store.clearLog();
    expect(store.items).toEqual([]);
  });
});

describe("SessionStore.refresh", () => {
  it("asks the engine, is busy while it waits, and shows why it failed", async () => {
    const store = new SessionStore();
    const calls: string[] = [];
    let fail = false;
    mockIPC((cmd) => {
      calls.push(cmd);
      if (fail) throw { kind: "api", message: "Service Unavailable", code: null, status: 503 };
      return { session: session("d"), joined: false };
    });

    await store.refresh(); // no session: nothing to refresh
    expect(calls).toEqual([]);

    store.receive(event("INITIAL_SESSION", session("a")));
    const pending = store.refresh();
    expect(store.busy).toBe(true);
    await pending;
    expect(store.busy).toBe(false);
    expect(calls).toEqual(["session_refresh"]);
    expect(store.session?.refreshTokenFingerprint).toBe("rt:a"); // the new one comes through the log

    fail = true;
    await store.refresh();
    expect(store.refreshError).toMatchObject({ kind: "api", status: 503 });
    expect(store.busy).toBe(false);
  });
});

describe("SessionStore, a password recovery", () => {
  it("asks for a new password from PASSWORD_RECOVERY until the new password is accepted", () => {
    const store = new SessionStore();
    store.receive(event("INITIAL_SESSION", null));
    expect(store.recovery).toBe(false);
    store.receive(event("PASSWORD_RECOVERY", session("a")));
    expect(store.recovery).toBe(true);
    store.receive(event("TOKEN_REFRESHED", session("b")));
    expect(store.recovery, "a refresh is still the recovery session").toBe(true);
    store.receive(event("USER_UPDATED", session("b")));
    expect(store.recovery, "an update (an email change, say) is not the new password").toBe(true);
    store.passwordSet();
    expect(store.recovery).toBe(false);
  });

  it("does not pass the recovery on to another session (a paste refreshed on arrival)", () => {
    const store = new SessionStore();
    store.receive(event("PASSWORD_RECOVERY", session("a")));
    const pasted = { ...session("p"), sessionId: "another-session", user: { ...session("p").user, id: "another-user" } };
    store.receive(event("TOKEN_REFRESHED", pasted));
    expect(store.recovery, "another user's session").toBe(false);
    store.receive(event("USER_UPDATED", pasted));
    expect(store.recovery).toBe(false);
  });

  it("stops asking when the session ends, another signs in, or the profile changes", () => {
    for (const end of [event("SIGNED_OUT", null), event("SIGNED_IN", session("c")), profile()]) {
      const store = new SessionStore();
      store.receive(event("PASSWORD_RECOVERY", session("a")));
      store.receive(end);
      expect(store.recovery, end.type === "event" ? end.event.kind : end.type).toBe(false);
    }
  });
});

describe("SessionStore.forget (after Reset all data)", () => {
  it("drops everything shown before the reset and keeps what the reopened profile sent since", () => {
    const store = new SessionStore();
    const old = session("old");
    store.receive(event("SIGNED_IN", old));
    store.receive(event("PASSWORD_RECOVERY", old));
    store.receive(rejected(old));
    store.receive(clock(4_000));
    store.refreshError = { kind: "network", message: "offline" };
    expect(store.recovery && store.rejection !== null).toBe(true);

    const logFrom = seq + 1;
    const fresh = [profile(), event("SIGNED_IN", session("new"))];
    fresh.forEach(store.receive);
    store.forget(logFrom);

    expect(store.items).toEqual(fresh);
    expect(store.session?.refreshTokenFingerprint).toBe("rt:new");
    expect(store.rejection).toBeNull();
    expect(store.recoverySessionId).toBeNull();
    expect(store.refreshError).toBeNull();
    expect(store.offsetMs).toBe(0);

    // Nothing sent since (no profile opened): no session card at all.
    store.forget(seq + 1);
    expect(store.items).toEqual([]);
    expect(store.session).toBeNull();
  });
});
