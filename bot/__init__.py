"""Everything that knows Telegram (aiogram 3)."""
