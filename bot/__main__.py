"""`python -m bot`: run Kua (or an operator command: see bot.cli)."""
from bot.cli import main

raise SystemExit(main())
