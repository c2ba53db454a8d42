"""The demo: one scripted day of a live-commerce market, run through the real services, and the
sample parties and supply-chain stories it (and the tests) are built from. Not a context: nothing
below the adapters imports it."""
