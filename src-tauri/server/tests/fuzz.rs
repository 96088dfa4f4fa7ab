//! Random bodies, headers and grant types: the server answers every one without a 5xx or a
//! panic, and its state stays consistent. Deterministic (seeded), so a failure reproduces.

mod common;

use axum::body::Body;
use axum::http::Request;
use common::start;
use tower::ServiceExt;

/// xorshift64*: small, seedable, good enough to pick cases.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[(self.next() % items.len() as u64) as usize]
    }
    fn bytes(&mut self, max: usize) -> Vec<u8> {
        let len = (self.next() % max as u64) as usize;
        (0..len).map(|_| self.next() as u8).collect()
    }
}

#[tokio::test]
async fn random_requests_never_break_the_server_or_its_state() {
    let h = start().await;
    let live = h.sign_in().await;
    let tokens = [live.refresh_token(), live.access_token()];
    let app = local_gotrue::router(h.server.state().clone());
    let mut rng = Rng(0x5EED_1234_ABCD_0001);
    let paths = [
        "/token?grant_type=refresh_token",
        "/token?grant_type=password",
        "/token?grant_type=",
        "/token",
        "/token?grant_type=pkce",
        "/auth/v1/token?grant_type=refresh_token",
        "/signup",
        "/logout?scope=local",
        "/logout?scope=%ff",
        "/user",
        "/settings",
        "/.well-known/jwks.json",
        "/nope",
        "/_emulator/faults",
        "/_emulator/clock",
    ];
    let fields = [
        "refresh_token",
        "email",
        "password",
        "phone",
        "data",
        "grant_type",
        "seconds",
    ];
    let mut statuses = std::collections::BTreeMap::<u16, u32>::new();
    for case in 0..1500 {
        let body: Vec<u8> = match rng.next() % 5 {
            0 => rng.bytes(200),
            1 => serde_json::json!({ rng.pick(&fields): rng.pick(&["", "x", "abcdefghijkl", &tokens[0], "a@b.co"]) }).to_string().into_bytes(),
            2 => format!("{{\"{}\": {}}}", rng.pick(&fields), rng.next() as i64).into_bytes(),
            3 => b"[1,2,3]".to_vec(),
            _ => Vec::new(),
        };
        let method = if rng.next().is_multiple_of(4) {
            "GET"
        } else {
            "POST"
        };
        let mut request = Request::builder().method(method).uri(rng.pick(&paths));
        if rng.next().is_multiple_of(2) {
            request = request.header(
                "X-Supabase-Api-Version",
                rng.pick(&["2024-01-01", "garbage", "1999-01-01"]),
            );
        }
        if rng.next().is_multiple_of(3) {
            let auth = rng.pick(&["Bearer", "Bearer a.b.c", "bearer   x", "Basic zz"]);
            let auth = if rng.next().is_multiple_of(4) {
                format!("Bearer {}", tokens[1])
            } else {
                auth.to_string()
            };
            request = request.header("Authorization", auth);
        }
        let response = app
            .clone()
            .oneshot(request.body(Body::from(body)).unwrap())
            .await
            .unwrap();
        let status = response.status().as_u16();
        *statuses.entry(status).or_default() += 1;
        assert!(status < 500, "case {case}: server error {status}");
    }
    // Faults queued by the fuzzer (it can reach /_emulator/faults) are cleared first.
    app.clone()
        .oneshot(
            Request::delete("/_emulator/faults")
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    h.assert_consistent().await;
    println!("statuses over 1500 random requests: {statuses:?}");
}
