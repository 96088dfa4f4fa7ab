//! What each official Supabase client would do with a session: when it refreshes it, which
//! failures it retries, what it does when the refresh token is rejected. One table, each row
//! citing the constants it comes from, so the window can say "supabase-js refreshes this in
//! 0:42 at the latest; supabase-py at 1:50" for the session on screen.
//!
//! The facts were read from the clients' own sources (see `gotrue-protocol.md` §2, §3 and its
//! errata): supabase-js `packages/core/auth-js` v2.112 (the current, lockless generation),
//! `supabase_auth` 2.34 (Python), and supabase-rb's `Supabase::Auth` 0.2 (Ruby, the client of
//! the `refresh_session` contract this engine follows).

use serde::Serialize;
use ts_rs::TS;

/// How a client refreshes on its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AutoRefresh {
    /// A ticker every `every_secs` that refreshes when at most `ticks` whole ticks remain, so
    /// between `(ticks + 1) · every` and `ticks · every` seconds before expiry, depending on
    /// where the tick falls (auth-js `_autoRefreshTokenTick`).
    Ticker { every_secs: i64, ticks: i64 },
    /// A one-shot timer armed at every save, firing `margin_secs` before expiry (half a second
    /// before when less than that is left).
    TimerBeforeExpiry { margin_secs: i64 },
}

/// What the client does with its stored session when a refresh is rejected for good.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub enum OnRejected {
    /// Keeps it while the access token is valid; the first failed refresh after expiry
    /// removes it and sends `SIGNED_OUT`.
    EndsAfterExpiry,
    /// Keeps it stored; `get_session` raises on every call; the next start-up removes it.
    KeptUntilRestart,
    /// Keeps it; every call raises; no `SIGNED_OUT` ever comes from a refresh.
    KeptErrorsRaised,
}

impl OnRejected {
    pub fn describe(self) -> &'static str {
        match self {
            OnRejected::EndsAfterExpiry => {
                "keeps the session while its access token is valid, then signs out \
                 (SIGNED_OUT) at the first refresh after expiry"
            }
            OnRejected::KeptUntilRestart => {
                "keeps the session stored and raises from get_session() on every call; \
                 it is removed at the next start-up"
            }
            OnRejected::KeptErrorsRaised => {
                "keeps the session and raises on every call; a refresh never signs out"
            }
        }
    }
}

/// A constant a row relies on, and where it is defined.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct SourceConstant {
    pub name: &'static str,
    pub value: &'static str,
    pub file: &'static str,
}

/// One official client's refresh rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientRules {
    pub client: &'static str,
    pub package: &'static str,
    /// `getSession()` / `get_session()` refreshes when this little time is left.
    pub get_session_margin_secs: i64,
    pub auto_refresh: AutoRefresh,
    /// A failed refresh is answered from memory, without a request, for this long.
    pub failure_cooldown_secs: Option<i64>,
    /// HTTP statuses retried as transient (network failures always are).
    pub retryable_statuses: &'static [(u16, u16)],
    pub on_rejected: OnRejected,
    pub sources: &'static [SourceConstant],
}

/// supabase-js's auth client, current generation (`lib/constants.ts`, `GoTrueClient.ts`).
pub const SUPABASE_JS: ClientRules = ClientRules {
    client: "supabase-js",
    package: "@supabase/auth-js 2.112",
    get_session_margin_secs: 90,
    auto_refresh: AutoRefresh::Ticker {
        every_secs: 30,
        ticks: 3,
    },
    failure_cooldown_secs: Some(60),
    retryable_statuses: &[(500, 504), (520, 530)],
    on_rejected: OnRejected::EndsAfterExpiry,
    sources: &[
        SourceConstant {
            name: "EXPIRY_MARGIN_MS",
            value: "90000",
            file: "auth-js src/lib/constants.ts",
        },
        SourceConstant {
            name: "AUTO_REFRESH_TICK_DURATION_MS",
            value: "30000",
            file: "auth-js src/lib/constants.ts",
        },
        SourceConstant {
            name: "AUTO_REFRESH_TICK_THRESHOLD",
            value: "3",
            file: "auth-js src/lib/constants.ts",
        },
        SourceConstant {
            name: "REFRESH_FAILURE_COOLDOWN_MS",
            value: "60000",
            file: "auth-js src/lib/constants.ts",
        },
        SourceConstant {
            name: "NETWORK_ERROR_CODES",
            value: "500–504, 520–530",
            file: "auth-js src/lib/fetch.ts",
        },
    ],
};

