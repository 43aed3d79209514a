"""Operators on the holder side: binding an enterprise to its legal representative, agents."""
