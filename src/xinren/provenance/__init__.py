"""Provenance: documents and evidence, custody events, liability and recalls."""
