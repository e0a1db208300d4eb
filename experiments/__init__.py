"""Experiments: the `bipe` command line, corpora, training, evaluation, reports and plots."""
