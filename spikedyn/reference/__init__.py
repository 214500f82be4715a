"""The reference: spikedyn's Brian2 twin, the spike-for-spike comparison with it, and speed measurements.

=================  ==============================================================================
``brian2``         the Brian2 twin of every registered model (each part gives its Brian2 fragment)
``validate``       spike-for-spike comparison of spikedyn with its Brian2 twin
``bench``          speed of spikedyn (Numba) against the Brian2 targets
=================  ==============================================================================

Nothing here imports Brian2 until it runs. The commands are :mod:`spikedyn.cli.reference`.
"""
