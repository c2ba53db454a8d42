"""Enforcement with due process: the published rulebook, violations, points, sanctions,
statements of reasons, appeals, notices and reporter credibility."""
