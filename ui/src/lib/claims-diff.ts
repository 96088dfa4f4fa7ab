// The claims diff between two access tokens of the timeline: which claims changed, and how
// much each change matters. Between two tokens of one session's rotation `iat` and `exp` always
// move (expected, dimmed); a changed assurance level, sign-in methods, role or metadata is what
// the comparison is for (highlighted); a changed `sub` or `session_id` means the two tokens are
// not one session's: flagged as wrong.

export type ChangeKind =
  /** The same in both. */
  | "same"
  /** Moves at every rotation: `iat`, `exp`. */
  | "expected"
  /** Worth seeing: `aal`, `amr`, `role`, `app_metadata`, `user_metadata`. */
  | "notable"
  /** Must not change within a session: `sub`, `session_id`. */
  | "wrong"
  /** Any other claim that changed. */
  | "changed";

export interface ClaimChange {
  name: string;
  /** The value in A and in B as JSON text; null when the token has no such claim. */
  a: string | null;
  b: string | null;
  kind: ChangeKind;
  /** Why a wrong change is wrong, or what an expected one is. */
  note: string | null;
}

const EXPECTED = ["iat", "exp"];
const NOTABLE = ["aal", "amr", "role", "app_metadata", "user_metadata"];
const WRONG: Record<string, string> = {
  sub: "The user changed: a refresh never changes the user, so these two tokens are not one session's rotation.",
  session_id:
    "The session changed: a refresh keeps its session id, so these tokens come from different sessions (a new sign-in, or a token from elsewhere).",
};
const NOTES: Record<string, string> = {
  iat: "issued later, as every refresh is",
  exp: "expires later, as every refresh does",
};

/** JSON text with object keys sorted, so `{a, b}` and `{b, a}` compare equal. */
export function canonical(value: unknown): string {
  return JSON.stringify(value, (_, v: unknown) =>
    v && typeof v === "object" && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0)))
      : v,
  );
}

/** Every claim of either token, in a stable order (the ones that matter first), with its change. */
export function diffClaims(a: Record<string, unknown>, b: Record<string, unknown>): ClaimChange[] {
  const names = [...new Set([...Object.keys(a), ...Object.keys(b)])];
  const rank = (name: string) =>
    name in WRONG ? 0 : NOTABLE.includes(name) ? 1 : EXPECTED.includes(name) ? 3 : 2;
  names.sort((x, y) => rank(x) - rank(y) || (x < y ? -1 : x > y ? 1 : 0));
  return names.map((name) => {
    const before = name in a ? canonical(a[name]) : null;
    const after = name in b ? canonical(b[name]) : null;
    let kind: ChangeKind = "same";
    if (before !== after) {
      if (name in WRONG) kind = "wrong";
      else if (NOTABLE.includes(name)) kind = "notable";
      else if (EXPECTED.includes(name)) kind = "expected";
      else kind = "changed";
    }
    const note = (kind === "wrong" ? WRONG[name] : kind === "expected" ? NOTES[name] : null) ?? null;
    return { name, a: before, b: after, kind, note };
  });
}

/** How many claims changed, by kind (for the summary line). */
export function countChanges(changes: ClaimChange[]): Record<ChangeKind, number> {
  const counts: Record<ChangeKind, number> = { same: 0, expected: 0, notable: 0, wrong: 0, changed: 0 };
  for (const change of changes) counts[change.kind] += 1;
  return counts;
}
