"""The parse cache misses when the tagger's data or code changes, not only with the version."""

from __future__ import annotations

import shutil

from newsletter.content import fingerprint


def _fingerprint_of(monkeypatch, content, data) -> str:
    monkeypatch.setattr(fingerprint, "_CONTENT", content)
    monkeypatch.setattr(fingerprint, "_DATA", data)
    fingerprint.parsing_fingerprint.cache_clear()
    try:
        return fingerprint.parsing_fingerprint()
    finally:
        fingerprint.parsing_fingerprint.cache_clear()


def test_a_changed_gazetteer_or_tagger_changes_the_parse_cache_key(tmp_path, monkeypatch):
    content, data = tmp_path / "content", tmp_path / "data"
    shutil.copytree(fingerprint._CONTENT, content, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(fingerprint._DATA, data)
    before = _fingerprint_of(monkeypatch, content, data)
    assert _fingerprint_of(monkeypatch, content, data) == before  # deterministic
    (data / "gazetteer.marshal").write_bytes((data / "gazetteer.marshal").read_bytes() + b"\n")
    after_data = _fingerprint_of(monkeypatch, content, data)
    assert after_data != before
    (content / "tagger.py").write_text((content / "tagger.py").read_text() + "\n# a new rule\n")
    assert _fingerprint_of(monkeypatch, content, data) not in (before, after_data)


def test_the_build_keys_its_parse_cache_by_the_fingerprint(tmp_path, monkeypatch):
    from newsletter.builder.pipeline import Builder
    from newsletter.config import load_config

    config = load_config(None, {"base_url": "https://news.example.org/"})
    salt = Builder(config, state_dir=tmp_path / "a").caches.parse_cache.salt
    monkeypatch.setattr("newsletter.builder.pipeline.parsing_fingerprint", lambda: "another tagger")
    assert Builder(config, state_dir=tmp_path / "b").caches.parse_cache.salt != salt
