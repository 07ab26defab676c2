"""Repositories: keyword-only queries on an explicit session. They flush, never commit."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import (
    Table,
    and_,
    bindparam,
    delete,
    func,
    insert,
    literal_column,
    null,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.sql.dml import Insert, Update

from storage.db import Transactions
from storage.models import (
    Base,
    Consent,
    FlowRun,
    IdWatermark,
    Person,
    ProcessedUpdate,
    Role,
    RunStatus,
    Ticket,
    TicketWait,
    utcnow,
)
from storage.tickets import OPEN as OPEN_TICKET

PROFILE_FIELDS = frozenset(
    {"name", "phone", "province_code", "regency_code", "country", "years_abroad", "goal", "locale"}
)
SENSITIVE_PERSON_FIELDS = frozenset({"nik"})
UPDATABLE_PERSON_FIELDS = (
    PROFILE_FIELDS
    | SENSITIVE_PERSON_FIELDS
    | {
        "start_payload",
        "onboarded_at",
        "nudges",
        "blocked_at",
        "announcements",
    }
)


# Statements on the path of every update are built once; only their parameters change.
_RECORD_UPDATE = {
    name: insert(ProcessedUpdate).on_conflict_do_nothing(index_elements=["update_id"])
    for name, insert in (("postgresql", pg_insert), ("sqlite", sqlite_insert))
}
_U = ProcessedUpdate.__table__
_SEEN = select(_U.c.replies, _U.c.processed_at).where(_U.c.update_id == bindparam("b_update_id"))
_FORGET_REPLIES = (
    update(_U).where(_U.c.update_id == bindparam("b_update_id")).values(replies=null())
)
_PERSON = select(Person).where(Person.telegram_id == bindparam("telegram_id"))
_ACTIVE_RUN = (
    select(FlowRun)
    .where(FlowRun.person_id == bindparam("person_id"), FlowRun.status == RunStatus.ACTIVE)
    .order_by(FlowRun.updated_at.desc(), FlowRun.id.desc())
    .limit(1)
)
_P, _R = Person.__table__, FlowRun.__table__
# The profile consent (bot/handlers/start.py) and the text version a person agreed to last,
# read with the person on every update: an older version is asked again before anything else.
PROFILE_CONSENT = "profile_and_guidance"
_C = Consent.__table__
_CONSENT_VERSION = (
    select(_C.c.text_version)
    .where(_C.c.person_id == _P.c.id, _C.c.purpose == PROFILE_CONSENT)
    .order_by(_C.c.id.desc())
    .limit(1)
    .correlate(_P)
    .scalar_subquery()
)
# The help desk's state, read with the person too (bot/handlers/tickets/): what the bot waits
# for from them (ticket_waits: one row at most, keyed by the person) and their open ticket. Every
# plain message asks both; read here they cost no round trip of their own (bench/intents.py).
# The open statuses are written into the statement: an IN of bound values is an "expanding"
# parameter, rendered again at every execution (measured: 25 µs CPU per update on SQLite).
_T, _W = Ticket.__table__, TicketWait.__table__
_OPEN_TICKET = (
    select(_T.c.id)
    .where(
        _T.c.person_id == _P.c.id,
        _T.c.status.in_([literal_column(f"'{status}'") for status in OPEN_TICKET]),
    )
    .order_by(_T.c.id.desc())
    .limit(1)
    .correlate(_P)
    .scalar_subquery()
)
_ACTIVE_OF_P = and_(_R.c.person_id == _P.c.id, _R.c.status == RunStatus.ACTIVE)
_PERSON_AND_RUN = (
    select(
        *[c.label(f"p_{c.name}") for c in _P.c],
        *[c.label(f"r_{c.name}") for c in _R.c],
        _CONSENT_VERSION.label("consent_version"),
        *[c.label(f"w_{c.name}") for c in _W.c],
        _OPEN_TICKET.label("open_ticket_id"),
    )
    .select_from(_P.outerjoin(_R, _ACTIVE_OF_P).outerjoin(_W, _W.c.person_id == _P.c.id))
    .where(_P.c.telegram_id == bindparam("telegram_id"))
    .order_by(_R.c.updated_at.desc(), _R.c.id.desc())
    .limit(1)
)
_ACTIVE_RUN_OF_FLOW = _ACTIVE_RUN.where(FlowRun.flow == bindparam("flow"))
_RUN_OF = select(FlowRun).where(
    FlowRun.id == bindparam("run_id"), FlowRun.person_id == bindparam("person_id")
)


async def _connection(session: AsyncSession) -> AsyncConnection:
    """The session's connection, looked up once per transaction (it is asked for often)."""
    if isinstance(session.bind, AsyncConnection):
        return session.bind
    connection = session.info.get("connection")
    if connection is None or connection.closed or not connection.in_transaction():
        connection = session.info["connection"] = await session.connection()
    return connection


