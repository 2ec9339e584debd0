"""The class store on SQLite (the embedded default) and on a real PostgreSQL server that the tests start:
one answer per student per lesson, changeable until the reveal, counted once; reset; foreign codes refused."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import insert

from store import Classroom, StoreError, VoteRefused, open_store
from store.schema import schema_version

from .postgres import running_postgres

T0 = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def postgres_url():
    with running_postgres() as url:
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
def classroom(request, tmp_path) -> Classroom:
    url = request.getfixturevalue("postgres_url") if request.param == "postgresql" else None
    engine = open_store(url, tmp_path / "data")
    assert engine.dialect.name == request.param
    yield Classroom(engine)
    engine.dispose()


def later(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def test_sqlite_is_a_file_in_the_data_folder_made_on_first_start(tmp_path):
    open_store(None, tmp_path / "new" / "data").dispose()
    assert (tmp_path / "new" / "data" / "shiftlab.sqlite3").is_file()


def test_each_student_answers_once_per_lesson_and_may_change_it_until_the_reveal(classroom):
    code = classroom.start_class(T0)
    assert len(code) == 5 and classroom.exists(code) and not classroom.exists("ZZZZZ")
    for n, answer in enumerate([0, 1, 1, 3]):
        classroom.vote(code, "equivariance", f"student-{n}", answer, later(n))
    classroom.vote(code, "equivariance", "student-0", 1, later(5))  # changed: still one answer
    assert classroom.counts(code, "equivariance") == Counter({1: 3, 3: 1})
    assert classroom.answer_of(code, "equivariance", "student-0") == 1
    assert classroom.counts(code, "aliasing") == Counter()  # another lesson: its own question
    classroom.reveal(code, "equivariance", later(6))
    classroom.reveal(code, "equivariance", later(7))  # revealing again changes nothing
    assert classroom.revealed(code, "equivariance")
    with pytest.raises(VoteRefused, match="revealed"):
        classroom.vote(code, "equivariance", "student-9", 2, later(8))
    classroom.reset(code, "equivariance")
    assert classroom.counts(code, "equivariance") == Counter() and not classroom.revealed(code, "equivariance")
    classroom.vote(code, "equivariance", "student-9", 2, later(9))
    assert classroom.counts(code, "equivariance") == Counter({2: 1})


def test_answers_too_fast_and_to_a_class_that_does_not_exist_are_refused(classroom):
    code = classroom.start_class(T0)
    classroom.vote(code, "pooling", "s", 0, later(0))
    with pytest.raises(VoteRefused, match="wait a moment"):
        classroom.vote(code, "pooling", "s", 1, later(0.5))
    with pytest.raises(VoteRefused, match="no class with this code"):
        classroom.vote("NOPE1", "pooling", "s", 1, later(2))
    assert classroom.counts(code, "pooling") == Counter({0: 1})


def test_the_store_keeps_no_token_and_treats_quotes_as_plain_text(classroom):
    code = classroom.start_class(T0)
    evil = "x'); DROP TABLE votes; --"
    classroom.vote(code, "pooling", evil, 0, T0)
    assert classroom.answer_of(code, "pooling", evil) == 0 and classroom.counts(code, "pooling") == Counter({0: 1})
    with classroom.engine.connect() as connection:
        stored = [str(value) for row in connection.exec_driver_sql("SELECT * FROM votes") for value in row]
    assert evil not in stored and "student" not in " ".join(stored)


def test_a_store_of_another_layout_is_refused_in_plain_words(tmp_path):
    engine = open_store(None, tmp_path)
    with engine.begin() as connection:
        connection.execute(insert(schema_version).values(version=99))
    engine.dispose()
    with pytest.raises(StoreError, match="another version of Shift Lab"):
        open_store(None, tmp_path)
