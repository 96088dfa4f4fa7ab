import { describe, expect, it } from "vitest";
import { maskText, needsMask } from "./mask";

describe("maskText", () => {
  it("masks emails, UUIDs, fingerprints and short ids, keeping their shape", () => {
    const text =
      "demo@sessioninspector.local a861cdd3-be3b-4f57-b8a0-297fc989122f fp:1f75e5bbcd63 b8180836… SIGNED_IN";
    expect(maskText(text)).toBe(
      "•••@••• ••••••••-••••-••••-••••-•••••••••••• fp:•••••••••••• ••••••••… SIGNED_IN",
    );
  });

  it("masks inside JSON and longer text, and leaves what identifies nobody", () => {
    const json = '{"sub":"A861CDD3-BE3B-4F57-B8A0-297FC989122F","email":"o.brien+x@example.co.uk"}';
    expect(maskText(json)).toBe('{"sub":"••••••••-••••-••••-••••-••••••••••••","email":"•••@•••"}');
    for (const plain of ["POST /auth/v1/token?grant_type=refresh_token", "200 4.9 ms", "12/2/2026, 9:46:39 AM", "fp:"]) {
      expect(maskText(plain)).toBe(plain);
      expect(needsMask(plain)).toBe(false);
    }
  });

  it("masks JWTs and phone numbers, in text and in JSON, and not dates or timings", () => {
    const jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhYmMiLCJlbWFpbCI6ImRAZS5mIn0.sig-Nature_1";
    const masked = maskText(`Bearer ${jwt} from +44 7700 900123`);
    expect(masked).not.toContain("eyJ");
    expect(masked).not.toMatch(/\d/);
    expect(masked.startsWith("Bearer ")).toBe(true);
    expect(maskText('{"phone":"447700900123","role":"authenticated"}')).toBe(
      '{"phone":"••••••••••••","role":"authenticated"}',
    );
    for (const plain of ["Wed, 02 Dec 2026 10:00:00 +0000", "exp 1764669600", "+12 ms"]) {
      expect(maskText(plain)).toBe(plain);
    }
  });

  it("is idempotent", () => {
    const once = maskText(
      'fp:0123456789ab user 3f2e0c1a-0000-4000-8000-000000000000 eyJa.eyJb.c +15551234567 {"phone":"15551234567"}',
    );
    expect(maskText(once)).toBe(once);
    expect(needsMask(once)).toBe(false);
  });
});
