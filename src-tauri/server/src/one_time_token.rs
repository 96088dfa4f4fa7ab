//! One-time tokens: the codes and links sent by email and SMS. As in GoTrue, only a hash is
//! kept (SHA-224 of the address and the code, `crypto.GenerateTokenHash`), one live token per
//! user and slot (GoTrue's `confirmation_token` and `recovery_token`), and the time the slot
//! was last sent to, which outlives the token: it is what the resend limit reads.

use rusqlite::{params, Connection, OptionalExtension};
use sha2::{Digest, Sha224};
use uuid::Uuid;

use crate::hash::{hex, random_bytes};

/// The table, added to the database's schema.
pub const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS one_time_tokens (
  user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  slot TEXT NOT NULL, token_hash TEXT, relates_to TEXT NOT NULL, sent_at INTEGER NOT NULL,
  PRIMARY KEY (user_id, slot));
CREATE INDEX IF NOT EXISTS one_time_tokens_hash ON one_time_tokens(token_hash);
";

/// GoTrue's default (and minimum) code length.
pub const OTP_DIGITS: u32 = 6;

/// Which of the user's tokens: GoTrue keeps the email sign-up confirmation and the phone code
/// in the same column (`confirmation_token`, `confirmation_sent_at`), and magic links in the
/// recovery one (`recovery_token`, `recovery_sent_at`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Slot {
    Confirmation,
    Recovery,
}

impl Slot {
    fn as_str(self) -> &'static str {
        match self {
            Slot::Confirmation => "confirmation",
            Slot::Recovery => "recovery",
        }
    }

    fn parse(text: &str) -> Option<Slot> {
        match text {
            "confirmation" => Some(Slot::Confirmation),
            "recovery" => Some(Slot::Recovery),
            _ => None,
        }
    }
}

/// A random code of `OTP_DIGITS` digits, every value equally likely (leading zeros kept).
pub fn generate_otp() -> String {
    let modulus = 10u32.pow(OTP_DIGITS);
    // Values past the last whole multiple of the modulus would favour small codes.
    let limit = u32::MAX - u32::MAX % modulus;
    loop {
        let value = u32::from_le_bytes(random_bytes::<4>());
        if value < limit {
            return format!("{:0width$}", value % modulus, width = OTP_DIGITS as usize);
        }
    }
}

/// GoTrue's `GenerateTokenHash`: SHA-224 of the address (lowercased email, or phone digits)
/// followed by the code, in lowercase hex. The link carries this; the code is never stored.
pub fn token_hash(email_or_phone: &str, otp: &str) -> String {
    hex(&Sha224::digest(format!("{email_or_phone}{otp}").as_bytes()))
}

/// A slot as stored: its live token (none once used) and when it was last sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlotState {
    pub token_hash: Option<String>,
    pub sent_at: i64,
}

/// GoTrue's `CreateOneTimeToken` with the `*_sent_at` update: the slot's new token replaces
/// the previous one.
pub fn put(
    conn: &Connection,
    user: Uuid,
    slot: Slot,
    token_hash: &str,
    relates_to: &str,
    now: i64,
) -> rusqlite::Result<()> {
    conn.execute(
        "INSERT INTO one_time_tokens (user_id, slot, token_hash, relates_to, sent_at) \
         VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT(user_id, slot) DO UPDATE SET \
         token_hash = excluded.token_hash, relates_to = excluded.relates_to, sent_at = excluded.sent_at",
        params![user.to_string(), slot.as_str(), token_hash, relates_to.to_lowercase(), now],
    )?;
    Ok(())
}

pub fn slot(conn: &Connection, user: Uuid, slot: Slot) -> rusqlite::Result<Option<SlotState>> {
    conn.query_row(
        "SELECT token_hash, sent_at FROM one_time_tokens WHERE user_id = ?1 AND slot = ?2",
        params![user.to_string(), slot.as_str()],
        |row| {
            Ok(SlotState {
                token_hash: row.get(0)?,
                sent_at: row.get(1)?,
            })
        },
    )
    .optional()
}

/// The user and slot of a live token with this hash, among `slots`.
pub fn find(
    conn: &Connection,
    token_hash: &str,
    slots: &[Slot],
) -> rusqlite::Result<Option<(Uuid, Slot, i64)>> {
    let mut statement = conn.prepare(
        "SELECT user_id, slot, sent_at FROM one_time_tokens WHERE token_hash = ?1 ORDER BY sent_at DESC",
    )?;
    let rows = statement.query_map([token_hash], |row| {
        Ok((
            row.get::<_, String>(0)?,
            row.get::<_, String>(1)?,
            row.get::<_, i64>(2)?,
        ))
    })?;
    for row in rows {
        let (user, slot, sent_at) = row?;
        let (Ok(user), Some(slot)) = (Uuid::parse_str(&user), Slot::parse(&slot)) else {
            continue;
        };
        if slots.contains(&slot) {
            return Ok(Some((user, slot, sent_at)));
        }
    }
    Ok(None)
}

/// GoTrue's `ClearAllOneTimeTokensForUser` (a verification uses up every token the user
/// holds); the times they were sent stay. GoTrue finds the two email-change tokens in its
/// `one_time_tokens` table too, so they die here as well although this server keeps them in
/// the `users` columns (the pending address stays, as GoTrue's `email_change` does). The
/// phone-change token and the reauthentication nonce are `users` columns in GoTrue and
/// survive.
pub fn clear_all(conn: &Connection, user: Uuid) -> rusqlite::Result<()> {
    conn.execute(
        "UPDATE one_time_tokens SET token_hash = NULL WHERE user_id = ?1",
        [user.to_string()],
    )?;
    crate::pending_changes::forget_email_change_tokens(conn, user)
}

/// Every slot of the user is gone, the times it was sent included (GoTrue's `UpdatePassword`
/// and `ClearAllPendingTokens` null `confirmation_sent_at` and `recovery_sent_at`, so the
/// resend limit starts over).
pub fn forget_all(conn: &Connection, user: Uuid) -> rusqlite::Result<()> {
    conn.execute(
        "DELETE FROM one_time_tokens WHERE user_id = ?1",
        [user.to_string()],
    )?;
    clear_all(conn, user)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_six_digits() {
        for _ in 0..200 {
            let code = generate_otp();
            assert_eq!(code.len(), 6);
            assert!(code.bytes().all(|b| b.is_ascii_digit()), "{code}");
        }
    }

    #[test]
    fn the_hash_is_sha224_hex_of_address_then_code() {
        // SHA-224("") is a published test vector; the input is the plain concatenation.
        assert_eq!(
            token_hash("", ""),
            "d14a028c2a3a2bc9476102bb288234c415a2b01f828ea62ac5b3e42f"
        );
        assert_eq!(
            token_hash("a@b.co", "123456"),
            token_hash("a@b.co1", "23456")
        );
        assert_eq!(token_hash("a@b.co", "123456").len(), 56);
    }
}
