//! `decode`: what a paste holds, said as the window's paste box says it (the engine's
//! `parse_import` and `PastePreview`), with nothing sent anywhere.

use chrono::Utc;
use serde::Serialize;
use serde_json::Value;
use session_engine::import::{parse_import, Imported};
use session_engine::paste::PastePreview;
use session_engine::tokens::fingerprint;
use session_engine::ClientConfig;

use crate::args::DecodeArgs;
use crate::error::CliError;
use crate::output::Output;
use crate::view::{expiry, shape, time};

/// The preview, plus what the command line adds: the access token's fingerprint and expiry.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Decoded {
    #[serde(flatten)]
    preview: PastePreview,
    access_token_fingerprint: Option<String>,
    expires_at: Option<String>,
    expires_in_secs: Option<i64>,
}

/// The window's warnings about a paste that concern the project it is sent to (an access
/// token from another issuer, whose refresh token that server will not know), printed as notes
/// before anything is sent: those the preview gives with the project's URL and not without.
pub fn note_project_warnings(
    imported: &Imported,
    config: &ClientConfig,
    out: &Output,
) -> Result<(), CliError> {
    let auth_url = config.auth_url()?;
    let general = PastePreview::of(imported, None, None).warnings;
    for warning in PastePreview::of(imported, None, Some(&auth_url)).warnings {
        if !general.contains(&warning) {
            out.note(&warning);
        }
    }
    Ok(())
}

/// Claims shown as times.
const TIME_CLAIMS: [&str; 3] = ["exp", "iat", "nbf"];

pub fn run(args: &DecodeArgs, out: &Output) -> Result<(), CliError> {
    let text = crate::input::read(args.file.as_deref())?;
    let imported = parse_import(&text)?;
    let auth_url = match &args.url {
        Some(url) => Some(crate::home::config(url, "").auth_url()?),
        None => None,
    };
    let preview = PastePreview::of(&imported, None, auth_url.as_ref());
    let now = Utc::now().timestamp();
    let decoded = Decoded {
        access_token_fingerprint: imported.access_token().map(fingerprint),
        expires_at: imported.expires_at.map(time),
        expires_in_secs: imported.expires_at.map(|at| at - now),
        preview,
    };
    if out.json {
        return out.json(&decoded);
    }
    out.lines(human(&decoded, now))
}

fn human(decoded: &Decoded, now: i64) -> Vec<String> {
    let preview = &decoded.preview;
    let mut lines = vec![preview.description.clone()];
    if let (Some(fp), Some(found)) = (
        &preview.refresh_token_fingerprint,
        &preview.refresh_token_shape,
    ) {
        lines.push(format!("  refresh token  {fp} ({})", shape(found)));
    }
    if let Some(fp) = &decoded.access_token_fingerprint {
        let when = match (&decoded.expires_at, decoded.expires_in_secs) {
            (Some(at), Some(left)) => format!(", {}", expiry(at, left)),
            _ => String::new(),
        };
        lines.push(format!("  access token   {fp}{when}"));
    }
    if let Some(claims) = &preview.access_claims {
        lines.push("  claims".to_string());
        let width = claims.keys().map(|k| k.len()).max().unwrap_or(0);
        for (name, value) in claims {
            lines.push(format!("    {name:<width$}  {}", claim(name, value, now)));
        }
    }
    for warning in &preview.warnings {
        lines.push(format!("! {warning}"));
    }
    lines
}

/// A claim's value on one line; times also as dates, relative to now.
fn claim(name: &str, value: &Value, now: i64) -> String {
    match (TIME_CLAIMS.contains(&name), value.as_i64()) {
        (true, Some(unix)) => {
            let relative = if unix > now {
                format!("in {}", crate::view::duration(unix - now))
            } else {
                format!("{} ago", crate::view::duration(now - unix))
            };
            format!("{unix}  {} ({relative})", time(unix))
        }
        _ => match value {
            Value::String(text) => text.clone(),
            other => other.to_string(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn time_claims_read_as_dates_and_others_as_written() {
        assert_eq!(
            claim("exp", &json!(1_000_060), 1_000_000),
            "1000060  1970-01-12T13:47:40Z (in 60 s)"
        );
        assert_eq!(claim("role", &json!("authenticated"), 0), "authenticated");
        assert_eq!(
            claim("amr", &json!([{"method": "password"}]), 0),
            r#"[{"method":"password"}]"#
        );
    }
}
