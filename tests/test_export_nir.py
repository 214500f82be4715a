"""The NIR export (spikedyn/export): the written graph, its reader/simulator, and bad input.

- Round trip: ``export_run`` then ``nir.read`` gives the documented nodes and edges per
  model, the run's weights exactly, the folded thresholds and the neuron labels.
- The simulator against analytic cases (first spike of a LIF under a constant current,
  the response of a CubaLIF to one spike) and against a naive NumPy loop of the same
  Euler scheme; its input spikes are spikedyn's, delays included.
- Bad input is one line, nothing written; the same run gives the same file.
"""

from __future__ import annotations

import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

nir = pytest.importorskip("nir")

from helpers import one_line  # noqa: E402

from spikedyn import Network, NetworkConfig, models  # noqa: E402
from spikedyn.core.encoding import STREAM_ASSIGN, centre_surround, poisson_raster, presentation_seed  # noqa: E402
from spikedyn.errors import ConfigError  # noqa: E402
from spikedyn.export import export_run  # noqa: E402
from spikedyn.export import nir as nir_export  # noqa: E402
from spikedyn.export import simulate  # noqa: E402

N = 6


def _run_dir(tmp_path: Path, model: str, *, labels: bool = True, seed: int = 3) -> tuple[Path, Network]:
    """A saved run of ``model`` with N neurons, random learned weights and thresholds (no training needed)."""
    net = Network(NetworkConfig(model=model, n_neurons=N), seed=seed)
    rng = np.random.default_rng(seed)
    w = rng.uniform(0, 1, size=net.weights.shape)
    net.weights = w * (net.config.stdp.weight_sum / w.sum(axis=0))  # as the normalisation leaves them
    net.theta = rng.uniform(20, 35, size=N)  # thresholds -52 to -37 mV
    if labels:
        net.assignments_ = np.array([0, 1, 2, 3, -1, 9])
    path = tmp_path / f"{model}-run"
    net.save(path)
    return path, net


# -- round trip ------------------------------------------------------------------------------
@pytest.mark.parametrize("model, nodes, edges", [
    ("lateral", {"input": "Input", "w_input": "Linear", "excitatory": "CubaLIF", "w_lateral": "Linear",
                 "output": "Output"},
     {("input", "w_input"), ("w_input", "excitatory"), ("excitatory", "w_lateral"), ("w_lateral", "excitatory"),
      ("excitatory", "output")}),
    ("diehl-cook", {"input": "Input", "w_input": "Linear", "excitatory": "CubaLIF", "w_exc_inh": "Linear",
                    "inhibitory": "CubaLIF", "w_inh_self": "Linear", "w_inh_exc": "Linear", "output": "Output"},
     {("input", "w_input"), ("w_input", "excitatory"), ("excitatory", "w_exc_inh"), ("w_exc_inh", "inhibitory"),
      ("inhibitory", "w_inh_self"), ("w_inh_self", "inhibitory"), ("inhibitory", "w_inh_exc"),
      ("w_inh_exc", "excitatory"), ("excitatory", "output")}),
    ("spikedyn", None, None),
])
def test_round_trip_layout_weights_thresholds_labels(tmp_path, model, nodes, edges):
    run, net = _run_dir(tmp_path, model)
    out = tmp_path / "net.nir"
    summary = export_run(run, out)
    graph = nir.read(out)
    types = {name: type(node).__name__ for name, node in graph.nodes.items()}
    if nodes is not None:
        assert types == nodes
        assert set(map(tuple, graph.edges)) == edges
    assert summary["nodes"] == types and summary["labels"] == "assignments.npy"
    # the learned weights, exactly, in NIR's (out, in) layout
    np.testing.assert_array_equal(graph.nodes["w_input"].weight, net.weights.T)
    exc = graph.nodes["excitatory"]
    e = net.config.excitatory
    np.testing.assert_array_equal(exc.v_threshold, e.v_thresh_mv + net.theta - e.theta_offset_mv)
    np.testing.assert_allclose(exc.tau_mem, e.tau_m_ms * 1e-3)
    np.testing.assert_allclose(exc.tau_syn, e.tau_ge_ms * 1e-3)
    np.testing.assert_array_equal(exc.v_leak, e.v_rest_mv)
    kappa = nir_export.DEFAULT_APPROXIMATION.reset_offset  # the reset lowered for the refractory period
    np.testing.assert_allclose(exc.v_reset, e.v_reset_mv - kappa * (exc.v_threshold - e.v_reset_mv))
    assert np.all(exc.v_reset <= e.v_reset_mv)
    np.testing.assert_array_equal(graph.metadata["assignments"], net.assignments_)
    assert graph.metadata["model"] == model and int(graph.metadata["seed"]) == net.seed
    assert NetworkConfig.from_dict(__import__("json").loads(graph.metadata["config_json"])) == net.config
    # competition: inhibition of every other neuron, never of itself
    w = graph.nodes["w_lateral" if "w_lateral" in graph.nodes else "w_inh_exc"].weight
    assert np.all(np.diag(w) == 0) and np.all(w[~np.eye(N, dtype=bool)] < 0)
    if "inhibitory" in graph.nodes:
        i = net.config.inhibitory
        np.testing.assert_array_equal(graph.nodes["w_exc_inh"].weight, np.eye(N) * i.w_exc_inh)
        inh = graph.nodes["inhibitory"]
        np.testing.assert_array_equal(inh.v_threshold, i.v_thresh_mv)
        np.testing.assert_allclose(inh.tau_mem, i.tau_m_ms * 1e-3)
        self_w = graph.nodes["w_inh_self"].weight  # the relay's refractoriness, see docs/export.md
        assert np.all(np.diag(self_w) < 0) and np.all(self_w[~np.eye(N, dtype=bool)] == 0)


