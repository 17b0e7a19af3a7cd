"""From a query to model inputs and scores: probes and gold answers (targets), the one candidate ranker and
gold-probability implementation (ranking), integrated-gradients attribution over FFN neurons (attribution)."""
