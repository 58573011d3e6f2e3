"""The state folder: the build lock, the parse cache, entry identities, the output manifest, the nothing-changed stamp, SQLite databases."""
