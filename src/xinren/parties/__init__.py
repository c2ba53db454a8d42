"""Parties: every trader and responsible party, with trader verification and deposits."""
