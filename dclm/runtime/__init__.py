"""Running a stage: Ray tasks over shards (``executor``), resuming, ledgers and run statistics, live progress.
Knows no operator: a stage hands it a function per shard."""
