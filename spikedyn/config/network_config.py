"""The network config: every parameter of a spikedyn network, each default written once.

A :class:`NetworkConfig` is a frozen record of the top-level fields (``model``,
``n_neurons``, ``n_input``) and of smaller frozen records, its *sections*: the base
sections every model has (:mod:`spikedyn.core.params`: ``excitatory``, ``stdp``,
``input``, ``timing``, ``precision``) and those the registered model parts declare
(``inhibitory``, ``lateral``, ``spikedyn``, ``asp``, ``delays``, each defined in its
part's module in :mod:`spikedyn.models`; :mod:`spikedyn.config.sections`). Every section
is an attribute, ``config.asp.leak_rate``. Variants are made with
:meth:`NetworkConfig.replace`, which takes nested fields scikit-learn style
(``config.replace(stdp__nu_post=0.02)``). The CLI, the experiments and the Brian2
reference all read these defaults; nothing else writes them.

Configs are written and read as TOML or JSON (:meth:`NetworkConfig.save`,
:func:`load_config`); a file may hold only some sections and fields, the rest keep
their defaults. Every value is checked for its type and range when a config is built
(:mod:`spikedyn.config.checks`), and every problem raises a one-line
:class:`~spikedyn.errors.ConfigError` that names the field and the fix.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..core.params import (BASE_SECTIONS, ExcitatoryParams, InputParams, PrecisionParams, StdpParams, TimingParams,
                           kind)
from ..errors import ConfigError, one_line, show
from .checks import check_record, validate
from .sections import section_classes, section_fields


@dataclass(frozen=True, init=False, eq=False, repr=False)
class NetworkConfig:
    """Everything that defines a spikedyn network.

    Parameters
    ----------
    model : str
        A registered model (:func:`spikedyn.models.names`), e.g. ``diehl-cook`` (an
        inhibitory layer of ``n_neurons`` provides the winner-take-all competition)
        or ``lateral`` (excitatory spikes inhibit the other excitatory neurons
        directly, no inhibitory neurons).
    n_neurons : int
        Number of excitatory neurons.
    n_input : int
        Number of Poisson inputs (pixels).
    **sections
        Any section as a record, e.g. ``stdp=StdpParams(nu_post=0.02)`` or
        ``asp=AspParams(leak_rate=0.01)``; the others keep their defaults.

    Attributes
    ----------
    excitatory, stdp, input, timing, precision
        The base sections.
    part_sections : dict
        The sections the registered parts declare, by name; each is also an attribute
        (``config.inhibitory``, ``config.asp``, ...). A section declared by a model
        registered after this config was made reads as its defaults.

    Configs compare equal when every field of every section does; they pickle (Dask
    ships them to its workers) and ``dataclasses.replace(config, section=record)`` works.
    """

    model: str = "diehl-cook"
    n_neurons: int = 100
    n_input: int = 784
    excitatory: ExcitatoryParams = field(default_factory=ExcitatoryParams)
    stdp: StdpParams = field(default_factory=StdpParams)
    input: InputParams = field(default_factory=InputParams)
    timing: TimingParams = field(default_factory=TimingParams)
    precision: PrecisionParams = field(default_factory=PrecisionParams)
    part_sections: dict[str, Any] = field(default_factory=dict)

    def __init__(self, model: str = "diehl-cook", n_neurons: int = 100, n_input: int = 784, *,
                 part_sections: Mapping[str, Any] | None = None, **sections: Any) -> None:
        classes = section_classes()
        unknown = [name for name in sections if name not in classes]
        if unknown:
            raise TypeError(f"NetworkConfig.__init__() got an unexpected keyword argument {unknown[0]!r}")
        given = {**(part_sections or {}), **sections}
        declared = {}
        for name, cls in classes.items():
            record = given[name] if name in given else _model_default(model, name, cls)
            if name in BASE_SECTIONS:
                object.__setattr__(self, name, record)
            else:
                declared[name] = record
        for name, value in (("model", model), ("n_neurons", n_neurons), ("n_input", n_input),
                            ("part_sections", declared)):
            object.__setattr__(self, name, value)
        self.validate()

    def __getattr__(self, name: str) -> Any:
        """A section the parts declare (``config.asp``); its defaults if declared after this config was made."""
        declared = self.__dict__.get("part_sections")
        if declared is not None and not name.startswith("__"):
            if name in declared:
                return declared[name]
            cls = section_classes().get(name)
            if cls is not None and name not in BASE_SECTIONS:
                return _model_default(self.__dict__.get("model"), name, cls)
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def sections(self) -> dict[str, Any]:
        """Every section of the config, by name, in order (:mod:`spikedyn.config.sections`)."""
        return {name: getattr(self, name) for name in section_classes()}

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, NetworkConfig):
            return NotImplemented
        return (self.model, self.n_neurons, self.n_input, self.sections()) == (
            other.model, other.n_neurons, other.n_input, other.sections())

    def __hash__(self) -> int:
        return hash((self.model, self.n_neurons, self.n_input, *(getattr(self, name) for name in BASE_SECTIONS)))

    def __repr__(self) -> str:
        fields = [f"model={self.model!r}", f"n_neurons={self.n_neurons!r}", f"n_input={self.n_input!r}"]
        fields += [f"{name}={record!r}" for name, record in self.sections().items()]
        return f"{type(self).__name__}({', '.join(fields)})"

    def validate(self) -> None:
        """Check the type and range of every field, and the rules between fields.

        Integer fields take ``int`` (or a NumPy integer) within int64, not ``bool``;
        float fields take any real number but ``bool``, finite, except that a time
        constant (``tau_*``) may be ``math.inf`` for "no decay"; ``model`` takes a ``str``.
        Each section's fields are checked against the ranges it declares (> 0, >= 0, a
        fraction; :mod:`spikedyn.core.params`).

        Ranges that involve several fields: ``timing.dt_ms`` below every time constant
        of every section (forward Euler); the STDP time constants at most
        :data:`~spikedyn.core.params.MAX_TRACE_STEPS` steps (their traces are tabulated),
        hence finite; ``stdp.weight_sum <= n_input * stdp.w_max`` (the normalisation's
        target must be reachable by weights clipped to ``[0, w_max]``); ``stdp.w_max``,
        ``w_init_high`` and ``nu_post`` either 0 or at least ``FLUSH_BELOW`` (1e-100),
        the kernels' zero; ``e_inh_mv < e_exc_mv`` with ``v_rest_mv`` and
        ``v_reset_mv`` between them, for every population (every section with
        reversal potentials); an input spike probability per step of at least
        :data:`~spikedyn.core.params.MIN_SPIKE_PROBABILITY` at the base rate and below
        1 at the last retry; every duration a section declares a whole number of at
        most :data:`~spikedyn.core.params.MAX_STEPS` steps; ``n_input * n_neurons <=
        MAX_SYNAPSES``; and any rule a section adds (its ``check(config)``). Checks that
        depend on the model's parts (a delayed rule's rest period, its weight
        precision) are made when its kernels are built.

        Raises
        ------
        ConfigError
            Naming the first field of the wrong type (``stdp.nu_post must be a number,
            got 'abc' (str)``) or out of range, and what is expected.
        """
        validate(self)

    # -- variants ------------------------------------------------------------------------
    def replace(self, **overrides: Any) -> "NetworkConfig":
        """Return a copy with any fields replaced, nested ones as ``section__field``.

        Parameters
        ----------
        **overrides
            ``model``, ``n_neurons`` or ``n_input``; ``section__field`` for a field of
            a section (``stdp__nu_post=0.02``, ``timing__present_ms=250.0``); or a
            section name with a whole record (``stdp=StdpParams(...)``) or a mapping of
            some of its fields (``stdp={"nu_post": 0.02}``).

        Returns
        -------
        NetworkConfig
            The new config, validated.

        Raises
        ------
        ConfigError
            If a section or field is unknown (the message lists the valid names), or a
            value has the wrong type or is out of range.

        Examples
        --------
        >>> NetworkConfig().replace(n_neurons=400, stdp__nu_post=0.02).stdp.nu_post
        0.02
        """
        if "model" in overrides and overrides["model"] != self.model:
            return self._rebased(overrides["model"]).replace(
                **{key: value for key, value in overrides.items() if key != "model"})
        sections = section_classes()
        top: dict[str, Any] = {}
        nested: dict[str, dict[str, Any]] = {}
        for key, value in overrides.items():
            section, sep, name = key.partition("__")
            if sep:
                _field(section, name)
                nested.setdefault(section, {})[name] = value
            elif key in sections and isinstance(value, Mapping):
                for name, item in value.items():
                    _field(key, str(name))
                    nested.setdefault(key, {})[str(name)] = item
            else:
                if key not in sections:
                    _field(None, key)
                top[key] = value
        for section, changes in nested.items():
            base = top.get(section, getattr(self, section))
            check_record(section, sections[section], base)
            top[section] = dataclasses.replace(base, **changes)
        return dataclasses.replace(self, **top)

    def _rebased(self, model: str) -> "NetworkConfig":
        """This config for ``model``: ``model``'s defaults, with every field this config changed from
        its own model's defaults (the sizes included) carried over."""
        own = type(self)(model=self.model)
        target = type(self)(model=model)
        changed = {name: getattr(self, name) for name in ("n_neurons", "n_input")}
        for name in section_classes():
            mine, base = getattr(self, name), getattr(own, name)
            if mine == base:
                continue
            changed[name] = dataclasses.replace(getattr(target, name), **{
                f: getattr(mine, f) for f in section_fields(type(mine)) if getattr(mine, f) != getattr(base, f)})
        return dataclasses.replace(target, **changed)

    def with_overrides(self, **changes: Any) -> "NetworkConfig":
        """Return a copy with fields replaced; the same as :meth:`replace`."""
        return self.replace(**changes)

    # -- serialisation -----------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """The config as nested plain Python values (JSON and TOML serialisable).

        Returns
        -------
        dict
            ``{"model": ..., "n_neurons": ..., "n_input": ..., "excitatory": {...}, ...}``;
            float fields are ``float`` and integer fields ``int``, also when they were
            given as NumPy scalars; an infinite time constant is the string ``"inf"``
            (JSON has no infinity), which :meth:`from_dict` reads back.
        """
        out: dict[str, Any] = {name: _plain(getattr(self, name), f) for name, f in _TOP_FIELDS.items()}
        for section, cls in section_classes().items():
            record = getattr(self, section)
            out[section] = {name: _plain(getattr(record, name), f) for name, f in section_fields(cls).items()}
        return out

    @classmethod
    def from_saved(cls, data: Mapping[str, Any], *, source: str = "config") -> "NetworkConfig":
        """:meth:`from_dict` of a complete config as a run directory or checkpoint holds it, possibly
        written by an earlier version: a field added to a section since (the section class's
        ``ADDED``: field -> the value that reproduces earlier versions) that the saved section lacks
        takes that value, not the current default, so the saved network loads and runs as it was."""
        if isinstance(data, Mapping):
            data = dict(data)
            for section, klass in section_classes().items():
                added = getattr(klass, "ADDED", {})
                saved = data.get(section)
                if added and isinstance(saved, Mapping):
                    data[section] = {**{k: v for k, v in added.items() if k not in saved}, **saved}
        return cls.from_dict(data, source=source)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, source: str = "config", model: str | None = None) -> "NetworkConfig":
        """Build a config from (part of) :meth:`to_dict` output; missing fields keep their defaults
        (the defaults of the model it names: :attr:`spikedyn.models.Model.defaults`).

        Parameters
        ----------
        data : mapping
            Top-level fields and sections (mappings of field name to value).
        source : str, default "config"
            What ``data`` came from (a file name), to start error messages with.
        model : str, optional
            Build the config for this model, whatever ``data`` names: its fields then apply over
            this model's defaults (the command line's ``--model`` with ``--config FILE``).

        Raises
        ------
        ConfigError
            ``"<source>: ..."`` naming an unknown section or field (with the valid
            names), a section that is not a mapping, or a value of the wrong type or
            out of range.
        """
        try:
            if not isinstance(data, Mapping):
                raise ConfigError(f"must hold a table/object of fields, got {type(data).__name__}")
            sections = section_classes()
            overrides: dict[str, Any] = {}
            for key, value in data.items():
                if key in sections:
                    if not isinstance(value, Mapping):
                        raise ConfigError(
                            f"{key} must be a table/object of its fields (e.g. [{key}] in TOML), "
                            f"got {show(value)}"
                        )
                    for name, item in value.items():
                        overrides[f"{key}__{name}"] = _from_plain(item, _field(key, name))
                else:
                    if isinstance(value, Mapping) and key not in _TOP_FIELDS:
                        _field(show(key) if not isinstance(key, str) else key, "")  # an unknown section
                    overrides[key] = _from_plain(value, _field(None, key))
            if model is not None:
                overrides["model"] = model
            return cls(model=overrides.pop("model", cls.model)).replace(**overrides)
        except ConfigError as exc:
            raise ConfigError(f"{source}: {exc}") from None

    def to_json(self) -> str:
        """The config as indented JSON text (all fields)."""
        return json.dumps(self.to_dict(), indent=2) + "\n"

    @classmethod
    def from_json(cls, text: str, *, source: str = "JSON config", model: str | None = None) -> "NetworkConfig":
        """Parse JSON text (a full or partial config) into a config.

        Parameters
        ----------
        text : str
            A JSON object as written by :meth:`to_json`, or a part of it.
        source : str, default "JSON config"
            What the text came from, to start error messages with.

        Raises
        ------
        ConfigError
            On invalid JSON (with line and column) or an invalid config.
        """
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ConfigError(
                f"{source}: invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}; fix the syntax"
            ) from None
        except (ValueError, RecursionError) as exc:  # an integer of more than 4,300 digits, deep nesting
            raise ConfigError(f"{source}: invalid JSON ({one_line(exc)}); fix the value") from None
        return cls.from_dict(data, source=source, model=model)

    def to_toml(self) -> str:
        """The config as TOML text: top-level fields, then one table per section."""
        data = self.to_dict()
        lines = [f"{name} = {_toml_value(_from_plain(data[name], f))}" for name, f in _TOP_FIELDS.items()]
        for section, cls in section_classes().items():
            lines += ["", f"[{section}]"]
            lines += [f"{name} = {_toml_value(_from_plain(data[section][name], f))}"
                      for name, f in section_fields(cls).items()]
        return "\n".join(lines) + "\n"

    @classmethod
    def from_toml(cls, text: str, *, source: str = "TOML config", model: str | None = None) -> "NetworkConfig":
        """Parse TOML text (a full or partial config) into a config.

        Parameters
        ----------
        text : str
            TOML as written by :meth:`to_toml`, or a part of it.
        source : str, default "TOML config"
            What the text came from, to start error messages with.

        Raises
        ------
        ConfigError
            On invalid TOML (with line and column) or an invalid config.
        """
        from ..io.files import toml_reader  # imported here: importing the config stays light

        toml = toml_reader()
        try:
            data = toml.loads(text)
        except toml.TOMLDecodeError as exc:
            raise ConfigError(f"{source}: invalid TOML: {one_line(exc)}; fix the syntax") from None
        except (ValueError, RecursionError) as exc:  # an integer of more than 4,300 digits, deep nesting
            raise ConfigError(f"{source}: invalid TOML ({one_line(exc)}); fix the value") from None
        return cls.from_dict(data, source=source, model=model)

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> "NetworkConfig":
        """Read a ``.toml`` or ``.json`` config file; see :func:`load_config`."""
        return load_config(path)

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the config to ``path`` as TOML (``.toml``) or JSON (``.json``), atomically.

        The file appears complete or not at all, with the usual permissions
        (``0o666`` minus the umask). Missing parent directories are created.

        Returns
        -------
        pathlib.Path
            ``path``.

        Raises
        ------
        ConfigError
            If the suffix is neither ``.toml`` nor ``.json``, or the file cannot be written.
        """
        from ..io.files import atomic_write  # imported here: importing the config stays light (no NumPy)

        path = Path(path)
        text = self.to_toml() if _format_of(path) == "toml" else self.to_json()
        return atomic_write(path, lambda f: f.write(text.encode("utf-8")))

