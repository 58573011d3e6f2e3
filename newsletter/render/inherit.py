"""A page template that extends another (`{% extends %}`, `{% block %}`) rendered piece by piece.

A build renders an entry page 100,000 times from the same two templates (entry.html.j2 over
base.html.j2), and Jinja's fixed cost per render — the base's root, its block dispatch, a
dozen look-ups and escapes of values that are the same on every page — was most of a page's
time. So the chain of templates (the user's, when they override one) is read as one tree:
the root template's body with each of its blocks replaced by the body the most derived
template gives it, and that tree is cut by `Pieces` (`render.newsletters.pieces`): what reads
only the site's values is rendered once, the rest on every page. A block whose body assigns
(`{% set %}`) stays one piece, in a scope of its own, as Jinja keeps a block's assignments
to that block. The output is Jinja's, byte for byte (a test compares them).

Chains this does not flatten — an extended name that is not a literal, a template whose body
outside its blocks is more than text, nested, scoped or required blocks, `self` or `super()`,
assignments outside blocks, templates that escape differently — and whatever `Pieces` does
not cut, are rendered whole, as Jinja renders them.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from typing import Any

import jinja2
from jinja2 import nodes
from jinja2.runtime import Context, new_context

from newsletter.render.newsletters.pieces import ENCODE, Pieces

_ASSIGNS = (nodes.Assign, nodes.AssignBlock)
_DEPTH = 10
"""How many templates a chain may have (Jinja has no limit; deeper ones are rendered whole)."""


def flatten(env: jinja2.Environment, name: str) -> nodes.Template | None:
    """The tree of template `name` with what it extends resolved (see the module docstring);
    None when it cannot be."""
    escapes = env.autoescape(name) if callable(env.autoescape) else env.autoescape
    tree = env.parse(env.loader.get_source(env, name)[0], name)  # type: ignore[union-attr]
    blocks: dict[str, list[nodes.Node]] = {}
    for _ in range(_DEPTH):
        body = tree.body
        if not body or not isinstance(body[0], nodes.Extends):
            break
        parent = body[0].template
        if not isinstance(parent, nodes.Const) or not isinstance(parent.value, str):
            return None
        for node in body[1:]:
            if isinstance(node, nodes.Block) and not node.scoped and not node.required:
                blocks.setdefault(node.name, node.body)  # the most derived template's body wins
            elif not (isinstance(node, nodes.Output) and all(isinstance(n, nodes.TemplateData) for n in node.nodes)):
                return None  # Jinja ignores text after `extends`; anything else may act
        name = parent.value
        if (env.autoescape(name) if callable(env.autoescape) else env.autoescape) != escapes:
            return None
        tree = env.parse(env.loader.get_source(env, name)[0], name)  # type: ignore[union-attr]
    else:
        return None
    flat: list[nodes.Node] = []
    for node in tree.body:
        if isinstance(node, nodes.Block):
            if node.scoped or node.required:
                return None
            body = blocks.get(node.name, node.body)
            if any(True for n in body for _ in n.find_all(_ASSIGNS)) or any(isinstance(n, _ASSIGNS) for n in body):
                flat.append(nodes.If(nodes.Const(True), [nodes.Scope(body)], [], []))  # one piece, its own scope
            else:
                flat.extend(body)
        elif isinstance(node, _ASSIGNS) or any(True for _ in node.find_all(_ASSIGNS)):
            return None
        else:
            flat.append(node)
    result = nodes.Template(flat)
    if any(n.name in ("self", "super") for n in result.find_all(nodes.Name)):
        return None
    return result


class PagePieces(Pieces):
    """Template `name` and those it extends, rendered piece by piece (see the module docstring).
    `fingerprint` changes whenever any template file might (`Templates.fingerprint`): the
    compiled pieces are cached under it."""

    crossing = tuple(c for c in Pieces.crossing if c not in (*_ASSIGNS, nodes.Scope))

    def __init__(self, env: jinja2.Environment, name: str, levels: Mapping[str, int], fingerprint: str) -> None:
        super().__init__(env, f"{name}\0{fingerprint}", name, levels)
        self._context: tuple[dict[str, Any], Context] | None = None

    def _pieces(self, variables: dict[str, Any], list_key: Hashable, utf8: bool) -> Any:
        """As `Pieces._pieces`, but a page cut into one joined piece with no kept values (`_hoist`) (`Pieces._cut`), once its
        site-wide pieces are made, renders in one context kept from page to page: its `parent`
        the globals and those pieces' texts, its `vars` the page's variables (read first, as a
        template's own: they hide globals as Jinja's do; the joined piece assigns to no
        context variable, its blocks' assignments are local). Making a context (an evaluation
        context, the autoescape test) and merging the globals into it cost ~2 µs of an entry
        page's ~20. One page at a time, then: a build renders in one thread."""
        assert self._plan is not None
        fixed = self._cache.get("joined")
        if fixed is None or self._plan[-1][0] != "joined" or self._value_names:
            return super()._pieces(variables, list_key, utf8)
        kept = self._context
        if kept is None or kept[0] is not fixed:  # (made again after `Pieces` cleared its cache)
            kept = self._context = (
                fixed,
                new_context(self.env, self.name, {}, {**self._globals, **fixed}, shared=True),
            )
        context = kept[1]
        context.vars = variables
        output = self._plan[-1][2](context)
        return b"".join(map(ENCODE, output)) if utf8 else "".join(output)

    def _tree(self) -> nodes.Template | None:
        assert self.name is not None
        return flatten(self.env, self.name)