def test_drive_derivations_match_their_definitions():
    # log-mean: time to threshold of the leak-free conductance membrane
    e, v0, vth = 0.0, -65.0, np.array([-52.0, -40.0, 5.0])
    d = nir_export.excitatory_drive_mv(e, v0, vth)
    np.testing.assert_allclose(d[:2], (vth[:2] - v0) / np.log((e - v0) / (e - vth[:2])))
    assert d[2] == 0.0  # a threshold above E_exc is never reached
    # one inhibitory spike's jump at v_ref, as the conductance membrane makes it
    w, tau_g, tau_m, v_ref = 40.0, 2.0, 100.0, -50.0
    x = w * tau_g / tau_m
    di = nir_export.inhibitory_drive_mv(v_ref, -100.0, w, tau_g, tau_m)
    assert di * x == pytest.approx(50.0 * (1 - math.exp(-x)))


def test_delays_are_delay_branches_that_sum_to_the_weights(tmp_path):
    from spikedyn.models.delays import delay_steps

    run, net = _run_dir(tmp_path, "lateral-delays")
    out = tmp_path / "net.nir"
    export_run(run, out)
    graph = nir.read(out)
    d = delay_steps(net.config, net.seed)
    total = np.zeros_like(net.weights.T)
    for k in np.unique(d):
        linear = graph.nodes[f"w_input_{k:02d}"].weight
        np.testing.assert_array_equal(linear, np.where(d == k, net.weights, 0.0).T)
        total += linear
        if k:
            np.testing.assert_allclose(graph.nodes[f"delay_{k:02d}"].delay, k * net.config.timing.dt_ms * 1e-3)
            assert ("input", f"delay_{k:02d}") in graph.edges
    np.testing.assert_array_equal(total, net.weights.T)


