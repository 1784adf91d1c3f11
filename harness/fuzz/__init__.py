"""Fuzzing the protocol's two decoders: libFuzzer on the C codec and on the firmware's
session state machine (ASan/UBSan), atheris on the Python decoder, and a differential
runner that feeds both decoders the same inputs and fails on any difference.

`./run fuzz --minutes N` (python -m harness.fuzz) runs each for a share of N minutes and
saves what it finds as reproducers under firmware/tests/fuzz/reproducers/<target>/; the
default test run replays the committed corpus and reproducers and runs each briefly
(firmware/tests/test_fuzzing.py)."""
