// A panel's user action (sign in, send a code, enroll…): one at a time, busy while it runs,
// and why the last one failed, as the panel shows it.
import { toAppError, type AppError } from "./api";

export class Action {
  busy = $state(false);
  error = $state<AppError | null>(null);

  /** Runs `work` unless one is running; a failure becomes `error` (never a rejection). */
  run = async (work: () => Promise<void>): Promise<void> => {
    if (this.busy) return;
    this.busy = true;
    this.error = null;
    try {
      await work();
    } catch (raw) {
      this.error = toAppError(raw);
    } finally {
      this.busy = false;
    }
  };
}
