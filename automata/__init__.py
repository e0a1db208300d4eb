"""Automata: NFA and Bi-NFA instances on networkx, flattening, size and parameter accounting.

Never imports torch.
"""
