"""Which lab report prevails, under the policy's precedence, and why it beats each other."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from xinren.liability.model.policy import Policy
from xinren.provenance.model import LabReport


@dataclass(frozen=True, slots=True)
class Weighed:
    report: LabReport
    accredited: bool
    independent: bool


def weigh(report: LabReport, interested: frozenset[str]) -> Weighed:
    independent = (
        report.commissioned_by not in interested
        and report.lab_affiliated_with not in interested
        and report.lab not in interested
    )
    return Weighed(report, report.accredited, independent)


def _score(w: Weighed, criterion: str) -> tuple[int, date]:
    if criterion == "accredited":
        return (int(w.accredited), date.min)
    if criterion == "independent":
        return (int(w.independent), date.min)
    return (0, w.report.sampled_on)


def prevailing(
    reports: Iterable[LabReport], interested: frozenset[str], policy: Policy
) -> tuple[Weighed | None, tuple[str, ...]]:
    """The report that prevails under the policy's precedence, and why it beats each other.

    Reports the policy does not admit (unaccredited, by default) never prevail, not even alone.
    """
    weighed = [weigh(r, interested) for r in reports]
    refused = tuple(
        f"{_describe(w)} is not admissible: the lab's accreditation is not on record"
        for w in weighed
        if policy.accredited_only and not w.accredited
    )
    if policy.accredited_only:
        weighed = [w for w in weighed if w.accredited]
    if not weighed:
        return None, refused
    criteria = [c for c, _ in policy.precedence]
    reasons = dict(policy.precedence)
    ranked = sorted(weighed, key=lambda w: [_score(w, c) for c in criteria], reverse=True)
    best = ranked[0]
    why = []
    for other in ranked[1:]:
        decisive = next((c for c in criteria if _score(best, c) != _score(other, c)), None)
        verdict = "pass" if other.report.passed else "fail"
        if decisive is None:
            why.append(
                f"{_describe(other)} ({verdict}) is as credible; the policy cannot separate them"
            )
        else:
            why.append(f"prevails over {_describe(other)} ({verdict}): {reasons[decisive]}")
    return best, (*why, *refused)


def _describe(w: Weighed) -> str:
    r = w.report
    traits = [
        "accredited" if w.accredited else "unaccredited",
        "independent" if w.independent else f"commissioned by {r.commissioned_by}",
    ]
    return f"the report of {r.lab} sampled {r.sampled_on} ({', '.join(traits)})"
