"""The class store on SQLite (the embedded default) and on a real PostgreSQL server that the tests start:
one answer per student per lesson, changeable until the reveal, counted once; reset; foreign codes refused.
Students' saved work: kept under their token's digest, bounded, expiring, cleared with the class; unknown tokens
open nothing; an older store is brought along."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import delete, insert, inspect

from scripts.servers import running_postgres
from store import Classroom, StoreError, Students, StudentUnknown, VoteRefused, WorkRefused, new_token, open_store
from store.schema import saved_work, schema_version, students

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


def test_a_students_work_comes_back_with_their_token_and_never_with_another(classroom):
    pupils, token = Students(classroom.engine), new_token()
    pupils.register(token, T0)
    pupils.keep(token, "view", b'{"x": "40"}', later(1))
    pupils.keep(token, "upload-1", b"png one", later(2))
    pupils.keep(token, "view", b'{"x": "90"}', later(3))  # replaced, and now the newest
    assert pupils.restore(token, later(4)) == {"upload-1": b"png one", "view": b'{"x": "90"}'}
    assert list(pupils.restore(token, later(5))) == ["upload-1", "view"]  # oldest first
    for foreign in (new_token(), token[:-1] + ("A" if token[-1] != "A" else "B")):  # made up, or one letter off
        assert pupils.restore(foreign, later(6)) is None
        with pytest.raises(StudentUnknown):
            pupils.keep(foreign, "view", b"{}", later(6))
    pupils.drop(token, "upload-1")
    assert pupils.restore(token, later(7)) == {"view": b'{"x": "90"}'}
    with classroom.engine.connect() as connection:
        stored = [str(value) for row in connection.execute(students.select()) for value in row]
    assert token not in " ".join(stored)


def test_saved_work_is_bounded_per_student_and_forgotten_after_keep_days(classroom):
    pupils, token, other = Students(classroom.engine, saved_bytes=1000, keep_days=30), new_token(), new_token()
    pupils.register(token, T0)
    pupils.keep(token, "lab_model", b"m" * 600, T0)
    with pytest.raises(WorkRefused, match="would pass"):
        pupils.keep(token, "upload-1", b"u" * 401, T0)
    pupils.keep(token, "upload-1", b"u" * 400, T0)  # exactly the bound
    pupils.keep(token, "lab_model", b"m" * 600, T0)  # a replacement counts once
    assert set(pupils.restore(token, T0 + timedelta(days=29))) == {"lab_model", "upload-1"}
    assert pupils.restore(token, T0 + timedelta(days=60)) is None  # 31 days after the last visit
    pupils.register(other, T0 + timedelta(days=61))  # a new student's arrival forgets the expired ones
    with classroom.engine.connect() as connection:
        assert connection.execute(saved_work.select()).all() == []


def test_clearing_a_class_deletes_its_votes_and_its_students_work_and_no_one_elses(classroom):
    pupils = Students(classroom.engine)
    code, other_class = classroom.start_class(T0), classroom.start_class(T0)
    inside, outside, elsewhere = new_token(), new_token(), new_token()
    for token in (inside, outside, elsewhere):
        pupils.register(token, T0)
        pupils.keep(token, "view", b"{}", T0)
    pupils.enrol(inside, code)
    pupils.enrol(elsewhere, other_class)
    classroom.vote(code, "pooling", inside, 1, T0)
    classroom.vote(other_class, "pooling", elsewhere, 0, T0)
    classroom.clear(code)
    assert not classroom.exists(code) and pupils.restore(inside, later(1)) is None
    with pytest.raises(StudentUnknown, match="cleared"):
        pupils.keep(inside, "view", b"{}", later(1))
    for untouched in (outside, elsewhere):
        assert pupils.restore(untouched, later(1)) == {"view": b"{}"}
    assert classroom.counts(other_class, "pooling") == Counter({0: 1})


def test_a_store_of_the_first_layout_is_brought_along(tmp_path):
    engine = open_store(None, tmp_path)
    code = Classroom(engine).start_class(T0)
    with engine.begin() as connection:  # the store as layout 1 made it: no students' tables
        saved_work.drop(connection)
        students.drop(connection)
        connection.execute(delete(schema_version))
        connection.execute(insert(schema_version).values(version=1))
    engine.dispose()
    engine = open_store(None, tmp_path)
    assert {"students", "saved_work"} <= set(inspect(engine).get_table_names()) and Classroom(engine).exists(code)
    with engine.connect() as connection:
        assert connection.execute(schema_version.select()).scalars().all() == [2]
    engine.dispose()
