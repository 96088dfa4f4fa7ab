//! Copy an exchange of the log as a curl command or as the supabase-js call that makes it.
//!
//! The recorder hands out only redacted exchanges: each secret is a fingerprint (`fp:…`) and a
//! password is `[redacted]`. So the copy cannot be rebuilt from the exchange alone. Each secret
//! becomes a named slot (`$SI_REFRESH_TOKEN`, `SI_ACCESS_TOKEN`, …) that says which fingerprint it
//! stood for. By default every slot stays a placeholder. With real tokens, which the user must
//! confirm in the window, a slot is filled only when its fingerprint is a token the app still
//! holds for this profile: the current session's access or refresh token, or the project's
//! key. A token used up by a rotation is gone, and its slot says so. The text goes to the
//! clipboard from Rust; the window gets back only which slots were filled and which were not.

mod curl;
mod supabase_js;

use serde::{Deserialize, Serialize};
use session_engine::recorder::Exchange;
use session_engine::tokens::fingerprint;
use session_engine::Token;
use tauri::Url;
use ts_rs::TS;
use zeroize::Zeroizing;

use crate::clipboard::{self, LastCopy, SystemBoard, CLEAR_AFTER};
use crate::error::Error;
use crate::inspector::Active;

/// What the copy is written as.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub enum CopyFormat {
    Curl,
    SupabaseJs,
}

/// One secret of the copy: a shell variable in curl, a constant in supabase-js.
#[derive(Debug, Clone, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct Slot {
    /// `SI_REFRESH_TOKEN`, `SI_ACCESS_TOKEN`, `SI_SUPABASE_KEY`, …
    pub name: String,
    /// The recorded fingerprint; none for a password (recorded as `[redacted]`).
    pub fingerprint: Option<String>,
    /// Where it was in the exchange, in words ("the refresh_token in the body").
    pub place: String,
    /// Filled with the real value (only when the user chose real tokens).
    pub filled: bool,
    /// For a placeholder, why: "redacted copy", "not held by the app any more", ….
    pub why: Option<String>,
}

/// What the window hears of a copy.
#[derive(Debug, Clone, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct CopiedAs {
    pub slots: Vec<Slot>,
    /// Set when real tokens are on the clipboard: it is cleared this many seconds from now if
    /// it still holds the copy.
    pub clears_in_secs: Option<u64>,
}

/// The secrets the app holds for the profile, and whether they may be written out.
pub struct Held {
    /// The project's key (anon or publishable): sent as `apikey`, not a secret, but named.
    pub api_key: Option<Token>,
    pub access_token: Option<Token>,
    pub refresh_token: Option<Token>,
    /// Real tokens chosen: held secrets are filled in.
    pub fill: bool,
}

impl Held {
    fn known(&self) -> [(&Option<Token>, &'static str, &'static str); 3] {
        [
            (&self.api_key, "SUPABASE_KEY", "the API key of the project"),
            (
                &self.access_token,
                "ACCESS_TOKEN",
                "the access token of the current session",
            ),
            (
                &self.refresh_token,
                "REFRESH_TOKEN",
                "the refresh token of the current session",
            ),
        ]
    }

    /// The name and token of a held secret with this fingerprint.
    fn find(&self, print: &str) -> Option<(&'static str, &'static str, &Token)> {
        self.known().into_iter().find_map(|(token, name, what)| {
            let token = token.as_ref()?;
            (fingerprint(token) == print).then_some((name, what, token))
        })
    }
}

/// A piece of text in the copy: as recorded, or a slot.
#[derive(Debug, Clone, PartialEq)]
enum Piece {
    Text(String),
    Slot(usize),
}

/// The slots of one copy as they are found, with the values filled in.
struct Slots<'a> {
    held: &'a Held,
    slots: Vec<Slot>,
    values: Vec<Option<Token>>,
}

const REDACTED: &str = "[redacted]";
/// The start of every slot's name.
const NAME_PREFIX: &str = "SI_";

/// The rest of a shell and JavaScript identifier made of `hint` (it follows `SI_`): upper case,
/// `_` for anything else.
fn variable_name(hint: &str) -> String {
    hint.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_uppercase()
            } else {
                '_'
            }
        })
        .collect()
}

/// `fp:` and 12 hex digits at the start of `text`.
fn fingerprint_at(text: &str) -> Option<&str> {
    let candidate = text.get(..15)?;
    (candidate.starts_with("fp:") && candidate[3..].chars().all(|c| c.is_ascii_hexdigit()))
        .then_some(candidate)
}

impl<'a> Slots<'a> {
    fn new(held: &'a Held) -> Self {
        Slots {
            held,
            slots: Vec::new(),
            values: Vec::new(),
        }
    }

    /// The slot for `marker` (a fingerprint or `[redacted]`) found at `place`, named after
    /// `hint` unless it is a held secret (which has its own name). One slot per fingerprint.
    fn slot(&mut self, marker: &str, hint: &str, place: &str) -> usize {
        self.slot_filled_if(marker, hint, place, self.held.fill)
    }

