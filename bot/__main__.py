"""`python -m bot [COMMAND]` (or `kua [COMMAND]`): run Kua, or one of its commands."""

import importlib
import sys
from collections.abc import Sequence

# Command → "module:function" whose function(argv) -> int runs it. One line per command.
COMMANDS = {
    "check": "bot.check:main",
    "stats": "bot.cli_advocacy:stats_main",
    "export": "bot.cli_advocacy:export_main",
    "rotate-keys": "bot.rotate:main",
}


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args and args[0] in ("-h", "--help", "help"):
        print("usage: python -m bot [COMMAND]  (no command: run the bot)\ncommands: " + ", ".join(COMMANDS))
        return 0
    if args and args[0] in COMMANDS:
        module, _, func = COMMANDS[args[0]].partition(":")
        command: int = getattr(importlib.import_module(module), func)(args[1:])
        return command
    if args:
        print(
            f"kua: unknown command {args[0]!r}; commands: {', '.join(COMMANDS)} (none: run the bot)",
            file=sys.stderr,
        )
        return 2
    from bot.app import main as run  # only when running the bot, not for a command

    return run()


if __name__ == "__main__":
    raise SystemExit(main())
