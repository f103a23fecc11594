"""Command-line flags generated from dataclasses (one flag per field, so that no setting is out of reach), in
a parser whose errors are one line.

`add_fields(parser, "train", cfg)` adds `--<field>` for every field of the dataclass instance cfg: the type from
the annotation (`X | None` takes "none", a tuple several values, a bool is `--x/--no-x`), the help from the field's
`metadata["help"]` or the comment that ends its line in the source, and cfg's value shown as the default. A flag
that is not given stays out of the parsed namespace, so `given(args, "train")` holds exactly what the user typed,
to apply to the defaults with `replace_given` (dataclasses.replace, whose `__post_init__` then checks the values):
its error names each flag as the user typed it (`--max_iters`, an alias), not the field (`max_steps`).
"""

from __future__ import annotations

import argparse
import dataclasses
import inspect
import re
import typing

COMMENT = re.compile(r"^\s+(\w+):[^#\n]*#\s*(.+)$", re.M)  # `    name: type = default  # help`
TYPED = "typed_flags"  # the namespace's {dest: the flag as typed}


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


def _record(namespace: argparse.Namespace, dest: str, flag: str) -> None:
    """Keep the flag as the user typed it (an alias, --no-x), for error messages."""
    setattr(namespace, TYPED, {**getattr(namespace, TYPED, {}), dest: flag})


class _Typed(argparse.Action):
    def __call__(self, parser, namespace, values, option_string=None):
        setattr(namespace, self.dest, values)
        _record(namespace, self.dest, option_string)


class _TypedBool(argparse.BooleanOptionalAction):
    def __call__(self, parser, namespace, values, option_string=None):
        super().__call__(parser, namespace, values, option_string)
        _record(namespace, self.dest, option_string)


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
            group.add_argument(*flags, action=_TypedBool, **kw)
        elif typing.get_origin(kind) is tuple:
            group.add_argument(
                *flags, action=_Typed, nargs="+", type=typing.get_args(kind)[0], metavar=f.name.upper(), **kw
            )
        else:
            group.add_argument(*flags, action=_Typed, type=scalar(kind), metavar=f.name.upper(), **kw)


def given(args: argparse.Namespace, section: str) -> dict:
    """The fields of section given on the command line."""
    return {key.split(".", 1)[1]: v for key, v in vars(args).items() if key.startswith(section + ".")}


def typed(args: argparse.Namespace, section: str) -> dict[str, str]:
    """The fields of section given on the command line, each with its flag as the user typed it."""
    return {
        dest.split(".", 1)[1]: flag for dest, flag in getattr(args, TYPED, {}).items() if dest.startswith(section + ".")
    }


def replace_given(config, args: argparse.Namespace, section: str, **changes):
    """dataclasses.replace(config, **changes) with the fields of section given on the command line. A ValueError
    names the flags as typed: each given field in its message becomes its flag (`max_steps must be >= 0` for
    `--max_iters -5` reads `--max_iters must be >= 0`), and a message that names none starts with the given
    flags whose values it refuses (`--prime 4: division needs a prime modulus`)."""
    changes, flags = {**changes, **given(args, section)}, typed(args, section)
    try:
        return dataclasses.replace(config, **changes)
    except ValueError as err:
        message = str(err)
        for field, flag in flags.items():
            message = re.sub(rf"(?<![\w-]){re.escape(field)}\b", flag, message)
        if flags and not any(re.search(rf"{re.escape(flag)}\b", message) for flag in flags.values()):
            refused = [f for f in flags if _refuses(config, f, changes[f])] or list(flags)
            shown = (" ".join(map(str, v)) if isinstance(v, tuple) else str(v) for v in map(changes.get, refused))
            message = f"{', '.join(f'{flags[f]} {v}' for f, v in zip(refused, shown, strict=True))}: {message}"
        raise ValueError(message) from None


def _refuses(config, field: str, value) -> bool:
    """Whether config refuses value for field on its own."""
    try:
        dataclasses.replace(config, **{field: value})
    except ValueError:
        return True
    return False
