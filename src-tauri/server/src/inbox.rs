//! Where the server's email and text messages go: it is its own mail server and SMS provider,
//! and keeps what it "sent" in memory (the latest `INBOX_CAPACITY`), as `supabase start` keeps
//! its mail in Mailpit. Read through `GET /_emulator/inbox` or `Server::inbox`.

use std::collections::VecDeque;
use std::fmt;
use std::sync::Mutex;

use serde::Serialize;

/// How many messages are kept; older ones are dropped first.
pub const INBOX_CAPACITY: usize = 200;

/// What a message is for, named after GoTrue's verification `type` its link or code takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum InboxKind {
    /// Confirm a new account (GoTrue's confirmation mail).
    Signup,
    /// Sign in (GoTrue's magic-link mail).
    Magiclink,
    /// Reset a password (GoTrue's recovery mail).
    Recovery,
    /// Join the project (GoTrue's invite mail, from `POST /invite`).
    Invite,
    /// A code by text message.
    Sms,
    /// Confirm an email change (GoTrue's email-change mail, to the new address and, with
    /// secure email change, to the current one).
    EmailChange,
    /// Confirm a phone change (a code by text message to the new number).
    PhoneChange,
    /// The nonce `PUT /user` takes for a password change (GoTrue's reauthentication mail or
    /// text message); it has no link.
    Reauthentication,
}

impl InboxKind {
    /// GoTrue's verification `type` for this message's link and code.
    pub fn as_str(self) -> &'static str {
        match self {
            InboxKind::Signup => "signup",
            InboxKind::Magiclink => "magiclink",
            InboxKind::Recovery => "recovery",
            InboxKind::Invite => "invite",
            InboxKind::Sms => "sms",
            InboxKind::EmailChange => "email_change",
            InboxKind::PhoneChange => "phone_change",
            InboxKind::Reauthentication => "reauthentication",
        }
    }

    /// GoTrue's default subject (for a text message, its default body).
    pub fn subject(self, code: &str) -> String {
        match self {
            InboxKind::Signup => "Confirm your email address".into(),
            InboxKind::Magiclink => "Your sign-in link".into(),
            InboxKind::Recovery => "Reset your password".into(),
            InboxKind::Invite => "You have been invited".into(),
            InboxKind::Sms | InboxKind::PhoneChange => format!("Your code is {code}"),
            InboxKind::EmailChange => "Confirm your new email address".into(),
            InboxKind::Reauthentication => format!("{code} is your verification code"),
        }
    }
}

/// One message as sent. It carries a live one-time code and link: the inbox is where a
/// tester reads them, so they are in the serialized form, but never in `Debug`.
#[derive(Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub struct InboxMessage {
    pub id: String,
    /// The email address (lowercase) or the phone number (digits, as GoTrue stores it).
    pub to: String,
    pub kind: InboxKind,
    pub subject: String,
    /// The one-time code (6 digits).
    pub code: String,
    /// For email: GoTrue's verification link, `<server>/auth/v1/verify?token=<token hash>&
    /// type=<kind>&redirect_to=<url>`. Text messages carry only the code.
    pub link: Option<String>,
    /// RFC 3339, by the server's clock.
    pub sent_at: String,
}

impl fmt::Debug for InboxMessage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("InboxMessage")
            .field("id", &self.id)
            .field("to", &self.to)
            .field("kind", &self.kind)
            .field("sent_at", &self.sent_at)
            .finish_non_exhaustive()
    }
}

#[derive(Default)]
pub struct Inbox {
    messages: Mutex<VecDeque<InboxMessage>>,
}

impl Inbox {
    fn messages(&self) -> std::sync::MutexGuard<'_, VecDeque<InboxMessage>> {
        self.messages.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn deliver(&self, message: InboxMessage) {
        tracing::info!(id = %message.id, to = %message.to, kind = message.kind.as_str(), "message delivered to the inbox");
        let mut messages = self.messages();
        if messages.len() == INBOX_CAPACITY {
            messages.pop_front();
        }
        messages.push_back(message);
    }

    /// Every kept message, oldest first.
    pub fn all(&self) -> Vec<InboxMessage> {
        self.messages().iter().cloned().collect()
    }

    /// The kept messages to one address (an email in any case; a phone number by its digits,
    /// however it is written), oldest first.
    pub fn to(&self, address: &str) -> Vec<InboxMessage> {
        let wanted = if address.contains('@') {
            address.trim().to_lowercase()
        } else {
            address.chars().filter(char::is_ascii_digit).collect()
        };
        self.messages()
            .iter()
            .filter(|m| m.to == wanted)
            .cloned()
            .collect()
    }

    pub fn clear(&self) {
        self.messages().clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(n: usize, to: &str) -> InboxMessage {
        InboxMessage {
            id: n.to_string(),
            to: to.into(),
            kind: InboxKind::Sms,
            subject: InboxKind::Sms.subject("123456"),
            code: "123456".into(),
            link: None,
            sent_at: String::new(),
        }
    }

    #[test]
    fn the_oldest_messages_go_first_past_the_capacity() {
        let inbox = Inbox::default();
        for n in 0..INBOX_CAPACITY + 5 {
            inbox.deliver(message(n, "15550100"));
        }
        let all = inbox.all();
        assert_eq!(all.len(), INBOX_CAPACITY);
        assert_eq!(all[0].id, "5");
        assert_eq!(all.last().unwrap().id, (INBOX_CAPACITY + 4).to_string());
        assert_eq!(inbox.to("+1 555-0100").len(), INBOX_CAPACITY);
        assert!(inbox.to("someone@example.com").is_empty());
    }

    #[test]
    fn debug_hides_the_code_and_the_link() {
        let mut m = message(1, "a@b.co");
        m.link = Some("http://x/verify?token=secret-hash".into());
        let shown = format!("{m:?}");
        assert!(
            !shown.contains("123456") && !shown.contains("secret-hash"),
            "{shown}"
        );
    }

    #[test]
    fn it_serializes_in_camel_case() {
        let value = serde_json::to_value(message(1, "a@b.co")).unwrap();
        assert_eq!(value["kind"], "sms");
        assert!(value.get("sentAt").is_some());
    }
}
