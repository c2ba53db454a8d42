"""The double-entry ledger: accounts, balanced transfers, two-phase holds, a sealed journal."""
