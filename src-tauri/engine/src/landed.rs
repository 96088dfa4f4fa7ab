//! The refreshes that landed one after the other on the current session's line, by token keys
//! (never the tokens): the refresh tokens they used up, newest last, and the one the last of
//! them made current. What lets a caller that read a refresh token before a refresh used it
//! up, and reached `SingleFlight` after that flight left, share it instead of sending a
//! used-up token (see `client::refresh::refreshed_meanwhile`).

use std::collections::VecDeque;

#[derive(Debug, Default)]
pub(crate) struct Landed {
    consumed: VecDeque<String>,
    produced: String,
}

impl Landed {
    /// How many used-up tokens are remembered: more generations than a burst of callers can
    /// fall behind. A caller further behind sends its own request.
    pub(crate) const KEEP: usize = 16;

    /// A refresh that used up `consumed` and made `produced` current. One that continues the
    /// line (its `consumed` is the last `produced`) adds to it; any other (a pasted token, a
    /// new session's first refresh) starts a new line. A server that hands back the same
    /// refresh token used nothing up: nothing is remembered.
    pub(crate) fn record(&mut self, consumed: String, produced: String) {
        if consumed == produced {
            return;
        }
        if consumed != self.produced {
            self.consumed.clear();
        }
        if self.consumed.len() == Landed::KEEP {
            self.consumed.pop_front();
        }
        self.consumed.push_back(consumed);
        self.produced = produced;
    }

    /// Whether a refresh on the line used up the token `key` names (and it is not the one the
    /// line made current, which nothing has used up yet).
    pub(crate) fn used_up(&self, key: &str) -> bool {
        key != self.produced && self.consumed.iter().any(|consumed| consumed == key)
    }

    /// The key of the refresh token the line's last refresh made current.
    pub(crate) fn produced(&self) -> &str {
        &self.produced
    }

    /// Forgets the line (the session ended).
    pub(crate) fn clear(&mut self) {
        *self = Landed::default();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn k(n: usize) -> String {
        format!("k{n}")
    }

    /// A line of `n` refreshes: k0 → k1 → … → kn.
    fn line(n: usize) -> Landed {
        let mut landed = Landed::default();
        for i in 0..n {
            landed.record(k(i), k(i + 1));
        }
        landed
    }

    #[test]
    fn a_refresh_continuing_the_line_adds_to_it() {
        let landed = line(3);
        assert!((0..3).all(|i| landed.used_up(&k(i))));
        assert!(!landed.used_up(&k(3)), "the current token is not used up");
        assert_eq!(landed.produced(), k(3));
    }

    #[test]
    fn a_refresh_off_the_line_starts_a_new_one() {
        let mut landed = line(3);
        landed.record("pasted".into(), "fresh".into());
        assert!((0..=3).all(|i| !landed.used_up(&k(i))));
        assert!(landed.used_up("pasted"));
        assert_eq!(landed.produced(), "fresh");
    }

    #[test]
    fn a_caller_more_than_keep_refreshes_behind_is_forgotten() {
        let landed = line(Landed::KEEP + 1);
        assert!(!landed.used_up(&k(0)), "17 refreshes behind: sends its own");
        assert!((1..=Landed::KEEP).all(|i| landed.used_up(&k(i))));
    }

    #[test]
    fn a_server_that_returns_the_same_token_used_nothing_up() {
        let mut landed = line(2);
        landed.record(k(2), k(2));
        assert!(!landed.used_up(&k(2)));
        assert_eq!(landed.produced(), k(2));
        let mut fresh = Landed::default();
        fresh.record("same".into(), "same".into());
        assert!(!fresh.used_up("same"));
    }

    #[test]
    fn clearing_forgets_the_line() {
        let mut landed = line(3);
        landed.clear();
        assert!((0..=3).all(|i| !landed.used_up(&k(i))));
        assert_eq!(landed.produced(), "");
    }
}
