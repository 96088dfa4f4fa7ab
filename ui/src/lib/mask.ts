// Screenshot-safe mode: what is masked, as a pure function of the text. Emails, UUIDs (user,
// session, factor and identity ids, and the `sub` and `session_id` claims) and the app's
// fingerprints become bullets of the same shape, so the layout of a screenshot does not move
// and nothing in it identifies a user or a token. A short id prefix shown with an ellipsis
// (`b8180836…`) is masked too.

const EMAIL = /[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+/g;
const UUID = /\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b/g;
const FINGERPRINT = /\bfp:[0-9a-f]{12}\b/g;
const SHORT_ID = /\b[0-9a-f]{6,}…/g;

const bullets = (text: string) => text.replace(/[^-@.:…]/g, "•");

/** `text` with every email, UUID, fingerprint and shortened id masked. */
export function maskText(text: string): string {
  return text
    .replace(EMAIL, () => "•••@•••")
    .replace(UUID, bullets)
    .replace(FINGERPRINT, (fp) => `fp:${"•".repeat(fp.length - 3)}`)
    .replace(SHORT_ID, bullets);
}

/** Whether `text` holds anything `maskText` would mask. */
export function needsMask(text: string): boolean {
  return maskText(text) !== text;
}