    /// `slot`, filled only when `fill` (and the secret is held).
    fn slot_filled_if(&mut self, marker: &str, hint: &str, place: &str, fill: bool) -> usize {
        let print = (marker != REDACTED).then(|| marker.to_string());
        if let Some(print) = &print {
            if let Some(at) = self
                .slots
                .iter()
                .position(|s| s.fingerprint.as_ref() == Some(print))
            {
                return at;
            }
        }
        let held = print.as_deref().and_then(|p| self.held.find(p));
        // Every name starts with `SI_`: a placeholder reads the environment, and a plain
        // `TOKEN` or `PASSWORD` already set there (in CI, say) would be sent without a word.
        let mut name = match held {
            Some((name, ..)) => format!("{NAME_PREFIX}{name}"),
            None => format!("{NAME_PREFIX}{}", variable_name(hint)),
        };
        // A second different secret under the same name (say, the refresh token sent and the
        // current one) gets a number.
        let base = name.clone();
        let mut n = 2;
        while self.slots.iter().any(|s| s.name == name) {
            name = format!("{base}_{n}");
            n += 1;
        }
        let (filled, why, value) = match (held, fill) {
            (Some((_, _, token)), true) => (true, None, Some(token.clone())),
            (Some(_), false) if self.held.fill => (
                false,
                Some("left out: the access token sent is not the current one".to_string()),
                None,
            ),
            (_, false) => (false, Some("redacted copy".to_string()), None),
            (None, true) if print.is_none() => (
                false,
                Some("never recorded (the app keeps no password or code)".to_string()),
                None,
            ),
            (None, true) => (
                false,
                Some("not held by the app (used up by a rotation, or not this session's)".into()),
                None,
            ),
        };
        let place = match held {
            Some((_, what, _)) => format!("{place} ({what})"),
            None => place.to_string(),
        };
        // The place is written in a `#` or `//` comment: a line break in a recorded key would
        // end it and let the rest of the key run as code.
        let place = place.replace(['\n', '\r', '\u{2028}', '\u{2029}'], " ");
        self.slots.push(Slot {
            name,
            fingerprint: print,
            place,
            filled,
            why,
        });
        self.values.push(value);
        self.slots.len() - 1
    }

    /// `text` cut into recorded text and slots; `hint(before)` names a slot from the text
    /// before it, and `place` says where it was (`{}` there stands for that name).
    fn split(&mut self, text: &str, hint: impl Fn(&str) -> String, place: &str) -> Vec<Piece> {
        let mut pieces = Vec::new();
        let mut plain = String::new();
        let mut at = 0;
        while at < text.len() {
            let rest = &text[at..];
            let marker =
                fingerprint_at(rest).or_else(|| rest.starts_with(REDACTED).then_some(REDACTED));
            match marker {
                Some(marker) => {
                    if !plain.is_empty() {
                        pieces.push(Piece::Text(std::mem::take(&mut plain)));
                    }
                    let name = hint(&text[..at]);
                    let slot = self.slot(marker, &name, &place.replace("{}", &name));
                    pieces.push(Piece::Slot(slot));
                    at += marker.len();
                }
                None => {
                    let c = rest.chars().next().unwrap_or_default();
                    plain.push(c);
                    at += c.len_utf8();
                }
            }
        }
        if !plain.is_empty() {
            pieces.push(Piece::Text(plain));
        }
        pieces
    }

    /// A slot that is not in the exchange but that the call needs (supabase-js's
    /// `setSession` wants the refresh token too). It is filled only beside the current
    /// access token: `setSession` with an older, expired one spends the refresh token at once
    /// and rotates the app's own session.
    fn current_refresh_token(&mut self) -> Option<usize> {
        let print = fingerprint(self.held.refresh_token.as_ref()?);
        let access_filled = self.held.access_token.as_ref().is_some_and(|access| {
            let access = fingerprint(access);
            self.slots
                .iter()
                .any(|s| s.filled && s.fingerprint.as_deref() == Some(access.as_str()))
        });
        Some(self.slot_filled_if(
            &print,
            "REFRESH_TOKEN",
            "not in this exchange",
            self.held.fill && access_filled,
        ))
    }
}

/// The key of the JSON member, or the query parameter, that `before` ends inside.
fn key_before(before: &str) -> String {
    // JSON: `…"key":"` or `…"key": "`.
    let trimmed = before.trim_end_matches(['"', ' ']);
    if let Some(head) = trimmed.strip_suffix(':') {
        let head = head.trim_end().trim_end_matches('"');
        let start = head.rfind('"').map_or(0, |i| i + 1);
        return head[start..].to_string();
    }
    // A query: `…?key=` or `…&key=`.
    if let Some(head) = before.strip_suffix('=') {
        let start = head.rfind(['?', '&']).map_or(0, |i| i + 1);
        return head[start..].to_string();
    }
    "secret".to_string()
}

