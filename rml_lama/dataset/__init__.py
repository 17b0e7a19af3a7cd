"""The benchmark flow: sources -> facts and templates -> queries -> release folder -> Hub. Never imports torch."""