@lru_cache(maxsize=16)
def _insert_returning_id(table: Table) -> Insert:
    return insert(table).returning(table.c.id)


async def _insert(session: AsyncSession, table: Table, values: dict[str, Any]) -> int:
    """Insert one row with Core and return its id (RETURNING: SQLite 3.35+, PostgreSQL)."""
    connection = await _connection(session)
    return int((await connection.execute(_insert_returning_id(table), values)).scalar_one())


async def mark_processed(
    session: AsyncSession, *, update_id: int, replies: list[Any] | None = None
) -> bool:
    """Record an update id, with the replies still to be sent for it (bot.outbox.as_data's
    [method, parameters] pairs; None: nothing to send); False if it was already there."""
    connection = await _connection(session)
    stmt = _RECORD_UPDATE[connection.dialect.name]
    values = {"update_id": update_id, "processed_at": utcnow(), "replies": replies}
    return bool((await connection.execute(stmt, values)).rowcount)


async def seen_update(
    session: AsyncSession, *, update_id: int
) -> tuple[bool, list[Any] | None, datetime | None]:
    """Whether an update id was recorded, the replies still stored with it, and when it was
    recorded."""
    connection = await _connection(session)
    row = (await connection.execute(_SEEN, {"b_update_id": update_id})).first()
    if row is None:
        return False, None, None
    return True, row.replies, row.processed_at  # aware UTC (the column's UTCDateTime)


async def forget_replies(transactions: Transactions, *, update_id: int) -> None:
    """Forget an update's stored replies, in a transaction of its own: they were sent."""
    await transactions.alone(_FORGET_REPLIES, {"b_update_id": update_id})


async def forget_replies_to(session: AsyncSession, *, chat_id: int) -> int:
    """Forget every stored reply batch with a call to this chat (a person deleting their data:
    what they were told carries their name, their phone); how many batches. Replies are kept
    only from a commit until sent, so the rows holding any are few: they are read and checked
    here, not searched inside the JSON (which each backend reads its own way)."""
    connection = await _connection(session)
    rows = await connection.execute(
        select(_U.c.update_id, _U.c.replies).where(_U.c.replies.is_not(None))
    )
    chat = str(chat_id)
    ids = [
        row.update_id
        for row in rows
        if any(str(params.get("chat_id")) == chat for _name, params in row.replies or [])
    ]
    if ids:
        await connection.execute(update(_U).where(_U.c.update_id.in_(ids)).values(replies=null()))
    return len(ids)


async def person_by_telegram_id(session: AsyncSession, *, telegram_id: int) -> Person | None:
    return await session.scalar(_PERSON, {"telegram_id": telegram_id})


def _record(model: type[Base], values: dict[str, Any]) -> Any:
    """A mapped object filled from a Core row the way the ORM's own loader does (no attribute
    event per column: measured 5% of an update); the session does not track it."""
    obj = model.__mapper__.class_manager.new_instance()
    obj.__dict__.update(values)
    return obj


async def person_and_active_run(
    session: AsyncSession, *, telegram_id: int
) -> tuple[Person | None, FlowRun | None]:
    """The person and the active run they touched last, in one query (every update needs both),
    with what `consent_version` and `desk_state` answer about them.

    Read with Core, which costs half as much as the ORM's loading, and returned as objects the
    session does not track: change them only through this module (`update_person`, `save_run`).
    """
    connection = await _connection(session)
    row = (await connection.execute(_PERSON_AND_RUN, {"telegram_id": telegram_id})).first()
    if row is None:
        return None, None
    values = row._mapping
    person = _record(Person, {c.name: values[f"p_{c.name}"] for c in _P.c})
    person.__dict__[_CONSENT_SEEN] = values["consent_version"]  # not a column: see below
    wait = (
        _record(TicketWait, {c.name: values[f"w_{c.name}"] for c in _W.c})
        if values["w_person_id"] is not None
        else None
    )
    person.__dict__[_DESK_SEEN] = DeskState(wait, values["open_ticket_id"])
    if values["r_id"] is None:
        return person, None
    return person, _record(FlowRun, {c.name: values[f"r_{c.name}"] for c in _R.c})


