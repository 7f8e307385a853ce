"""Everything that knows SQL: models, repositories, FSM storage, crypto, migrations."""
