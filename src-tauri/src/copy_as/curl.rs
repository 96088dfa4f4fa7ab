//! The curl form: a POSIX shell script. Every secret is a shell variable set at the top (real
//! value) or required with `${NAME:?…}` (a placeholder), so the command itself never changes
//! between the two and a placeholder left unset stops the script with its own message.

use zeroize::Zeroizing;

use super::{header_hint, key_before, Piece, Request, Slots};

/// `text` in single quotes: nothing inside is special to the shell, and a `'` is closed,
/// escaped and reopened.
pub(super) fn single_quoted(text: &str) -> String {
    format!("'{}'", text.replace('\'', r"'\''"))
}

/// One shell word made of recorded text and variables.
fn word(pieces: &[Piece], slots: &Slots) -> String {
    if pieces.is_empty() {
        return "''".into();
    }
    pieces
        .iter()
        .map(|piece| match piece {
            Piece::Text(text) => single_quoted(text),
            Piece::Slot(at) => format!("\"${}\"", slots.slots[*at].name),
        })
        .collect()
}

/// The curl command (no secret in it: slots are variables).
pub(super) fn command(request: &Request, slots: &mut Slots) -> String {
    let exchange = request.exchange;
    let mut args = vec!["curl -sS".to_string()];
    if exchange.method != "GET" {
        args.push(format!("-X {}", exchange.method));
    }
    let url = slots.split(&exchange.url, key_before, "the {} in the URL");
    args.push(word(&url, slots));
    for (name, value) in request.headers() {
        let place = format!("the {name} header");
        let hint = header_hint(&name);
        let mut pieces = slots.split(value, |_| hint.clone(), &place);
        match pieces.first_mut() {
            Some(Piece::Text(text)) => text.insert_str(0, &format!("{name}: ")),
            _ => pieces.insert(0, Piece::Text(format!("{name}: "))),
        }
        args.push(format!("-H {}", word(&pieces, slots)));
    }
    if let Some(body) = &exchange.request_body {
        let pieces = slots.split(body, key_before, "the {} in the body");
        args.push(format!("--data-raw {}", word(&pieces, slots)));
    }
    args.join(" \\\n  ")
}

/// What a `${NAME:?…}` message may hold: letters, digits and a little punctuation. Inside
/// `"${NAME:?…}"` bash (not in POSIX mode) still reads `'` as a quote, an interactive shell
/// reads `!` as history, and `$`, `` ` ``, `\`, `"`, `}` are special to every shell; anything
/// else becomes a space.
fn plain_words(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_alphanumeric()
                || matches!(
                    c,
                    ' ' | '_' | '-' | '.' | ',' | ':' | '(' | ')' | '/' | '@' | '+' | '='
                )
            {
                c
            } else {
                ' '
            }
        })
        .collect()
}

/// The script: what it is, the variables, the command.
pub(super) fn script(request: &Request, slots: &Slots, command: &str) -> Zeroizing<String> {
    let exchange = request.exchange;
    let mut out = Zeroizing::new(format!(
        "# Exchange #{}: {} {}, as Session Inspector recorded it.\n",
        exchange.id, exchange.method, exchange.url
    ));
    if slots.values.iter().any(Option::is_some) {
        out.push_str("# It holds real tokens: keep it out of shared screens, chats and tickets.\n");
    }
    for (slot, value) in slots.slots.iter().zip(&slots.values) {
        let print = slot.fingerprint.as_deref().unwrap_or("no fingerprint");
        match value {
            Some(token) => {
                out.push_str(&format!("# {}, {print}\n", slot.place));
                out.push_str(&format!("{}={}\n", slot.name, single_quoted(token)));
            }
            None => out.push_str(&format!(
                ": \"${{{name}:?set {name} to {what}, {print}}}\"\n",
                name = slot.name,
                what = plain_words(&slot.place),
            )),
        }
    }
    out.push_str(command);
    out.push('\n');
    out
}
