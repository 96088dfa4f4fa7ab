//! The TypeScript side of the IPC boundary, generated from the Rust types with ts-rs so the two
//! cannot drift: `ui/src/lib/ipc.gen.ts` is exactly [`typescript`]'s output, which the test
//! `tests/ipc_types.rs` checks on every run. After changing a type that crosses IPC:
//! `UPDATE_IPC_TYPES=1 cargo test --test ipc_types`.

use ts_rs::TS;

/// Where the generated file lives, from the repository root.
pub const GENERATED_FILE: &str = "ui/src/lib/ipc.gen.ts";

fn declarations(config: &ts_rs::Config) -> Vec<String> {
    use crate::about::{About, AboutPath, BuildProfile};
    use crate::clipboard::Copied;
    use crate::commands::app::AppInfo;
    use crate::commands::sign_in::OtpChannel;
    use crate::copy_as::{CopiedAs, CopyFormat, Slot};
    use crate::demo::{DemoAccount, InboxKind, InboxMessage};
    use crate::error::ErrorView;
    use crate::identities::{IdentitiesView, IdentityView};
    use crate::layout::LogLayout;
    use crate::live_log::{LogItem, RequestSummary};
    use crate::oauth::OAuthStarted;
    use crate::playground::{Scenario, ScenarioInfo, ScenarioReport};
    use crate::predictor::PasteRotated;
    use crate::profiles::{DetectedStack, ProfileView, Status};
    use crate::qr::QrMatrix;
    use crate::reset::ResetDone;
    use crate::reveal::Which;
    use crate::timeline::{
        ExchangeRef, MarkKind, TimelineMark, TimelineSession, TimelineToken, TimelineView,
    };
    use crate::views::{
        EmailChangeView, EventView, RefreshView, RejectionView, SessionView, TotpEnrollmentView,
        UserView,
    };
    use session_engine::client::mfa::Factor;
    use session_engine::client::otp::{OtpKind, OtpSent};
    use session_engine::import::ImportKind;
    use session_engine::official_clients::{
        ClientForecast, ClientRulesView, OnRejected, SourceConstant,
    };
    use session_engine::paste::PastePreview;
    use session_engine::recorder::Exchange;
    use session_engine::reuse::{Expected, Outcome, Prediction, TokenFormat, Verdict};
    use session_engine::tokens::{Invalid, RefreshTokenShape, SignatureStatus, Unverified};
    use session_engine::SignInMethods;
    use session_engine::{AuthEventKind, SignOutScope};
    vec![
        AppInfo::decl(config),
        About::decl(config),
        AboutPath::decl(config),
        BuildProfile::decl(config),
        Status::decl(config),
        ResetDone::decl(config),
        ProfileView::decl(config),
        DemoAccount::decl(config),
        DetectedStack::decl(config),
        session_vault::Backend::decl(config),
        SessionView::decl(config),
        UserView::decl(config),
        RefreshTokenShape::decl(config),
        RefreshView::decl(config),
        ClientForecast::decl(config),
        ClientRulesView::decl(config),
        OnRejected::decl(config),
        SourceConstant::decl(config),
        SignatureStatus::decl(config),
        Invalid::decl(config),
        Unverified::decl(config),
        EventView::decl(config),
        RejectionView::decl(config),
        AuthEventKind::decl(config),
        LogItem::decl(config),
        RequestSummary::decl(config),
        ErrorView::decl(config),
        Copied::decl(config),
        LogLayout::decl(config),
        CopyFormat::decl(config),
        CopiedAs::decl(config),
        Slot::decl(config),
        Exchange::decl(config),
        PastePreview::decl(config),
        Prediction::decl(config),
        Outcome::decl(config),
        Expected::decl(config),
        TokenFormat::decl(config),
        Verdict::decl(config),
        PasteRotated::decl(config),
        ImportKind::decl(config),
        SignOutScope::decl(config),
        Which::decl(config),
        SignInMethods::decl(config),
        OtpKind::decl(config),
        OtpChannel::decl(config),
        OtpSent::decl(config),
        OAuthStarted::decl(config),
        InboxMessage::decl(config),
        InboxKind::decl(config),
        Factor::decl(config),
        TotpEnrollmentView::decl(config),
        QrMatrix::decl(config),
        IdentitiesView::decl(config),
        IdentityView::decl(config),
        EmailChangeView::decl(config),
        TimelineView::decl(config),
        TimelineSession::decl(config),
        TimelineToken::decl(config),
        TimelineMark::decl(config),
        MarkKind::decl(config),
        ExchangeRef::decl(config),
        Scenario::decl(config),
        ScenarioInfo::decl(config),
        ScenarioReport::decl(config),
    ]
}

/// The whole generated file.
pub fn typescript() -> String {
    let mut out = String::from(
        "// Generated from the Rust types by src-tauri/src/ipc_types.rs (ts-rs). Do not edit:\n\
         // change the Rust type, then run `UPDATE_IPC_TYPES=1 cargo test --test ipc_types`.\n",
    );
    // 64-bit integers cross as JSON numbers (timestamps, counters, ids: all below 2^53).
    let config = ts_rs::Config::new().with_large_int("number");
    for declaration in declarations(&config) {
        out.push('\n');
        out.push_str("export ");
        out.push_str(&declaration);
        out.push('\n');
    }
    out
}
