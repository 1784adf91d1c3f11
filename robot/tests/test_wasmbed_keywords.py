"""WasmbedKeywords' own behaviour that needs no stack: evidence shown as links."""

from __future__ import annotations

import WasmbedKeywords as module
from WasmbedKeywords import WasmbedKeywords

from harness.evidence import Evidence


def test_log_evidence_links_each_file(tmp_path, monkeypatch):
    logged: list[tuple[str, bool]] = []
    monkeypatch.setattr(module.logger, "info",
                        lambda msg, html=False, **k: logged.append((msg, html)))
    lib = WasmbedKeywords()
    lib.evidence = Evidence(tmp_path)
    log = lib.evidence.path("api")
    log.write_text("started\n")
    lib.log_evidence()
    text, html = logged[-1]
    assert html and f'<a href="{log.as_uri()}">api</a>' in text
