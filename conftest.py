"""Root conftest: loads the harness plugin (a no-op when its entry point already did)."""

pytest_plugins = ["harness.plugin"]
