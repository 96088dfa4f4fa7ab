// Screenshot-safe mode: what is masked, as a pure function of the text. Emails, UUIDs (user,
// session, factor and identity ids, and the `sub` and `session_id` claims), JWTs, phone numbers
// written with a `+` or as a JSON `"phone"` member, and the app's fingerprints become bullets of
// the same shape, so the layout of a screenshot does not move. A short id prefix shown with an
// ellipsis (`b8180836…`) is masked too. Text no pattern can know (a revealed refresh token, a
// TOTP secret, a phone shown alone) is marked `data-private` where it is written, and
// screenshot-safe.ts masks all of it.

const EMAIL = /[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+/g;
const UUID = /\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b/g;
const FINGERPRINT = /\bfp:[0-9a-f]{12}\b/g;
const SHORT_ID = /\b[0-9a-f]{6,}…/g;
const JWT = /\beyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*/g;
const PLUS_PHONE = /\+\d[\d ]{5,17}\d\b/g;
const JSON_PHONE = /("phone"\s*:\s*")([^"]+)"/g;

const bullets = (text: string) => text.replace(/[^-@.:…]/g, "•");

/** All of `text` as bullets, spaces kept (for text marked private). */
export const maskAll = (text: string) => text.replace(/\S/g, "•");

/** `text` with every email, UUID, JWT, phone number, fingerprint and shortened id masked. */
export function maskText(text: string): string {
  return text
    .replace(JWT, bullets)
    .replace(JSON_PHONE, (_, head: string, phone: string) => `${head}${maskAll(phone)}"`)
    .replace(PLUS_PHONE, bullets)
    .replace(EMAIL, () => "•••@•••")
    .replace(UUID, bullets)
    .replace(FINGERPRINT, (fp) => `fp:${"•".repeat(fp.length - 3)}`)
    .replace(SHORT_ID, bullets);
}

/** Whether `text` holds anything `maskText` would mask. */
export function needsMask(text: string): boolean {
  return maskText(text) !== text;
}
