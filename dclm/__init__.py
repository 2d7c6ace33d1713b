"""DataComp-LM style pretraining-data curation toolkit."""

__version__ = "0.1.0"
