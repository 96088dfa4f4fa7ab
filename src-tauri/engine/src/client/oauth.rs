//! Sign-in with an OAuth provider (GitHub, Google, …) the way auth-js's
//! `signInWithOAuth({provider, options: {redirectTo, skipBrowserRedirect: true}})` with
//! `flowType: 'pkce'` and `exchangeCodeForSession` do it, for a desktop app: the browser is
//! sent to GoTrue's `/authorize` with a PKCE challenge and a `redirect_to` on a loopback
//! listener (`oauth_callback.rs`); the listener waits for the browser to come back with
//! `?code=`, and `POST /token?grant_type=pkce` trades the code and the verifier for the
//! session (`SIGNED_IN`).
//!
//! The verifier is 32 random bytes as base64url (43 characters: GoTrue accepts 43–128), kept
//! wiped-on-drop and never logged; only its S256 challenge leaves the process before the
//! exchange. (auth-js uses 56 random bytes as hex, 112 characters; any length in range does.)

use std::fmt;
use std::sync::Arc;

use reqwest::Method;
use serde_json::json;
use tokio::sync::watch;
use tokio::time::Instant;
use zeroize::Zeroizing;

use super::AuthClient;
use crate::error::AuthError;
use crate::events::AuthEventKind;
use crate::http::Call;
use crate::oauth_callback::{self, Browser, Callback, CallbackListener, Page};
use crate::protocol::OAUTH_CALLBACK_TIMEOUT;
use crate::session::{session_from_token_response, AuthResponse, Session};

/// RFC 7636's S256 challenge: base64url (no padding) of the verifier's SHA-256.
pub fn code_challenge(verifier: &str) -> String {
    use base64::Engine as _;
    use sha2::Digest as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(verifier))
}

/// Cancels an OAuth sign-in that is waiting for the browser or exchanging its code (`finish`
/// returns `OAuthCancelled`, and a session the exchange brought back is not adopted).
/// Cloneable, usable from any thread, harmless after the end.
#[derive(Clone)]
pub struct OAuthCancel(Arc<watch::Sender<bool>>);

impl OAuthCancel {
    pub fn cancel(&self) {
        self.0.send_replace(true);
    }

    pub fn is_cancelled(&self) -> bool {
        *self.0.borrow()
    }

    /// Whether both handles cancel the same sign-in.
    pub fn same_flow(&self, other: &OAuthCancel) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }

    async fn cancelled(&self) {
        let mut receiver = self.0.subscribe();
        let _ = receiver.wait_for(|cancelled| *cancelled).await;
    }
}

/// An OAuth sign-in waiting for the browser: open `authorize_url` in it, then `finish`.
pub struct OAuthFlow {
    client: AuthClient,
    provider: String,
    listener: CallbackListener,
    verifier: Zeroizing<String>,
    authorize_url: String,
    cancel: OAuthCancel,
    deadline: Instant,
}

/// Never the verifier.
impl fmt::Debug for OAuthFlow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OAuthFlow")
            .field("provider", &self.provider)
            .field("redirect_to", &self.redirect_to())
            .finish_non_exhaustive()
    }
}

impl AuthClient {
    /// Starts an OAuth sign-in with `provider` (GoTrue's name: `github`, `google`, …), asking
    /// for the extra `scopes` if given (comma- or space-separated as the provider wants them):
    /// opens the loopback listener and makes the verifier. Nothing is sent yet.
    pub async fn start_oauth(
        &self,
        provider: &str,
        scopes: Option<&str>,
    ) -> Result<OAuthFlow, AuthError> {
        let _ = self.initialize().await;
        let provider = provider.trim().to_lowercase();
        if provider.is_empty() {
            return Err(AuthError::InvalidInput(
                "Choose a provider to sign in with (github, google, …).".into(),
            ));
        }
        let (listener, verifier, pairs) = Self::prepare_flow(&provider, scopes).await?;
        let mut url = self.inner.config.auth_url()?;
        let path = format!("{}/authorize", url.path().trim_end_matches('/'));
        url.set_path(&path);
        url.query_pairs_mut().extend_pairs(&pairs);
        tracing::info!(%provider, port = listener.port(), "OAuth sign-in started; waiting for the browser");
        Ok(self.flow(provider, listener, verifier, url.into()))
    }

    /// The loopback listener, the verifier, and the query auth-js sends to start a PKCE flow,
    /// in its order: provider, redirect_to, scopes, then the PKCE pair.
    pub(super) async fn prepare_flow(
        provider: &str,
        scopes: Option<&str>,
    ) -> Result<(CallbackListener, Zeroizing<String>, Vec<(String, String)>), AuthError> {
        let listener = CallbackListener::bind()
            .await
            .map_err(|e| AuthError::OAuthListener(e.to_string()))?;
        let verifier = Zeroizing::new(oauth_callback::random_base64url::<32>());
        let mut pairs = vec![
            ("provider".to_string(), provider.to_string()),
            (
                "redirect_to".to_string(),
                listener.redirect_to().to_string(),
            ),
        ];
        if let Some(scopes) = scopes.map(str::trim).filter(|s| !s.is_empty()) {
            pairs.push(("scopes".into(), scopes.into()));
        }
        pairs.push(("code_challenge".into(), code_challenge(&verifier)));
        pairs.push(("code_challenge_method".into(), "s256".into()));
        Ok((listener, verifier, pairs))
    }

