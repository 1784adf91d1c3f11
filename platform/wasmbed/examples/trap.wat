;; trap: logs, then divides by zero.
(module
  (import "env" "log" (func $log (param i32 i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "about to divide by zero")
  (func $div (param i32 i32) (result i32) (i32.div_s (local.get 0) (local.get 1)))
  (func (export "run") (result i32)
    (call $log (i32.const 0) (i32.const 23))
    (call $div (i32.const 1) (i32.const 0))))
