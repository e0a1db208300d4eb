"""The synthetic Bi-NFA task (`bipe synthetic`): models trained on sampled words of a Bi-NFA
language at several widths, tested at longer segment counts, probed, and reported as the minimal
width each positional scheme needs against the flat and the bilevel automaton size.
"""
