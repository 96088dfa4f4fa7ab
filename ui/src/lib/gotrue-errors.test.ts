import { describe, expect, it } from "vitest";
import { explainError } from "./gotrue-errors";

describe("explainError", () => {
  it("explains GoTrue's codes and keeps the code", () => {
    const reused = explainError({
      kind: "api",
      message: "Invalid Refresh Token: Already Used",
      code: "refresh_token_already_used",
      status: 400,
    });
    expect(reused.title).toBe("Refresh token already used");
    expect(reused.meaning).toMatch(/reuse interval/);
    expect(reused.meaning).toMatch(/revokes the whole session family/);
    expect(reused.code).toBe("refresh_token_already_used");

    expect(explainError({ kind: "api", message: "x", code: "refresh_token_not_found", status: 400 }).meaning).toMatch(
      /sign in again/,
    );
    expect(explainError({ kind: "api", message: "x", code: "session_not_found", status: 403 }).title).toBe(
      "Session not found",
    );
    expect(explainError({ kind: "api", message: "x", code: "invalid_credentials", status: 400 }).title).toBe(
      "Wrong email or password",
    );
    expect(explainError({ kind: "api", message: "x", code: "over_request_rate_limit", status: 429 }).meaning).toMatch(
      /429/,
    );
    expect(explainError({ kind: "api", message: "x", code: "anonymous_provider_disabled", status: 422 }).meaning).toMatch(
      /signInAnonymously/,
    );
  });

  it("covers every code the app is expected to meet", () => {
    const codes = [
      "refresh_token_not_found",
      "refresh_token_already_used",
      "session_expired",
      "session_not_found",
      "user_banned",
      "invalid_credentials",
      "over_request_rate_limit",
      "validation_failed",
      "bad_jwt",
      "no_authorization",
      "user_not_found",
      "anonymous_provider_disabled",
      "signup_disabled",
      "email_not_confirmed",
      "weak_password",
      "request_timeout",
      "unexpected_failure",
      "manual_linking_disabled",
      "single_identity_not_deletable",
      "identity_not_found",
      "identity_already_exists",
      "current_password_required",
      "current_password_invalid",
    ];
    for (const code of codes) {
      const explained = explainError({ kind: "api", message: "m", code, status: 400 });
      expect(explained.title, code).not.toBe("Bad request");
      expect(explained.meaning, code).not.toContain("Auth's code");
      expect(explained.code).toBe(code);
    }
  });

  it("explains the app's own kinds, which have no code", () => {
    const offline = explainError({ kind: "retryableFetch", message: "connection refused", status: 0 });
    expect(offline.title).toBe("Auth server unreachable");
    expect(offline.meaning).toMatch(/session is kept/);
    expect(offline.code).toBeNull();
    expect(explainError({ kind: "sessionMissing", message: "Auth session missing!" }).title).toBe("Auth session missing!");
    expect(explainError({ kind: "storage", message: "no keyring" }).meaning).toMatch(/keyring/);
    expect(explainError({ kind: "refreshDiscarded", message: "m" }).meaning).toMatch(/in flight/);
    // A save refused by a closed profile is not a keyring failure, nor said to be one.
    const closed = explainError({ kind: "profileClosed", message: "m" });
    expect(closed.title).toBe("Profile closed during the request");
    expect(closed.meaning).toMatch(/removed or reset/);
    expect(closed.meaning).not.toMatch(/unlocked/);
    expect(explainError({ kind: "profileBusy", message: "m" }).meaning).toMatch(/not removed/);
    for (const kind of ["invalidInput", "invalidTokenResponse", "redirected", "responseTooLarge", "notReady", "denied", "internal", "unknown"]) {
      expect(explainError({ kind, message: "m" }).title, kind).not.toBe("Something failed");
    }
  });

  it("describes a retryable failure that had an answer by its status", () => {
    const down = explainError({ kind: "retryableFetch", message: "the auth server failed temporarily (HTTP 503)", status: 503 });
    expect(down.title).toBe("Auth unavailable");
    expect(down.meaning).toMatch(/session is kept/);
    const gateway = explainError({ kind: "retryableFetch", message: "m", status: 502 });
    expect(gateway.title).toBe("Gateway error");
  });

  it("falls back on the status, then on a generic explanation", () => {
    expect(explainError({ kind: "api", message: "m", status: 503 }).title).toBe("Auth unavailable");
    expect(explainError({ kind: "api", message: "m", status: 502 }).title).toBe("Gateway error");
    expect(explainError({ kind: "api", message: "m", status: 500 }).meaning).toMatch(/500/);
    expect(explainError({ kind: "api", message: "m", status: 401 }).title).toBe("Not authenticated");
    expect(explainError({ kind: "api", message: "m", status: 403 }).title).toBe("Forbidden");
    expect(explainError({ kind: "api", message: "m", status: 429 }).title).toBe("Too many requests");
    expect(explainError({ kind: "api", message: "m", status: 418 }).title).toBe("Request refused");
    expect(explainError({ kind: "api", message: "m" }).title).toBe("Something failed");
  });

  it("mentions a code it does not know", () => {
    const unknownCode = explainError({ kind: "api", message: "m", code: "brand_new_code", status: 400 });
    expect(unknownCode.title).toBe("Bad request");
    expect(unknownCode.meaning).toContain("brand_new_code");
    expect(unknownCode.code).toBe("brand_new_code");
    const bare = explainError({ kind: "api", message: "m", code: "brand_new_code" });
    expect(bare.meaning).toContain("brand_new_code");
  });
});
