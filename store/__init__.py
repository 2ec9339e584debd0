"""Shift Lab's store: the classes, their votes and reveals, in a real database through SQLAlchemy (SQLite in a data
folder by default, PostgreSQL by a database URL for a school). No Streamlit here."""

from .classroom import (
    ANSWER_INTERVAL_S,
    Classroom,
    StoreError,
    VoteRefused,
    open_store,
)

__all__ = ["ANSWER_INTERVAL_S", "Classroom", "StoreError", "VoteRefused", "open_store"]
