// The one place the UI crosses into Rust. Components call `api.*`, never `invoke` directly,
// and every failure arrives as an `AppError` with a stable `kind`.
import { Channel, invoke } from "@tauri-apps/api/core";
import type { EventView, SessionView, Status } from "./types";

export interface AppInfo {
  name: string;
  version: string;
  identifier: string;
  tauriVersion: string;
}

/** `kind` values the Rust side sends, plus the two the UI derives itself. */
export type ErrorKind = "invalidInput" | "internal" | "denied" | "unknown" | (string & {});

export class AppError extends Error {
  readonly kind: ErrorKind;

  constructor(kind: ErrorKind, message: string) {
    super(message);
    this.name = "AppError";
    this.kind = kind;
  }
}

/**
 * Commands reject with the app's `{kind, message}`; the IPC layer itself rejects with a plain
 * string (e.g. when a capability does not grant the command). Both become an AppError.
 */
export function toAppError(raw: unknown): AppError {
  if (raw instanceof AppError) return raw;
  if (typeof raw === "object" && raw !== null) {
    const { kind, message } = raw as Record<string, unknown>;
    if (typeof kind === "string" && typeof message === "string") {
      return new AppError(kind, message);
    }
  }
  if (typeof raw === "string") {
    return new AppError(/not allowed/i.test(raw) ? "denied" : "unknown", raw);
  }
  if (raw instanceof Error) return new AppError("unknown", raw.message);
  return new AppError("unknown", "The app returned an error it could not describe.");
}

async function call<T>(command: string, args?: Record<string, unknown>): Promise<T> {
  try {
    return await invoke<T>(command, args);
  } catch (raw) {
    throw toAppError(raw);
  }
}

export const api = {
  appInfo: () => call<AppInfo>("app_info"),
  status: () => call<Status>("inspector_status"),
  currentSession: () => call<SessionView | null>("session_current"),
  refreshNow: () => call<SessionView>("session_refresh"),
  /** Auth events as they happen, starting with INITIAL_SESSION. */
  onEvents: async (handler: (event: EventView) => void) => {
    const channel = new Channel<EventView>();
    channel.onmessage = handler;
    await call<void>("session_events", { onEvent: channel });
  },
};