    /// A flow waiting for the browser to come back from `authorize_url`.
    pub(super) fn flow(
        &self,
        provider: String,
        listener: CallbackListener,
        verifier: Zeroizing<String>,
        authorize_url: String,
    ) -> OAuthFlow {
        OAuthFlow {
            client: self.clone(),
            provider,
            listener,
            verifier,
            authorize_url,
            cancel: OAuthCancel(Arc::new(watch::channel(false).0)),
            deadline: Instant::now() + OAUTH_CALLBACK_TIMEOUT,
        }
    }

    /// `POST /token?grant_type=pkce`: the session and the exchange's id (not adopted yet).
    async fn exchange_code(
        &self,
        auth_code: &str,
        verifier: &str,
    ) -> Result<(Session, u64), AuthError> {
        let body = json!({"auth_code": auth_code, "code_verifier": verifier});
        let answer = self
            .inner
            .http
            .send(Call {
                method: Method::POST,
                path: "/token",
                query: &[("grant_type", "pkce")],
                body: Some(&body),
                bearer: None,
            })
            .await?;
        let session = session_from_token_response(&answer.body, self.now_secs())?;
        Ok((session, answer.exchange_id))
    }
}

impl OAuthFlow {
    /// GoTrue's `/authorize?provider=…&redirect_to=…[&scopes=…]&code_challenge=…&code_challenge_method=s256`:
    /// what to open in the browser.
    pub fn authorize_url(&self) -> &str {
        &self.authorize_url
    }

    /// `http://127.0.0.1:<port>/callback/<state>`: where GoTrue sends the browser back.
    pub fn redirect_to(&self) -> &str {
        self.listener.redirect_to()
    }

    /// What to add to the project's Redirect URLs (Auth → URL Configuration) so that GoTrue
    /// accepts `redirect_to`: `http://127.0.0.1:*/callback/*`. GoTrue matches it as a glob
    /// with `.` and `/` as separators: each `*` takes the port, then the state, neither of
    /// which has a separator. (GoTrue since v2.171 also accepts any loopback IP address
    /// without an entry; older releases and stricter setups need it.)
    pub fn allow_list_entry() -> &'static str {
        oauth_callback::ALLOW_LIST_ENTRY
    }

    pub fn canceller(&self) -> OAuthCancel {
        self.cancel.clone()
    }

    /// Waits for the browser (at most `OAUTH_CALLBACK_TIMEOUT` from `start_oauth`, or until
    /// cancelled), closes the listener, exchanges the code for the session (`SIGNED_IN`), and
    /// then tells the browser how it went. The browser coming back with an error ends the
    /// sign-in with `OAuthCallback`; the current session is left as it was.
    pub async fn finish(self) -> Result<AuthResponse, AuthError> {
        let OAuthFlow {
            client,
            provider,
            listener,
            verifier,
            cancel,
            deadline,
            ..
        } = self;
        let waited = tokio::select! {
            _ = cancel.cancelled() => Err(AuthError::OAuthCancelled),
            found = tokio::time::timeout_at(deadline, listener.next_callback()) => {
                found.map_err(|_| AuthError::OAuthTimedOut)
            }
        };
        drop(listener);
        let (callback, browser) = match waited {
            Ok(found) => found,
            Err(error) => {
                tracing::info!(%provider, %error, "OAuth sign-in ended without a callback");
                return Err(error);
            }
        };
        match callback {
            Callback::Error {
                error,
                code,
                description,
            } => {
                let failure = AuthError::OAuthCallback {
                    error,
                    code,
                    description,
                };
                answer_failure(browser, &failure).await;
                Err(failure)
            }
            Callback::Code(code) => {
                // A cancel during the exchange wins too: the session GoTrue may have made is
                // not adopted (it stays on the server unused, as an abandoned sign-in's would).
                let exchanged = tokio::select! {
                    _ = cancel.cancelled() => Err(AuthError::OAuthCancelled),
                    got = client.exchange_code(&code, &verifier) => got,
                };
                let outcome = match exchanged {
                    Ok(_) if cancel.is_cancelled() => Err(AuthError::OAuthCancelled),
                    Ok((session, exchange_id)) => client
                        .adopt(
                            session.clone(),
                            AuthEventKind::SignedIn,
                            Some(exchange_id),
                            crate::events::Cause::SignIn,
                        )
                        .await
                        .map(|()| AuthResponse {
                            user: session.user.clone(),
                            session,
                        }),
                    Err(error) => Err(error),
                };
                match &outcome {
                    Ok(_) => browser.answer(Page::signed_in()).await,
                    Err(error) => answer_failure(browser, error).await,
                }
                outcome
            }
        }
    }
}

async fn answer_failure(browser: Browser, error: &AuthError) {
    let message = format!("{error}. Go back to Session Inspector to try again.");
    browser
        .answer(Page::problem(400, "Sign-in failed", &message))
        .await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_challenge_is_rfc_7636s_s256() {
        // RFC 7636, Appendix B.
        assert_eq!(
            code_challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
    }

    #[test]
    fn a_verifier_is_43_url_safe_characters() {
        let verifier = oauth_callback::random_base64url::<32>();
        assert_eq!(verifier.len(), 43, "GoTrue accepts 43 to 128");
        assert!(verifier
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
    }
}
