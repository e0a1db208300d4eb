"""Statistics and reports: t and Welch intervals over seeds (`experiments.analysis.stats`),
results files, Markdown tables and plots (`results`, `report`), segment statistics of a corpus
(`segstats`, `alignstats`) and the side-by-side comparison of segmenters (`compare`).
"""
