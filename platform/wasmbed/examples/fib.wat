;; fib: no linear memory at all (it fits a device with none, like the 32 KiB RA4M1): reports
;; fib(1..20) as it goes and returns fib(20) = 6765.
(module
  (import "env" "report" (func $report (param i64)))
  (func (export "run") (result i32)
    (local $a i64) (local $b i64) (local $t i64) (local $i i32)
    (local.set $b (i64.const 1))
    (loop $next
      (local.set $t (i64.add (local.get $a) (local.get $b)))
      (local.set $a (local.get $b))
      (local.set $b (local.get $t))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (if (i32.eqz (i32.rem_u (local.get $i) (i32.const 5)))
        (then (call $report (local.get $a))))
      (br_if $next (i32.lt_u (local.get $i) (i32.const 20))))
    (i32.wrap_i64 (local.get $a))))
