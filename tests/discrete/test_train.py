"""Training: exact resume, interrupts, atomic checkpoints, CLI, bad input."""

import signal

import numpy as np
import pytest
import torch

import sciddm.discrete._training as _training
from sciddm.discrete import TrainConfig, load_model, sample_training_noise, train
from sciddm.discrete._training import Trainer

DNA = ["".join(np.random.default_rng(i).choice(list("ACGT"), 12)) for i in range(64)]
TINY = dict(
    data=tuple(DNA),
    d_model=32,
    n_layers=1,
    n_heads=2,
    batch_size=8,
    steps=6,
    warmup_steps=2,
    val_fraction=0.25,
    eval_max=16,
)


def test_resume_reproduces_the_uninterrupted_loss_curve(tmp_path):
    full = train(**TINY, out_dir=str(tmp_path / "a"))
    stop_at_3 = lambda step, m: step == 3  # noqa: E731
    part = train(**TINY, out_dir=str(tmp_path / "b"), callback=stop_at_3)
    assert part.interrupted and len(part.losses) == 3
    resumed = train(**TINY, out_dir=str(tmp_path / "b"))
    assert not resumed.interrupted
    np.testing.assert_array_equal(resumed.losses, full.losses)  # bitwise on CPU
    np.testing.assert_array_equal(resumed.lr, full.lr)
    np.testing.assert_array_equal(resumed.val_bits_per_token, full.val_bits_per_token)
    a, b = load_model(tmp_path / "a"), load_model(tmp_path / "b")
    for (na, pa), (_, pb) in zip(a.state_dict().items(), b.state_dict().items()):
        assert torch.equal(pa, pb), na


@pytest.fixture
def default_handlers():
    """Python's own SIGINT/SIGTERM handlers for the test, whatever the runner inherited
    (a shell's background job starts with SIGINT ignored), restored afterwards."""
    saved = signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    try:
        yield
    finally:
        for sig, handler in zip((signal.SIGINT, signal.SIGTERM), saved):
            if handler is not None:  # None: installed outside Python, left as set above
                signal.signal(sig, handler)


def test_sigint_saves_a_checkpoint_and_resumes(tmp_path, default_handlers):
    def interrupt(step, m):
        if step == 2:
            signal.raise_signal(signal.SIGINT)

    with pytest.raises(KeyboardInterrupt):
        train(**TINY, out_dir=str(tmp_path), callback=interrupt)
    ck = torch.load(tmp_path / "checkpoint.pt", weights_only=True)
    assert ck["step"] == 2
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # restored
    assert signal.getsignal(signal.SIGTERM) == signal.SIG_DFL
    resumed = train(**TINY, out_dir=str(tmp_path))
    full = train(**TINY)
    np.testing.assert_array_equal(resumed.losses, full.losses)


def test_crash_during_save_keeps_the_previous_checkpoint(tmp_path, monkeypatch):
    train(**{**TINY, "steps": 2}, out_dir=str(tmp_path))
    before = (tmp_path / "checkpoint.pt").read_bytes()
    real_save = torch.save

    def broken_save(obj, f, *a, **k):
        real_save({"half": torch.zeros(10)}, f)  # a partial, wrong file, then a crash
        raise RuntimeError("disk full")

    monkeypatch.setattr(torch, "save", broken_save)
    with pytest.raises(RuntimeError, match="disk full"):
        train(**{**TINY, "steps": 4}, out_dir=str(tmp_path))
    monkeypatch.undo()
    assert (tmp_path / "checkpoint.pt").read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["checkpoint.pt", "model.pt"]
    assert torch.load(tmp_path / "checkpoint.pt", weights_only=True)["step"] == 2


def _grads(cfg, step=0):
    tr = Trainer(cfg)
    tr.forward_backward(step)
    return {n: p.grad.clone() for n, p in tr.model.named_parameters()}, tr


def test_gradient_accumulation_matches_one_batch():
    cfg = TrainConfig(**TINY)
    g1, _ = _grads(cfg)
    g4, _ = _grads(TrainConfig(**{**TINY, "grad_accum": 4}))
    for n in g1:
        torch.testing.assert_close(g4[n], g1[n], rtol=1e-5, atol=1e-7)