@pytest.mark.parametrize("model", models.names())
def test_every_registered_model_exports_and_runs(tmp_path, model):
    run, net = _run_dir(tmp_path, model)
    out = tmp_path / "net.nir"
    summary = export_run(run, out)
    graph = nir.read(out)
    assert graph.metadata["model"] == model and summary["model"] == model
    image = np.random.default_rng(0).integers(0, 256, size=(1, 784), dtype=np.uint8)
    counts, presentations = simulate.respond(graph, image, n_jobs=1)
    assert counts.shape == (1, N) and counts.sum() > 0 and presentations[0] >= 1


def test_same_run_gives_the_same_file(tmp_path):
    run, _ = _run_dir(tmp_path, "diehl-cook")
    a, b = tmp_path / "a.nir", tmp_path / "b.nir"
    sa, sb = export_run(run, a), export_run(run, b)
    assert a.read_bytes() == b.read_bytes() and sa["sha256"] == sb["sha256"]


def test_labels_from_evaluation_or_none(tmp_path):
    run, net = _run_dir(tmp_path, "lateral", labels=False)
    summary = export_run(run, tmp_path / "a.nir")
    assert summary["labels"] is None
    graph = nir.read(tmp_path / "a.nir")
    assert "assignments" not in graph.metadata
    with pytest.raises(ConfigError, match="spikedyn evaluate"):
        simulate.predict(graph, np.zeros((1, N), np.int32))
    np.savez(run / "evaluation.npz", assignments=np.arange(N))
    assert export_run(run, tmp_path / "b.nir")["labels"] == "evaluation.npz"
    np.testing.assert_array_equal(nir.read(tmp_path / "b.nir").metadata["assignments"], np.arange(N))


# -- bad input -------------------------------------------------------------------------------
def test_bad_input_is_one_line_and_writes_nothing(tmp_path):
    run, _ = _run_dir(tmp_path, "lateral")
    existing = tmp_path / "old.nir"
    existing.write_bytes(b"keep")
    (tmp_path / "notarun").mkdir()
    before = sorted(p.name for p in tmp_path.rglob("*"))
    cases = [
        ((tmp_path / "notarun", tmp_path / "x.nir"), {}, "not a spikedyn run"),
        ((tmp_path / "missing", tmp_path / "x.nir"), {}, "does not exist"),
        ((run / "run.json", tmp_path / "x.nir"), {}, "is a file"),
        ((run, tmp_path / "x.nir"), {"format": "onnx"}, "unknown export format 'onnx'"),
        ((run, tmp_path / "x.h5"), {}, "must end in .nir"),
        ((run, tmp_path / "sub" / "x"), {}, "must end in .nir"),
        ((run, existing), {}, "exists; remove it"),
        ((run, tmp_path), {}, "must end in .nir"),
    ]
    for args, kwargs, message in cases:
        with pytest.raises(ConfigError) as err:
            export_run(*args, **kwargs)
        assert message in one_line(err), (args, kwargs)
    assert sorted(p.name for p in tmp_path.rglob("*")) == before
    assert existing.read_bytes() == b"keep"


def test_command_line_front(tmp_path):
    run, _ = _run_dir(tmp_path, "lateral")
    out, js = tmp_path / "net.nir", tmp_path / "s.json"
    cmd = [sys.executable, "-m", "spikedyn.cli", "export"]
    ok = subprocess.run(cmd + [str(run), "--format", "nir", "-o", str(out), "--json", str(js)],
                        capture_output=True, text=True)
    assert ok.returncode == 0, ok.stderr
    assert out.is_file() and '"sha256"' in js.read_text() and ok.stdout.startswith("wrote ")
    bad = subprocess.run(cmd + [str(run), "-o", str(out)], capture_output=True, text=True)
    assert bad.returncode == 2 and bad.stdout == ""
    assert bad.stderr.count("\n") == 1 and "exists" in bad.stderr


# -- the simulator ---------------------------------------------------------------------------
def _graph(nodes, edges, dt_s=None):
    meta = {} if dt_s is None else {"dt_s": dt_s}
    return nir.NIRGraph(nodes=nodes, edges=edges, metadata=meta)


