"""A class together: the teacher starts it, students join by its code and answer each lesson's question once
(changeable until the teacher reveals the answers), the teacher sees the counts and reveals or resets them.

Every query goes through SQLAlchemy's expressions, so values are always bound parameters, never pasted into SQL.
Students are known by a digest of their token only.
"""

from __future__ import annotations

import logging
import secrets
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine, create_engine, delete, event, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from locales import _

from .schema import SCHEMA_VERSION, classes, metadata, reveals, schema_version, students, votes
from .students import aware, now_utc, student_id

logger = logging.getLogger(__name__)

CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I/L: read off a projector
CODE_LENGTH = 5
ANSWER_INTERVAL_S = 1.0  # one student changes an answer at most once a second
DATABASE_FILE = "shiftlab.sqlite3"


class VoteRefused(Exception):
    """A vote that is not taken; str(exc) says why in plain words."""


class StoreError(Exception):
    """A store that cannot be used (another version's, say); str(exc) says why in plain words."""


def open_store(url: str | None, data_folder: Path) -> Engine:
    """The store at the database URL `url` (e.g. postgresql+psycopg://…), or SQLite in `data_folder` (made on first
    start); its tables are made if missing. A store of an older layout is brought along (every change so far only
    added tables, which create_all makes); one of a newer layout is refused."""
    if not url:
        data_folder.mkdir(parents=True, exist_ok=True)
        url = f"sqlite:///{data_folder / DATABASE_FILE}"
    engine = create_engine(url, pool_pre_ping=True)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_settings)
    metadata.create_all(engine)
    with engine.begin() as connection:
        found = connection.execute(select(schema_version.c.version)).scalars().all()
        if len(found) == 1 and found[0] < SCHEMA_VERSION:
            logger.info("The class store's layout %d is brought to layout %d", found[0], SCHEMA_VERSION)
            connection.execute(delete(schema_version))
            found = []
        if not found:
            connection.execute(insert(schema_version).values(version=SCHEMA_VERSION))
        elif found != [SCHEMA_VERSION]:  # in English: raised in the process's cached store, only its log says it
            raise StoreError(
                f"The class store was made by another version of Shift Lab (layout {found}, this one reads "
                f"{SCHEMA_VERSION}): start it with a new data folder or database."
            )
    return engine


def _sqlite_settings(connection, _record) -> None:
    """Foreign keys enforced (SQLite leaves them off), and readers that do not wait for a writer (WAL)."""
    cursor = connection.cursor()
    cursor.execute("PRAGMA foreign_keys = ON")
    cursor.execute("PRAGMA journal_mode = WAL")
    cursor.close()


@dataclass(frozen=True)
class Classroom:
    """The class store's operations on one engine (shared by every session of the process)."""

    engine: Engine

    def start_class(self, now: datetime | None = None) -> str:
        """A new class; its code."""
        for _attempt in range(20):  # a code already taken is drawn again
            code = "".join(secrets.choice(CODE_ALPHABET) for _letter in range(CODE_LENGTH))
            try:
                with self.engine.begin() as connection:
                    connection.execute(insert(classes).values(code=code, started_at=now or now_utc()))
                return code
            except IntegrityError:
                continue
        raise StoreError(_("No free class code was found; try again."))

    def exists(self, code: str) -> bool:
        with self.engine.connect() as connection:
            return connection.execute(select(classes.c.code).where(classes.c.code == code)).first() is not None

    def vote(self, code: str, lesson: str, token: str, answer: int, now: datetime | None = None) -> None:
        """Take (or change) a student's answer to a lesson's question. Raises VoteRefused: after the reveal,
        in a class that does not exist, or sooner than ANSWER_INTERVAL_S after the student's last answer."""
        now, voter = now or now_utc(), student_id(token)
        with self.engine.begin() as connection:
            if connection.execute(select(classes.c.code).where(classes.c.code == code)).first() is None:
                raise VoteRefused(_("There is no class with this code (the teacher may have started a new one)."))
            if self._revealed(connection, code, lesson):
                raise VoteRefused(_("The answers are revealed: the question is closed."))
            key = (votes.c.class_code == code) & (votes.c.lesson == lesson) & (votes.c.voter == voter)
            last = connection.execute(select(votes.c.voted_at).where(key)).scalar()
            if last is not None:
                if now - aware(last) < timedelta(seconds=ANSWER_INTERVAL_S):
                    raise VoteRefused(_("Not so fast: wait a moment before changing your answer."))
                connection.execute(update(votes).where(key).values(answer=answer, voted_at=now))
            else:
                connection.execute(
                    insert(votes).values(class_code=code, lesson=lesson, voter=voter, answer=answer, voted_at=now)
                )

    def answer_of(self, code: str, lesson: str, token: str) -> int | None:
        """The student's answer to the lesson's question, if any."""
        key = (votes.c.class_code == code) & (votes.c.lesson == lesson) & (votes.c.voter == student_id(token))
        with self.engine.connect() as connection:
            return connection.execute(select(votes.c.answer).where(key)).scalar()

    def counts(self, code: str, lesson: str) -> Counter[int]:
        """How many students gave each answer (no names: the store has none)."""
        query = (
            select(votes.c.answer, func.count())
            .where((votes.c.class_code == code) & (votes.c.lesson == lesson))
            .group_by(votes.c.answer)
        )
        with self.engine.connect() as connection:
            return Counter({answer: count for answer, count in connection.execute(query)})

    def reveal(self, code: str, lesson: str, now: datetime | None = None) -> None:
        with self.engine.begin() as connection:
            if not self._revealed(connection, code, lesson):
                connection.execute(insert(reveals).values(class_code=code, lesson=lesson, revealed_at=now or now_utc()))

    def revealed(self, code: str, lesson: str) -> bool:
        with self.engine.connect() as connection:
            return self._revealed(connection, code, lesson)

    def reset(self, code: str, lesson: str) -> None:
        """The lesson's votes and reveal removed: its question is open again, for everyone."""
        with self.engine.begin() as connection:
            for table in (votes, reveals):
                connection.execute(delete(table).where((table.c.class_code == code) & (table.c.lesson == lesson)))

    def clear(self, code: str) -> None:
        """The class ended: its votes, its reveals, the class itself, and everything its students saved (the students
        who joined it last) are deleted. Their browsers' tokens then open nothing: they start afresh."""
        with self.engine.begin() as connection:
            connection.execute(delete(students).where(students.c.class_code == code))  # their saved work goes too
            connection.execute(delete(classes).where(classes.c.code == code))  # its votes and reveals go too

    @staticmethod
    def _revealed(connection, code: str, lesson: str) -> bool:
        query = select(reveals.c.lesson).where((reveals.c.class_code == code) & (reveals.c.lesson == lesson))
        return connection.execute(query).first() is not None
