"""Models as compositions of parts, and the compile-time dispatch that runs them.

A spikedyn model is four parts, one of each kind (:data:`KINDS`; see
:mod:`spikedyn.models` for the registry and the parts):

``competition``
    how excitatory neurons compete (an inhibitory layer, direct lateral inhibition;
    :mod:`spikedyn.models.competition`);
``plasticity``
    the learning rule of the input->excitatory weights, run on pre- and
    postsynaptic spikes (:mod:`spikedyn.models.stdp` and its variants);
``threshold``
    the adaptive threshold's dynamics while learning (:mod:`spikedyn.models.threshold`);
``between``
    what happens to the weights before each training presentation (normalisation;
    :mod:`spikedyn.models.stdp`).

Each part turns the :class:`~spikedyn.config.NetworkConfig` into a *kernel record*:
a ``NamedTuple`` of scalars and arrays in kernel units, of a type of its own, reading
the config's fields duck-typed (parts never import the config), and declares the
parameter sections it adds to the config (``sections``, see :mod:`spikedyn.core.params`).
The one time loop (:func:`spikedyn.simulation.loop._run_steps`) calls *kernel hooks* such as
:func:`spikedyn.models.competition.compete` with the part's record as first argument, and
Numba picks the implementation registered for that record's type while it
compiles (``numba.extending.overload``). There is no run-time branch on a model:
each composition compiles to its own specialised loop.

Hooks called every step take plain arrays, never tuples of arrays: reading an array
out of a tuple inside the loop costs two atomic reference-count operations each
time (measured with perf, about 10 % of the training time before they were
removed, and checked by ``tests/test_codegen.py``). The state of each kind of part
therefore has one fixed layout (see :mod:`spikedyn.simulation.state`), which the time loop
unpacks once, before it starts.

Declaring a hook
----------------
``compete = kernel_hook("compete", "rec, t, spikes, n_spikes, ...")`` makes a
function that Numba code may call; ``@implements(compete, MyRecord)`` registers the
(pure Python, Numba-compilable) implementation for records of type ``MyRecord``.
Calling a hook from Python raises; calling it with a record that has no
implementation fails at compile time with a message naming both.
"""

from __future__ import annotations

from typing import Any, Callable

from numba.extending import overload


#: The kinds of part, in the order of a model's slots.
KINDS = ("competition", "plasticity", "threshold", "between")


class HookError(TypeError):
    """A kernel hook was called with a record that has no registered implementation."""


def kernel_hook(name: str, params: str, doc: str = "") -> Callable[..., Any]:
    """Declare a kernel hook ``name(params)``, dispatched on the type of its first argument.

    Parameters
    ----------
    name : str
        Name of the hook (the function's ``__name__``).
    params : str
        Its parameter list, e.g. ``"rec, w, col_sum"``; the first is the record.
    doc : str
        Docstring of the hook.

    Returns
    -------
    function
        Callable from Numba-compiled code only; ``.impls`` maps record types to
        their implementations.
    """
    names = [p.strip() for p in params.split(",")]
    if not names or not all(n.isidentifier() for n in names):
        raise ValueError(f"bad parameter list {params!r} for hook {name!r}")
    impls: dict[type, Callable[..., Any]] = {}

    def lookup(record_type):
        cls = getattr(record_type, "instance_class", None)
        impl = impls.get(cls)
        if impl is None:
            known = ", ".join(sorted(c.__name__ for c in impls)) or "none"
            raise HookError(f"hook {name} has no implementation for {record_type}; registered: {known}")
        return impl

    namespace: dict[str, Any] = {"_lookup": lookup}
    arglist = ", ".join(names)
    # Numba matches an overload's signature against the stub's by parameter names,
    # so both are made with the declared names.
    exec(f"def {name}({arglist}):\n    raise TypeError('{name} runs only inside Numba-compiled kernels')\n",
         namespace)
    exec(f"def _typer({arglist}):\n    return _lookup({names[0]})\n", namespace)
    stub = namespace[name]
    stub.__doc__ = doc
    stub.__module__ = __name__
    stub.impls = impls
    overload(stub)(namespace["_typer"])
    return stub


def implements(hook: Callable[..., Any], record_type: type) -> Callable[[Callable], Callable]:
    """Decorator: register a Numba-compilable function as ``hook``'s implementation for ``record_type``."""
    def register(fn: Callable) -> Callable:
        if record_type in hook.impls:
            raise ValueError(f"{hook.__name__} already has an implementation for {record_type.__name__}")
        hook.impls[record_type] = fn
        return fn
    return register
