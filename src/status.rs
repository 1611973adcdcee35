//! What the running source says about itself, published by the pipeline and read by the HTTP
//! side: whether it delivers real pictures, its facts for `/state`, and the part of the X screen
//! it streams (what remote control maps picture fractions onto).

use std::sync::{Arc, Mutex};

use crate::geometry::Region;
use crate::json::Json;
use crate::sync::lock;

#[derive(Default)]
struct Inner {
    online: bool,
    info: Vec<(String, Json)>,
    area: Option<Region>,
}

/// Figures computed when `/state` is asked for, so a rate is current even while capture waits.
pub type Figures = Arc<dyn Fn() -> Vec<(String, Json)> + Send + Sync>;

#[derive(Default)]
pub struct SourceStatus {
    inner: Mutex<Inner>,
    figures: Mutex<Option<Figures>>,
}

impl SourceStatus {
    /// Whether the source delivers real pictures (false while showing "NO SIGNAL"). An idle
    /// source keeps its value: monitoring must not see "down" each time nobody watches.
    pub fn set_online(&self, online: bool) {
        lock(&self.inner).online = online;
    }

    /// Source-specific facts for `/state` (device, format, passthrough, counters...).
    pub fn set_info(&self, info: Vec<(String, Json)>) {
        lock(&self.inner).info = info;
    }

    /// The X screen rectangle streamed (screen source only).
    pub fn set_area(&self, area: Option<Region>) {
        lock(&self.inner).area = area;
    }

    /// Adds figures computed at each `/state` (the encoder's bands per second).
    pub fn set_figures(&self, figures: Figures) {
        *lock(&self.figures) = Some(figures);
    }

    pub fn area(&self) -> Option<Region> {
        lock(&self.inner).area
    }

    /// The `/state` fields: `online`, then the source's own facts.
    pub fn state_json(&self) -> Vec<(String, Json)> {
        let mut out = {
            let s = lock(&self.inner);
            let mut out = vec![("online".to_string(), Json::Bool(s.online))];
            out.extend(s.info.iter().cloned());
            out
        };
        if let Some(figures) = lock(&self.figures).clone() {
            out.extend(figures());
        }
        out
    }
}
