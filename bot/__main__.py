"""`python -m bot`: run Kua (or one of the operator's subcommands)."""
import sys

if sys.argv[1:2] in (["stats"], ["export"]):
    from bot.cli_advocacy import main as advocacy

    raise SystemExit(advocacy(sys.argv[1:]))

from bot.app import main  # noqa: E402

raise SystemExit(main())
