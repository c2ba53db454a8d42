"""`xinren rules | violations | appeals` as a user runs them, on a real database."""

from __future__ import annotations

import json

from tests.test_cli_accountability import build
from xinren.demo import stories
from xinren.rules import rulebooks


def test_rules_list_show_validate(cli, tmp_path):
    out = cli("rules", "list").stdout
    assert "CF-1" in out and "出售假冒商品" in out and "rulebook 2025.1" in out
    shown = json.loads(cli("rules", "show", "2026.1", "CF-1").stdout)
    assert shown["penalty"] == 500_000 and shown["points"] == {"fixed": 12}
    draft = rulebooks._folder() / "drafts" / "2026.2.yaml"
    assert "valid: rulebook 2026.2 (draft)" in cli("rules", "validate", str(draft)).stdout
    broken = tmp_path / "broken.yaml"
    broken.write_text(draft.read_text("utf-8").replace("severity: serious", "severity: grave", 1))
    err = cli("rules", "validate", str(broken), code=2).stderr
    assert "broken.yaml" in err and "grave" in err
    assert "no rulebook version" in cli("rules", "show", "1999.1", code=2).stderr


def test_decide_statement_appeal_and_backtest(cli, count, fresh_url, docs_dir):
    case = build(fresh_url, docs_dir, stories.phone_case)
    shop, report = case.refs["shop"], f"document:{case.docs['report']}"
    decide = (
        "violations",
        "decide",
        shop,
        "--rule",
        "CF-1",
        "--conduct-at",
        "2026-07-20T10:00:00+08:00",
        "--facts",
        "counterfeit phones found by sampling",
        "--evidence",
        report,
        "--source",
        "inspection",
        "--by",
        "reviewer:wang",
        "--sanction",
        "penalty_payment",
    )
    v = json.loads(cli(*decide).stdout)
    assert v["points"] == 12 and v["rule_version"] == "2026.1"
    again = json.loads(cli(*decide).stdout)  # the same command is a replay
    assert again["id"] == v["id"] and count("violations") == 1
    letter = cli("violations", "statement", str(v["id"]), "--lang", "zh").stdout
    assert "CF-1" in letter
    dsa = json.loads(cli("violations", "statement", str(v["id"]), "--dsa").stdout)
    assert dsa["puid"].endswith(str(v["id"]))
    # a sanction the rule does not permit: refused, nothing written
    err = cli(
        "violations",
        "decide",
        shop,
        "--rule",
        "LF-1",
        "--conduct-at",
        "2026-07-21T10:00:00+08:00",
        "--facts",
        "late",
        "--evidence",
        f"order:{case.order_id}",
        "--source",
        "complaint",
        "--by",
        "reviewer:wang",
        "--sanction",
        "suspension:30",
        code=2,
    ).stderr
    assert "(sanctions)" in err and "does not permit suspension" in err
    assert count("violations") == 1
    assert "appears" in cli("rules", "backtest", "2026.2").stdout
    appeal = json.loads(
        cli("appeals", "file", str(v["id"]), "--by", shop, "--grounds", "wrong lot").stdout
    )
    err = cli(
        "appeals",
        "decide",
        str(appeal["id"]),
        "--outcome",
        "overturned",
        "--reasons",
        "x",
        "--by",
        "reviewer:wang",
        code=2,
    ).stderr
    assert "took no part" in err
    done = json.loads(
        cli(
            "appeals",
            "decide",
            str(appeal["id"]),
            "--outcome",
            "overturned",
            "--reasons",
            "sample was from another lot",
            "--by",
            "reviewer:li",
        ).stdout
    )
    assert done["status"] == "overturned"
    shown = json.loads(cli("violations", "show", str(v["id"])).stdout)
    assert shown["status"] == "overturned"


def test_notices_from_the_command_line(cli, count, fresh_url, docs_dir):
    case = build(fresh_url, docs_dir, stories.phone_case)
    shop = case.refs["shop"]
    filed = (
        "notices",
        "file",
        shop,
        "--by",
        "buyer:troll",
        "--category",
        "counterfeit",
        "--text",
        "fake!!!",
    )
    first = json.loads(cli(*filed).stdout)
    assert json.loads(cli(*filed).stdout)["id"] == first["id"]  # repeated command: same notice
    assert "buyer:troll" in cli("notices", "queue").stdout
    decided = json.loads(
        cli(
            "notices",
            "decide",
            str(first["id"]),
            "--outcome",
            "manifestly_unfounded",
            "--reason",
            "no evidence",
            "--by",
            "reviewer:zhao",
        ).stdout
    )
    assert decided["status"] == "manifestly_unfounded"
    record = json.loads(cli("notices", "record", "buyer:troll").stdout)
    assert record["manifestly_unfounded_in_window"] == 1
    err = cli(
        "notices", "file", shop, "--by", "buyer:x", "--category", "gossip", "--text", "x", code=2
    ).stderr
    assert "(category)" in err and count("notices") == 1
