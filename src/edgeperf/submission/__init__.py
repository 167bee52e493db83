"""The submission system: tree layout, checker (rules per round) and the final results table."""
