"""Staff accounts of the operators' console: argon2id hashes, one answer for every refusal."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from xinren.access import model as staff
from xinren.access import users
from xinren.access.tables import staff_users
from xinren.errors import AlreadyExists, Unauthorized, ValidationFailed

PASSWORD = "correct horse battery staple"


def test_a_reviewer_signs_in_and_decides_as_a_person(session, clock):
    made = users.create_user(session, clock, "zhao.li", PASSWORD, "reviewer", by="test")
    assert (made.role, made.person) == ("reviewer", "reviewer:zhao-li")
    stored = session.execute(select(staff_users.c.password_hash)).scalar_one()
    assert stored.startswith("$argon2id$") and PASSWORD not in stored
    assert users.authenticate_user(session, "zhao.li", PASSWORD) == made


def test_an_auditor_and_an_admin_decide_as_nobody(session, clock):
    for name, role in (("audit", "auditor"), ("root", "admin")):
        assert users.create_user(session, clock, name, PASSWORD, role, by="test").person is None


@pytest.mark.parametrize(
    ("username", "password"),
    [("zhao.li", "wrong horse battery staple"), ("nobody", PASSWORD), ("zhao.li", "")],
)
def test_every_refusal_reads_the_same(session, clock, username, password):
    users.create_user(session, clock, "zhao.li", PASSWORD, "reviewer", by="test")
    with pytest.raises(Unauthorized) as err:
        users.authenticate_user(session, username, password)
    assert "username or the password is wrong" in str(err.value)


def test_a_disabled_account_is_refused_with_its_right_password(session, clock):
    made = users.create_user(session, clock, "gone", PASSWORD, "reviewer", by="test")
    session.execute(
        staff_users.update().where(staff_users.c.id == made.id).values(disabled_at=clock.now())
    )
    with pytest.raises(Unauthorized):
        users.authenticate_user(session, "gone", PASSWORD)


def test_a_username_is_taken_once(session, clock):
    users.create_user(session, clock, "zhao.li", PASSWORD, "reviewer", by="test")
    with pytest.raises(AlreadyExists) as err:
        users.create_user(session, clock, "zhao.li", PASSWORD + "!", "admin", by="test")
    assert err.value.field == "username"


@pytest.mark.parametrize(
    ("username", "password", "role", "field"),
    [
        ("Zhao", PASSWORD, "reviewer", "username"),
        ("z", PASSWORD, "reviewer", "username"),
        ("zhao", PASSWORD, "platform", "role"),
        ("zhao", "short", "reviewer", "password"),
        ("zhao", "x" * (staff.MAX_PASSWORD + 1), "reviewer", "password"),
        ("zhaoli", "my name is zhaoli, ok?", "reviewer", "password"),
    ],
)
def test_bad_accounts_are_refused_naming_the_field(session, clock, username, password, role, field):
    with pytest.raises(ValidationFailed) as err:
        users.create_user(session, clock, username, password, role, by="test")
    assert err.value.field == field
    assert session.execute(select(staff_users.c.id)).first() is None


def test_the_command_line_creates_an_account_from_stdin(cli, fresh_url):
    from xinren.db import make_engine, session_factory

    result = cli("users", "create", "--username", "wang", "--role", "senior_reviewer",
                 "--password-stdin", input=PASSWORD + "\n")  # fmt: skip
    assert "wang (senior_reviewer, deciding as reviewer:wang)" in result.output
    engine = make_engine(fresh_url)
    with session_factory(engine)() as s:
        assert users.authenticate_user(s, "wang", PASSWORD).role == "senior_reviewer"
    engine.dispose()
    refused = cli("users", "create", "--username", "wang", "--role", "admin",
                  "--password-stdin", input=PASSWORD + "\n", code=2)  # fmt: skip
    assert "exists" in refused.stderr
