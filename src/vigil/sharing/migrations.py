"""Versioned schema of the sharing store, one :class:`Migration` per version, applied in order.

Append a migration to change the schema; never edit one that has shipped. Each carries the SQL for
both dialects (``sqlite``, ``postgres``) because their identity columns and float types differ.
The applied versions are recorded in the ``schema_migrations`` table.
"""

from __future__ import annotations

from dataclasses import dataclass

from vigil.errors import ConfigError


@dataclass(frozen=True)
class Migration:
    """One schema step: ``version`` (1, 2, …), a one-line ``description``, and SQL per dialect."""

    version: int
    description: str
    sqlite: tuple[str, ...]
    postgres: tuple[str, ...]

    def statements(self, dialect: str) -> tuple[str, ...]:
        if dialect not in ("sqlite", "postgres"):
            raise ConfigError(f"migration {self.version}: unknown SQL dialect {dialect!r}")
        return self.sqlite if dialect == "sqlite" else self.postgres


MIGRATIONS: tuple[Migration, ...] = (
    Migration(
        1,
        "records keyed by message id; append-only audit log",
        sqlite=(
            "CREATE TABLE records (message_id TEXT PRIMARY KEY, sender TEXT NOT NULL,"
            " recipient TEXT NOT NULL, record_type TEXT NOT NULL, created_at REAL NOT NULL,"
            " payload_json TEXT NOT NULL)",
            "CREATE INDEX records_type_time ON records (record_type, created_at)",
            "CREATE INDEX records_time ON records (created_at)",
            "CREATE TABLE audit (seq INTEGER PRIMARY KEY AUTOINCREMENT, entry_json TEXT NOT NULL)",
        ),
        postgres=(
            "CREATE TABLE records (message_id TEXT PRIMARY KEY, sender TEXT NOT NULL,"
            " recipient TEXT NOT NULL, record_type TEXT NOT NULL, created_at DOUBLE PRECISION NOT NULL,"
            " payload_json TEXT NOT NULL)",
            "CREATE INDEX records_type_time ON records (record_type, created_at)",
            "CREATE INDEX records_time ON records (created_at)",
            "CREATE TABLE audit (seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,"
            " entry_json TEXT NOT NULL)",
        ),
    ),
)
"""Every schema version, oldest first."""
