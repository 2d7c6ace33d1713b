"""The dedup stage: the Ray jobs that run MinHash, exact, URL and BFF dedup over shards (phases,
checkpoints, writing the kept rows). The operators they use are in the top-level ``dedup`` package."""
