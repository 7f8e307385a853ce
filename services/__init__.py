"""Use cases: rules that need storage but belong to no single handler (spam blocks, statistics,
exports, the advocacy sheet, disclosure, charts)."""
