//! The device's host functions for Rust modules (no_std), as wasmbed_app.h is for C.
#![allow(dead_code)] // an SDK: a module uses what it needs
mod ffi {
    #[link(wasm_import_module = "env")]
    extern "C" {
        pub fn log(text: *const u8, len: i32);
        pub fn report(value: i64);
        pub fn uptime_ms() -> i64;
        pub fn sleep_ms(ms: i32);
    }
}

/// A log line (at most 256 bytes reach the platform).
pub fn log(text: &str) { unsafe { ffi::log(text.as_ptr(), text.len() as i32) } }
/// A value the platform records as this module's output.
pub fn report(value: i64) { unsafe { ffi::report(value) } }
/// Milliseconds since the device booted.
pub fn uptime_ms() -> i64 { unsafe { ffi::uptime_ms() } }
/// Sleep; the device keeps its link serviced meanwhile. A stop request ends the module here.
pub fn sleep_ms(ms: i32) { unsafe { ffi::sleep_ms(ms) } }

#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! { core::arch::wasm32::unreachable() }