/// Python's `supabase_auth` (`constants.py`, `_sync/gotrue_client.py`, `helpers.py`).
pub const SUPABASE_PY: ClientRules = ClientRules {
    client: "supabase-py",
    package: "supabase_auth 2.34",
    get_session_margin_secs: 10,
    auto_refresh: AutoRefresh::TimerBeforeExpiry { margin_secs: 10 },
    failure_cooldown_secs: None,
    retryable_statuses: &[(502, 504), (520, 524), (530, 530)],
    on_rejected: OnRejected::KeptUntilRestart,
    sources: &[
        SourceConstant {
            name: "EXPIRY_MARGIN",
            value: "10",
            file: "supabase_auth/constants.py",
        },
        SourceConstant {
            name: "_save_session timer",
            value: "expires_in − EXPIRY_MARGIN",
            file: "supabase_auth/_sync/gotrue_client.py",
        },
        SourceConstant {
            name: "network_error_codes",
            value: "502–504, 520–524, 530",
            file: "supabase_auth/helpers.py",
        },
    ],
};

/// supabase-rb's `Supabase::Auth::Client` (`constants.rb`, `client.rb`, `helpers.rb`).
pub const SUPABASE_RB: ClientRules = ClientRules {
    client: "supabase-rb",
    package: "supabase-rb auth 0.2",
    get_session_margin_secs: 10,
    auto_refresh: AutoRefresh::TimerBeforeExpiry { margin_secs: 10 },
    failure_cooldown_secs: None,
    retryable_statuses: &[(502, 504)],
    on_rejected: OnRejected::KeptErrorsRaised,
    sources: &[
        SourceConstant {
            name: "EXPIRY_MARGIN",
            value: "10",
            file: "lib/supabase/auth/constants.rb",
        },
        SourceConstant {
            name: "AuthRetryableError",
            value: "502, 503, 504",
            file: "lib/supabase/auth/helpers.rb",
        },
    ],
};

/// Every official client the window compares, in the order it shows them.
pub const OFFICIAL_CLIENTS: [ClientRules; 3] = [SUPABASE_JS, SUPABASE_PY, SUPABASE_RB];

/// One client's rules as the window shows them: the same for every session, so they cross
/// IPC once (in the app's status), not with every session.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct ClientRulesView {
    pub client: String,
    pub package: String,
    pub get_session_margin_secs: i64,
    pub failure_cooldown_secs: Option<i64>,
    /// "network errors, 500–504, 520–530".
    pub retries: String,
    pub on_rejected: OnRejected,
    pub on_rejected_text: String,
    pub sources: Vec<SourceConstant>,
}

/// What one client would do with one session, in unix seconds.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct ClientForecast {
    /// Names the client in `ClientRulesView::client`.
    pub client: String,
    /// Its auto-refresh refreshes no earlier than this…
    pub auto_refresh_from: i64,
    /// …and no later than this (the same moment for a timer).
    pub auto_refresh_by: i64,
    /// `getSession()` refreshes first from this moment on.
    pub get_session_refreshes_from: i64,
}

impl ClientRules {
    /// When this client's auto-refresh would refresh a session expiring at `expires_at`, as
    /// `(from, by)`. A timer client arms at save time, so this holds for a session it saved
    /// with more than its margin left.
    pub fn auto_refresh_window(&self, expires_at: i64) -> (i64, i64) {
        match self.auto_refresh {
            AutoRefresh::Ticker { every_secs, ticks } => (
                expires_at - (ticks + 1) * every_secs,
                expires_at - ticks * every_secs,
            ),
            AutoRefresh::TimerBeforeExpiry { margin_secs } => {
                (expires_at - margin_secs, expires_at - margin_secs)
            }
        }
    }

    pub fn retries(&self) -> String {
        let ranges = self.retryable_statuses.iter().map(|&(from, to)| {
            if from == to {
                from.to_string()
            } else {
                format!("{from}–{to}")
            }
        });
        std::iter::once("network errors".to_string())
            .chain(ranges)
            .collect::<Vec<_>>()
            .join(", ")
    }

    pub fn retries_status(&self, status: u16) -> bool {
        self.retryable_statuses
            .iter()
            .any(|&(from, to)| (from..=to).contains(&status))
    }

