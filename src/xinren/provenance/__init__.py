"""Provenance: custody events (EPCIS 2.0, in custody.py) and the chain of custody of an order
line (model.trace, gathered by chain.py); the documents they cite are xinren.documents'."""