def test_lif_with_constant_current_first_spike_time():
    """tau dv/dt = (v_leak - v) + r b from v_leak: the first spike when v crosses v_th."""
    tau, r, b, v_leak, v_th, dt = 0.02, 1.0, 30.0, -65.0, -50.0, 1e-5
    g = _graph({"input": nir.Input({"input": np.array([1])}),
                "bias": nir.Affine(weight=np.zeros((1, 1)), bias=np.array([b])),
                "lif": nir.LIF(tau=np.array([tau]), r=np.array([r]), v_leak=np.array([v_leak]),
                               v_threshold=np.array([v_th]), v_reset=np.array([v_leak])),
                "output": nir.Output({"output": np.array([1])})},
               [("input", "bias"), ("bias", "lif"), ("lif", "output")])
    compiled = simulate.compile_graph(g, dt_s=dt)
    n_steps = 4000
    out = simulate.run_raster(compiled, np.zeros(n_steps + 1, np.int64), np.zeros(0, np.int32))
    first = out["step"][0]
    # forward Euler exactly: v_n = v_inf + (v_leak - v_inf)(1 - dt/tau)^n, first n (step n - 1) above v_th
    v_inf = v_leak + r * b
    n = math.floor(math.log((v_th - v_inf) / (v_leak - v_inf)) / math.log(1 - dt / tau)) + 1
    assert first == n - 1
    # and the continuous solution within a step
    t_star = tau * math.log((v_inf - v_leak) / (v_inf - v_th))
    assert abs((first + 1) * dt - t_star) <= dt
    # regular firing: every interval the same
    assert len(set(np.diff(out["step"]))) == 1


def test_cubalif_response_to_one_spike_is_the_two_exponential_kernel():
    """tau_s I' = -I + W delta, tau_m u' = -u + r I: u = r W (e^-t/tau_m - e^-t/tau_s) / (tau_m - tau_s)."""
    tau_s, tau_m, r, w, dt = 0.002, 0.02, 3.0, 0.5, 1e-6
    g = _graph({"input": nir.Input({"input": np.array([1])}),
                "w": nir.Linear(weight=np.array([[w]])),
                "cuba": nir.CubaLIF(tau_syn=np.array([tau_s]), tau_mem=np.array([tau_m]), r=np.array([r]),
                                    v_leak=np.array([0.0]), v_threshold=np.array([1e9]), v_reset=np.array([0.0]),
                                    w_in=np.array([1.0])),
                "output": nir.Output({"output": np.array([1])})},
               [("input", "w"), ("w", "cuba"), ("cuba", "output")])
    n_steps = 30000
    step_ptr = np.ones(n_steps + 1, np.int64)
    step_ptr[0] = 0  # one input spike, delivered at the end of step 0
    out = simulate.run_raster(simulate.compile_graph(g, dt_s=dt), step_ptr, np.zeros(1, np.int32), voltages=True)
    t = (np.arange(n_steps) - 1) * dt  # v after step s has integrated the spike for s - 1 steps
    u = r * w * (np.exp(-t / tau_m) - np.exp(-t / tau_s)) / (tau_m - tau_s)
    u[0] = 0.0
    peak = r * w / (tau_m - tau_s) * ((tau_s / tau_m) ** (tau_s / (tau_m - tau_s))
                                      - (tau_s / tau_m) ** (tau_m / (tau_m - tau_s)))
    np.testing.assert_allclose(out["v"][:, 0], u, atol=2e-3 * peak)
    assert out["v"][:, 0].max() == pytest.approx(peak, rel=2e-3)


