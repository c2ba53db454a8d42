"""Documents: evidence as content-addressed files with metadata, and brand authorizations.

Below the catalog and provenance, so both can check the evidence they are given (a lab report
for a batch, an authorization for a brand, a recording of a live session) without the catalog
depending on the chain of custody that reasons about them.
"""