def test_loss_is_the_nelbo_per_position():
    cfg = TrainConfig(**TINY)
    tr = Trainer(cfg)
    loss = tr.forward_backward(0)
    rows = tr._rows(0)
    gen = torch.Generator().manual_seed(_training.step_seed(cfg.seed, 0))
    t, u = sample_training_noise(8, 12, rng=gen)
    x = tr.train_set.ids[rows].long()
    masked = u < 0.999 * t[:, None]
    with torch.no_grad():
        logits = tr.model(torch.where(masked, tr.model.mask_id, x))
    nll = -torch.log_softmax(logits, -1).gather(-1, x[..., None])[..., 0]
    want = float(((nll * masked).sum(1) / t).mean() / 12)
    assert loss == pytest.approx(want, rel=1e-5)


def test_trained_model_beats_unigram_and_loads(tmp_path):
    res = train(
        **{**TINY, "steps": 60, "lr": 3e-3, "warmup_steps": 5, "data": tuple(_motif())},
        out_dir=str(tmp_path),
    )
    assert res.val_bits_per_token[-1] < res.unigram_bits_per_token - 0.3
    m = load_model(tmp_path / "model.pt")
    assert m.tokenizer == res.tokenizer and not m.training
    x = torch.from_numpy(res.tokenizer.encode_batch(_motif()[:4]))
    torch.testing.assert_close(m(x), res.model(x))


def _motif():
    # sequences with strong structure: a repeated 4-mer with one random base
    rng = np.random.default_rng(5)
    out = []
    for _ in range(96):
        s = list("ACGT" * 3)
        s[rng.integers(12)] = "ACGT"[rng.integers(4)]
        s[rng.integers(12)] = "ACGT"[rng.integers(4)]
        out.append("".join(s))
    return out


def test_cli_trains_and_resumes(tmp_path, capsys):
    from sciddm.discrete.training import main

    f = tmp_path / "seqs.txt"
    f.write_text("\n".join(DNA))
    args = [
        str(f),
        "--steps",
        "2",
        "--batch-size",
        "8",
        "--d-model",
        "16",
        "--n-heads",
        "2",
        "--n-layers",
        "1",
        "--out-dir",
        str(tmp_path / "run"),
        "--quiet",
        "--no-progress",
    ]
    assert main(args) == 0
    assert "validation" in capsys.readouterr().out
    assert load_model(tmp_path / "run").vocab_size == 5
    assert main([*args[:2], "4", *args[3:]]) == 0
    ck = torch.load(tmp_path / "run" / "checkpoint.pt", weights_only=True)
    assert ck["step"] == 4 and len(ck["history"]["loss"]) == 4
    assert main([str(tmp_path / "nope.txt")]) == 2
    assert main(["--data", str(tmp_path / "nope.txt"), "--quiet"]) == 2
    assert "no sequence file" in capsys.readouterr().err


def test_train_stays_the_function_after_importing_the_cli():
    import importlib

    import sciddm.discrete as d

    importlib.import_module("sciddm.discrete.training")
    assert callable(d.train) and d.train.__module__ == "sciddm.discrete._training._train"
    res = d.train(**{**TINY, "steps": 1})
    assert len(res.losses) == 1


# -- bad input ---------------------------------------------------------------


def test_checkpoint_from_another_vocabulary_is_an_error(tmp_path):
    train(**{**TINY, "steps": 1}, out_dir=str(tmp_path))
    smiles = ["CCO", "CCN", "c1ccccc1", "CC(=O)O", "CCCl", "OCCO", "NCCN", "CCCC", "C=C"] * 1
    with pytest.raises(ValueError, match="another vocabulary"):
        train(
            **{**TINY, "data": tuple(smiles), "batch_size": 4, "val_fraction": 0.2},
            out_dir=str(tmp_path),
        )


