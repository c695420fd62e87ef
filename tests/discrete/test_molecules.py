"""Training presets, the MOSES benchmark of a model and its command line; SVDD on an MDLM."""

import json

import numpy as np
import pytest
import torch

from sciddm.discrete import (
    MDLM,
    TRAIN_PRESETS,
    DnaTokenizer,
    MDLMConfig,
    MosesBenchmark,
    SelfiesTokenizer,
    TrainConfig,
    moses_benchmark,
    save_model,
    svdd,
)

pytest.importorskip("rdkit")
pytest.importorskip("selfies")

REF = ["CCO", "CCN", "c1ccccc1O", "CC(=O)Nc1ccccc1", "CCOC(=O)C", "c1ccncc1"]
TRAIN = ["CCO", "CCCO", "c1ccccc1", "CC(=O)N", "CCOC", "CN(C)C", "c1ccccc1C"]


@pytest.fixture(scope="module")
def selfies_model():
    tok = SelfiesTokenizer.from_smiles(TRAIN, length=10)
    cfg = MDLMConfig.preset("tiny", vocab_size=tok.vocab_size, length=10)
    return MDLM(cfg, tokenizer=tok, rng=0).eval()


def test_every_preset_is_a_valid_config():
    assert {"cpu-hour", "cpu-hour-selfies", "gpu-5min", "gpu-hour"} <= set(TRAIN_PRESETS)
    for name, preset in TRAIN_PRESETS.items():
        cfg = TrainConfig(**preset)
        assert cfg.data == "moses" and cfg.steps >= 1000, name
    assert TRAIN_PRESETS["cpu-hour"]["device"] == "cpu"
    assert TRAIN_PRESETS["cpu-hour-selfies"]["tokenizer"] == "selfies"
    diff = {k for k in TRAIN_PRESETS["cpu-hour"]
            if TRAIN_PRESETS["cpu-hour"][k] != TRAIN_PRESETS["cpu-hour-selfies"][k]}  # fmt: skip
    assert diff == {"tokenizer"}  # the SELFIES recipe differs only in its tokens
    with pytest.raises(TypeError):
        TRAIN_PRESETS["cpu-hour"]["steps"] = 1  # read-only


def test_cli_preset_sets_defaults_and_options_override(monkeypatch):
    import sciddm.discrete.training as cli

    seen = {}

    class Stop(Exception):
        pass

    def fake(config, **kw):
        seen["cfg"] = config
        raise ValueError("stop here")

    monkeypatch.setattr(cli, "Trainer", fake)
    assert cli.main(["moses", "--preset", "cpu-hour-selfies", "--steps", "7", "--quiet"]) == 2
    cfg = seen["cfg"]
    assert cfg.steps == 7 and cfg.tokenizer == "selfies" and cfg.data == "moses"
    assert cfg.d_model == TRAIN_PRESETS["cpu-hour"]["d_model"]
    assert cfg.batch_size == TRAIN_PRESETS["cpu-hour"]["batch_size"]
    assert cli.main(["nci", "--preset", "cpu-hour", "--quiet"]) == 2
    assert seen["cfg"].data == "nci" and seen["cfg"].steps == TRAIN_PRESETS["cpu-hour"]["steps"]
    with pytest.raises(SystemExit):
        cli.main(["--preset", "no-such-preset"])


