"""Conversations as data. Knows nothing of Telegram or SQL."""
