"""Primitives: the kernels and records every model is built from. Imports nothing above it.

=================  ==============================================================================
``numerics``       the kernels' numerical conventions (flushing to zero)
``kernel_cache``   Numba's on-disk cache of the package's kernels, keyed by the sources' hash
``parts``          the parts protocol: kernel hooks and their compile-time dispatch on record types
``params``         the base parameter sections of every model, and what makes a section
``encoding``       Poisson rate coding and counter-based random streams
``neurons``        the conductance-based LIF neuron (kernels)
``traces``         STDP traces: decay tables, the rule state (``Traces``), the plasticity hooks
``quantise``       weights stored at reduced precision (the rounding hooks)
``readout``        label assignment, prediction, accuracy, confusion
=================  ==============================================================================
"""
