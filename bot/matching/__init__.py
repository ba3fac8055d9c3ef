"""Text → scored intents: pure functions and an immutable index, no I/O."""
