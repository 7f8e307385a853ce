"""Use cases: rules that need storage but belong to no single handler."""
