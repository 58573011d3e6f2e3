"""A template rendered piece by piece, each piece that reads only a list's or the site's values
rendered once.

A build renders a thousand issues or more, and one issue's HTML or text differs from another's
of the same list in a few places only: the subject, the period, the entries. So the template
(the user's, when they override it) is cut at its top level into pieces, and what each piece
reads is looked up in its syntax tree: a piece that reads only values the caller declares fixed
for the site (level 0) or for a list (level 1) is rendered once per site or list and kept; a
`{% for x in xs %}` whose body reads only `x` and such values renders that body once per item
(by identity: the caller's items must not change); every other piece is rendered each time,
with one context as Jinja's own `render` makes it; in such a piece, a `{{ … }}` in a condition's
body that calls something with only fixed values (`words.t("nl.view")`) is rendered once too
and read as a variable. A template cut into site-wide pieces and
pieces rendered each time only (a page's) renders the latter as one piece, reading the
former's texts as variables: one block call a render, not one a piece. The output is Jinja's,
byte for byte (a test compares them on templates that use every construct below).

Templates with constructs whose effect crosses pieces (`{% set %}`, macros, blocks, `extends`,
`include`, `import`, `with`, `{% do %}`) or whose output is not a function of what they read
(`random`, `lipsum`, `cycler`, `joiner`, `namespace`) are rendered whole, as before; so is any
render that raises, so that errors read as Jinja's.

The pieces are compiled once, as blocks of one template, through the environment's bytecode
cache (`templating.from_source`): a build with the bundled templates neither parses nor
compiles them.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from typing import Any

import jinja2
from jinja2 import nodes
from jinja2.runtime import missing, new_context
from markupsafe import Markup

PER_RENDER = 2
"""The level of a piece that reads anything not declared fixed."""

_CROSSING = (
    nodes.Extends,
    nodes.Block,
    nodes.Macro,
    nodes.CallBlock,
    nodes.Assign,
    nodes.AssignBlock,
    nodes.Include,
    nodes.Import,
    nodes.FromImport,
    nodes.ExprStmt,
    nodes.Scope,
    nodes.With,
    nodes.OverlayScope,
    nodes.EvalContextModifier,
    nodes.ContextReference,
    nodes.DerivedContextReference,
    nodes.ExtensionAttribute,
    nodes.ImportedName,
)
_UNSTABLE_FILTERS = {"random"}
_FIXED = "nl_piece_"
"""The variables a joined piece reads the site-wide pieces' texts from (`Pieces._cut`)."""
_VALUE = "nl_value_"
"""The variables a piece rendered each time reads its kept values' texts from (`Pieces._hoist`)."""
_PURE_GLOBALS = {"range", "dict"}
_ASSIGNS = (nodes.Assign, nodes.AssignBlock)
ENCODE = str.encode
"""A yielded text's UTF-8, each on its own (`b"".join(map(ENCODE, …))`): one text above U+00FF
(the title's "—", a teaser's "…") makes a joined page two bytes a character, and UTF-8 encodes
such a text character by character (~0.7 ns each; a year page's ~7,000); its ASCII pieces alone
are copied, at ~40 ns a text (so a page of ~20 short texts, an entry page, is joined first)."""
VERSION = "5"
"""Part of the compiled pieces' cache key: a change to how templates are cut must change it."""


def _constant(body: list[nodes.Node]) -> bool:
    """Whether `body` is only template text."""
    return all(isinstance(n, nodes.Output) and all(isinstance(c, nodes.TemplateData) for c in n.nodes) for n in body)


_JOINED_TEXT = 256
"""The longest constant text between two pieces rendered each time that joins them (`_cut`)."""


def _text_length(body: list[nodes.Node]) -> int:
    """The length of the template text of `body` (only template text: `_constant`)."""
    length = 0
    for node in body:
        assert isinstance(node, nodes.Output)
        for child in node.nodes:
            assert isinstance(child, nodes.TemplateData)
            length += len(child.data)
    return length


