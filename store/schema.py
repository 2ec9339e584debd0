"""The store's tables, and the version of their layout: a store made by an older version is brought along
(store.classroom.open_store), one made by a newer version is refused, not misread."""

from __future__ import annotations

from sqlalchemy import (
    Column,
    DateTime,
    ForeignKey,
    Integer,
    LargeBinary,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
)

# Raise it with every change of the tables below, and bring an older store along in open_store.
# 1: classes, votes, reveals. 2: students and their saved work (new tables only).
SCHEMA_VERSION = 2

metadata = MetaData()

schema_version = Table("schema_version", metadata, Column("version", Integer, primary_key=True))

classes = Table(
    "classes",
    metadata,
    Column("code", String(8), primary_key=True),  # what students type to join
    Column("started_at", DateTime(timezone=True), nullable=False),
)

votes = Table(
    "votes",
    metadata,
    Column("class_code", String(8), ForeignKey("classes.code", ondelete="CASCADE"), nullable=False),
    Column("lesson", String(40), nullable=False),
    Column("voter", String(64), nullable=False),  # a digest of the student's token, never the token
    Column("answer", Integer, nullable=False),  # the index of the chosen answer
    Column("voted_at", DateTime(timezone=True), nullable=False),
    PrimaryKeyConstraint("class_code", "lesson", "voter"),  # one answer per student per lesson
)

reveals = Table(
    "reveals",
    metadata,
    Column("class_code", String(8), ForeignKey("classes.code", ondelete="CASCADE"), nullable=False),
    Column("lesson", String(40), nullable=False),
    Column("revealed_at", DateTime(timezone=True), nullable=False),
    PrimaryKeyConstraint("class_code", "lesson"),
)

students = Table(
    "students",
    metadata,
    Column("student", String(64), primary_key=True),  # a digest of the token the student's browser keeps
    Column("class_code", String(8), ForeignKey("classes.code", ondelete="SET NULL")),  # the class last joined
    Column("last_seen", DateTime(timezone=True), nullable=False),  # a student not seen for long is forgotten
)

saved_work = Table(
    "saved_work",
    metadata,
    Column("student", String(64), ForeignKey("students.student", ondelete="CASCADE"), nullable=False),
    Column("name", String(40), nullable=False),  # what it is: "view", "lab_model", "upload-…"
    Column("data", LargeBinary, nullable=False),
    Column("saved_at", DateTime(timezone=True), nullable=False),
    PrimaryKeyConstraint("student", "name"),
)
