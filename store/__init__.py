"""Shift Lab's store: the classes, their votes and reveals, and each student's saved work, in a real
database through SQLAlchemy (SQLite in a data folder by default, PostgreSQL by a database URL for a school). No
Streamlit here."""

from .classroom import ANSWER_INTERVAL_S, Classroom, StoreError, VoteRefused, open_store
from .students import KEEP_DAYS, Students, StudentUnknown, WorkRefused, is_token, new_token

__all__ = [
    "ANSWER_INTERVAL_S",
    "KEEP_DAYS",
    "Classroom",
    "StoreError",
    "StudentUnknown",
    "Students",
    "VoteRefused",
    "WorkRefused",
    "is_token",
    "new_token",
    "open_store",
]
