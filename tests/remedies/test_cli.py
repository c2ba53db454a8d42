"""`xinren cases | remedies` as a user runs them, on a real database."""

from __future__ import annotations

import json

from tests.test_cli_accountability import build
from xinren.demo import stories


def test_complaint_decided_from_the_command_line(cli, count, fresh_url, docs_dir):
    case = build(fresh_url, docs_dir, stories.phone_case)
    filed = json.loads(
        cli(
            "cases",
            "file",
            str(case.order_id),
            "--by",
            "buyer:phone-fan",
            "--kind",
            "not_as_described",
            "--statement",
            "sold as 5G, it is a 4G phone",
        ).stdout
    )
    assert filed["state"] == "awaiting_merchant"
    err = cli(
        "cases", "respond", str(filed["id"]), "--by", "merchant:nobody", "--statement", "x", code=2
    ).stderr
    assert "only" in err
    cli(
        "cases",
        "respond",
        str(filed["id"]),
        "--by",
        case.refs["shop"],
        "--statement",
        "the host misspoke",
    )
    decide = (
        "cases",
        "decide",
        str(filed["id"]),
        "--by",
        "reviewer:li",
        "--outcome",
        "for_buyer",
        "--finding",
        "not_as_described",
        "--reasons",
        "the host claimed 5G on stream",
        "--relied-on",
        f"order:{case.order_id}",
    )
    decided = json.loads(cli(*decide).stdout)
    assert decided["refund"] == 299_900 and decided["payer"] == case.refs["shop"]
    assert json.loads(cli(*decide).stdout) == decided  # a repeat pays nothing more
    assert count("remedies") == 1
    claims = json.loads(cli("remedies", "claims", "--debtor", case.refs["host"]).stdout)
    assert claims == []  # the refund came from escrow: the seller paid nothing to recover
    metrics = json.loads(cli("cases", "metrics").stdout)
    assert metrics["decided"] == 1 and metrics["by_kind"] == {"not_as_described": 1}
    fund = json.loads(cli("remedies", "top-up", "500000", "--key", "fund-1").stdout)
    assert fund["balance"] == 500_000
    err = cli(
        "cases",
        "file",
        str(case.order_id),
        "--by",
        "buyer:phone-fan",
        "--kind",
        "moody",
        "--statement",
        "x",
        code=2,
    ).stderr
    assert "(kind)" in err and count("cases") == 1