def _naive(nodes_order, params, weights, raster, n_steps):
    """The documented Euler scheme, written plainly: CubaLIF populations and weight matrices by name."""
    v = {k: params[k]["v_leak"].copy() for k in nodes_order}
    cur = {k: np.zeros_like(v[k]) for k in nodes_order}
    spikes = []
    for s in range(n_steps):
        fired = {}
        for k in nodes_order:
            p = params[k]
            dt = p["dt"]
            new_v = v[k] + dt / p["tau_mem"] * ((p["v_leak"] - v[k]) + p["r"] * cur[k])
            cur[k] = cur[k] - dt / p["tau_syn"] * cur[k]
            v[k] = new_v
            fired[k] = v[k] > p["v_threshold"]
        for (src, dst), w in weights.items():
            x = raster[s] if src == "input" else fired[src].astype(float)
            cur[dst] = cur[dst] + params[dst]["w_in"] / params[dst]["tau_syn"] * (w @ x)
        for k in nodes_order:
            v[k][fired[k]] = params[k]["v_reset"][fired[k]]
            spikes += [(s, k, int(j)) for j in np.flatnonzero(fired[k])]
    return spikes, v


def test_simulator_matches_a_naive_loop_on_a_recurrent_graph():
    rng = np.random.default_rng(7)
    n_in, na, nb, dt, n_steps = 5, 4, 3, 5e-4, 300
    params = {}
    for name, n in (("a", na), ("b", nb)):
        params[name] = {"tau_syn": rng.uniform(1e-3, 5e-3, n), "tau_mem": rng.uniform(0.01, 0.1, n),
                        "r": rng.uniform(0.5, 2.0, n), "v_leak": rng.uniform(-1, 0, n),
                        "v_threshold": rng.uniform(0.2, 0.5, n), "v_reset": rng.uniform(-1, 0, n),
                        "w_in": rng.uniform(0.5, 1.5, n), "dt": dt}
    weights = {("input", "a"): rng.uniform(0, 0.02, (na, n_in)), ("a", "b"): rng.uniform(0, 0.05, (nb, na)),
               ("b", "a"): -rng.uniform(0, 0.05, (na, nb)), ("a", "a"): -rng.uniform(0, 0.01, (na, na))}
    nodes = {"input": nir.Input({"input": np.array([n_in])})}
    for name in ("a", "b"):
        p = params[name]
        nodes[name] = nir.CubaLIF(**{k: p[k] for k in ("tau_syn", "tau_mem", "r", "v_leak", "v_threshold",
                                                         "v_reset", "w_in")})
    edges = []
    for (src, dst), w in weights.items():
        nodes[f"{src}{dst}"] = nir.Linear(weight=w)
        edges += [(src, f"{src}{dst}"), (f"{src}{dst}", dst)]
    nodes["output"] = nir.Output({"output": np.array([na])})
    edges.append(("a", "output"))
    raster = rng.random((n_steps, n_in)) < 0.3
    expected, _ = _naive(["a", "b"], params, weights, raster.astype(float), n_steps)
    compiled = simulate.compile_graph(_graph(nodes, edges), dt_s=dt)
    step_ptr = np.concatenate([[0], np.cumsum(raster.sum(1))])
    pixels = np.concatenate([np.flatnonzero(row) for row in raster]).astype(np.int32)
    out = simulate.run_raster(compiled, step_ptr, pixels)

    def local(j):
        for name, (lo, size) in compiled.populations.items():
            if lo <= j < lo + size:
                return name, j - lo

    got = [(int(s), *local(int(j))) for s, j in zip(out["step"], out["neuron"])]
    assert len(expected) > 20 and {k for _, k, _ in expected} == {"a", "b"}
    assert sorted(got) == sorted(expected)


