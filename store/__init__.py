"""Everything Podium keeps, on one database: SQLite in the data dir, or PostgreSQL."""
