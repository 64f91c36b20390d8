"""What chat processes and hosts share, on SQLite or PostgreSQL: answers and votes,
events already taken, cooldowns, and the registry of index versions."""
