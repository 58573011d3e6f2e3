#!/usr/bin/env python3
"""Regenerate newsletter/data/inlined-newsletter.json: the bundled newsletter template with
its CSS inlined by premailer, so that builds with the bundled templates skip premailer.

Run it after changing templates/newsletter.html.j2 or templates/newsletter.css
(tests/test_newsletters.py fails until you do).  usage: python tools/build_inlined_template.py
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from newsletter.render.newsletters.inline import inline_template  # noqa: E402
from newsletter.render.newsletters.issue import BUNDLED_INLINED, inline_key  # noqa: E402


def bundled_inlined() -> dict:
    source = (ROOT / "templates" / "newsletter.html.j2").read_text(encoding="utf-8")
    css = (ROOT / "templates" / "newsletter.css").read_text(encoding="utf-8")
    inlined = inline_template(source, css)
    return {"key": inline_key(source, css), "source": inlined.source, "body_styles": list(inlined.body_styles)}


if __name__ == "__main__":
    BUNDLED_INLINED.write_text(json.dumps(bundled_inlined(), indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {BUNDLED_INLINED.relative_to(ROOT)}")
