"""Evaluating trained models: offline tasks, log-likelihood scoring, DCLM-style reports, decontamination."""