def test_invalid_smiles_skipped_and_counted_or_error(tmp_path):
    smiles = ["CCO", "CCN", "C1CC", "c1ccccc1", "CC(=O)O", "CCCl", "OCCO", "NCCN", "CCCC"]
    tr = Trainer(TrainConfig(data=tuple(smiles), batch_size=4, val_fraction=0.2, steps=1))
    assert tr.data_info.n_invalid == 1 and tr.data_info.n_read == 9
    with pytest.raises(ValueError, match="invalid SMILES at index 2: 'C1CC'"):
        Trainer(TrainConfig(data=tuple(smiles), batch_size=4, invalid="error", steps=1))
    f = tmp_path / "train.smi"  # the same through a training file
    f.write_text("\n".join(f"{s} {i}" for i, s in enumerate(smiles)))
    tr = Trainer(TrainConfig(data=str(f), batch_size=4, val_fraction=0.2, steps=1))
    assert (tr.data_info.n_read, tr.data_info.n_invalid, tr.data_info.source) == (9, 1, str(f))
    with pytest.raises(ValueError, match=r"invalid SMILES at line 3 of .*train.smi.: .C1CC."):
        Trainer(TrainConfig(data=str(f), batch_size=4, invalid="error", steps=1))


def test_sequence_longer_than_context_is_an_error():
    with pytest.raises(ValueError, match="longer than the context `length` = 10"):
        Trainer(TrainConfig(**{**TINY, "length": 10}))


@pytest.mark.parametrize(
    ("kw", "match"),
    [
        ({"data": ()}, "`data` is empty"),
        ({"data": ("ACGT",)}, "at least 2 are needed"),
        ({"batch_size": 100}, "exceeds the 48 training"),
        ({"batch_size": 6, "grad_accum": 4}, "must be divisible"),
        ({"steps": 0}, "`steps` must be an integer >= 1"),
        ({"lr_schedule": "step"}, "`lr_schedule` must be one of"),
        ({"ema": 1.0}, r"`ema` must be in \[0, 1\)"),
        ({"val_fraction": 0.0}, r"`val_fraction` must be in \(0, 1\)"),
    ],
)
def test_bad_config(kw, match):
    with pytest.raises(ValueError, match=match):
        Trainer(TrainConfig(**{**TINY, **kw}))


def test_unknown_option_and_bad_config_type():
    with pytest.raises(ValueError, match="unknown training option"):
        train(**TINY, step=3)
    with pytest.raises(TypeError, match="`config` must be a TrainConfig"):
        train(3)


@pytest.mark.slow
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGKILL])
def test_real_signal_leaves_a_loadable_checkpoint(tmp_path, sig):
    import os
    import subprocess
    import sys
    import time
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    f = tmp_path / "seqs.txt"
    f.write_text("\n".join(DNA))
    env = {
        **os.environ,
        "OMP_NUM_THREADS": "1",
        "PYTHONPATH": os.pathsep.join(filter(None, [str(root), os.environ.get("PYTHONPATH")])),
    }
    cmd = [
        sys.executable,
        "-m",
        "sciddm.discrete.training",
        str(f),
        "--steps",
        "100000",
        "--batch-size",
        "8",
        "--save-every",
        "1",
        "--out-dir",
        str(tmp_path),
        "--quiet",
        "--no-progress",
    ]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.time() + 120
        while not (tmp_path / "checkpoint.pt").exists() and time.time() < deadline:
            time.sleep(0.2)
        time.sleep(1.0)  # let it write a few more checkpoints
        proc.send_signal(sig)
        proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == (130 if sig == signal.SIGINT else -signal.SIGKILL)
    ck = torch.load(tmp_path / "checkpoint.pt", weights_only=True)
    assert ck["step"] >= 1 and len(ck["history"]["loss"]) == ck["step"]
    assert load_model(tmp_path / "checkpoint.pt").vocab_size == 5


@pytest.mark.gpu
@pytest.mark.parametrize("compile_", [False, pytest.param(True, marks=pytest.mark.slow)])
def test_cuda_bf16_training_runs_and_learns(tmp_path, compile_):
    res = train(
        **{**TINY, "steps": 40, "lr": 3e-3, "data": tuple(_motif())},
        device="cuda",
        precision="bf16",
        compile=compile_,
        out_dir=str(tmp_path),
    )
    assert np.isfinite(res.losses).all() and res.losses[-5:].mean() < res.losses[:5].mean()
    assert next(res.model.parameters()).device.type == "cuda"
    assert load_model(tmp_path).vocab_size == 5


