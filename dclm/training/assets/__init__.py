"""Files the toolkit ships: the micro scale's tokenizer and the script that built it."""
