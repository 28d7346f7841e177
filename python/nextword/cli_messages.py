"""How the ``nextword`` command speaks to its user: help that shows every
default, warnings and errors as sentences in the command's own terms (flags,
not Python keywords), and quiet ends when the reader of its output goes away.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Callable, Optional, TextIO

from nextword.errors import NextwordError


class DefaultsHelpFormatter(argparse.HelpFormatter):
    """Append ``(default: X)`` to an option's help when it has a default worth
    showing (not None, not False, not already in the text)."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        default = action.default
        if (
            # A flag's default (store_true/false) is its absence: the text says it.
            isinstance(action, (argparse._StoreTrueAction, argparse._StoreFalseAction))
            or default in (None, False, "", argparse.SUPPRESS)
            or default == []
            or "%(default)" in text
            or "default" in text
            or not action.option_strings
        ):
            return text
        return f"{text} (default: %(default)s)"


class Parser(argparse.ArgumentParser):
    """An argument parser whose help shows defaults (subcommands inherit it)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", DefaultsHelpFormatter)
        super().__init__(*args, **kwargs)


def option_names(parser: argparse.ArgumentParser) -> dict[str, str]:
    """Every long option of ``parser`` and its subcommands, by Python keyword:
    ``{"errors": "--errors", "text_field": "--text-field", ...}``."""
    names: dict[str, str] = {}
    for action in parser._actions:
        for option in action.option_strings:
            if option.startswith("--"):
                names.setdefault(option[2:].replace("-", "_"), option)
        if isinstance(action, argparse._SubParsersAction):
            for child in action.choices.values():
                for key, flag in option_names(child).items():
                    names.setdefault(key, flag)
    return names


_KEYWORD_HINT = re.compile(r'\b(\w+)="([^"]*)"((?:,? or "[^"]*")*)')


def as_flags(message: str, flags: dict[str, str]) -> str:
    """A message from the library with its Python keyword hints
    (``errors="replace" or "skip"``) rewritten as the command's flags
    (``--errors replace or --errors skip``); other text is left as it is.

    >>> as_flags('invalid UTF-8; pass errors="replace" or "skip" to go on', {"errors": "--errors"})
    'invalid UTF-8; pass --errors replace or --errors skip to go on'
    """

    def flag(match: re.Match[str]) -> str:
        name, first, rest = match.group(1), match.group(2), match.group(3)
        if name not in flags:
            return match.group(0)
        option = flags[name]
        others = re.findall(r'(,? or )"([^"]*)"', rest)
        return f"{option} {first}" + "".join(f"{sep}{option} {v}" for sep, v in others)

    return _KEYWORD_HINT.sub(flag, message)


def _show_warning(
    message: Warning | str,
    category: type[Warning],
    filename: str,
    lineno: int,
    file: Optional[TextIO] = None,
    line: Optional[str] = None,
) -> None:
    # A warning is for the user of the command: one sentence, no source line.
    print(f"nextword: warning: {message}", file=file or sys.stderr)


@contextmanager
def plain_warnings() -> Iterator[None]:
    """Show warnings as ``nextword: warning: ...`` lines on stderr while inside."""
    with warnings.catch_warnings():
        warnings.showwarning = _show_warning
        yield


def run_command(func: Callable[[], int], flags: dict[str, str]) -> int:
    """Run one command: Ctrl-C exits 130, a library error prints one line in
    the command's terms and exits 1, and a reader that closed the pipe (``| head``)
    ends the command quietly (what was saved stays saved)."""
    try:
        with plain_warnings():
            return int(func())
    except KeyboardInterrupt:
        print("\ninterrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        _silence_stdout()
        return 0
    except (NextwordError, ValueError, OSError) as e:
        print(f"nextword: error: {as_flags(str(e), flags)}", file=sys.stderr)
        return 1


def _silence_stdout() -> None:
    # Python flushes stdout at exit and would report the broken pipe again:
    # point the descriptor at /dev/null first (the recipe of Python's docs).
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # stdout is not a real file (tests): nothing to flush
        pass
