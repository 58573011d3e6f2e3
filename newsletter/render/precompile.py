"""The bundled templates compiled ahead of time (`python -m newsletter.render.precompile`, which
`make` runs beside `compileall`): builds read them from `templating.COMPILED`, never write there."""

from __future__ import annotations

import sys
from pathlib import Path

from newsletter.render.templating import COMPILED, Compiled, Templates


def compile_bundled(folder: Path = COMPILED) -> int:
    """Compile every bundled template into `folder`, with the filters and globals a build
    sets up (the default configuration's); how many templates."""
    import zoneinfo

    from newsletter.config import load_config
    from newsletter.render.links import Links
    from newsletter.render.newsletters.issue import IssueRenderer
    from newsletter.render.site import SiteRenderer

    templates = Templates(compiled=Compiled(folder, write=True))
    config = load_config(None, {"base_url": "https://example.org/"})
    SiteRenderer(templates, config, {}, newsletters=set()).compile_templates()  # with the entry page's pieces
    IssueRenderer(templates, config, Links(config.base_url), {}, zoneinfo.ZoneInfo("UTC"))
    names = [n for n in templates.env.list_templates() if n.endswith((".j2", ".xsl"))]
    for name in names:
        templates.get(name)
    return len(names)


if __name__ == "__main__":  # python -m newsletter.render.precompile [FOLDER]
    compile_bundled(Path(sys.argv[1]) if len(sys.argv) > 1 else COMPILED)
