import { describe, expect, it } from "vitest";
import { canonical, countChanges, diffClaims } from "./claims-diff";

const base = {
  sub: "u1",
  session_id: "s1",
  aal: "aal1",
  amr: [{ method: "password", timestamp: 1 }],
  role: "authenticated",
  user_metadata: { plan: "free" },
  app_metadata: { provider: "email" },
  iat: 100,
  exp: 3700,
  email: "a@example.com",
};

describe("diffClaims", () => {
  it("dims iat and exp, highlights aal, amr and metadata, keeps the rest unchanged", () => {
    const next = {
      ...base,
      iat: 200,
      exp: 3800,
      aal: "aal2",
      amr: [
        { method: "totp", timestamp: 150 },
        { method: "password", timestamp: 1 },
      ],
      user_metadata: { plan: "pro" },
    };
    const byName = Object.fromEntries(diffClaims(base, next).map((c) => [c.name, c]));
    expect(byName.iat!.kind).toBe("expected");
    expect(byName.exp!.kind).toBe("expected");
    expect(byName.aal!.kind).toBe("notable");
    expect(byName.amr!.kind).toBe("notable");
    expect(byName.user_metadata).toMatchObject({ kind: "notable", a: '{"plan":"free"}', b: '{"plan":"pro"}' });
    expect(byName.app_metadata!.kind).toBe("same");
    expect(byName.sub!.kind).toBe("same");
    expect(byName.email!.kind).toBe("same");
    expect(countChanges(diffClaims(base, next))).toEqual({ same: 5, expected: 2, notable: 3, wrong: 0, changed: 0 });
  });

  it("flags a changed sub or session_id as wrong, with why", () => {
    const changes = diffClaims(base, { ...base, sub: "u2", session_id: "s2" });
    const wrong = changes.filter((c) => c.kind === "wrong");
    expect(wrong.map((c) => c.name)).toEqual(["session_id", "sub"]);
    expect(wrong[0]!.note).toMatch(/different sessions/);
    expect(wrong[1]!.note).toMatch(/user changed/);
    // The ones that matter come first.
    expect(changes[0]!.kind).toBe("wrong");
  });

  it("sees a claim that only one token has, and ignores the order of object keys", () => {
    const changes = diffClaims({ ...base, is_anonymous: false }, { ...base, user_metadata: { plan: "free" }, extra: 1 });
    const byName = Object.fromEntries(changes.map((c) => [c.name, c]));
    expect(byName.is_anonymous).toMatchObject({ kind: "changed", a: "false", b: null });
    expect(byName.extra).toMatchObject({ kind: "changed", a: null, b: "1" });
    expect(canonical({ b: 1, a: { d: 2, c: 3 } })).toBe(canonical({ a: { c: 3, d: 2 }, b: 1 }));
    expect(byName.user_metadata!.kind).toBe("same");
  });
});
