"""A person as a whole: deleting everything kept about them, and what that does to others.

The erasure itself is storage/privacy.py's (`erase`); this says who else it concerns. A plan
the person led passes to the next co-founder, who is told they now lead it ("coop.heir"), and
the other founders are told who does ("coop.new_lead"); a plan nobody else is in closes. The
lead of a plan they were a co-founder of is told they left ("coop.left"). A seat they free goes
to the first on its waitlist ("training.promoted").
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from operations import trainings
from operations.notices import Done
from storage import privacy
from storage.models import Person

FOUNDING, PERSON, REGISTRATION = "founding", "person", "registration"  # keys of Done.changed


async def delete_person(session: AsyncSession, *, person_id: int, now: datetime) -> Done:
    """Erase the person at once, in the caller's transaction; "gone" when there is nobody
    (a second tap of the confirmation). `changed`: the person, the plans handed over or
    closed or left, the registrations promoted from a waitlist."""
    person = await session.get(Person, person_id)
    if person is None:
        return Done.refuse("gone")
    erased = await privacy.erase(session, person=person, now=now)
    done = Done(changed={PERSON: [person_id]})
    for fate in erased.handed_over:
        assert fate.heir is not None
        done.changed.setdefault(FOUNDING, []).append(fate.plan.id)
        done.tell(fate.heir.id, "coop.heir", plan=fate.plan.id)
        for other in fate.others:
            done.tell(
                other.id, "coop.new_lead", plan=fate.plan.id, lead=fate.heir.id, why="deleted"
            )
    for fate in erased.closed:
        done.changed.setdefault(FOUNDING, []).append(fate.plan.id)
    for plan, lead, count in erased.left:
        done.changed.setdefault(FOUNDING, []).append(plan.id)
        done.tell(lead.id if lead else None, "coop.left", plan=plan.id, count=count)
    # A freed seat is the first waiting person's, as after any promotion: its reminders, its
    # request to the organiser, and a "training.promoted" notice (operations/trainings.py).
    done.merge(await trainings.seated(session, list(erased.promoted), now=now))
    for registration in erased.promoted:
        done.changed.setdefault(REGISTRATION, []).append(registration.id)
    return done
