"""The fixed training recipe: tokenizer, token datasets, the model, the trainer and its scales."""
