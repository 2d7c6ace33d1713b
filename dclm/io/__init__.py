"""Reading and writing: WARC records, document shards (Parquet, JSONL), remote files with retries, atomic
publishing, input listing and the output folder layout. Imports nothing of ours but ``dclm.errors``."""
