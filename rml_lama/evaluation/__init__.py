"""Scoring localizers: options, fact sampling, the run store, scoring, pure metrics, the run loop, report, plots."""