_CONSENT_SEEN = "_consent_version"


def consent_version(person: Person) -> str | None:
    """The text version of the profile consent the person agreed to last, as read with them by
    `person_and_active_run` (None if they have none, or were read another way)."""
    value = person.__dict__.get(_CONSENT_SEEN)
    return value if isinstance(value, str) else None


_DESK_SEEN = "_desk_state"


@dataclass(frozen=True)
class DeskState:
    """The help desk's state of a person when the update began, read with them."""

    wait: TicketWait | None  # what the bot waits for from them (maybe expired: check `until`)
    open_ticket_id: int | None  # their open ticket, the newest if several


def desk_state(person: Person) -> DeskState | None:
    """As read with the person by `person_and_active_run`; None if they were read another way
    (then ask storage.tickets)."""
    value = person.__dict__.get(_DESK_SEEN)
    return value if isinstance(value, DeskState) else None


# The next free person id on SQLite once someone deleted their data (storage.privacy keeps the
# highest id given): SQLite alone would give the highest id in the table + 1.
_ABOVE_RETIRED = select(
    func.max(select(func.coalesce(func.max(_P.c.id), 0)).scalar_subquery(), IdWatermark.value) + 1
).where(IdWatermark.name == "people")


def _new_person(telegram_id: int, locale: str, start_payload: str | None) -> dict[str, Any]:
    now = utcnow()
    return {
        "telegram_id": telegram_id,
        "locale": locale,
        "start_payload": start_payload,
        "role": Role.RETURNEE.value,
        "nudges": True,
        "announcements": False,
        "blocked_at": None,
        "created_at": now,
        "updated_at": now,
    }


async def _never_retired(connection: Any, values: dict[str, Any]) -> dict[str, Any]:
    """On SQLite, the new person's id above every id a deleted person had (see _ABOVE_RETIRED)."""
    if connection.dialect.name == "sqlite":
        above = (await connection.execute(_ABOVE_RETIRED)).scalar()
        if above is not None:
            return {"id": above, **values}
    return values


async def create_person(
    session: AsyncSession, *, telegram_id: int, locale: str, start_payload: str | None = None
) -> Person:
    values = _new_person(telegram_id, locale, start_payload)
    values = await _never_retired(await _connection(session), values)
    return Person(**{**values, "id": await _insert(session, _P, values)})


async def create_person_if_new(
    session: AsyncSession, *, telegram_id: int, locale: str, start_payload: str | None = None
) -> Person | None:
    """Create the person unless someone with this Telegram id exists already; None then (a
    double tap on consent: on PostgreSQL the second waits for the first and inserts nothing)."""
    connection = await _connection(session)
    values = await _never_retired(connection, _new_person(telegram_id, locale, start_payload))
    dialect_insert = pg_insert if connection.dialect.name == "postgresql" else sqlite_insert
    statement = (
        dialect_insert(_P)
        .values(values)
        .on_conflict_do_nothing(index_elements=["telegram_id"])
        .returning(_P.c.id)
    )
    new_id = (await connection.execute(statement)).scalar_one_or_none()
    return None if new_id is None else Person(**{**values, "id": int(new_id)})


_LOCK_PERSON = select(Person.announcements, Person.onboarded_at, Person.start_payload).where(
    Person.id == bindparam("pid")
)


async def lock_person(session: AsyncSession, person: Person) -> None:
    """Hold the person's row until the update commits (PostgreSQL: `FOR UPDATE`; SQLite has one
    writer) and refresh what a concurrent update of theirs may have changed meanwhile, so a
    check-then-write (asked already? opted in already?) runs once per person at a time."""
    connection = await _connection(session)
    statement = _LOCK_PERSON
    if connection.dialect.name == "postgresql":
        statement = statement.with_for_update()
    row = (await connection.execute(statement, {"pid": person.id})).first()
    if row is not None:
        for name, value in row._mapping.items():
            set_committed_value(person, name, value)


