"""`python -m bot` runs the bot, as `policybot run` does."""

import sys

from .cli import main

raise SystemExit(main(sys.argv[1:] or ["run"]))
