"""Jinja2 environment over the user's templates (if any) and the bundled ones.

jinja2 is imported when the first template is needed, not with this module: a build that
finds nothing changed never loads it, and a cold one loads it while other processes parse."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import jinja2

COMPILED = Path(__file__).resolve().parent / "__pycache__" / "templates"
"""The bundled templates compiled ahead of time, as `compileall` compiles the package's
modules: written once at install time (`python -m newsletter.render.precompile`, which
`make` runs), only ever read by a build."""


def bundled_templates() -> Path:
    """The templates shipped in the wheel (newsletter/templates) or, in a checkout, ./templates."""
    package = Path(__file__).resolve().parent.parent
    inside = package / "templates"
    if inside.is_dir():
        return inside
    return package.parent / "templates"


class Compiled:
    """Where to find the bundled templates compiled ahead of time (`COMPILED`), read-only
    unless `write`; `cache()` is Jinja's bytecode cache over that folder: a template whose
    source is not the one compiled there (each file records its source's checksum, and the
    Python and Jinja versions it was compiled for) is compiled again in memory, as without
    the folder."""

    def __init__(self, folder: Path | None = None, *, write: bool = False) -> None:
        self.folder = folder or COMPILED
        self.write = write

    def cache(self) -> jinja2.BytecodeCache:
        import jinja2

        folder, write = self.folder, self.write

        class FolderCache(jinja2.BytecodeCache):
            def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
                try:
                    with open(folder / f"{bucket.key}.cache", "rb") as fh:
                        bucket.load_bytecode(fh)
                except OSError:
                    pass

            def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
                if write:
                    from newsletter.output.writer import write_atomic

                    buffer = io.BytesIO()
                    bucket.write_bytecode(buffer)
                    folder.mkdir(parents=True, exist_ok=True)
                    write_atomic(folder / f"{bucket.key}.cache", buffer.getvalue())

        return FolderCache()


def _fast_escape():
    """markupsafe's `escape`, the same values without its two Python-level calls per string
    (`escape`, then `Markup.__new__`): a page's template escapes twenty or so values, and
    those calls were an eighth of a 10,000-entry build's CPU. A plain string is escaped by
    markupsafe's own C function and wrapped as `Markup` directly; `Markup` passes as it is
    (markupsafe makes an equal copy); an object with `__html__` goes to markupsafe; any other
    (an entry's date on every page and list line) is made a string and escaped, as markupsafe
    does."""
    import markupsafe
    from markupsafe import Markup

    slow = markupsafe.escape
    inner = getattr(markupsafe, "_escape_inner", None)
    if inner is None:  # another markupsafe: its own
        return slow
    new = str.__new__
    plain = (dt.date, int)  # exactly these: their text has nothing to escape (an ISO date, digits)

    def escape(s: object, /) -> Markup:
        kind = type(s)
        if kind is str:
            return new(Markup, inner(s))
        if kind is Markup:
            return s  # type: ignore[return-value]
        if kind in plain:  # an entry's date on its page and its line, a year: no `__html__` test
            return new(Markup, str(s))
        if hasattr(s, "__html__"):
            return slow(s)
        return new(Markup, inner(str(s)))  # another date or number: what markupsafe does with it

    return escape


def template_class() -> type[jinja2.Template]:
    """Jinja's `Template`, whose compiled code escapes with `_fast_escape()` (the same bytes)."""
    import jinja2

    escape = _fast_escape()

    class Template(jinja2.Template):
        @classmethod
        def from_code(cls, environment, code, globals, uptodate=None):  # type: ignore[no-untyped-def]
            template = super().from_code(environment, code, globals, uptodate)
            template.root_render_func.__globals__["escape"] = escape  # the module of its functions
            return template

    return Template


def from_source(env: jinja2.Environment, source: str, name: str) -> jinja2.Template:
    """`env.from_string(source)`, through `env`'s bytecode cache under `name` (a template made
    at run time, such as the inlined newsletter)."""
    cache = env.bytecode_cache
    if cache is None:
        return env.from_string(source)
    bucket = cache.get_bucket(env, name, None, source)
    if bucket.code is None:
        bucket.code = env.compile(source)
        cache.set_bucket(bucket)
    return env.template_class.from_code(env, bucket.code, env.make_globals(None), None)


class Templates:
    """Looks up templates in `user_dir` first, then in the bundled folder."""

    def __init__(self, user_dir: str | Path | None = None, *, compiled: Compiled | None = None) -> None:
        self.dirs = [Path(user_dir)] if user_dir else []
        self.dirs.append(bundled_templates())
        self._compiled = compiled or Compiled()
        self._fingerprint: str | None = None

    @cached_property
    def env(self) -> jinja2.Environment:
        """The Jinja environment (made, and jinja2 imported, on first use)."""
        import jinja2

        env = jinja2.Environment(
            loader=jinja2.FileSystemLoader([str(d) for d in self.dirs]),
            autoescape=jinja2.select_autoescape(["html", "xml", "html.j2", "xml.j2"], default_for_string=True),
            undefined=jinja2.StrictUndefined,
            keep_trailing_newline=True,
            trim_blocks=True,
            lstrip_blocks=True,
            auto_reload=False,  # a template change makes a new Builder (and Templates) anyway
            bytecode_cache=self._compiled.cache(),
        )
        env.template_class = template_class()
        return env

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
