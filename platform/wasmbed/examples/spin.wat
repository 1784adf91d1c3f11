;; spin: never returns and never calls the host: only a budget can stop it.
(module
  (memory (export "memory") 1)
  (func (export "run") (loop $forever (br $forever))))
