//! V4L2 camera capture (not built yet: see the camera-source issue).

use super::{Captured, Source, SourceError};
use crate::config::{Config, Resolution};
use crate::json::Json;

pub struct Camera;

impl Camera {
    pub fn new(_config: &Config) -> Result<Camera, SourceError> {
        Err(SourceError::Unusable(
            "--source camera is not built yet".into(),
        ))
    }
}

impl Source for Camera {
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
