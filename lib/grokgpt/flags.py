"""Command-line flags generated from dataclasses (one flag per field, so that no setting is out of reach), in
a parser whose errors are one line.

`add_fields(parser, "train", cfg)` adds `--<field>` for every field of the dataclass instance cfg: the type from
the annotation (`X | None` takes "none", a tuple several values, a bool is `--x/--no-x`), the help from the field's
`metadata["help"]` or the comment that ends its line in the source, and cfg's value shown as the default. A flag
that is not given stays out of the parsed namespace, so `given(args, "train")` holds exactly what the user typed,
to apply to the defaults with `dataclasses.replace` (whose `__post_init__` then checks the values).
"""

from __future__ import annotations

import argparse
import dataclasses
import inspect
import re
import typing

COMMENT = re.compile(r"^\s+(\w+):[^#\n]*#\s*(.+)$", re.M)  # `    name: type = default  # help`


class Parser(argparse.ArgumentParser):
    """Errors in one line (`grokgpt train: error: ...`, exit 2); no abbreviated flags (`--p` is not `--preset`)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, allow_abbrev=False, **kwargs)

    def error(self, message: str):
        if "expected one argument" in message:  # a value such as "-3/5=" reads as a flag
            message += " (a value that starts with '-' is written --flag=VALUE)"
        self.exit(2, f"{self.prog}: error: {message}\n")


def peek(argv: list[str] | None, flag: str) -> str | None:
    """The value of flag in argv, read before the parser that depends on it (its defaults) is built."""
    parser = Parser(add_help=False)
    parser.add_argument(flag)
    return vars(parser.parse_known_args(argv)[0])[flag.lstrip("-").replace("-", "_")]


def field_help(cls) -> dict[str, str]:
    """Each field's help: its metadata["help"], else the comment that ends its line in the source of cls."""
    comments = {}
    for name, comment in COMMENT.findall(inspect.getsource(cls)):
        comments.setdefault(name, comment)  # the field's own line comes before any method's
    return {f.name: f.metadata.get("help") or comments.get(f.name, "") for f in dataclasses.fields(cls)}


def scalar(kind):
    """The argparse type of a scalar annotation; for `X | None`, "none" gives None."""
    inner = [t for t in typing.get_args(kind) if t is not type(None)]
    if not inner:
        return kind

    def parse(text: str):
        return None if text.lower() == "none" else inner[0](text)

    parse.__name__ = inner[0].__name__  # argparse names the type in its error
    return parse


def add_fields(parser, section: str, config, skip=(), names=None, aliases=None, shown=None) -> None:
    """Add a group of flags for the fields of config (those not in skip): `--<names.get(field, field)>` and
    `--<aliases[field]>`, the default shown as config's value or as shown[field]. Parsed as "<section>.<field>"."""
    cls, names, aliases, shown = type(config), names or {}, aliases or {}, shown or {}
    types, helps = typing.get_type_hints(cls), field_help(cls)
    group = parser.add_argument_group(f"{section} ({cls.__name__})")
    for f in dataclasses.fields(cls):
        if f.name in skip:
            continue
        kind, value = types[f.name], getattr(config, f.name)
        value = shown.get(f.name, " ".join(map(str, value)) if isinstance(value, tuple) else value)
        flags = [f"--{name}" for name in (names.get(f.name, f.name), aliases.get(f.name)) if name]
        optional = ", or none" if type(None) in typing.get_args(kind) else ""
        text = f"{helps[f.name]} (default: {value}{optional})".replace("%", "%%")
        kw = dict(dest=f"{section}.{f.name}", default=argparse.SUPPRESS, help=text)
        if kind is bool:
            group.add_argument(*flags, action=argparse.BooleanOptionalAction, **kw)
        elif typing.get_origin(kind) is tuple:
            group.add_argument(*flags, nargs="+", type=typing.get_args(kind)[0], metavar=f.name.upper(), **kw)
        else:
            group.add_argument(*flags, type=scalar(kind), metavar=f.name.upper(), **kw)


def given(args: argparse.Namespace, section: str) -> dict:
    """The fields of section given on the command line."""
    return {key.split(".", 1)[1]: v for key, v in vars(args).items() if key.startswith(section + ".")}
