//! hello in Rust (no_std, Debian's rustc 1.63 for wasm32-unknown-unknown): logs a line,
//! reports the device's uptime, returns 42 — what hello.c does.
#![no_std]

mod wasmbed_app; // the host functions: firmware/apps/wasmbed_app.rs (-> platform/wasmbed/sdk)

#[no_mangle]
pub extern "C" fn run() -> i32 {
    wasmbed_app::log("hello from rust");
    wasmbed_app::report(wasmbed_app::uptime_ms());
    42
}