async def give_consent(
    session: AsyncSession, *, person: Person, purpose: str, text_version: str
) -> Consent:
    values = {
        "person_id": person.id,
        "purpose": purpose,
        "text_version": text_version,
        "given_at": utcnow(),
    }
    return Consent(id=await _insert(session, Consent.__table__, values), **values)


async def consents_of(session: AsyncSession, *, person_id: int) -> list[Consent]:
    rows = await session.scalars(
        select(Consent).where(Consent.person_id == person_id).order_by(Consent.given_at)
    )
    return list(rows)


@lru_cache(maxsize=256)
def _update_person(names: tuple[str, ...]) -> Update:
    columns = Person.__table__.c
    values = {name: bindparam(name, type_=columns[name].type) for name in names}
    return update(Person).where(Person.id == bindparam("pid")).values(values)


async def update_person(session: AsyncSession, person: Person, **fields: Any) -> None:
    """Write profile fields with one UPDATE and keep the loaded object in step.

    A plain UPDATE costs a fraction of the ORM's unit of work, and this runs on most updates.
    """
    unknown = set(fields) - UPDATABLE_PERSON_FIELDS
    if unknown:
        raise KeyError(", ".join(sorted(unknown)))
    fields["updated_at"] = utcnow()
    connection = await _connection(session)
    await connection.execute(_update_person(tuple(sorted(fields))), {"pid": person.id, **fields})
    for name, value in fields.items():
        set_committed_value(person, name, value)


async def active_run(
    session: AsyncSession, *, person_id: int, flow: str | None = None
) -> FlowRun | None:
    """The active run the person touched last (of one flow, if given): where answers go."""
    if flow is None:
        return await session.scalar(_ACTIVE_RUN, {"person_id": person_id})
    return await session.scalar(_ACTIVE_RUN_OF_FLOW, {"person_id": person_id, "flow": flow})


async def run_of(session: AsyncSession, *, run_id: int, person_id: int) -> FlowRun | None:
    """A run, only if it belongs to this person (callback data can be forged)."""
    return await session.scalar(_RUN_OF, {"run_id": run_id, "person_id": person_id})


_LATEST_RUN_OF_FLOW = (
    select(FlowRun)
    .where(FlowRun.person_id == bindparam("person_id"), FlowRun.flow == bindparam("flow"))
    .order_by(FlowRun.started_at.desc(), FlowRun.id.desc())
    .limit(1)
)


async def latest_run(session: AsyncSession, *, person_id: int, flow: str) -> FlowRun | None:
    """The person's newest run of a flow, whatever its status."""
    return await session.scalar(_LATEST_RUN_OF_FLOW, {"person_id": person_id, "flow": flow})


async def runs_of(session: AsyncSession, *, person_id: int) -> list[FlowRun]:
    rows = await session.scalars(
        select(FlowRun).where(FlowRun.person_id == person_id).order_by(FlowRun.started_at)
    )
    return list(rows)


_CANCEL_RUNS_OF_FLOW = (
    update(FlowRun)
    .where(
        FlowRun.person_id == bindparam("b_person_id"),
        FlowRun.flow == bindparam("b_flow"),
        FlowRun.status == RunStatus.ACTIVE,
    )
    .values(
        status=RunStatus.CANCELLED,
        finished_at=bindparam("now", type_=FlowRun.finished_at.type),
        updated_at=bindparam("now", type_=FlowRun.updated_at.type),
    )
)


_LOCK_PERSON_ROW = select(Person.id).where(Person.id == bindparam("pid")).with_for_update()


async def start_run(
    session: AsyncSession,
    *,
    person_id: int,
    flow: str,
    step: str,
    answers: dict[str, Any] | None = None,
) -> FlowRun:
    """Begin a flow (with answers known beforehand, e.g. which cooperative); any other active
    run of the same flow is cancelled first."""
    now = utcnow()
    connection = await _connection(session)
    if connection.dialect.name == "postgresql":
        # One active run of a flow per person: of two presses starting the flow at once, the
        # second waits here for the first to commit, then stops the run it started (SQLite
        # has one writer, so there the second always comes after).
        await connection.execute(_LOCK_PERSON_ROW, {"pid": person_id})
    await connection.execute(
        _CANCEL_RUNS_OF_FLOW, {"b_person_id": person_id, "b_flow": flow, "now": now}
    )
    values = {
        "person_id": person_id,
        "flow": flow,
        "step": step,
        "answers": dict(answers or {}),
        "history": [],
        "status": RunStatus.ACTIVE.value,
        "started_at": now,
        "updated_at": now,
        "finished_at": None,
    }
    return FlowRun(id=await _insert(session, _R, values), **values)


