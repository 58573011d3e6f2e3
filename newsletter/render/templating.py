"""Jinja2 environment over the user's templates (if any) and the bundled ones."""

from __future__ import annotations

import hashlib
from pathlib import Path

import jinja2


def bundled_templates() -> Path:
    """The templates shipped in the wheel (newsletter/templates) or, in a checkout, ./templates."""
    package = Path(__file__).resolve().parent.parent
    inside = package / "templates"
    if inside.is_dir():
        return inside
    return package.parent / "templates"


class Templates:
    """Looks up templates in `user_dir` first, then in the bundled folder."""

    def __init__(self, user_dir: str | Path | None = None) -> None:
        self.dirs = [Path(user_dir)] if user_dir else []
        self.dirs.append(bundled_templates())
        self.env = jinja2.Environment(
            loader=jinja2.FileSystemLoader([str(d) for d in self.dirs]),
            autoescape=jinja2.select_autoescape(["html", "xml", "html.j2", "xml.j2"], default_for_string=True),
            undefined=jinja2.StrictUndefined,
            keep_trailing_newline=True,
            trim_blocks=True,
            lstrip_blocks=True,
            auto_reload=False,  # a template change makes a new Builder (and Templates) anyway
        )
        self._fingerprint: str | None = None

    def get(self, name: str) -> jinja2.Template:
        return self.env.get_template(name)

    def read(self, name: str) -> bytes:
        """Raw bytes of a static file (CSS, XSL) from the first folder that has it."""
        for folder in self.dirs:
            path = folder / name
            if path.is_file():
                return path.read_bytes()
        raise FileNotFoundError(f"template {name} not found in " + ", ".join(map(str, self.dirs)))

    def path(self, name: str) -> Path:
        """The file a static template name stands for (the first folder that has it)."""
        for folder in self.dirs:
            if (folder / name).is_file():
                return folder / name
        raise FileNotFoundError(f"template {name} not found in " + ", ".join(map(str, self.dirs)))

    def fingerprint(self) -> str:
        """Hash of every template file that would be used, for incremental builds."""
        if self._fingerprint is None:
            self._fingerprint = self._hash_files()
        return self._fingerprint

    def _hash_files(self) -> str:
        h = hashlib.blake2b(digest_size=12)
        seen: set[str] = set()
        for folder in self.dirs:
            if not folder.is_dir():
                continue
            for path in sorted(folder.rglob("*")):
                rel = path.relative_to(folder).as_posix()
                if path.is_file() and rel not in seen:
                    seen.add(rel)
                    h.update(rel.encode() + b"\0" + path.read_bytes() + b"\0")
        return h.hexdigest()
