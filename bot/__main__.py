"""`python -m bot [COMMAND]`: run Kua, or one of its commands (e.g. `python -m bot check`)."""

import importlib
import sys

# Command → module whose main(argv) -> int runs it. One line per command.
COMMANDS = {
    "check": "bot.check",
}

args = sys.argv[1:]
if args and args[0] in COMMANDS:
    raise SystemExit(importlib.import_module(COMMANDS[args[0]]).main(args[1:]))
if args:
    print(
        f"kua: unknown command {args[0]!r}; commands: {', '.join(COMMANDS)} (none: run the bot)",
        file=sys.stderr,
    )
    raise SystemExit(2)

from bot.app import main  # noqa: E402 - only when running the bot, not for a command

raise SystemExit(main())
