"""`python -m bot [command]`: no command runs the bot; others are operator tasks.

Each command is a function taking its arguments and returning the exit code; add new ones
to COMMANDS (e.g. check, stats, export) beside rotate-keys.
"""
from __future__ import annotations

import sys
from collections.abc import Callable, Sequence


def _run(args: Sequence[str]) -> int:
    from bot.app import main

    return main()


def _rotate_keys(args: Sequence[str]) -> int:
    from bot.rotate import main

    return main(args)


COMMANDS: dict[str, tuple[Callable[[Sequence[str]], int], str]] = {
    "run": (_run, "run the bot (the default)"),
    "rotate-keys": (_rotate_keys, "put a new encryption key first in the key file; old keys "
                                  "are kept, so stored reports stay readable"),
}


def usage() -> str:
    lines = ["usage: python -m bot [command]", "commands:"]
    lines += [f"  {name:<12} {text}" for name, (_fn, text) in COMMANDS.items()]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if not args:
        return _run(args)
    if args[0] in ("-h", "--help", "help"):
        print(usage())
        return 0
    command = COMMANDS.get(args[0])
    if command is None:
        print(f"kua: unknown command {args[0]!r}\n{usage()}", file=sys.stderr)
        return 2
    return command[0](args[1:])
