"""MFO's pure domain: the flow aggregate, its lifecycle, status sync, events, errors and ports.

Nothing here imports a framework or another MFO package.
"""
