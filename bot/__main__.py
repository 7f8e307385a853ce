"""`python -m bot`: run Kua."""
from bot.app import main

raise SystemExit(main())
