"""`Config` is a frozen dataclass with typed fields, the one declaration of every option:
`OPTIONS` (and so docs/configuration.md) is read from its fields, and mypy checks its use."""

from __future__ import annotations

import ast
import dataclasses
import typing
from pathlib import Path

import pytest

from newsletter.config import OPTIONS, Config, load_config
from newsletter.errors import ConfigError

PACKAGE = Path(__file__).resolve().parent.parent / "newsletter"


def test_every_option_is_one_typed_field_of_config_in_the_same_order():
    hints = typing.get_type_hints(Config)
    fields = [f for f in dataclasses.fields(Config) if f.name != "set_in"]  # set_in: where options were set
    assert [f.name for f in dataclasses.fields(Config)] == [f.name for f in fields] + ["set_in"]
    assert [o.attr for o in OPTIONS] == [f.name for f in fields]
    assert len({o.key for o in OPTIONS}) == len(OPTIONS)
    for option, f in zip(OPTIONS, fields, strict=True):
        assert option.type is (typing.get_origin(hints[f.name]) or hints[f.name])
        assert isinstance(option.default, option.type), option.key
        assert option.doc == f.metadata["doc"]
    for key in ("newsletter.enabled", "smtp.port", "serve.proxies", "brand.accent", "watch.debounce_ms", "base_url"):
        assert key in {o.key for o in OPTIONS}
    # element types are declared too, not bare `list`/`dict`
    assert hints["bulletins"] == list[str] and hints["aliases"] == dict[str, str]


def test_load_config_returns_a_frozen_config_with_fresh_list_defaults():
    one = load_config(None, {"base_url": "https://news.example.org"})
    two = load_config(None, {"base_url": "https://news.example.org"})
    assert type(one) is Config and one.base_url == "https://news.example.org/"
    assert one.bulletins == ["bulletins"] and one.bulletins is not two.bulletins
    with pytest.raises(dataclasses.FrozenInstanceError):
        one.title = "Other"  # type: ignore[misc]
    assert Config().feed_limit == 50 and Config().exclusions == []


def test_a_value_of_the_wrong_type_is_reported_by_its_key(tmp_path):
    path = tmp_path / "newsletter.toml"
    path.write_text('base_url = "https://news.example.org/"\nfeed_limit = "ten"\n[smtp]\ntimeout = 5\n')
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert 'feed_limit: must be a whole number, got "ten"' in str(caught.value)
    path.write_text('base_url = "https://news.example.org/"\n[smtp]\ntimeout = 5\n')
    assert load_config(path).smtp_timeout == 5.0 and isinstance(load_config(path).smtp_timeout, float)


def test_mypy_rejects_an_unknown_option_a_wrong_type_and_an_assignment(tmp_path):
    api = pytest.importorskip("mypy.api")
    probe = tmp_path / "probe.py"
    probe.write_text(
        "from newsletter.config import load_config\n\n"
        "config = load_config(None)\n"
        "n: int = config.title\n"
        "config.no_such_option\n"
        'config.title = "x"\n'
        "ok: list[str] = config.bulletins\n"
    )
    out, _, status = api.run(
        ["--no-incremental", "--follow-imports=silent", "--ignore-missing-imports", "--cache-dir=/dev/null", str(probe)]
    )
    assert status == 1
    errors = sorted(line.split(":")[1] for line in out.splitlines() if ": error:" in line)
    assert errors == ["4", "5", "6"], out


# where a `config` may stay untyped, and why
UNTYPED_CONFIG = {
    "smtp.py SMTPSettings.from_config": "smtp lies below config (test_architecture forbids the import)",
    "render/newsletters/issue.py IssueRenderer.__init__": "typing it reformats a signature HI edits in session 7",
}


def test_every_config_in_the_package_is_typed_config():
    """No parameter, field or property called `config` is `Any` or unannotated."""
    found = set()
    for path in sorted(PACKAGE.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for cls in [None, *[n for n in ast.walk(tree) if isinstance(n, ast.ClassDef)]]:
            body = tree.body if cls is None else cls.body
            for node in body:
                where = f"{path.relative_to(PACKAGE)} {cls.name + '.' if cls else ''}"
                if isinstance(node, ast.AnnAssign) and ast.unparse(node.target) == "config":
                    if ast.unparse(node.annotation) != "Config":
                        found.add(where + "config")
                if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    continue
                a = node.args
                for p in a.posonlyargs + a.args + a.kwonlyargs:
                    if p.arg == "config" and (p.annotation is None or ast.unparse(p.annotation) != "Config"):
                        found.add(where + node.name)
                if node.name == "config" and (node.returns is None or ast.unparse(node.returns) != "Config"):
                    found.add(where + node.name)
    assert found == set(UNTYPED_CONFIG)
