"""The store's tables, and the version of their layout: a store made by another version is refused, not misread."""

from __future__ import annotations

from sqlalchemy import Column, DateTime, ForeignKey, Integer, MetaData, PrimaryKeyConstraint, String, Table

SCHEMA_VERSION = 1  # raise it with every change of the tables below, and say how an older store is brought along

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