_TOP_FIELDS = {f.name: f for f in dataclasses.fields(NetworkConfig)
               if f.name not in BASE_SECTIONS and f.name != "part_sections"}


def _model_default(model: Any, section: str, cls: type) -> Any:
    """The record of ``section`` in a config built for ``model``: the model's own defaults
    (:attr:`spikedyn.models.Model.defaults`) over the section's; the section's for a name that is
    not a registered model (the config's validation then names the problem)."""
    from .. import models

    if not isinstance(model, str) or model not in models.names():
        return cls()
    return models.get(model).default_record(section, cls)


def _field(section: str | None, name: str) -> dataclasses.Field:
    """The field ``section.name`` (``name`` at the top level if ``section`` is None).

    Raises
    ------
    ConfigError
        Naming the unknown section or field and listing the valid names (every section
        of the registered models).
    """
    sections = section_classes()
    if section is not None and section not in sections:
        raise ConfigError(
            f"unknown config section {section!r}; sections are {', '.join(sections)} "
            f"(top-level fields: {', '.join(_TOP_FIELDS)})"
        )
    fields = _TOP_FIELDS if section is None else section_fields(sections[section])
    if name in fields:
        return fields[name]
    if section is None and name in sections:
        example = next(iter(section_fields(sections[name])))
        raise ConfigError(f"{name} is a section; set one of its fields, e.g. {name}.{example}")
    where = f"section {section!r}" if section is not None else "the top level"
    dotted = f"{section}.{name}" if section is not None else name
    hint = f"sections: {', '.join(sections)}; " if section is None else ""
    raise ConfigError(f"unknown config field {dotted!r}; {hint}fields of {where}: {', '.join(fields)}")


