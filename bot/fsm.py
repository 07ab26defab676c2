"""aiogram's FSM storage: Redis when REDIS_URL is set, else this process's memory.

A conversation's truth is its flow run row in the database, never here. The storage holds
short-lived state that several instances must share, such as each person's flood window
(bot.middlewares.FloodControl); without Redis that state is per instance, which is enough for
one instance and merely lenient for several.
"""

from __future__ import annotations

from aiogram.fsm.storage.base import BaseStorage, DefaultKeyBuilder

KEY_PREFIX = "juragan"  # every key this bot writes starts so: fsm:<bot>:<chat>:<user>:...
TTL_SECONDS = 3600  # a flood window needs seconds; nothing here outlives an hour of quiet


def build_storage(redis_url: str) -> BaseStorage | None:
    """RedisStorage for REDIS_URL; None when it is empty (aiogram then keeps a MemoryStorage,
    and flood control counts in its own dictionaries, faster than through a storage)."""
    if not redis_url:
        return None
    from aiogram.fsm.storage.redis import RedisStorage

    return RedisStorage.from_url(
        redis_url,
        connection_kwargs={"socket_connect_timeout": 2, "socket_timeout": 2},
        key_builder=DefaultKeyBuilder(prefix=KEY_PREFIX, with_destiny=True),
        state_ttl=TTL_SECONDS,
        data_ttl=TTL_SECONDS,
    )
