"""The outbox: every state change appends an event in the same transaction as the change."""
