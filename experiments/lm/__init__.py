"""The language-model task: a grid of runs (corpus x scheme x segmenter x seed) trained for length
extrapolation and evaluated by perplexity against length (`bipe run`, `bipe train`, `bipe eval`),
and the same grid at several training budgets (`bipe budget`).
"""
