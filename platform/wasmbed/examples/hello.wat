;; hello: logs a greeting, reports its uptime and returns 42.
(module
  (import "env" "log" (func $log (param i32 i32)))
  (import "env" "report" (func $report (param i64)))
  (import "env" "uptime_ms" (func $uptime_ms (result i64)))
  (memory (export "memory") 1)
  (data (i32.const 64) "hello from wasm")
  (func (export "run") (result i32)
    (call $log (i32.const 64) (i32.const 15))
    (call $report (call $uptime_ms))
    (i32.const 42)))