def test_time_conditioned_training_and_reload(tmp_path):
    res = train(**{**TINY, "steps": 2}, time_conditioned=True, out_dir=str(tmp_path))
    m = load_model(tmp_path)
    assert m.time_conditioned and res.model.time_conditioned
    x = torch.from_numpy(res.tokenizer.encode_batch(DNA[:2]))
    t = torch.tensor([0.2, 0.7])
    torch.testing.assert_close(m(x, t), res.model(x, t))


def test_resume_with_more_steps_follows_the_new_schedule(tmp_path):
    train(**{**TINY, "steps": 3, "warmup_steps": 1}, out_dir=str(tmp_path))
    res = train(**{**TINY, "steps": 6, "warmup_steps": 1}, out_dir=str(tmp_path))
    fresh = train(**{**TINY, "steps": 6, "warmup_steps": 1})
    # steps 4-6 use the 6-step cosine, not the finished 3-step one
    np.testing.assert_allclose(res.lr[3:], fresh.lr[3:], rtol=1e-12)
    assert res.lr[-1] > 0.1 * TrainConfig().lr


# -- the random source ------------------------------------------------------------


def test_same_rng_gives_bit_identical_weights_without_touching_torch_global_state():
    before = torch.random.get_rng_state()
    torch.manual_seed(123)  # whatever the global state, it must not matter
    a = train(**{**TINY, "steps": 3}, rng=np.random.default_rng(7))
    torch.manual_seed(456)
    state = torch.random.get_rng_state()
    b = train(**{**TINY, "steps": 3}, rng=np.random.default_rng(7))
    assert torch.equal(torch.random.get_rng_state(), state)  # train() never draws from it
    for (name, pa), (_, pb) in zip(a.model.state_dict().items(), b.model.state_dict().items()):
        assert torch.equal(pa, pb), name
    c = train(**{**TINY, "steps": 3}, rng=8)
    assert not torch.equal(a.model.pos_emb, c.model.pos_emb)
    d = train(**{**TINY, "steps": 3, "seed": 8})  # rng=None: the config's seed
    assert torch.equal(c.model.pos_emb, d.model.pos_emb)
    torch.random.set_rng_state(before)


def test_dropout_is_reproducible_too():
    kw = {**TINY, "steps": 3, "dropout": 0.3}
    torch.manual_seed(1)
    a = train(**kw, rng=5)
    torch.manual_seed(2)
    b = train(**kw, rng=5)
    np.testing.assert_array_equal(a.losses, b.losses)


def test_train_result_fields_and_deprecated_names():
    res = train(**{**TINY, "steps": 2})
    assert res.losses.shape == (2,) and res.wall_time > 0 and res.skipped_steps.size == 0
    with pytest.warns(DeprecationWarning, match="TrainResult.loss is deprecated"):
        np.testing.assert_array_equal(res.loss, res.losses)
    with pytest.raises(TypeError, match="`rng` must be"):
        train(**{**TINY, "steps": 1}, rng="seed")


# -- divergence ---------------------------------------------------------------------


def test_divergence_stops_with_the_step_and_keeps_the_last_finite_checkpoint(tmp_path):
    with pytest.raises(FloatingPointError) as info:
        train(**TINY, lr=1e6, grad_clip=0.0, save_every=1, out_dir=str(tmp_path))
    msg = str(info.value)
    step = int(msg.split("diverged at step ")[1].split(":")[0])
    assert step <= 5
    assert "`lr` (now 1e+06)" in msg and "`grad_clip` (now 0" in msg
    assert f"holds step {step - 1}" in msg
    ck = torch.load(tmp_path / "checkpoint.pt", weights_only=True)
    assert ck["step"] == step - 1
    assert all(torch.isfinite(v).all() for v in ck["model_state"].values())
    assert not (tmp_path / "model.pt").exists()


