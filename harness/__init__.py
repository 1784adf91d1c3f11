"""The Wasmbed HIL pytest plugin: the whole stack as fixtures, evidence on failure."""
