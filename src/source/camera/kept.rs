//! The control values to keep on a camera: `--set` at start, then every accepted
//! `POST /camera/controls`. Cameras forget their settings when they re-enumerate (unplug, USB
//! reset, driver reload) and deskcam reopens them after an idle stop, so the wanted values live
//! here, outside any one open device, and are applied again on every open.

use std::io;
use std::path::PathBuf;
use std::sync::Mutex;

use v4l::Device;

use super::controls::{CameraControlError, Info, apply, plan, query};
use super::device;
use super::settings::ControlSetting;
use crate::sync::lock;

/// The kept values. The lock also keeps a reopen and a change over HTTP from interleaving their
/// ioctls.
pub struct Store {
    path: PathBuf,
    wanted: Mutex<Vec<ControlSetting>>,
}

impl Store {
    pub fn new(path: PathBuf, wanted: Vec<ControlSetting>) -> Store {
        Store {
            path,
            wanted: Mutex::new(wanted),
        }
    }

    /// Applies every kept value to a freshly opened camera.
    pub fn restore(&self, dev: &Device) -> Result<usize, CameraControlError> {
        let wanted = lock(&self.wanted);
        if wanted.is_empty() {
            return Ok(0);
        }
        let controls = query(dev).map_err(|e| self.failed("listing its controls", &e))?;
        let plan = plan(&controls, &wanted)?;
        apply(dev, &plan)?;
        Ok(plan.len())
    }

    /// The camera's controls now, from a handle of our own (the capture thread keeps its own).
    pub fn list(&self) -> Result<Vec<Info>, CameraControlError> {
        let _serial = lock(&self.wanted);
        let opened = device::open(&self.path).map_err(CameraControlError::Device)?;
        query(&opened.dev).map_err(|e| self.failed("listing its controls", &e))
    }

    /// Checks and sets `changes` all or nothing, keeps them for later reopens and returns the
    /// controls as they are afterwards (an automatic mode may have changed others).
    pub fn set(&self, changes: &[ControlSetting]) -> Result<Vec<Info>, CameraControlError> {
        let mut wanted = lock(&self.wanted);
        let opened = device::open(&self.path).map_err(CameraControlError::Device)?;
        let controls = query(&opened.dev).map_err(|e| self.failed("listing its controls", &e))?;
        let plan = plan(&controls, changes)?;
        apply(&opened.dev, &plan)?;
        for change in changes {
            wanted.retain(|w| w.name != change.name);
            wanted.push(change.clone());
        }
        query(&opened.dev).map_err(|e| self.failed("listing its controls", &e))
    }

    /// What is kept, in order (for `/state` and tests).
    pub fn wanted(&self) -> Vec<ControlSetting> {
        lock(&self.wanted).clone()
    }

    fn failed(&self, what: &str, e: &io::Error) -> CameraControlError {
        CameraControlError::Device(device::device_failed(&self.path, what, e))
    }
}
