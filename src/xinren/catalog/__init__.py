"""Catalog: brands, products, batches, brand authorizations, listings and live sessions."""
