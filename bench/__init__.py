"""``make bench``: how fast gridfusion loads a city, stage by stage, against DuckDB reading the same files."""
