"""Marking text for translation without translating it.

``flows/`` is pure: it never imports aiogram. A msgid is marked with ``N_`` so
``pybabel extract`` finds it, and the bot translates it when it renders.
"""


def N_(msgid: str) -> str:  # noqa: N802 - the gettext convention
    """Mark ``msgid`` for extraction; return it unchanged."""
    return msgid
