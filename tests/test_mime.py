"""The message parts' base64: pybase64 where it is installed, the standard library's where not."""

from __future__ import annotations

import base64

from newsletter.render.newsletters import mime


def test_a_part_without_pybase64_is_the_same_bytes(monkeypatch):
    texts = ["", "one line", "caf\u00e9 \u2014 " * 400, "a\r\nb\nc\r\n" * 300, "x" * 57, "y" * 76 * 3]
    with_pybase64 = [mime._base64_body(t) for t in texts]
    monkeypatch.setattr(mime, "_b64encode", lambda: base64.b64encode)  # as where pybase64 is missing
    assert [mime._base64_body(t) for t in texts] == with_pybase64
    assert base64.b64decode(b"".join(with_pybase64[2].split(b"\r\n"))) == texts[2].encode().replace(b"\n", b"\r\n")


def test_without_pybase64_the_standard_library_encodes(monkeypatch):
    import builtins

    real = builtins.__import__

    def no_pybase64(name, *args, **kwargs):
        if name == "pybase64":
            raise ImportError(name)
        return real(name, *args, **kwargs)

    mime._b64encode.cache_clear()
    monkeypatch.setattr(builtins, "__import__", no_pybase64)
    try:
        assert mime._b64encode() is base64.b64encode
    finally:
        mime._b64encode.cache_clear()