#: How :meth:`NetworkConfig.to_dict` writes an infinite time constant: JSON has no infinity.
INFINITY = "inf"


def _plain(value: Any, f: dataclasses.Field) -> Any:
    """``value`` as the plain Python type of field ``f`` (NumPy scalars become int/float; an
    infinite time constant becomes the string :data:`INFINITY`, which JSON can hold)."""
    plain = {"int": int, "float": float, "bool": bool}.get(kind(f), str)(value)
    return INFINITY if kind(f) == "float" and plain == math.inf else plain


def _from_plain(value: Any, f: dataclasses.Field) -> Any:
    """The inverse of :func:`_plain` for the one value it changes (``"inf"`` in a float field)."""
    return math.inf if kind(f) == "float" and isinstance(value, str) and value == INFINITY else value


def _toml_value(value: Any) -> str:
    """A TOML literal for a bool, an int, a finite float or a str."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        # A JSON string is a TOML basic string once DEL, which TOML forbids raw, is escaped.
        return json.dumps(value, ensure_ascii=False).replace("\x7f", "\\u007f")
    return repr(value)  # a float's repr has a "." or an exponent, or is inf, a TOML float too



# -- files ---------------------------------------------------------------------------------
CONFIG_SUFFIXES = {".toml": "toml", ".json": "json"}


def _format_of(path: Path) -> str:
    """``"toml"`` or ``"json"`` from the suffix of ``path``."""
    fmt = CONFIG_SUFFIXES.get(path.suffix.lower())
    if fmt is None:
        raise ConfigError(f"config file {path} must end in .toml or .json, got {path.suffix or 'no suffix'!r}")
    return fmt


def load_config(path: str | os.PathLike[str], *, model: str | None = None) -> NetworkConfig:
    """Read a config file, TOML (``.toml``) or JSON (``.json``) by its suffix.

    The file may hold only some sections and fields; the others keep their defaults (those of
    the model it names, or of ``model`` if given: the file's fields then apply over that
    model's defaults, whatever model the file names).

    Parameters
    ----------
    path : str or os.PathLike
        The file, as written by :meth:`NetworkConfig.save` or by hand.

    Returns
    -------
    NetworkConfig

    Raises
    ------
    ConfigError
        One line starting with the file name: the suffix is unknown, the file is
        missing or unreadable, its syntax is invalid (with line and column), or a key
        is unknown or a value has the wrong type or range (naming the field).
    """
    path = Path(path)
    fmt = _format_of(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"config file {path} does not exist; check the path") from None
    except UnicodeDecodeError:
        raise ConfigError(f"config file {path} is not UTF-8 text; save it as UTF-8 {fmt.upper()}") from None
    except OSError as exc:
        raise ConfigError(
            f"cannot read config file {path} ({exc.strerror or exc}); check the path and its permissions"
        ) from None
    parse = NetworkConfig.from_toml if fmt == "toml" else NetworkConfig.from_json
    return parse(text, source=str(path), model=model)



# -- command-line values -------------------------------------------------------------------
def parse_set(text: str) -> tuple[str, Any]:
    """Parse ``section.field=value`` (or ``field=value`` at the top level) for :meth:`NetworkConfig.replace`.

    Parameters
    ----------
    text : str
        E.g. ``"stdp.nu_post=0.02"``, ``"timing.present_ms=250"``, ``"n_neurons=400"``
        or ``"model=lateral"``; ``section`` may be any section of a registered model's parts.

    Returns
    -------
    key : str
        ``"stdp__nu_post"`` (``"n_neurons"`` at the top level).
    value : int, float or str
        ``value`` converted to the field's type; floats accept ``1e-4`` and ``inf``.
        The range is checked when the config is built.

    Raises
    ------
    ConfigError
        If the form is wrong, the section or field is unknown (listing the valid
        names), or the value does not convert to the field's type.

    Examples
    --------
    >>> parse_set("stdp.nu_post=0.02")
    ('stdp__nu_post', 0.02)
    """
    key, sep, raw = text.partition("=")
    key, raw = key.strip(), raw.strip()
    if not sep or not key:
        raise ConfigError(
            f"{text!r} is not of the form section.field=value (e.g. stdp.nu_post=0.02) "
            f"or field=value (e.g. n_neurons=400)"
        )
    section, dot, name = key.rpartition(".")
    f = _field(section if dot else None, name)
    k = kind(f)
    try:
        value: Any = {"int": int, "float": float, "bool": _parse_bool}.get(k, str)(raw)
    except ValueError:
        what = {"int": "an integer", "float": "a number", "bool": "true or false"}[k]
        raise ConfigError(
            f"{key} must be {what}, got {raw!r}; write e.g. {key}={f.default!r}"
        ) from None
    return (f"{section}__{name}" if dot else name), value


def _parse_bool(text: str) -> bool:
    """``true``/``false`` (any case, or 1/0) as a bool; ValueError otherwise."""
    value = {"true": True, "1": True, "false": False, "0": False}.get(text.lower())
    if value is None:
        raise ValueError(text)
    return value