async def stop_other_runs(session: AsyncSession, run: FlowRun) -> None:
    """Cancel the person's other active runs of the run's flow (before it is resumed)."""
    connection = await _connection(session)
    await connection.execute(
        _CANCEL_RUNS_OF_FLOW.where(FlowRun.id != bindparam("b_keep")),
        {"b_person_id": run.person_id, "b_flow": run.flow, "b_keep": run.id, "now": utcnow()},
    )


_SAVE_RUN_VALUES = dict(
    step=bindparam("step"),
    answers=bindparam("answers", type_=FlowRun.answers.type),
    history=bindparam("history", type_=FlowRun.history.type),
    status=bindparam("status"),
    updated_at=bindparam("updated_at", type_=FlowRun.updated_at.type),
    finished_at=bindparam("finished_at", type_=FlowRun.finished_at.type),
)
# The same, only from the step the answer was given at, while the run is still active: of two
# concurrent answers to one step (a double tap), one moves the run on and finishes it.
_ADVANCE_RUN = (
    update(FlowRun)
    .where(
        FlowRun.id == bindparam("run_id"),
        FlowRun.step == bindparam("from_step"),
        FlowRun.status == RunStatus.ACTIVE,
    )
    .values(**_SAVE_RUN_VALUES)
)
_SAVE_RUN = update(FlowRun).where(FlowRun.id == bindparam("run_id")).values(**_SAVE_RUN_VALUES)


async def save_run(
    session: AsyncSession,
    run: FlowRun,
    *,
    step: str,
    answers: dict[str, Any],
    history: list[str],
    status: str,
    from_step: str | None = None,
) -> bool:
    """Store where a run is now, with one prepared UPDATE; the loaded object follows.

    With `from_step`, only if the run is still active at that step (on PostgreSQL a concurrent
    update of the same run is waited for, then looked at again); False, and nothing changed,
    when another update got there first."""
    now = utcnow()
    values: dict[str, Any] = {
        "step": step,
        "answers": answers,
        "history": history,
        "status": status,
        "updated_at": now,
        "finished_at": None if status == RunStatus.ACTIVE else now,
    }
    connection = await _connection(session)
    if from_step is None:
        await connection.execute(_SAVE_RUN, {"run_id": run.id, **values})
    else:
        params = {"run_id": run.id, "from_step": from_step, **values}
        if not (await connection.execute(_ADVANCE_RUN, params)).rowcount:
            return False
    for name, value in values.items():
        set_committed_value(run, name, value)
    return True


async def mark_blocked(session: AsyncSession, *, person_id: int, at: Any) -> None:
    """Telegram said the person blocked the bot: nothing more is sent to them until they write."""
    connection = await _connection(session)
    await connection.execute(
        update(Person).where(Person.id == person_id).values(blocked_at=at, updated_at=at)
    )


async def set_role(
    session: AsyncSession, *, person_id: int, role: str, regions: list[str] | None = None
) -> None:
    """Give a person a role, scoped to regions (None: everywhere; a returnee has none). The
    caller audits the change."""
    connection = await _connection(session)
    await connection.execute(
        update(Person)
        .where(Person.id == person_id)
        .values(role=role, scope_regions=None if role == "returnee" else regions)
    )


async def stale_runs(
    session: AsyncSession, *, flows: list[str], before: Any, after: Any, limit: int
) -> list[tuple[int, int, Any, str | None]]:
    """(run id, person id, last touch, province) of active runs of these flows last touched
    between `after` and `before`, whose person wants nudges and has not blocked the bot."""
    connection = await _connection(session)
    rows = await connection.execute(
        select(_R.c.id, _R.c.person_id, _R.c.updated_at, _P.c.province_code)
        .join(_P, _P.c.id == _R.c.person_id)
        .where(
            _R.c.status == RunStatus.ACTIVE,
            _R.c.flow.in_(flows),
            _R.c.updated_at < before,
            _R.c.updated_at > after,
            _P.c.nudges.is_(True),
            _P.c.blocked_at.is_(None),
        )
        .order_by(_R.c.updated_at)
        .limit(limit)
    )
    return [(r[0], r[1], r[2], r[3]) for r in rows]


