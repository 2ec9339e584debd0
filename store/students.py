"""Students, known by a token their browser keeps, and the work saved for each (a lab model, uploads, the view),
so that a refresh or a server restart loses nothing.

The store never holds a token, only its digest, so reading the store gives no one a way into a student's work.
A token the store does not know (made up, from another server, expired, or cleared by the teacher) opens nothing:
its browser is given a new one and starts afresh. Each student's saved work is bounded in size, and a student not
seen for `keep_days` is forgotten with all of their work.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, delete, func, insert, select, update

from locales import _

from .schema import saved_work, students

TOKEN_PATTERN = re.compile(r"[A-Za-z0-9_-]{43}")  # secrets.token_urlsafe(32): 256 random bits
KEEP_DAYS = 30  # a student's work is kept this long after their last visit
SAVED_MB = 24  # per student: the lab's largest network (under 20 MB) and a few uploaded pictures


class WorkRefused(Exception):
    """Work that is not saved; str(exc) says why in plain words."""


class StudentUnknown(Exception):
    """The store has no such student (any more): the teacher cleared the class, or the token expired."""


def new_token() -> str:
    return secrets.token_urlsafe(32)


def is_token(text: object) -> bool:
    """Whether `text` has a token's form (a cookie holding anything else is not even looked up)."""
    return isinstance(text, str) and TOKEN_PATTERN.fullmatch(text) is not None


def student_id(token: str) -> str:
    """What the store keeps of a student's token: its digest."""
    return hashlib.sha256(token.encode()).hexdigest()


def now_utc() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Students:
    """The students' part of the store, on one engine (shared by every session of the process)."""

    engine: Engine
    saved_bytes: int = SAVED_MB * 2**20
    keep_days: float = KEEP_DAYS

    def register(self, token: str, now: datetime | None = None) -> None:
        """A new student (a browser without a known token); students not seen for keep_days are forgotten."""
        now = now or now_utc()
        with self.engine.begin() as connection:
            connection.execute(delete(students).where(students.c.last_seen < now - timedelta(days=self.keep_days)))
            connection.execute(insert(students).values(student=student_id(token), last_seen=now))

    def restore(self, token: str, now: datetime | None = None) -> dict[str, bytes] | None:
        """The student's saved work, oldest first, name -> data; None for a token the store does not know (or
        whose student was last seen more than keep_days ago)."""
        now, student = now or now_utc(), student_id(token)
        with self.engine.begin() as connection:
            seen = students.c.student == student
            last = connection.execute(select(students.c.last_seen).where(seen)).scalar()
            if last is None or aware(last) < now - timedelta(days=self.keep_days):
                return None
            connection.execute(update(students).where(seen).values(last_seen=now))
            rows = connection.execute(
                select(saved_work.c.name, saved_work.c.data)
                .where(saved_work.c.student == student)
                .order_by(saved_work.c.saved_at, saved_work.c.name)
            )
            return {name: data for name, data in rows}

    def keep(self, token: str, name: str, data: bytes, now: datetime | None = None) -> None:
        """Save (or replace) one piece of the student's work. Raises StudentUnknown when the student is no longer
        in the store, WorkRefused when it would take the student's saved work over saved_bytes."""
        now, student = now or now_utc(), student_id(token)
        with self.engine.begin() as connection:
            seen = students.c.student == student
            if connection.execute(update(students).where(seen).values(last_seen=now)).rowcount == 0:
                raise StudentUnknown(
                    _("Your saved work was cleared, so nothing more is kept; refresh to start afresh.")
                )
            piece = (saved_work.c.student == student) & (saved_work.c.name == name)
            others = select(func.coalesce(func.sum(func.length(saved_work.c.data)), 0)).where(
                (saved_work.c.student == student) & (saved_work.c.name != name)
            )
            if connection.execute(others).scalar() + len(data) > self.saved_bytes:
                raise WorkRefused(
                    _(
                        "This is not kept over a refresh: your saved work would pass {size} MB. It stays on screen "
                        "until you close the page."
                    ).format(size=self.saved_bytes // 2**20)
                )
            connection.execute(delete(saved_work).where(piece))
            connection.execute(insert(saved_work).values(student=student, name=name, data=data, saved_at=now))

    def drop(self, token: str, name: str) -> None:
        """Forget one piece of the student's saved work (an upload pushed out by newer ones)."""
        piece = (saved_work.c.student == student_id(token)) & (saved_work.c.name == name)
        with self.engine.begin() as connection:
            connection.execute(delete(saved_work).where(piece))

    def enrol(self, token: str, code: str | None) -> None:
        """Record the class the student joined (None: left it), so that clearing the class clears their work."""
        with self.engine.begin() as connection:
            connection.execute(update(students).where(students.c.student == student_id(token)).values(class_code=code))


def aware(moment: datetime) -> datetime:
    """SQLite gives back naive datetimes (what it stored, in UTC); PostgreSQL aware ones."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