    pub fn forecast(&self, expires_at: i64) -> ClientForecast {
        let (from, by) = self.auto_refresh_window(expires_at);
        ClientForecast {
            client: self.client.into(),
            auto_refresh_from: from,
            auto_refresh_by: by,
            get_session_refreshes_from: expires_at - self.get_session_margin_secs,
        }
    }

    pub fn view(&self) -> ClientRulesView {
        ClientRulesView {
            client: self.client.into(),
            package: self.package.into(),
            get_session_margin_secs: self.get_session_margin_secs,
            failure_cooldown_secs: self.failure_cooldown_secs,
            retries: self.retries(),
            on_rejected: self.on_rejected,
            on_rejected_text: self.on_rejected.describe().into(),
            sources: self.sources.to_vec(),
        }
    }
}

/// Every official client's rules, in the order the window shows them.
pub fn rules() -> Vec<ClientRulesView> {
    OFFICIAL_CLIENTS.iter().map(ClientRules::view).collect()
}

/// Every official client's forecast for a session expiring at `expires_at`.
pub fn forecasts(expires_at: i64) -> Vec<ClientForecast> {
    OFFICIAL_CLIENTS
        .iter()
        .map(|rules| rules.forecast(expires_at))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol;

    const EXPIRES: i64 = 1_800_000_000;

    #[test]
    fn supabase_js_refreshes_between_120_and_90_seconds_before_expiry() {
        let js = SUPABASE_JS.forecast(EXPIRES);
        assert_eq!(
            (js.auto_refresh_from, js.auto_refresh_by),
            (EXPIRES - 120, EXPIRES - 90)
        );
        assert_eq!(js.get_session_refreshes_from, EXPIRES - 90);
        let view = SUPABASE_JS.view();
        assert_eq!(view.failure_cooldown_secs, Some(60));
        assert_eq!(view.on_rejected, OnRejected::EndsAfterExpiry);
    }

    #[test]
    fn the_python_and_ruby_clients_refresh_ten_seconds_before_expiry() {
        for rules in [SUPABASE_PY, SUPABASE_RB] {
            let f = rules.forecast(EXPIRES);
            assert_eq!(
                (f.auto_refresh_from, f.auto_refresh_by),
                (EXPIRES - 10, EXPIRES - 10)
            );
            assert_eq!(f.get_session_refreshes_from, EXPIRES - 10);
            assert_eq!(rules.view().failure_cooldown_secs, None);
        }
    }

    #[test]
    fn the_python_and_ruby_margin_is_the_engine_default() {
        let default = protocol::DEFAULT_EXPIRY_MARGIN.as_secs() as i64;
        assert_eq!(SUPABASE_PY.get_session_margin_secs, default);
        assert_eq!(SUPABASE_RB.get_session_margin_secs, default);
    }

    #[test]
    fn supabase_js_retries_exactly_what_the_engine_retries() {
        for status in 100..600 {
            assert_eq!(
                SUPABASE_JS.retries_status(status),
                protocol::is_retryable_status(status),
                "{status}"
            );
        }
    }

    #[test]
    fn retried_statuses_differ_by_client_and_are_said_in_words() {
        assert!(SUPABASE_JS.retries_status(500) && !SUPABASE_PY.retries_status(500));
        assert!(SUPABASE_PY.retries_status(522) && !SUPABASE_RB.retries_status(522));
        assert!(SUPABASE_PY.retries_status(530) && !SUPABASE_PY.retries_status(525));
        assert_eq!(SUPABASE_JS.retries(), "network errors, 500–504, 520–530");
        assert_eq!(
            SUPABASE_PY.retries(),
            "network errors, 502–504, 520–524, 530"
        );
    }

    #[test]
    fn every_row_cites_its_sources() {
        for rules in OFFICIAL_CLIENTS {
            assert!(!rules.sources.is_empty(), "{}", rules.client);
            assert!(rules.sources.iter().all(|s| !s.file.is_empty()));
        }
        assert_eq!(forecasts(EXPIRES).len(), 3);
        let names: Vec<_> = rules().into_iter().map(|r| r.client).collect();
        let forecast_names: Vec<_> = forecasts(EXPIRES).into_iter().map(|f| f.client).collect();
        assert_eq!(names, forecast_names, "the window joins them by name");
    }
}