/// The parts of an exchange a copy is written from.
struct Request<'e> {
    exchange: &'e Exchange,
    /// The path under the GoTrue base (`/token`, `/user`, `/factors/…/verify`), or None when
    /// the URL is not under it.
    auth_path: Option<String>,
    /// The project URL supabase-js's `createClient` takes.
    project_url: String,
}

impl<'e> Request<'e> {
    fn new(exchange: &'e Exchange, auth_base: &Url) -> Self {
        let base = auth_base.as_str().trim_end_matches('/');
        let auth_path = Url::parse(&exchange.url).ok().and_then(|url| {
            let bare = format!("{}{}", url.origin().ascii_serialization(), url.path());
            bare.strip_prefix(base).map(str::to_string)
        });
        let project_url = base.strip_suffix("/auth/v1").unwrap_or(base).to_string();
        Request {
            exchange,
            auth_path,
            project_url,
        }
    }

    fn query(&self, name: &str) -> Option<String> {
        Url::parse(&self.exchange.url)
            .ok()?
            .query_pairs()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
    }

    /// The recorded request headers a copy keeps, lower-case name first.
    fn headers(&self) -> Vec<(String, &str)> {
        const KEPT: [&str; 5] = [
            "apikey",
            "authorization",
            "content-type",
            "x-client-info",
            "x-supabase-api-version",
        ];
        KEPT.iter()
            .filter(|name| **name != "content-type" || self.exchange.request_body.is_some())
            .filter_map(|name| {
                let (_, value) = self
                    .exchange
                    .request_headers
                    .iter()
                    .find(|(n, _)| n.eq_ignore_ascii_case(name))?;
                Some((name.to_string(), value.as_str()))
            })
            .collect()
    }
}

/// The name a header's secret gets.
fn header_hint(header: &str) -> String {
    match header {
        "apikey" => "SUPABASE_KEY".into(),
        "authorization" => "ACCESS_TOKEN".into(),
        other => other.into(),
    }
}

/// The copy's text (wiped when dropped: it may hold tokens) and its slots.
pub struct Rendered {
    pub text: Zeroizing<String>,
    pub slots: Vec<Slot>,
}

/// The exchange as `format`, with the secrets `held` allows.
pub fn render(exchange: &Exchange, auth_base: &Url, format: CopyFormat, held: &Held) -> Rendered {
    let request = Request::new(exchange, auth_base);
    let mut slots = Slots::new(held);
    let body = match format {
        CopyFormat::Curl => curl::command(&request, &mut slots),
        CopyFormat::SupabaseJs => supabase_js::program(&request, &mut slots),
    };
    let text = match format {
        CopyFormat::Curl => curl::script(&request, &slots, &body),
        CopyFormat::SupabaseJs => supabase_js::script(&request, &slots, &body),
    };
    Rendered {
        text,
        slots: slots.slots,
    }
}

/// The exchange `id` of the active profile as `format` on the clipboard. With `real_tokens`
/// the held secrets are filled in, and the clipboard is cleared `CLEAR_AFTER` later.
pub fn copy<R: tauri::Runtime>(
    app: tauri::AppHandle<R>,
    active: &Active,
    id: u64,
    format: CopyFormat,
    real_tokens: bool,
) -> Result<CopiedAs, Error> {
    use tauri::Manager as _;
    use tauri_plugin_clipboard_manager::ClipboardExt as _;
    let exchange = active.client.recorder().get(id).ok_or_else(|| {
        Error::InvalidInput(format!(
            "Exchange #{id} is no longer kept: the app keeps only the newest 1,000."
        ))
    })?;
    let session = active.client.current_session();
    let config = active.client.config();
    let held = Held {
        api_key: Some(Token::from(config.api_key.as_str())),
        access_token: session.as_ref().map(|s| s.access_token.clone()),
        refresh_token: session.as_ref().map(|s| s.refresh_token.clone()),
        fill: real_tokens,
    };
    let rendered = render(&exchange, &config.auth_url()?, format, &held);
    let filled = rendered.slots.iter().filter(|s| s.filled).count();
    let clears_in_secs = if filled > 0 {
        let board = std::sync::Arc::new(SystemBoard(app.clone()));
        let text = Token::from(rendered.text.as_str());
        drop(clipboard::copy_for_a_while(
            board,
            &app.state::<LastCopy>(),
            text,
            CLEAR_AFTER,
        )?);
        Some(CLEAR_AFTER.as_secs())
    } else {
        app.clipboard()
            .write_text(rendered.text.as_str())
            .map_err(|why| Error::Clipboard(format!("the copy failed ({why})")))?;
        None
    };
    tracing::info!(id, ?format, filled, "exchange copied to the clipboard");
    Ok(CopiedAs {
        slots: rendered.slots,
        clears_in_secs,
    })
}

#[cfg(test)]
mod tests;
