;; counter: reports 1, 2, 3, ... every 100 ms, forever (until stopped).
(module
  (import "env" "report" (func $report (param i64)))
  (import "env" "sleep_ms" (func $sleep_ms (param i32)))
  (memory (export "memory") 1)
  (func (export "run")
    (local $n i64)
    (loop $again
      (local.set $n (i64.add (local.get $n) (i64.const 1)))
      (call $report (local.get $n))
      (call $sleep_ms (i32.const 100))
      (br $again))))
