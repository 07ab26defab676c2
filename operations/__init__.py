"""The domain operations: every change that matters to more than one screen or person.

Two front doors call these, the bot (`bot/`) and the staff desk (`desk/`), and any future
channel can: an operation takes plain values (ids, strings, a `now` from the caller's clock)
and an `AsyncSession` inside the caller's transaction, makes one transaction's worth of
effects through `storage/`, and returns what changed plus the **notices** to send: to whom,
which message, with which arguments (`operations.notices.Notice`). It never commits, never
sends and never renders: the front door commits, then renders each notice in its person's
language and delivers it (the bot: `bot/notices.py`).

Nothing here imports aiogram, Jinja2 or aiohttp (tests/operations/test_layer.py checks).

Modules, one per part of the domain:
- `notices`: Notice, and the Done result every operation returns.
- `decisions`: decide a submission (approve / reject / return) and correct a returned one;
  each kind's effects on its journey are registered by the module of that kind.
- `trainings`: register, cancel, promote the waitlist, add, change or cancel a session, mark
  attendance.
- `coops`: join, found, hand over a plan, cancel a plan.
- `people`: delete a person (the erasure, and what it does to others' journeys).
- `broadcasts`: draft, send or schedule an announcement; pause, resume, cancel it.
- `roles`: give, narrow or remove a role (ending the person's desk sessions), make or cancel a
  role invitation.
"""
