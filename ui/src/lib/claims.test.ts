import { describe, expect, it } from "vitest";
import { claimRows, explainClaim, fromNow } from "./claims";
import { localTime } from "./format";

const NOW = 1_714_572_000; // a fixed "now", unix seconds

// Shaped like what a hosted project's Auth issues after a password sign-in.
const header = { alg: "ES256", kid: "8f1c2d3e-0000-4a5b-9c8d-7e6f5a4b3c2d", typ: "JWT" };
const claims = {
  iss: "https://abcdefghijklmnop.supabase.co/auth/v1",
  sub: "5a3f7c1e-2b4d-4e6f-8a9b-0c1d2e3f4a5b",
  aud: "authenticated",
  exp: NOW + 80,
  iat: NOW - 3520,
  email: "ada@example.com",
  phone: "",
  app_metadata: { provider: "email", providers: ["email", "github"] },
  user_metadata: { full_name: "Ada" },
  role: "authenticated",
  aal: "aal1",
  amr: [{ method: "password", timestamp: NOW - 3520 }],
  session_id: "0d9c8b7a-6f5e-4d3c-2b1a-098765432100",
  is_anonymous: false,
  user_role: "editor",
};

describe("explainClaim", () => {
  it("explains the identity claims the way RLS sees them", () => {
    expect(explainClaim("sub", claims.sub)).toContain("auth.uid()");
    expect(explainClaim("sub", claims.sub)).toContain("auth.users.id");
    expect(explainClaim("iss", claims.iss)).toContain(claims.iss);
    expect(explainClaim("iss", claims.iss)).toMatch(/Auth server/);
    expect(explainClaim("aud", "authenticated")).toMatch(/key on role, not on aud/);
    expect(explainClaim("role", "authenticated")).toMatch(/signed-in user/);
    expect(explainClaim("role", "anon")).toMatch(/no user signed in/);
    expect(explainClaim("role", "service_role")).toMatch(/bypasses RLS/);
    expect(explainClaim("role", "custom_role")).toMatch(/custom role/);
  });

  it("says which metadata can be trusted", () => {
    const app = explainClaim("app_metadata", claims.app_metadata);
    expect(app).toMatch(/users cannot change it/);
    expect(app).toContain("signed up with email");
    expect(app).toContain("linked: email, github");
    expect(explainClaim("user_metadata", claims.user_metadata)).toMatch(/never trust it for authorization/);
  });

  it("explains assurance levels and methods with times", () => {
    expect(explainClaim("aal", "aal1")).toMatch(/one factor/);
    expect(explainClaim("aal", "aal2")).toMatch(/MFA/);
    const d = new Date((NOW - 3520) * 1000);
    const hhmmss = [d.getHours(), d.getMinutes(), d.getSeconds()].map((n) => String(n).padStart(2, "0")).join(":");
    expect(explainClaim("amr", claims.amr, { now: NOW })).toContain(`password at ${hhmmss}`);
    expect(explainClaim("amr", [], { now: NOW })).toMatch(/none listed/);
  });

  it("explains session, anonymous users and the signature header", () => {
    expect(explainClaim("session_id", claims.session_id)).toMatch(/auth\.sessions/);
    expect(explainClaim("session_id", claims.session_id)).toMatch(/global/);
    expect(explainClaim("is_anonymous", true)).toMatch(/signInAnonymously/);
    expect(explainClaim("is_anonymous", true)).toMatch(/linking an identity/);
    expect(explainClaim("is_anonymous", false)).toMatch(/Not anonymous/);
    expect(explainClaim("alg", "HS256")).toMatch(/shared JWT secret/);
    expect(explainClaim("alg", "ES256")).toContain("/auth/v1/.well-known/jwks.json");
    expect(explainClaim("alg", "RS256")).toMatch(/asymmetric/);
    expect(explainClaim("kid", header.kid)).toMatch(/JWKS/);
    expect(explainClaim("typ", "JWT")).toMatch(/JSON Web Token/);
    expect(explainClaim("jti", "abc")).toMatch(/Unique id/);
    expect(explainClaim("phone", "")).toMatch(/No phone/);
  });

  it("puts time claims in dates and relative words", () => {
    const exp = explainClaim("exp", NOW + 80, { now: NOW });
    expect(exp).toContain(localTime(NOW + 80));
    expect(exp).toContain(`${localTime(NOW + 80)} (in 1 minute)`);
    const expired = explainClaim("exp", NOW - 180, { now: NOW });
    expect(expired).toMatch(/^Expired/);
    expect(expired).toContain("(3 minutes ago)");
    expect(explainClaim("iat", NOW - 3520, { now: NOW })).toContain("(59 minutes ago)");
    expect(explainClaim("nbf", NOW + 30, { now: NOW })).toMatch(/rejected until then/);
    expect(explainClaim("exp", "soon", { now: NOW })).toMatch(/should be a number/);
  });

  it("falls back for claims Supabase Auth does not issue", () => {
    expect(explainClaim("user_role", "editor")).toMatch(/custom access token hook/);
    expect(explainClaim("https://hasura.io/jwt/claims", {})).toMatch(/third-party issuer/);
  });
});

describe("relative words", () => {
  it("are signed, and \"just now\" within the claims' one-second resolution", () => {
    expect(fromNow(NOW + 80, NOW)).toBe("in 1 minute");
    expect(fromNow(NOW + 45, NOW)).toBe("in 45 seconds");
    expect(fromNow(NOW - 180, NOW)).toBe("3 minutes ago");
    expect(fromNow(NOW + 3600 + 300, NOW)).toBe("in 1 hour");
    expect(fromNow(NOW - (86400 * 3 + 3600 * 4), NOW)).toBe("3 days ago");
    expect(fromNow(NOW, NOW)).toBe("just now");
    expect(fromNow(NOW + 1, NOW)).toBe("just now");
    expect(fromNow(NOW - 1, NOW)).toBe("just now");
    expect(fromNow(NOW + 2, NOW)).toBe("in 2 seconds");
  });
});

describe("claimRows", () => {
  const rows = claimRows(header, claims, NOW);

  it("lists header fields first, then claims, well-known ones in order and the rest alphabetically", () => {
    expect(rows.filter((r) => r.part === "header").map((r) => r.name)).toEqual(["alg", "typ", "kid"]);
    expect(rows.filter((r) => r.part === "payload").map((r) => r.name)).toEqual([
      "iss",
      "sub",
      "aud",
      "role",
      "exp",
      "iat",
      "email",
      "phone",
      "aal",
      "amr",
      "session_id",
      "is_anonymous",
      "app_metadata",
      "user_metadata",
      "user_role",
    ]);
    const extra = claimRows({}, { zeta: 1, alpha: 2, sub: "x" }, NOW).map((r) => r.name);
    expect(extra).toEqual(["sub", "alpha", "zeta"]);
  });

  it("shows values as text and gives time claims a human date", () => {
    const byName = new Map(rows.map((r) => [r.name, r]));
    expect(byName.get("exp")?.human).toBe(localTime(NOW + 80));
    expect(byName.get("iat")?.human).toBe(localTime(NOW - 3520));
    expect(byName.get("sub")?.human).toBeNull();
    expect(byName.get("sub")?.value).toBe(claims.sub);
    expect(byName.get("exp")?.value).toBe(String(NOW + 80));
    expect(byName.get("is_anonymous")?.value).toBe("false");
    expect(byName.get("app_metadata")?.value).toBe(JSON.stringify(claims.app_metadata));
    expect(byName.get("user_role")?.explanation).toMatch(/Custom claim/);
    expect(byName.get("alg")?.part).toBe("header");
  });
});
