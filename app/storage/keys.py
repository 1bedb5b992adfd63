"""API keys: random secrets shown once at creation; only their SHA-256 is stored.

A key is 256 random bits, so a plain (unsalted) SHA-256 is enough to make a stolen database
useless for calling the API, and it lets a request's key be found with one indexed look-up.
"""

from __future__ import annotations

import builtins
import hashlib
import secrets
from datetime import UTC, datetime, timedelta

import sqlalchemy
from pydantic import BaseModel
from sqlalchemy import select, update
from sqlalchemy.orm import sessionmaker

from app.storage.models import ApiKeyRow

KEY_PREFIX = "rf_"  # makes a leaked key recognisable to secret scanners
# last_used_at is a hint for operators, not an audit log: write it at most this often per key.
LAST_USED_RESOLUTION = timedelta(minutes=1)


class ApiKey(BaseModel):
    id: str
    name: str
    created_at: datetime
    revoked_at: datetime | None = None
    last_used_at: datetime | None = None

    @property
    def active(self) -> bool:
        return self.revoked_at is None


def hash_key(plaintext: str) -> str:
    return hashlib.sha256(plaintext.encode("utf-8")).hexdigest()


class ApiKeyStore:
    def __init__(self, engine: sqlalchemy.Engine) -> None:
        self._session = sessionmaker(engine, expire_on_commit=False)

    def create(self, name: str) -> tuple[ApiKey, str]:
        """A new key and its plaintext, which is not kept anywhere: show it to the user once."""
        plaintext = KEY_PREFIX + secrets.token_urlsafe(32)
        row = ApiKeyRow(
            id=secrets.token_hex(6),
            name=name,
            key_hash=hash_key(plaintext),
            created_at=datetime.now(UTC),
        )
        with self._session.begin() as session:
            session.add(row)
        return _key(row), plaintext

    def revoke(self, key_id: str) -> bool:
        """Revoke a key; False when there is no key with that id."""
        with self._session.begin() as session:
            row = session.get(ApiKeyRow, key_id)
            if row is None:
                return False
            if row.revoked_at is None:
                row.revoked_at = datetime.now(UTC)
            return True

    def verify(self, plaintext: str) -> ApiKey | None:
        """The active key ``plaintext`` belongs to, or None."""
        now = datetime.now(UTC)
        with self._session.begin() as session:
            row = session.execute(
                select(ApiKeyRow).where(ApiKeyRow.key_hash == hash_key(plaintext))
            ).scalar_one_or_none()
            if row is None or row.revoked_at is not None:
                return None
            if row.last_used_at is None or now - row.last_used_at >= LAST_USED_RESOLUTION:
                session.execute(
                    update(ApiKeyRow).where(ApiKeyRow.id == row.id).values(last_used_at=now)
                )
                row.last_used_at = now
            return _key(row)

    def list(self) -> builtins.list[ApiKey]:
        """Every key, oldest first (revoked ones included, so their ids stay explainable)."""
        with self._session() as session:
            rows = session.execute(select(ApiKeyRow).order_by(ApiKeyRow.created_at)).scalars()
            return [_key(row) for row in rows]


def _key(row: ApiKeyRow) -> ApiKey:
    return ApiKey(
        id=row.id,
        name=row.name,
        created_at=row.created_at,
        revoked_at=row.revoked_at,
        last_used_at=row.last_used_at,
    )
