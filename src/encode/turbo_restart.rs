//! libjpeg-turbo with a restart marker after every MCU row, for band encoding ([`super::bands`]).
//! The `turbojpeg` crate 1.x has no setter for `TJPARAM_RESTARTROWS` and keeps its handle
//! private, so this calls the C API the crate re-exports as `turbojpeg::raw`. It is the one
//! `unsafe` of the encoder.

use std::cell::RefCell;
use std::ffi::{CStr, c_int, c_ulong};
use std::ptr;

use turbojpeg::raw;

use crate::jpeg::Subsampling;

/// An initialised compressor handle, destroyed on drop.
struct Handle(raw::tjhandle);

impl Drop for Handle {
    fn drop(&mut self) {
        // SAFETY: `self.0` came from a successful `tj3Init` and is destroyed exactly once.
        unsafe { raw::tj3Destroy(self.0) }
    }
}

impl Handle {
    fn error(&self) -> String {
        // SAFETY: a valid handle; libjpeg-turbo returns a NUL-terminated string it owns, which
        // is copied before the next call on this handle.
        let msg = unsafe { CStr::from_ptr(raw::tj3GetErrorStr(self.0)) };
        format!("libjpeg-turbo: {}", msg.to_string_lossy())
    }

    fn set(&self, param: raw::TJPARAM, value: c_int) -> Result<(), String> {
        // SAFETY: a valid handle; tj3Set only reads its integer arguments.
        match unsafe { raw::tj3Set(self.0, param as c_int, value) } {
            0 => Ok(()),
            _ => Err(self.error()),
        }
    }
}

thread_local! {
    /// One handle per encoder thread, as the crate-based path in `turbo.rs` keeps its compressor.
    static HANDLE: RefCell<Option<Handle>> = const { RefCell::new(None) };
}

/// Encodes `height` rows of packed B,G,R,X pixels (`stride` bytes apart) with a restart
/// interval of one MCU row.
pub fn compress_bgrx(
    data: &[u8],
    width: u32,
    height: u32,
    stride: usize,
    quality: u8,
    subsampling: Subsampling,
) -> Result<Vec<u8>, String> {
    let need = stride * (height as usize).saturating_sub(1) + width as usize * 4;
    if width == 0 || height == 0 || stride < width as usize * 4 || data.len() < need {
        return Err(format!(
            "{} bytes do not hold {width}x{height} BGRX",
            data.len()
        ));
    }
    let subsamp = match subsampling {
        Subsampling::S420 => raw::TJSAMP_TJSAMP_420,
        Subsampling::S422 => raw::TJSAMP_TJSAMP_422,
        Subsampling::S444 => raw::TJSAMP_TJSAMP_444,
    };
    HANDLE.with(|cell| {
        let mut cell = cell.borrow_mut();
        let h = match cell.as_ref() {
            Some(h) => h,
            None => {
                // SAFETY: tj3Init has no preconditions; a null result is checked.
                let p = unsafe { raw::tj3Init(raw::TJINIT_TJINIT_COMPRESS as c_int) };
                if p.is_null() {
                    return Err("libjpeg-turbo: cannot create a compressor".to_string());
                }
                cell.insert(Handle(p))
            }
        };
        h.set(raw::TJPARAM_TJPARAM_QUALITY, quality.into())?;
        h.set(raw::TJPARAM_TJPARAM_SUBSAMP, subsamp as c_int)?;
        h.set(raw::TJPARAM_TJPARAM_RESTARTROWS, 1)?;
        h.set(raw::TJPARAM_TJPARAM_NOREALLOC, 0)?;
        let mut buf: *mut u8 = ptr::null_mut();
        let mut size: c_ulong = 0;
        // SAFETY: `data` holds `height` rows of `width` 4-byte pixels `stride` bytes apart
        // (checked above) and is only read. With NOREALLOC off and `buf` null, libjpeg-turbo
        // allocates the output itself and reports its size.
        let res = unsafe {
            raw::tj3Compress8(
                h.0,
                data.as_ptr(),
                width as c_int,
                stride as c_int,
                height as c_int,
                raw::TJPF_TJPF_BGRX as c_int,
                &mut buf,
                &mut size,
            )
        };
        let out = if res == 0 && !buf.is_null() {
            // SAFETY: on success `buf` points to `size` bytes written by libjpeg-turbo.
            Ok(unsafe { std::slice::from_raw_parts(buf, size as usize) }.to_vec())
        } else {
            Err(h.error())
        };
        if !buf.is_null() {
            // SAFETY: `buf` was allocated by libjpeg-turbo for this call and is freed once.
            unsafe { raw::tj3Free(buf.cast()) };
        }
        out
    })
}
