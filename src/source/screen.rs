//! X11 screen capture (not built yet: see the screen-source issue).

use super::{Captured, Source, SourceError};
use crate::config::{Config, Resolution};
use crate::json::Json;

pub struct Screen;

impl Screen {
    pub fn new(_config: &Config) -> Result<Screen, SourceError> {
        Err(SourceError::Unusable(
            "--source screen is not built yet".into(),
        ))
    }
}

impl Source for Screen {
    fn open(&mut self) -> Result<(), SourceError> {
        Ok(())
    }
    fn capture(&mut self) -> Result<Captured, SourceError> {
        Ok(Captured::Unchanged)
    }
    fn close(&mut self) {}
    fn info(&self) -> Vec<(String, Json)> {
        Vec::new()
    }
    fn nominal_size(&self) -> Option<Resolution> {
        None
    }
}
