"""BiPE core (PyTorch): positions, positional encodings, attention, a small decoder LM, cached decoding."""
