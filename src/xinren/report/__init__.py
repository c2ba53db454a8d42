"""The transparency report (信任建设报告): figures computed from the records for any period, the
HTML and JSON report, the DSA statement-of-reasons export, and the public `/transparency` page."""