def test_moses_benchmark_of_a_selfies_model(selfies_model):
    res = moses_benchmark(selfies_model, n=40, reference=REF, train=TRAIN, fcd=False, rng=0)
    assert isinstance(res, MosesBenchmark)
    assert res.report.validity == 1.0 and len(res.smiles) == 40
    assert res.data_report is not None and res.data_report.novelty == 0.0
    assert res.data_report.n == len(TRAIN)  # n capped by the training set
    rows = res.rows()
    assert list(rows) == [f"training data ({len(TRAIN)})", "MDLM (sciddm)"]
    assert rows["MDLM (sciddm)"]["Valid"] == 1.0
    assert "| MDLM (sciddm) (40 samples) | 1.0000 |" in res.table
    assert "CharRNN (MOSES paper)" in res.table and res.wall_time > 0
    # novelty is MOSES's: distinct canonical samples not among the training strings
    from sciddm.chem import canonical_smiles

    canon = {canonical_smiles(s) for s in res.smiles}
    train = {canonical_smiles(s) for s in TRAIN}  # "CC(=O)N" is "CC(N)=O" in canonical form
    assert res.report.novelty == pytest.approx(len(canon - train) / len(canon))
    again = moses_benchmark(selfies_model, n=40, reference=REF, train=TRAIN, fcd=False, rng=0)
    assert again.smiles == res.smiles  # reproducible


def test_moses_benchmark_rejects_bad_input(selfies_model):
    dna = MDLM(MDLMConfig.preset("tiny", vocab_size=5, length=8), DnaTokenizer(length=8), rng=0)
    with pytest.raises(ValueError, match="`model` must be a molecule model"):
        moses_benchmark(dna, n=4, reference=REF, train=TRAIN, fcd=False)
    with pytest.raises(TypeError, match="`model`"):
        moses_benchmark(object(), n=4)
    with pytest.raises(ValueError, match="`n`"):
        moses_benchmark(selfies_model, n=0)
    with pytest.raises(ValueError, match="`method`"):
        moses_benchmark(selfies_model, n=4, method="nope")
    with pytest.raises(TypeError, match="`train`"):
        moses_benchmark(selfies_model, n=4, reference=REF, train="CCO", fcd=False)
    with pytest.raises(ValueError, match="`n_reference`"):
        moses_benchmark(selfies_model, n=4, n_reference=1)


def test_sample_molecules_command(selfies_model, tmp_path):
    from sciddm.discrete.sample_molecules import build_parser, main

    path = save_model(selfies_model, tmp_path / "m.pt")
    out, js, fig = tmp_path / "t.md", tmp_path / "t.json", tmp_path / "p.png"
    code = main([path, "--n", "30", "--n-ref", "40", "--out", str(out), "--json", str(js),
                 "--figure", str(fig), "--no-fcd", "--no-progress", "--quiet"])  # fmt: skip
    assert code == 0
    assert "| MDLM (sciddm) (30 samples) | 1.0000 |" in out.read_text()
    data = json.loads(js.read_text())
    assert data["n_reference"] == 40 and data["rows"]["MDLM (sciddm)"]["Valid"] == 1.0
    assert fig.stat().st_size > 1000
    assert main([str(tmp_path / "missing"), "--quiet"]) == 2
    assert build_parser().parse_args(["x", "--n-ref", "all"]).n_ref is None
    with pytest.raises(SystemExit):
        build_parser().parse_args(["x", "--n-ref", "1"])


def test_svdd_runs_on_an_mdlm():
    """Regression: denoiser_probs rejected [MASK] in x_t because MDLM forbids it as an output."""
    model = MDLM(MDLMConfig.preset("tiny", vocab_size=6, length=8), rng=0).eval()
    res = svdd(model, lambda ids: (np.asarray(ids) == 0).mean(axis=1), 4, M=3, rng=0,
               decode=False)  # fmt: skip
    tokens = torch.as_tensor(res.tokens)
    assert tokens.shape == (4, 8) and not bool((tokens == model.mask_id).any())


def test_experiment_full_mode_is_the_gpu_recipe():
    from sciddm.reproduce import get_registry

    exp = get_registry()["discrete.molecules"]
    preset = TRAIN_PRESETS["gpu-hour"]
    shared = set(exp.full) & set(preset)
    assert {"steps", "batch_size", "model", "lr", "max_length"} <= shared
    assert {k: exp.full[k] for k in shared} == {k: preset[k] for k in shared}
    quick = get_registry()["discrete.molecules"].quick
    assert quick["steps"] * quick["batch_size"] <= 20_000  # quick stays seconds of training
