"""What each section of the report shows (headline, enforcement, gate, violations, appeals,
notices, complaints, compensation, recalls, reviews), and the header and body of one language."""

from __future__ import annotations

from html import escape

from xinren.report.html.blocks import Blocks
from xinren.report.model import label


class Body(Blocks):
    """One language's body, section by section."""

    def headline(self) -> str:
        return self.section(
            "headline",
            "headline",
            self.kpis(
                [
                    ("hl_cleared", "enforcement.merchants_cleared", "count"),
                    ("hl_sanctioned", "enforcement.merchants_sanctioned", "count"),
                    ("hl_intercepted", "gate.listings_intercepted", "count"),
                    ("hl_buyers_paid", "compensation.buyers_paid", "count"),
                    ("hl_complaints", "complaints.decided", "count"),
                    ("hl_reviews", "reviews.excluded", "count"),
                ],
                "kpis headline",
            ),
        )

    def enforcement(self) -> str:
        e = self.report.enforcement
        rules = [
            [
                f"{escape(r.rule)} {escape(r.title_zh if self.lang == 'zh' else r.title_en)}",
                self._name("category", r.category),
                self.fig(f"enforcement.by_rule.{r.rule}.merchants_sanctioned", "count"),
                self.fig(f"enforcement.by_rule.{r.rule}.merchants_cleared", "count"),
            ]
            for r in e.by_rule
        ]
        categories = [
            [
                self._name("category", c.category),
                self.fig(f"enforcement.by_category.{c.category}.merchants_sanctioned", "count"),
                self.fig(f"enforcement.by_category.{c.category}.merchants_cleared", "count"),
            ]
            for c in e.by_category
        ]
        return self.section(
            "enforcement",
            "sec_enforcement",
            self.kpis(
                [
                    ("merchants_sanctioned", "enforcement.merchants_sanctioned", "count"),
                    ("merchants_cleared", "enforcement.merchants_cleared", "count"),
                    ("statements_of_reasons", "enforcement.statements_of_reasons", "count"),
                ]
            ),
            f"<h3>{self.t('by_rule')}</h3>",
            self.table(
                [
                    ("col_rule", False),
                    ("col_category", False),
                    ("col_sanctioned", True),
                    ("col_cleared", True),
                ],
                rules,
            ),
            f"<h3>{self.t('by_category')}</h3>",
            self.table(
                [("col_category", False), ("col_sanctioned", True), ("col_cleared", True)],
                categories,
            ),
            self.chart(
                "by_sanction",
                [
                    (label(f"sanction_{k}", self.lang), f"enforcement.by_sanction.{k}")
                    for k in e.by_sanction
                ],
            ),
            self.note("note_enforcement"),
        )

    def gate(self) -> str:
        return self.section(
            "gate",
            "sec_gate",
            self.kpis(
                [
                    ("listings_intercepted", "gate.listings_intercepted", "count"),
                    ("listings_held_for_review", "gate.listings_held_for_review", "count"),
                    ("merchants_intercepted", "gate.merchants_intercepted", "count"),
                ]
            ),
            self.chart(
                "by_reason",
                [
                    (self._plain("reason", k), f"gate.by_reason.{k}")
                    for k in self.report.gate.by_reason
                ],
            ),
            self.note("note_gate"),
        )

    def violations(self) -> str:
        return self.section(
            "violations",
            "sec_violations",
            self.kpis(
                [
                    ("violations_decided", "violations.decided", "count"),
                    ("fully_automated", "violations.fully_automated", "count"),
                    ("partly_automated", "violations.partly_automated", "count"),
                    ("share_automated", "violations.share_automated", "rate"),
                ]
            ),
            self.chart(
                "sec_violations",
                [
                    (self._plain("source", k), f"violations.by_source.{k}")
                    for k in self.report.violations.by_source
                ],
            ),
            self.note("note_violations"),
        )

    def appeals(self) -> str:
        return self.section(
            "appeals",
            "sec_appeals",
            self.kpis(
                [
                    ("appeals_filed", "appeals.filed", "count"),
                    ("appeals_decided", "appeals.decided", "count"),
                    ("appeals_upheld", "appeals.upheld", "count"),
                    ("appeals_reduced", "appeals.reduced", "count"),
                    ("appeals_overturned", "appeals.overturned", "count"),
                    ("overturn_rate", "appeals.overturn_rate", "rate"),
                    ("median_days_to_decide", "appeals.median_days_to_decide", "days"),
                    ("automated_decisions", "appeals.automated_decisions", "count"),
                    ("automated_overturned", "appeals.automated_overturned", "count"),
                    ("automated_error_rate", "appeals.automated_error_rate", "rate"),
                ]
            ),
            self.note("note_appeals"),
        )

    def notices(self) -> str:
        return self.section(
            "notices",
            "sec_notices",
            self.kpis(
                [
                    ("notices_received", "notices.received", "count"),
                    ("from_trusted_flaggers", "notices.from_trusted_flaggers", "count"),
                    ("notices_decided", "notices.decided", "count"),
                    ("founded_share", "notices.founded_share", "rate"),
                    ("reporters_warned", "notices.reporters_warned", "count"),
                    ("reporters_suspended", "notices.reporters_suspended", "count"),
                ]
            ),
            self.chart(
                "notice_outcomes",
                [
                    (label("notices_founded", self.lang), "notices.founded"),
                    (label("notices_unfounded", self.lang), "notices.unfounded"),
                    (
                        label("notices_manifestly_unfounded", self.lang),
                        "notices.manifestly_unfounded",
                    ),
                    (label("notices_not_processed", self.lang), "notices.not_processed"),
                    (label("notices_open", self.lang), "notices.open"),
                ],
            ),
            self.note("note_notices"),
        )

    def complaints(self) -> str:
        return self.section(
            "complaints",
            "sec_complaints",
            self.kpis(
                [
                    ("complaints_filed", "complaints.filed", "count"),
                    ("complaints_decided", "complaints.decided", "count"),
                    ("share_for_buyer", "complaints.share_for_buyer", "rate"),
                    ("median_hours", "complaints.median_hours_to_decision", "hours"),
                    ("p90_hours", "complaints.p90_hours_to_decision", "hours"),
                    ("complaints_by_default", "complaints.decided_by_default", "count"),
                ]
            ),
            self.chart(
                "complaints_decided",
                [
                    (label("complaints_for_buyer", self.lang), "complaints.for_buyer"),
                    (label("complaints_partly", self.lang), "complaints.partly_for_buyer"),
                    (label("complaints_for_merchant", self.lang), "complaints.for_merchant"),
                ],
            ),
            self.chart(
                "by_kind",
                [
                    (self._plain("complaint", k), f"complaints.by_kind.{k}")
                    for k in self.report.complaints.by_kind
                ],
            ),
            self.note("note_complaints"),
        )

    def compensation(self) -> str:
        c = self.report.compensation
        paid = [
            [
                self._name("payer", p.payer),
                self.fig(f"compensation.paid.{p.currency}.{p.payer}.refund", "money", p.currency),
                self.fig(
                    f"compensation.paid.{p.currency}.{p.payer}.compensation", "money", p.currency
                ),
            ]
            for p in c.paid
        ]
        recovery = []
        for r in c.recovery:
            base = f"compensation.recovery.{r.currency}.{r.creditor}.{r.debtor}"
            recovery.append(
                [
                    self._name("payer", r.creditor),
                    self._name("payer", r.debtor),
                    self.fig(f"{base}.claims", "count"),
                    *(
                        self.fig(f"{base}.{k}", "money", r.currency)
                        for k in ("amount", "recovered", "written_off", "outstanding")
                    ),
                ]
            )
        return self.section(
            "compensation",
            "sec_compensation",
            self.kpis([("buyers_paid", "compensation.buyers_paid", "count")]),
            f"<h3>{self.t('paid_by_payer')}</h3>",
            self.table(
                [("col_payer", False), ("col_refund", True), ("col_compensation", True)], paid
            ),
            f"<h3>{self.t('recovery')}</h3>",
            self.table(
                [
                    ("col_creditor", False),
                    ("col_debtor", False),
                    ("col_claims", True),
                    ("col_amount", True),
                    ("col_recovered", True),
                    ("col_written_off", True),
                    ("col_outstanding", True),
                ],
                recovery,
            ),
            self.note("note_compensation"),
        )

    def recalls(self) -> str:
        return self.section(
            "recalls",
            "sec_recalls",
            self.kpis(
                [
                    ("recalls", "recalls.recalls", "count"),
                    ("affected_buyers", "recalls.affected_buyers", "count"),
                    ("remedied_buyers", "recalls.remedied_buyers", "count"),
                    ("share_remedied", "recalls.share_remedied", "rate"),
                ]
            ),
            self.note("note_recalls"),
        )

    def reviews(self) -> str:
        rows = []
        for i in range(len(self.report.reviews.rating_changes)):
            base = f"reviews.rating_changes.{i}"
            rows.append(
                [
                    self.fig(f"{base}.merchant", "text"),
                    self.fig(f"{base}.reviews", "count"),
                    self.fig(f"{base}.excluded", "count"),
                    self.fig(f"{base}.raw_rating", "rating"),
                    self.fig(f"{base}.rating_without_excluded", "rating"),
                    self.fig(f"{base}.change", "change"),
                ]
            )
        return self.section(
            "reviews",
            "sec_reviews",
            self.kpis(
                [
                    ("reviews_received", "reviews.received", "count"),
                    ("reviews_excluded", "reviews.excluded", "count"),
                    ("share_excluded", "reviews.share_excluded", "rate"),
                    ("merchants_affected", "reviews.merchants_affected", "count"),
                ]
            ),
            f"<h3>{self.t('rating_changes')}</h3>",
            self.table(
                [
                    ("col_merchant", False),
                    ("col_reviews", True),
                    ("col_excluded", True),
                    ("col_raw", True),
                    ("col_honest", True),
                    ("col_change", True),
                ],
                rows,
            ),
            self.note("note_reviews"),
        )

    def header(self) -> str:
        p = self.report.period
        when = label("period_note", self.lang).format(
            first=p.first.isoformat(), last=p.last.isoformat(), tz=p.tz
        )
        other = "en" if self.lang == "zh" else "zh"
        return (
            '<header class="top">'
            f"<h1>{self.t('title')}<small>{escape(label('title', other))}</small></h1>"
            f'<p class="subtitle">{self.t("subtitle")}</p>'
            f'<p class="meta">{self.t("period")}: <span data-period="{p.first}/{p.last}">'
            f"{escape(when)}</span> · {self.t('generated')}: "
            f"{escape(self.report.generated_at.strftime('%Y-%m-%d %H:%M UTC'))}</p>"
            "</header>"
        )

    def body(self) -> str:
        return "".join(
            (
                self.header(),
                self.headline(),
                self.enforcement(),
                self.gate(),
                self.violations(),
                self.appeals(),
                self.notices(),
                self.complaints(),
                self.compensation(),
                self.recalls(),
                self.reviews(),
                f"<footer>{self.t('footer')}</footer>",
            )
        )
