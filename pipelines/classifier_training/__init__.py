"""Training a fastText quality classifier: reading positives and negatives, balancing, fitting,
metrics, and the reference classifier's recipe. The scoring operator is ``filters.quality_classifier``."""
