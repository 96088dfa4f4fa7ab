// Shapes the Rust side sends (src-tauri/src/views.rs). Tokens never appear: fingerprints do.

export interface UserView {
  id: string;
  email: string;
  phone: string;
  role: string;
  isAnonymous: boolean;
}

export type RefreshTokenShape =
  | { format: "legacy" }
  | { format: "v2"; session_id: string; counter: number }
  | { format: "unknown" };

export interface SessionView {
  user: UserView;
  sessionId: string | null;
  expiresAt: number;
  issuedAt: number | null;
  tokenType: string;
  header: Record<string, unknown>;
  claims: Record<string, unknown>;
  accessTokenFingerprint: string;
  refreshTokenFingerprint: string;
  refreshTokenShape: RefreshTokenShape;
}

export type EventKind = "INITIAL_SESSION" | "SIGNED_IN" | "TOKEN_REFRESHED" | "SIGNED_OUT" | "USER_UPDATED";

export interface EventView {
  kind: EventKind;
  previous: EventKind | null;
  at: string;
  reason: string | null;
  exchangeId: number | null;
  session: SessionView | null;
}

export interface Status {
  profile: string;
  builtIn: boolean;
  keyring: "secretService" | "kernelKeyring" | "memory";
  keyringNotice: string | null;
}