@pytest.mark.parametrize("ink", [None, (40.0, 2.0), "centre-surround"])
def test_input_is_spikedyn_raster_and_delays_shift_it(tmp_path, ink):
    """An identity graph (each input drives its own neuron over threshold) returns the raster, one step late;
    with ink normalisation (``ink``: target mean pixel, max gain) at the rate scaled by the image's gain; with
    the centre-surround filter recorded in the metadata, the raster of the filtered image."""
    n_in, dt = 784, 5e-4
    run, net = _run_dir(tmp_path, "lateral")
    export_run(run, tmp_path / "net.nir")
    meta = dict(nir.read(tmp_path / "net.nir").metadata)
    assert meta["input_normalise_mean_pixel"] == 0.0  # the run's config: off
    meta["present_s"] = 0.05  # 100 steps
    assert meta["input_centre_surround"] == 0
    if ink == "centre-surround":
        meta["input_centre_surround"] = 1
    elif ink is not None:
        meta["input_normalise_mean_pixel"], meta["input_max_gain"] = ink

    def identity_graph(delay_steps):
        nodes = {"input": nir.Input({"input": np.array([n_in])})}
        edges = [("input", "w")]
        if delay_steps:
            nodes["d"] = nir.Delay(delay=np.full(n_in, delay_steps * dt))
            edges = [("input", "d"), ("d", "w")]
        nodes["w"] = nir.Linear(weight=np.eye(n_in))
        nodes["lif"] = nir.LIF(tau=np.full(n_in, 0.01), r=np.ones(n_in), v_leak=np.zeros(n_in),
                               v_threshold=np.full(n_in, 0.5), v_reset=np.zeros(n_in))
        nodes["output"] = nir.Output({"output": np.array([n_in])})
        return nir.NIRGraph(nodes=nodes, edges=edges + [("w", "lif"), ("lif", "output")], metadata=meta)

    rng = np.random.default_rng(1)
    images = rng.integers(0, 256, size=(2, n_in), dtype=np.uint8)
    images[1, 60:] = 0  # mean pixel 10: gain 4, clipped to 2 (the first, mean 127: 0.31, clipped to 0.5)
    gains = [1.0, 1.0] if ink in (None, "centre-surround") else \
        [float(np.clip(ink[0] / x.mean(), 1 / ink[1], ink[1])) for x in images]
    seen = centre_surround(images) if ink == "centre-surround" else images
    assert ink != "centre-surround" or not np.array_equal(seen, images)
    for delay in (0, 3):
        g = identity_graph(delay)
        compiled = simulate.compile_graph(g)
        counts, presentations = simulate.respond(g, images, stream=STREAM_ASSIGN, first_index=5, retry=False,
                                                 n_jobs=1)
        for k in range(2):
            raster = poisson_raster(seen[k], 0.25 * gains[k], dt_ms=0.5, n_steps=100,
                                    seed=presentation_seed(net.seed, STREAM_ASSIGN, 5 + k, 0))
            dense = raster.dense(n_in)
            out = simulate.run_raster(compiled, raster.step_ptr, raster.pixels, 100)
            got = np.zeros_like(dense)
            got[out["step"], out["neuron"]] = True
            # fired at step s + delay + 1, the last ones fall off the end
            np.testing.assert_array_equal(got[delay + 1:], dense[:100 - delay - 1])
            np.testing.assert_array_equal(counts[k], dense[:100 - delay - 1].sum(0))
        assert np.all(presentations == 1)


def test_exported_network_runs_and_classifies(tmp_path):
    run, net = _run_dir(tmp_path, "diehl-cook")
    out = tmp_path / "net.nir"
    export_run(run, out)
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(3, 784), dtype=np.uint8)
    counts, presentations = simulate.respond(out, images, n_jobs=1)
    assert counts.shape == (3, N) and counts.sum() > 0
    assert np.all((presentations >= 1) & (presentations <= net.config.input.max_presentations))
    again, _ = simulate.respond(out, images, n_jobs=2, batch_size=1)
    np.testing.assert_array_equal(counts, again)  # same input spikes whatever the threads
    predictions = simulate.predict(nir.read(out), counts)
    assert predictions.shape == (3,) and np.all((predictions >= 0) & (predictions <= 9))
    # the inhibitory relay fires once per spike of its partner (its self-connection, docs/export.md)
    compiled = simulate.compile_graph(nir.read(out))
    raster = poisson_raster(images[0], 0.5, dt_ms=0.5, n_steps=700, seed=1)
    run = simulate.run_raster(compiled, raster.step_ptr, raster.pixels)
    lo_e, lo_i = compiled.populations["excitatory"][0], compiled.populations["inhibitory"][0]
    relayed = run["neuron"][run["step"] < 699]  # a spike of the last step has no time to be relayed
    exc = np.bincount(relayed[relayed < lo_e + N] - lo_e, minlength=N)
    assert exc.sum() > 5
    np.testing.assert_array_equal(run["counts"][lo_i:lo_i + N], exc)