def _names(node: nodes.Node) -> set[str]:
    """Every name `node` mentions (loaded, stored or a parameter: more than it reads, never less)."""
    return {n.name for n in node.find_all(nodes.Name)}


class Pieces:
    """`template` (Jinja source) rendered piece by piece; see the module docstring.

    `levels`: the context variables that are the same for every render of the site (0) or of
    one list (1); `render(variables, list_key)` promises that renders with the same `list_key`
    have the same values for the level-1 variables, and every render the same level-0 ones."""

    crossing: tuple[type[nodes.Node], ...] = _CROSSING
    """Nodes that keep a template whole (a subclass that makes its own tree may allow some)."""

    def __init__(self, env: jinja2.Environment, source: str, name: str | None, levels: Mapping[str, int]) -> None:
        self.env, self.source, self.name = env, source, name
        self.levels = dict(levels)
        self._whole: jinja2.Template | None = None
        self._cache: dict[Hashable, Any] = {}
        # (kind, level, block, iter name, target name): kind "fixed", "each" (a loop body) or "render"
        self._plan: list[tuple[str, int, Any, str, str]] | None = None
        self._value_names: list[str] = []
        tree_name = f"{name or '<string>'}#pieces{VERSION}-" + ",".join(
            f"{k}={v}" for k, v in sorted(self.levels.items())
        )
        template = self._compile(tree_name)
        if template is not None:
            self._globals = dict(template.globals)
            self._plan = self._read_plan(template)
            self._value_names = [f"{_VALUE}{i}" for i, p in enumerate(self._plan) if p[0] == "value"]

    # -- cutting ------------------------------------------------------------------------------
    def _level(self, node: nodes.Node, bound: frozenset[str] = frozenset()) -> int:
        if any(f.name in _UNSTABLE_FILTERS for f in node.find_all(nodes.Filter)):
            return PER_RENDER
        level = 0
        for name in _names(node) - bound:
            if name in self.levels:
                level = max(level, self.levels[name])
            elif name in _PURE_GLOBALS and name in self.env.globals:
                continue
            else:
                return PER_RENDER
        return level

    def _cut(self, tree: nodes.Template) -> list[nodes.Block] | None:
        """The blocks of the cut template, their names telling kind and level; None when it
        cannot be cut."""
        if any(True for _ in tree.find_all(self.crossing)):
            return None
        parts: list[tuple[str, int, list[nodes.Node], str, str]] = []
        for node in tree.body:
            if isinstance(node, nodes.Output):
                children: list[nodes.Node] = [nodes.Output([child]) for child in node.nodes]
            elif isinstance(node, nodes.If | nodes.For):
                children = [node]
            else:
                return None
            for child in children:
                level = self._level(child)
                if (
                    level == PER_RENDER
                    and isinstance(child, nodes.For)
                    and isinstance(child.target, nodes.Name)
                    and isinstance(child.iter, nodes.Name)
                    and not child.else_
                    and child.test is None
                    and not child.recursive
                ):
                    target = child.target.name
                    body = nodes.Template(child.body)
                    body_level = self._level(body, frozenset({target}))
                    if body_level < PER_RENDER and child.iter.name.isidentifier() and target.isidentifier():
                        parts.append(("each", body_level, child.body, child.iter.name, target))
                        continue
                kind = "render" if level == PER_RENDER else "fixed"
                if (
                    kind == "render"
                    and len(parts) > 1
                    and parts[-2][0] == "render"
                    and parts[-1][0] == "fixed"
                    and _constant(parts[-1][2])
                    and _text_length(parts[-1][2]) <= _JOINED_TEXT
                ):  # short text between two pieces rendered each time: one piece with them
                    # (yielding a constant costs less than a piece of its own; a long one, as
                    # the newsletter's <style> between its <title> and preheader, is joined and
                    # encoded once as a fixed piece, not with each render)
                    parts[-2][2].extend(parts.pop()[2])
                if parts and parts[-1][0] == kind == "fixed":  # one piece for a run of fixed ones
                    _, before, body_nodes, _, _ = parts[-1]
                    parts[-1] = ("fixed", max(before, level), body_nodes + [child], "", "")
                elif parts and parts[-1][0] == kind == "render":
                    parts[-1][2].append(child)
                else:
                    parts.append((kind, level, [child], "", ""))
        values: list[tuple[int, nodes.Expr]] = []
        if self.env.finalize is None:
            for kind, _, piece, _, _ in parts:
                if kind == "render" and not any(True for n in piece for _ in n.find_all(_ASSIGNS)):
                    self._hoist(piece, values)
        # the kept values first (`_pieces` puts them in the variables), named by their place
        blocks = [
            nodes.Block(f"nl{i}_value_{level}_0_", [nodes.Output([expr])], False, False)
            for i, (level, expr) in enumerate(values)
        ]
        first = len(blocks)
        if sum(kind == "render" for kind, *_ in parts) > 1 and all(
            kind == "render" or (kind == "fixed" and level == 0) for kind, level, *_ in parts
        ):
            # pieces rendered each time between site-wide ones: one piece, each site-wide one in
            # it a variable (`_FIXED`) made once, so that a render is one block call, not one a piece
            joined: list[nodes.Node] = []
            for i, (kind, _, piece, _, _) in enumerate(parts):
                if kind == "fixed":  # named by its place in the plan (`_pieces`)
                    joined.append(nodes.Output([nodes.Name(f"{_FIXED}{len(blocks)}", "load")]))
                    blocks.append(nodes.Block(f"nl{first + i}_fixed_0_0_", piece, False, False))
                else:
                    joined.extend(piece)
            return [*blocks, nodes.Block(f"nl{first + len(parts)}_joined_2_0_", joined, False, False)]
        return blocks + [
            nodes.Block(f"nl{first + i}_{kind}_{level}_{len(over)}_{over}{target}", body, False, False)
            for i, (kind, level, body, over, target) in enumerate(parts)
        ]

    def _hoist(self, body: Sequence[nodes.Node], values: list[tuple[int, nodes.Expr]]) -> None:
        """In a piece rendered each time, each `{{ … }}` that calls something (a method, a
        filter) with only the site's or a list's values becomes a variable (`_VALUE`) whose text
        is rendered once, as a fixed piece is: `words.t("nl.view")` in an `{% if %}` on a
        per-issue value, say. Looked for in the piece's conditions' bodies, not in loops (whose
        variables could hide the context's)."""
        for node in body:
            if isinstance(node, nodes.Output):
                for k, child in enumerate(node.nodes):
                    if isinstance(child, nodes.TemplateData) or not (
                        isinstance(child, nodes.Call | nodes.Filter)
                        or any(True for _ in child.find_all((nodes.Call, nodes.Filter)))
                    ):
                        continue
                    level = self._level(child)
                    if level < PER_RENDER:
                        node.nodes[k] = nodes.Name(f"{_VALUE}{len(values)}", "load")
                        values.append((level, child))
            elif isinstance(node, nodes.If):
                self._hoist(node.body, values)
                self._hoist(node.elif_, values)
                self._hoist(node.else_, values)

    def _compile(self, tree_name: str) -> jinja2.Template | None:
        env = self.env
        cache = env.bytecode_cache
        bucket = cache.get_bucket(env, tree_name, None, self.source) if cache is not None else None
        code = bucket.code if bucket is not None else None
        if code is None:
            tree = self._tree()
            blocks = self._cut(tree) if tree is not None else None
            if blocks is None:
                return None
            tree = nodes.Template(blocks)
            tree.set_environment(env)
            tree.set_lineno(1)
            code = env.compile(tree, self.name)
            if bucket is not None and cache is not None:
                bucket.code = code
                cache.set_bucket(bucket)
        template = env.template_class.from_code(env, code, env.make_globals(None), None)
        return template if template.blocks else None  # no blocks: an empty template, rendered whole

    def _tree(self) -> nodes.Template | None:
        """The syntax tree to cut (None: render whole); read only when the cut is not cached."""
        return self.env.parse(self.source, self.name)

    @staticmethod
    def _read_plan(template: jinja2.Template) -> list[tuple[str, int, Any, str, str]]:
        plan = []
        for block_name, block in template.blocks.items():
            index, kind, level, length, names = block_name[2:].split("_", 4)
            n = int(length)
            plan.append((int(index), kind, int(level), block, names[:n], names[n:]))
        plan.sort(key=lambda p: p[0])
        return [p[1:] for p in plan]

    # -- rendering ----------------------------------------------------------------------------
    def whole(self) -> jinja2.Template:
        """The template as Jinja renders it, uncut."""
        if self._whole is None:
            self._whole = self.env.from_string(self.source) if self.name is None else self.env.get_template(self.name)
        return self._whole

    def render(self, variables: dict[str, Any], list_key: Hashable = None) -> str:
        if self._plan is None:
            return self.whole().render(variables)
        try:
            return self._pieces(variables, list_key, False)
        except Exception:
            self._cache.clear()
            return self.whole().render(variables)  # raises as Jinja does, or renders as it would

    def render_utf8(self, variables: dict[str, Any], list_key: Hashable = None) -> bytes:
        """`render(…).encode()`, each kept piece encoded once: what is written or sent is the
        bytes, and most of a page is kept pieces."""
        if self._plan is None:
            return self.render(variables, list_key).encode()
        try:
            return self._pieces(variables, list_key, True)
        except Exception:
            self._cache.clear()
            return self.whole().render(variables).encode()

    def _pieces(self, variables: dict[str, Any], list_key: Hashable, utf8: bool) -> Any:
        """The text (`utf8`: its UTF-8 bytes) of a render; the kept pieces' kept as they are joined."""
        assert self._plan is not None
        cache, env, name, plan = self._cache, self.env, self.name, self._plan
        if len(cache) > 50_000:
            cache.clear()
        # Jinja's `render` context (globals, then the variables), made without copying the
        # globals' ChainMap key by key; no blocks: a cut template has none of its own
        variables = {**self._globals, **variables}
        for i, value in enumerate(self._value_names):  # the kept values (`_hoist`): plan[:n]
            kept_key = (i, list_key if plan[i][1] else None)
            kept = cache.get(kept_key)
            if kept is None:
                block = plan[i][2]
                kept = cache[kept_key] = Markup("".join(block(new_context(env, name, {}, variables, shared=True))))
            variables[value] = kept
        if plan[-1][0] == "joined":  # the site-wide pieces' texts, then the one piece
            fixed = cache.get("joined")
            if fixed is None:
                context = new_context(env, name, {}, variables, shared=True)
                fixed = cache["joined"] = {
                    f"{_FIXED}{i}": Markup("".join(block(context)))
                    for i, (kind, _, block, _, _) in enumerate(plan)
                    if kind == "fixed"
                }
            variables.update(fixed)
            output = plan[-1][2](new_context(env, name, {}, variables, shared=True))
            return b"".join(map(ENCODE, output)) if utf8 else "".join(output)
        context = new_context(env, name, {}, variables, shared=True)
        out: list[Any] = []
        for index, (kind, level, block, over, target) in enumerate(plan):
            if kind == "value":
                continue
            if kind == "render":
                if utf8:
                    out.append("".join(block(context)).encode())
                else:
                    out.extend(block(context))
                continue
            key = (index, list_key if level else None, utf8)
            if kind == "fixed":
                text = cache.get(key)
                if text is None:
                    text = "".join(block(context))
                    text = cache[key] = text.encode() if utf8 else text
                out.append(text)
                continue
            items = context.resolve_or_missing(over)
            if items is missing:
                raise jinja2.UndefinedError(f"{over!r} is undefined")
            for item in items:
                kept = cache.get((key, id(item)))
                if kept is None or kept[0] is not item:
                    # the body in the render's context with `target` its one local, as in the loop
                    context.vars[target] = item
                    try:
                        text = "".join(block(context))
                    finally:
                        del context.vars[target]
                    kept = cache[(key, id(item))] = (item, text.encode() if utf8 else text)
                out.append(kept[1])
        return b"".join(out) if utf8 else "".join(out)
