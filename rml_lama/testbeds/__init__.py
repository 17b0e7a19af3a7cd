"""Models to evaluate on: the trained default model, planted ground truth, converted pretrained checkpoints,
and the fact choice they share."""
