"""`python -m bot.cli_entry ...` — the policybot command without the installed script."""

from .cli import main

if __name__ == "__main__":
    raise SystemExit(main())