async def prune_processed(session: AsyncSession, *, before: Any) -> int:
    """Forget update ids older than `before`: Telegram keeps an update for at most 24 hours, so
    an older one can never be delivered again; replies still stored with one (never forgotten:
    the database refused just then) go with it. Returns how many were removed."""
    connection = await _connection(session)
    result = await connection.execute(
        delete(ProcessedUpdate).where(ProcessedUpdate.processed_at < before)
    )
    return int(result.rowcount or 0)


async def forget_role_payloads(session: AsyncSession, *, before: Any) -> int:
    """Clear role invitation tokens (`role-<token>`, a secret) that people brought with /start
    and left in their record unused since `before` (an invitation's life): by then the link
    can no longer be valid, and a secret must not stay. How many were cleared."""
    connection = await _connection(session)
    result = await connection.execute(
        update(Person)
        .where(Person.start_payload.like("role-%"), Person.updated_at < before)
        .values(start_payload=None)
    )
    return int(result.rowcount or 0)


ANNOUNCEMENTS = "announcements"


async def set_announcements(
    session: AsyncSession, person: Person, *, on: bool, text_version: str
) -> bool:
    """Opt in to announcements (an explicit consent of its own, recorded) or out (the consent
    withdrawn). False if it already was so (a double tap)."""
    connection = await _connection(session)
    changed = await connection.execute(
        update(Person)
        .where(Person.id == person.id, Person.announcements.is_not(on))
        .values(announcements=on, updated_at=utcnow())
    )
    set_committed_value(person, "announcements", on)
    if not changed.rowcount:  # already so: a double tap, or a second update meanwhile
        return False
    if on:
        await give_consent(session, person=person, purpose=ANNOUNCEMENTS, text_version=text_version)
    else:
        await connection.execute(
            update(Consent)
            .where(
                Consent.person_id == person.id,
                Consent.purpose == ANNOUNCEMENTS,
                Consent.withdrawn_at.is_(None),
            )
            .values(withdrawn_at=utcnow())
        )
    return True


async def asked_announcements(session: AsyncSession, *, person_id: int) -> bool:
    """Whether the person ever answered the announcements question (a consent row either way)."""
    connection = await _connection(session)
    found = await connection.execute(
        select(Consent.id)
        .where(
            Consent.person_id == person_id, Consent.purpose.in_([ANNOUNCEMENTS, NO_ANNOUNCEMENTS])
        )
        .limit(1)
    )
    return found.first() is not None


NO_ANNOUNCEMENTS = "announcements_declined"


async def decline_announcements(
    session: AsyncSession, *, person: Person, text_version: str
) -> None:
    """Record that the person said no when asked (so they are not asked again)."""
    now = utcnow()
    await _insert(
        session,
        Consent.__table__,
        {
            "person_id": person.id,
            "purpose": NO_ANNOUNCEMENTS,
            "text_version": text_version,
            "given_at": now,
            "withdrawn_at": now,
        },
    )


async def claim_rows(
    session: AsyncSession,
    table: Table,
    *,
    where: Any,
    order_by: Any,
    limit: int,
    now: Any,
    lease: Any,
    returning: tuple[Any, ...],
    values: dict[str, Any] | None = None,
) -> list[Any]:
    """Take up to `limit` rows for this process and return them: one UPDATE setting them to
    `sending` under a lease (`lease_until`, `attempts` + 1) over a sub-select that, on
    PostgreSQL, skips rows another process holds (`FOR UPDATE SKIP LOCKED`); SQLite has one
    writer. Reminders and broadcast deliveries are claimed this way."""
    connection = await _connection(session)
    pick = select(table.c.id).where(where).order_by(order_by).limit(limit)
    if connection.dialect.name == "postgresql":
        pick = pick.with_for_update(of=table, skip_locked=True)
    claimed = await connection.execute(
        update(table)
        .where(table.c.id.in_(pick.scalar_subquery()))
        .values(
            status="sending",
            lease_until=now + lease,
            attempts=table.c.attempts + 1,
            **(values or {}),
        )
        .returning(*returning)
    )
    return list(claimed.all())
