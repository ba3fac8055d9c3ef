"""The Telegram layer: the only part of the bot that imports `telegram`."""