def test_simulator_refuses_what_it_cannot_run(tmp_path):
    ok_nodes = {"input": nir.Input({"input": np.array([2])}), "w": nir.Linear(weight=np.ones((2, 2))),
                "lif": nir.LIF(tau=np.full(2, 0.01), r=np.ones(2), v_leak=np.zeros(2), v_threshold=np.ones(2),
                               v_reset=np.zeros(2)),
                "output": nir.Output({"output": np.array([2])})}
    ok_edges = [("input", "w"), ("w", "lif"), ("lif", "output")]
    with pytest.raises(ConfigError, match="dt_s"):
        simulate.compile_graph(_graph(ok_nodes, ok_edges))
    bad = dict(ok_nodes, extra=nir.Threshold(threshold=np.ones(2)))
    with pytest.raises(ConfigError, match="Threshold"):
        simulate.compile_graph(_graph(bad, ok_edges + [("lif", "extra")]), dt_s=1e-3)
    through = dict(ok_nodes, w2=nir.Linear(weight=np.ones((2, 2))))
    with pytest.raises(ConfigError, match="Output 'output' must be fed by a population directly"):
        simulate.compile_graph(_graph(through, ok_edges[:2] + [("lif", "w2"), ("w2", "output")]), dt_s=1e-3)
    with pytest.raises(ConfigError, match="not longer than dt"):
        simulate.compile_graph(_graph(ok_nodes, ok_edges), dt_s=0.02)
    (tmp_path / "junk.nir").write_bytes(b"not hdf5")
    with pytest.raises(ConfigError) as err:
        simulate.read_graph(tmp_path / "junk.nir")
    assert "not a readable NIR file" in one_line(err)


# -- the experiment's selection --------------------------------------------------------------
def test_experiment_selects_the_smallest_mean_count_error():
    import importlib.util

    path = Path(__file__).resolve().parents[1] / "experiments" / "nir_export.py"
    spec = importlib.util.spec_from_file_location("nir_export_experiment", path)
    experiment = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(experiment)
    rows = [{"model": m, "exc_scale": a, "inh_scale": 1.0, "reset_offset": k, "count_error": e}
            for m, a, k, e in [("x", 1.0, 0.0, 0.2), ("y", 1.0, 0.0, 0.8),     # mean 0.5
                               ("x", 0.9, 0.1, 0.4), ("y", 0.9, 0.1, 0.4),     # mean 0.4: selected
                               ("x", 1.1, 0.2, 0.1), ("y", 1.1, 0.2, 0.9)]]    # mean 0.5, x's best
    chosen = experiment.select(rows)
    assert (chosen["exc_scale"], chosen["reset_offset"]) == (0.9, 0.1)
    assert chosen["mean_count_error"] == pytest.approx(0.4)
    assert chosen["best_per_model"]["x"]["exc_scale"] == 1.1
    ref = np.array([[5, 0, 0], [0, 3, 0]])
    got = np.array([[4, 1, 0], [0, 0, 2]])
    a = experiment.agreement(ref, got, np.array([0, 1, 2]), np.array([0, 1]))
    assert a["count_error"] == pytest.approx((1 + 1 + 3 + 2) / 8)
    assert a["winner_agreement"] == 0.5 and a["accuracy_spikedyn"] == 1.0 and a["accuracy"] == 0.5
