"""Numerical conventions shared by the kernels.

Exponentially decaying quantities (conductances, STDP traces) approach zero through
the subnormal floating-point range, where every arithmetic operation costs about a
hundred times more on x86 CPUs; a network that has been idle for a few seconds of
model time can then run tens of times slower. The kernels therefore flush a
conductance or trace below :data:`FLUSH_BELOW` to exactly 0.0.

At float64 precision such a value cannot change anything it touches: the largest
effect of a flushed trace on a weight is ``nu * 1e-100``, some 80 orders of
magnitude below the resolution of a weight of order 0.1, and the product of two
traces above the floor times a learning rate stays a normal number.
"""

#: Conductances and STDP traces below this are set to 0.0.
FLUSH_BELOW = 1e-100
