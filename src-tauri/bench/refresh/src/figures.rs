//! Figures as the lead's renderer reads them: one `figure {json}` line each on stdout.

use std::time::Duration;

use serde_json::{json, Value};

pub struct Figure<'a> {
    pub area: &'a str,
    pub id: &'a str,
    pub label: &'a str,
    pub value: f64,
    pub unit: &'a str,
    pub goal: Option<&'a str>,
}

impl Figure<'_> {
    pub fn print(&self) {
        let mut object = json!({
            "area": self.area,
            "id": self.id,
            "label": self.label,
            "value": round(self.value),
            "unit": self.unit,
        });
        if let Some(goal) = self.goal {
            object["goal"] = Value::from(goal);
        }
        println!("figure {object}");
    }
}

/// Four significant decimals is more than any of these figures can claim.
fn round(value: f64) -> f64 {
    (value * 10_000.0).round() / 10_000.0
}

pub fn figure(area: &str, id: &str, label: &str, value: f64, unit: &str, goal: Option<&str>) {
    Figure {
        area,
        id,
        label,
        value,
        unit,
        goal,
    }
    .print();
}

/// The `p`-quantile (0..=1) of `samples`, nearest rank.
pub fn percentile(samples: &mut [Duration], p: f64) -> Duration {
    if samples.is_empty() {
        return Duration::ZERO;
    }
    samples.sort_unstable();
    samples[((samples.len() as f64 - 1.0) * p).round() as usize]
}

pub fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// p50 and p99 in milliseconds.
pub fn p50_p99(samples: &mut [Duration]) -> (f64, f64) {
    (ms(percentile(samples, 0.5)), ms(percentile(samples, 0.99)))
}
