"""Migration 0018: keys made with `--role merchant --party merchant:acme-tea` were stored as
'merchant:merchant:acme-tea' and matched no party; the upgrade repairs them to the party's ref
and leaves every other subject as it was."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

from sqlalchemy import inspect, text

from xinren.access import service as access
from xinren.db import make_engine, session_factory, upgrade

ROWS = [
    # (role, subject as stored at 0017, subject after 0018)
    ("merchant", "merchant:merchant:acme-tea", "merchant:acme-tea"),
    ("reviewer", "reviewer:reviewer:zhao", "reviewer:zhao"),
    ("merchant", "merchant:42", "merchant:42"),
    ("buyer", None, None),
    ("merchant", "merchant:host:x", "merchant:host:x"),  # not doubled: no ref to repair it to
    ("platform", None, None),
]


def test_the_upgrade_repairs_doubled_subjects(databases):
    engine = make_engine(databases.new())
    try:
        upgrade(engine, "0017")
        now = datetime(2026, 3, 1, tzinfo=UTC)
        with engine.begin() as conn:
            for n, (role, subject, _) in enumerate(ROWS):
                conn.execute(
                    text(
                        "INSERT INTO api_keys (name, role, subject, prefix, secret_hash, "
                        "created_at) VALUES (:name, :role, :subject, 'xr_old', :hash, :now)"
                    ),
                    dict(
                        name=f"k{n}",
                        role=role,
                        subject=subject,
                        hash=hashlib.sha256(f"xr_secret{n}".encode()).hexdigest(),
                        now=now,
                    ),
                )
        upgrade(engine)
        assert "rotated_at" in {c["name"] for c in inspect(engine).get_columns("api_keys")}
        with session_factory(engine)() as s:
            for n, (role, _, repaired) in enumerate(ROWS):
                principal = access.authenticate(s, f"xr_secret{n}")
                assert (principal.role, principal.subject) == (role, repaired)
            assert access.get_key(s, 1).rotated_at is None
    finally:
        engine.dispose()