def test_skip_mode_skips_a_bad_step_and_goes_on(monkeypatch):
    real = Trainer.forward_backward

    def nan_at_step_2(self, step):
        loss = real(self, step)
        return float("nan") if step == 2 else loss

    monkeypatch.setattr(Trainer, "forward_backward", nan_at_step_2)
    seen = {}

    def spy(step, m):
        seen[step] = {k: v.detach().clone() for k, v in tr_model[0].state_dict().items()}

    tr_model = []
    real_setup = Trainer._setup_model

    def keep(self):
        real_setup(self)
        tr_model.append(self.model)

    monkeypatch.setattr(Trainer, "_setup_model", keep)
    res = train(**{**TINY, "steps": 5}, on_nonfinite="skip", callback=spy)
    assert res.skipped_steps.tolist() == [3] and np.isnan(res.losses[2])
    assert np.isfinite(res.losses[[0, 1, 3, 4]]).all()
    for k in seen[2]:  # the skipped step did not move the weights
        assert torch.equal(seen[2][k], seen[3][k]), k
    monkeypatch.undo()
    with pytest.raises(FloatingPointError, match="10 steps in a row"):
        train(**{**TINY, "steps": 30}, lr=1e6, grad_clip=0.0, on_nonfinite="skip")


# -- checkpoints and the command line ------------------------------------------------


def test_corrupt_checkpoint_is_reported_with_the_fix(tmp_path):
    (tmp_path / "checkpoint.pt").write_bytes(b"\x00garbage")
    with pytest.raises(
        ValueError, match=r"not a readable sciddm discrete training checkpoint .*resume=False"
    ):
        train(**{**TINY, "steps": 1}, out_dir=str(tmp_path))
    res = train(**{**TINY, "steps": 1}, out_dir=str(tmp_path), resume=False)  # starts afresh
    assert res.checkpoint == str(tmp_path / "checkpoint.pt")
    assert load_model(tmp_path).vocab_size == 5


def test_cli_corrupt_checkpoint_is_one_line_suggesting_no_resume(tmp_path, capsys):
    from sciddm.discrete.training import main

    f = tmp_path / "seqs.txt"
    f.write_text("\n".join(DNA))
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "checkpoint.pt").write_bytes(b"PK\x03\x04 truncated")
    args = [str(f), "--steps", "1", "--batch-size", "8", "--d-model", "16", "--n-heads", "2",
            "--n-layers", "1", "--out-dir", str(tmp_path / "run"), "--quiet", "--no-progress"]  # fmt: skip
    assert main(args) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "Traceback" not in err
    assert "not a readable sciddm discrete training checkpoint file" in err and "--no-resume" in err
    assert main([*args, "--no-resume"]) == 0


def test_cli_help_describes_every_option_with_its_allowed_values(capsys):
    import dataclasses

    from sciddm.discrete._training import CHOICES, FIELD_HELP
    from sciddm.discrete.training import build_parser

    text = build_parser().format_help()
    assert "Train a masked discrete diffusion model" in text
    assert set(FIELD_HELP) == {f.name for f in dataclasses.fields(TrainConfig)}
    for action in build_parser()._actions:
        if action.dest in ("help", "quiet", "data_pos"):
            continue
        assert action.help and "(default:" in action.help, action.dest
        assert len(action.help.split("(default:")[0].strip()) > 10, action.dest
    for name, values in CHOICES.items():
        flag = "--" + name.replace("_", "-")
        assert flag in text
        assert "{" + ",".join(values) + "}" in text, name
    assert "--no-resume" in text and "integer >= 1" in text


def test_double_interrupt_reports_the_step_on_disk(tmp_path, monkeypatch, capsys):
    from sciddm.discrete.training import main

    real = Trainer.train_step

    def ctrl_c_twice_at_step_3(self, s):
        out = real(self, s)
        if self.step == 3:
            signal.raise_signal(signal.SIGINT)  # first: finish the step and save...
            signal.raise_signal(signal.SIGINT)  # ...second: stop at once
        return out

    monkeypatch.setattr(Trainer, "train_step", ctrl_c_twice_at_step_3)
    f = tmp_path / "seqs.txt"
    f.write_text("\n".join(DNA))
    args = [str(f), "--steps", "6", "--batch-size", "8", "--d-model", "16", "--n-heads", "2",
            "--n-layers", "1", "--save-every", "2", "--out-dir", str(tmp_path), "--quiet",
            "--no-progress"]  # fmt: skip
    assert main(args) == 130
    err = capsys.readouterr().err
    ck = torch.load(tmp_path / "checkpoint.pt", weights_only=True)
    assert ck["step"] == 2
    assert "interrupted at step 3" in err and "holds step 2" in err
