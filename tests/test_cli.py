"""The command line, as a user types it: the seed's flags, a flag for every config field, runs written through the
run store, and bad input as one line on stderr with exit code 2 that changes no file (issue 13's table, row by
row)."""

import argparse
import errno
import json
import re
import subprocess
import sys
from dataclasses import fields
from pathlib import Path

import pandas as pd
import pytest
import torch
from conftest import ROOT

from grokgpt import checkpoint, cli, compute, data, memory, runs, store
from grokgpt.data import FilesConfig, ModularConfig, SentenceConfig
from grokgpt.experiments import PRESETS
from grokgpt.model import GPTConfig
from grokgpt.train import TrainConfig

SENTENCE = "I love machine learning"
SEED_FLAGS = ["--n_layer", 1, "--n_head", 2, "--n_embd", 32, "--block_size", 16, "--batch_size", 1]
TINY = ["--n_layer", 1, "--n_head", 2, "--n_embd", 32, "--batch_size", 64, "--max_iters", 20, "--device", "cpu"]
OVERFIT, GROKKING = ROOT / "checkpoints" / "01_overfit.pt", ROOT / "checkpoints" / "04_grokking.pt"


@pytest.fixture
def grokgpt(tmp_path, monkeypatch, capsys):
    """Run `grokgpt ...` in this process, in tmp_path: faster than a subprocess, and a traceback fails the test."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "text.txt").write_text(SENTENCE + "\n")

    def run(*args):
        try:
            code = cli.main([str(a) for a in args])
        except SystemExit as exit:  # argparse's errors
            code = exit.code
        out, err = capsys.readouterr()
        return subprocess.CompletedProcess(args, code, out, err)

    return run


def snapshot(folder: Path) -> dict:
    return {path: path.read_bytes() if path.is_file() else None for path in sorted(folder.rglob("*"))}


@pytest.fixture
def refused(grokgpt, tmp_path):
    """Run a command that must fail: one line on stderr holding every needle, exit 2, and no file changed (none
    added, temporaries included)."""

    def run(*args, says=()):
        before = snapshot(tmp_path)
        done = grokgpt(*args)
        _fails_in_one_line(done, *says)
        assert snapshot(tmp_path) == before
        return done

    return run


def _fails_in_one_line(done, *needles):
    assert done.returncode == 2, done.stdout + done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in done.stderr, done.stderr
    for needle in needles:
        assert needle in lines[0], lines[0]


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A checkpoint trained through the CLI with the seed's flags (fewer iterations: it memorises by ~300)."""
    tmp = tmp_path_factory.mktemp("cli")
    (tmp / "text.txt").write_text(SENTENCE + "\n")
    args = ["train", "text.txt", *SEED_FLAGS, "--max_iters", 1500, "--out_dir", "ckpt"]
    done = subprocess.run([sys.executable, "-m", "grokgpt", *map(str, args)], cwd=tmp, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return tmp


def test_train_then_sample_recites_the_sentence(trained, cli):
    assert (trained / "ckpt" / "metrics.csv").is_file()
    done = cli("sample", trained / "ckpt" / "model.pt", "--prompt", "I", "--steps", 22)
    assert done.returncode == 0 and done.stdout == SENTENCE + "\n"


def test_committed_checkpoint_recites_the_sentence(cli):
    done = cli("sample", OVERFIT, "--prompt", "I", "--steps", 22)
    assert done.returncode == 0 and done.stdout == SENTENCE + "\n"


def test_several_prompts_answer_in_order(trained, grokgpt, tmp_path):
    (tmp_path / "prompts.txt").write_text("I love\n\nI love machine\n")
    model = trained / "ckpt" / "model.pt"
    done = grokgpt("sample", model, "--prompt", "I", "--prompts-file", "prompts.txt", "--steps", 3)
    assert done.returncode == 0
    assert done.stdout.splitlines() == ["I lo", "I love ma", "I love machine le"]


# ----------------------------------------------------------------------------------------------------------------
# Flags generated from the configs, defaults from a preset, runs through the run store


def destinations(command: str) -> set[str]:
    """Where the flags and arguments of a command land in the parsed namespace."""
    parser = cli.build_parser([command])
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return {action.dest for action in sub.choices[command]._actions}


def test_every_config_field_is_a_flag(grokgpt):
    def of(section, cls, but=()):
        return {f"{section}.{f.name}" for f in fields(cls) if f.name not in but}

    run = of("model", GPTConfig, but=("vocab_size", "block_size")) | of("train", TrainConfig)  # sizes: the data's
    assert run | of("data", SentenceConfig, but=("text",)) | {"text_file"} <= destinations("train")
    assert run | of("data", ModularConfig) | of("data", FilesConfig, but=("folder",)) | {"data_dir"} <= destinations(
        "arith"
    )
    for command in ("train", "arith", "data", "sample"):
        assert grokgpt(command, "--help").returncode == 0
    assert "--max_iters" in grokgpt("train", "--help").stdout and "--data_seed" in grokgpt("arith", "--help").stdout
    assert f"2 to {data.MAX_MODULUS}" in " ".join(grokgpt("arith", "--help").stdout.split())


def test_a_cli_run_is_a_run_with_the_flags_given_over_the_preset(grokgpt, tmp_path):
    flags = ["--preset", "ablation", "--grokfast_lamb", 2, "--stop_split", "train", "--tie_weights", "--no-bias"]
    done = grokgpt("arith", *flags, "--loss_on", "all", "--prime", 11, "--max_iters", 3, "--seed", 2, "--out_dir", "o")
    assert done.returncode == 0, done.stderr
    run = runs.load(tmp_path / "o", named=False)
    assert {p.name for p in run.path.iterdir()} <= set(runs.FILES) and run.has("model")
    config, ablation = run.config, PRESETS["ablation"]
    assert config["train"]["grokfast_lamb"] == 2 and config["train"]["stop_split"] == "train"
    assert config["model"]["tie_weights"] and not config["model"]["bias"]
    assert config["model"]["n_layer"] == ablation.model.n_layer and config["train"]["lr"] == ablation.train.lr
    preset_data = json.loads(json.dumps(data.config_to_dict(ablation.data)))
    assert config["data"] == {**preset_data, "p": 11, "seed": 2, "loss_on": "all"}  # the data seed follows --seed
    assert runs.spec_of(config).name == runs.run_name(config)  # a run like any other: it can be redone
    assert grokgpt("sample", "o/model.pt", "--prompt", "3/5=").returncode == 0


def test_arith_trains_on_files_and_sample_answers(grokgpt, tmp_path):
    assert grokgpt("data", "--prime", 7, "--out", "mod7").returncode == 0
    done = grokgpt("arith", "mod7", "--prime", 7, "--n_layer", 1, "--n_embd", 16, "--max_iters", 5, "--out_dir", "ckpt")
    assert done.returncode == 0, done.stderr
    assert runs.load(tmp_path / "ckpt", named=False).config["data"]["folder"] == str(tmp_path / "mod7")
    done = grokgpt("sample", "ckpt/model.pt", "--prompt", "5+6=", "--prompt", "0-1=")
    lines = done.stdout.splitlines()  # 5 steps teach nothing: only the form of the answer is checked
    assert done.returncode == 0 and [line[:4] for line in lines] == ["5+6=", "0-1="] and all(len(x) == 5 for x in lines)
    _fails_in_one_line(grokgpt("sample", "ckpt/model.pt", "--prompt", "7+1="), "residues 0..6")
    _fails_in_one_line(grokgpt("sample", "ckpt/model.pt", "--prompt", "3/2="), "+ -")
    _fails_in_one_line(grokgpt("arith", "mod7", "--prime", 7, "--fractions", 0.5, 0.5), "--fractions", "mod7")


def test_the_seed_command_for_division_parses_and_runs(cli):
    done = cli(
        "arith", "--op", "/", "--prime", 97, "--n_layer", 2, "--max_iters", 3, "--eval_interval", 100,
        "--batch_size", 32, "--device", "cpu",
    )  # fmt: skip
    assert done.returncode == 0 and "saved ckpt/model.pt" in done.stdout, done.stderr


def test_data_writes_both_protocols(grokgpt, tmp_path):
    done = grokgpt("data", "--prime", 97, "--out", "data/mod97")
    assert done.returncode == 0 and done.stdout.split() == [
        f"data/mod97/{s}_mod97.txt" for s in ("train", "val", "test")
    ]
    assert len((tmp_path / "data/mod97/train_mod97.txt").read_text().splitlines()) == 7527
    done = grokgpt("data", "--prime", 113, "--protocol", "seed", "--out", "seed113")
    assert done.returncode == 0 and len((tmp_path / "seed113/test_seed113.txt").read_text().splitlines()) == 1000


# ----------------------------------------------------------------------------------------------------------------
# Bad input: one line, exit 2, no file changed


def test_bad_text_and_sizes(refused, tmp_path):
    (tmp_path / "empty.txt").write_text("\n")
    (tmp_path / "afile").write_text("x")
    refused("train", "missing.txt", says=("missing.txt",))
    refused("train", "empty.txt", says=("empty",))
    refused("train", "text.txt", "--n_embd", 33, "--n_head", 2, says=("divisible",))
    refused("train", "text.txt", "--block_size", 0, says=("block_size",))
    refused("train", "text.txt", "--max_iters", -5, says=("--max_iters must be >= 0",))
    refused("train", "text.txt", "--max_iters", "1e4", says=("--max_iters", "int"))
    refused("train", "text.txt", "--preset", "grokking", says=("--preset", "sentence"))
    refused("train", "text.txt", "--max_iters", 10, "--out_dir", "afile", says=("afile", "is a file"))


def test_bad_prompts_and_checkpoints(trained, refused, tmp_path):
    model = trained / "ckpt" / "model.pt"
    refused("sample", model, "--prompt", "Ix!", "--steps", 3, says=("'!'", "'x'"))
    refused("sample", model, "--steps", 3, says=("prompt",))
    refused("sample", model, "--prompt", "I", says=("--steps",))
    refused("sample", model, "--prompt", "I", "--prompts-file", "none.txt", says=("none.txt",))
    refused("sample", tmp_path / "none.pt", "--prompt", "I", "--steps", 3, says=("no checkpoint",))
    (tmp_path / "cut.pt").write_bytes(model.read_bytes()[:2000])
    refused("sample", tmp_path / "cut.pt", "--prompt", "I", "--steps", 3, says=("truncated",))
    (tmp_path / "text.pt").write_text("I love machine learning")
    refused("sample", tmp_path / "text.pt", "--prompt", "I", "--steps", 3, says=("not a readable checkpoint",))


def test_a_failed_train_keeps_the_previous_checkpoint(trained, cli):
    before = (trained / "ckpt" / "model.pt").read_bytes()
    _fails_in_one_line(cli("train", "text.txt", "--n_embd", 33, "--out_dir", "ckpt", cwd=trained), "divisible")
    assert (trained / "ckpt" / "model.pt").read_bytes() == before


def test_bad_arithmetic_input(refused, tmp_path):
    refused("data", "--prime", 91, "--ops", "/", "--out", "x", says=("not prime",))
    refused("data", "--prime", 1, "--out", "x", says=("from 2 to",))
    refused("data", "--prime", 7, "--fractions", 0.5, 0.4, "--out", "x", says=("sum to 1",))
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad/train_bad.txt").write_text("1+2=3\n1+2=5\n")
    refused("arith", "bad", "--prime", 7, says=("train_bad.txt:2",))
    refused("arith", "--op", "/", "--prime", 91, says=("not prime",))


def test_row1_data_replaces_the_whole_set_of_split_files(grokgpt, refused, tmp_path, monkeypatch):
    assert grokgpt("data", "--prime", 11, "--out", "D").returncode == 0
    assert grokgpt("data", "--prime", 11, "--fractions", 0.5, 0.5, "--out", "D").returncode == 0
    assert sorted(p.name for p in (tmp_path / "D").iterdir()) == ["train_D.txt", "val_D.txt"]
    done = grokgpt("arith", "D", "--prime", 11, *TINY)
    assert done.returncode == 0 and "test" not in done.stdout and "val" in done.stdout
    write_text = Path.write_text

    def full_disk(path, text):  # the second file of the set cannot be written
        if path.name.startswith(".val_D.txt"):
            write_text(path, text[: len(text) // 2])
            raise OSError(errno.ENOSPC, "No space left on device")
        return write_text(path, text)

    with monkeypatch.context() as patch:
        patch.setattr(Path, "write_text", full_disk)
        refused("data", "--prime", 11, "--out", "D", says=("No space left",))  # the old set stays, whole
    (tmp_path / "D" / "test_D.txt").mkdir()
    refused("data", "--prime", 11, "--out", "D", says=("test_D.txt", "directory"))


def test_row2_an_unwritable_out_dir_is_found_before_training(refused, grokgpt, tmp_path, monkeypatch):
    assert grokgpt("train", "text.txt", *TINY, "--out_dir", "ckpt").returncode == 0

    def denied(*args, **kwargs):
        raise PermissionError(errno.EACCES, "Permission denied")

    with monkeypatch.context() as patch:
        patch.setattr(compute, "compute", lambda *a, **k: pytest.fail("trained before finding the problem"))
        if Path("/sys/kernel").is_dir():  # read-only even for root
            refused("train", "text.txt", "--max_iters", 5, "--out_dir", "/sys/kernel/ckpt", says=("cannot write",))
            refused("train", "text.txt", "--max_iters", 5, "--out_dir", "/sys/kernel", says=("/sys/kernel holds",))
        patch.setattr(store.tempfile, "TemporaryDirectory", denied)  # a folder where nothing can be created
        refused("train", "text.txt", "--out_dir", "ro/ckpt", says=("cannot write in ro", "Permission denied"))
    to_csv = pd.DataFrame.to_csv

    def full_disk(frame, path, **kwargs):  # a full disk is found only when writing: the old run stays
        to_csv(frame, path, **kwargs)
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(pd.DataFrame, "to_csv", full_disk)
    refused("train", "text.txt", *TINY, "--seed", 1, "--out_dir", "ckpt", says=("No space left",))


def test_row3_the_modulus_has_a_stated_maximum(refused):
    refused("arith", "--prime", 100003, "--op", "/", *TINY, says=(f"from 2 to {data.MAX_MODULUS}", "100003"))
    refused("data", "--prime", 100003, "--out", "x", says=(f"from 2 to {data.MAX_MODULUS}",))


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA")
def test_row4_an_absent_device_is_not_blamed_on_the_checkpoint(refused):
    done = refused("sample", GROKKING, "--prompt", "3/5=", "--device", "cuda", says=("cuda", "not available"))
    assert "checkpoint" not in done.stderr and "truncated" not in done.stderr
    with pytest.raises(ValueError, match="not available") as err:
        checkpoint.load(GROKKING, device="cuda")
    assert not isinstance(err.value, checkpoint.CheckpointError)


def test_row5_out_dir_holding_more_than_a_run_is_refused_before_training(refused, tmp_path):
    (tmp_path / "o" / "metrics.csv").mkdir(parents=True)
    (tmp_path / "o" / "model.pt").write_bytes(b"the previous weights")
    refused("train", "text.txt", *TINY, "--out_dir", "o", says=("metrics.csv",))
    (tmp_path / "p").mkdir()
    (tmp_path / "p" / "notes.txt").write_text("mine")
    refused("train", "text.txt", *TINY, "--out_dir", "p", says=("notes.txt",))


@pytest.mark.parametrize(
    "command, device",
    [("train", "cuda"), ("train", "mps"), ("train", "cuda:abc"), ("arith", "cuda:7"), ("sample", "banana")],
)
def test_row8_devices_are_checked_before_any_work(refused, command, device):
    if device.startswith("cuda") and device != "cuda:abc" and torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    if device == "mps" and torch.backends.mps.is_available():
        pytest.skip("this machine has MPS")
    args = {"train": ["text.txt"], "arith": [], "sample": [OVERFIT, "--prompt", "I", "--steps", 2]}[command]
    refused(command, *args, "--device", device, says=(device,))


@pytest.mark.parametrize("temperature", ["nan", "inf", "-1"])
def test_row9_temperature_is_zero_or_positive(refused, temperature):
    refused("sample", OVERFIT, "--prompt", "I", "--steps", 3, "--temperature", temperature, says=("temperature",))


def test_row10_an_empty_split_is_refused(refused, tmp_path):
    (tmp_path / "E").mkdir()
    (tmp_path / "E" / "train_E.txt").write_text("1+2=3\n")
    (tmp_path / "E" / "val_E.txt").write_text("")
    refused("arith", "E", "--prime", 11, *TINY, says=("val_E.txt", "no equations"))
    refused("arith", "--prime", 2, "--op", "+", "--fractions", 0.9, 0.1, *TINY, says=("val split",))
    refused("data", "--prime", 2, "--ops", "+", "--fractions", 0.9, 0.1, "--out", "F", says=("val split",))


@pytest.mark.parametrize("sizes", [["--batch_size", 100_000_000], ["--n_embd", 200_000, "--n_head", 1]])
def test_row11_runs_too_big_for_the_memory_are_refused_before_training(refused, sizes):
    refused("train", "text.txt", *sizes, says=("memory", "GiB"))


def test_row11_allocation_failures_are_one_line_and_bugs_are_not_hidden(refused, grokgpt, monkeypatch):
    def fail(error):
        def raise_it(*args, **kwargs):
            raise error

        monkeypatch.setattr(compute, "compute", raise_it)

    fail(RuntimeError("[enforce fail at alloc_cpu.cpp:117] DefaultCPUAllocator: can't allocate memory: 10 GB"))
    refused("train", "text.txt", *TINY, says=("out of memory", "can't allocate"))
    fail(MemoryError())
    refused("train", "text.txt", *TINY, says=("out of memory",))
    fail(RuntimeError("a bug"))
    with pytest.raises(RuntimeError, match="a bug"):
        grokgpt("train", "text.txt", *TINY)


def test_row11_the_memory_estimate_admits_the_study_and_reads_limits(monkeypatch):
    for name, spec in PRESETS.items():
        ds = spec.dataset()
        assert memory.needed(spec.model.for_data(ds), spec.train, ds) < 2**30, name
    monkeypatch.setattr(memory.resource, "getrlimit", lambda which: (2**30, memory.resource.RLIM_INFINITY))
    assert memory.available(torch.device("cpu")) < 2**30


def test_row12_a_checkpoint_lacking_its_config_or_a_weight_is_damaged(refused, tmp_path):
    state = torch.load(OVERFIT, weights_only=True)
    torch.save({k: v for k, v in state.items() if k != "model_config"}, tmp_path / "no_config.pt")
    weights = dict(state["state_dict"])
    weights.pop("lm_head.weight")
    torch.save({**state, "state_dict": weights}, tmp_path / "no_weight.pt")
    prompt = ["--prompt", "I", "--steps", 2]
    refused("sample", tmp_path / "no_config.pt", *prompt, says=("damaged", "model_config"))
    refused("sample", tmp_path / "no_weight.pt", *prompt, says=("damaged", "lm_head.weight"))


# ----------------------------------------------------------------------------------------------------------------
# The committed checkpoints


@pytest.mark.parametrize("p", [97, 113])
def test_committed_warmup_checkpoints_answer_their_test_split(grokgpt, tmp_path, p):
    test = (ROOT / f"data/mod{p}/test_mod{p}.txt").read_text().splitlines()[:500]
    (tmp_path / "prompts.txt").write_text("".join(line.split("=")[0] + "=\n" for line in test))
    done = grokgpt("sample", ROOT / f"checkpoints/03_warmup_p{p}.pt", "--prompts-file", "prompts.txt")
    assert done.returncode == 0
    answers = done.stdout.splitlines()
    assert len(answers) == len(test) and sum(a == t for a, t in zip(answers, test, strict=True)) >= 0.99 * len(test)


def test_committed_grokking_checkpoint_divides(grokgpt, tmp_path):
    """It held 99% validation accuracy, so it answers at least 99% of the whole table (and the README's 3/5=)."""
    table = [f"{a}/{b}={a * pow(b, -1, 97) % 97}" for a in range(97) for b in range(1, 97)]
    (tmp_path / "prompts.txt").write_text("".join(line.split("=")[0] + "=\n" for line in table))
    done = grokgpt("sample", GROKKING, "--prompts-file", "prompts.txt", "--prompt", "3/5=")
    answers = done.stdout.splitlines()
    assert done.returncode == 0 and answers[0] == "3/5=20"  # --prompt first, then the file
    assert sum(a == t for a, t in zip(answers[1:], table, strict=True)) >= 0.99 * len(table)
    _fails_in_one_line(grokgpt("sample", GROKKING, "--prompt", "3/0="), "division by 0")
    _fails_in_one_line(grokgpt("sample", GROKKING, "--prompt", "98/5="), "residues")


# ----------------------------------------------------------------------------------------------------------------
# A failed command loses nothing; values in their sets and ranges; data/runs/ is make runs'


@pytest.fixture
def good(grokgpt, tmp_path):
    """A finished run written by `train` into tmp_path/good."""
    assert grokgpt("train", "text.txt", *TINY, "--out_dir", "good").returncode == 0
    return tmp_path / "good"


@pytest.mark.parametrize(
    "flags, says",
    [
        (["--lr", "inf"], "lr"),
        (["--lr", "1e20"], "diverged"),  # trains, stops at the first non-finite loss, writes nothing
        (["--weight_decay", "inf"], "weight_decay"),
        (["--grokfast_lamb", "nan"], "grokfast_lamb"),
        (["--grokfast_lamb", "-5"], "grokfast_lamb"),
        (["--stop_split", "vall", "--stop_acc", "0.5"], "stop_split"),
        (["--seed", str(2**64)], "seed"),
        (["--max_iters", "100000000000"], "--max_iters"),
    ],
)
def test_a_failed_or_refused_train_leaves_the_good_run_byte_identical(good, refused, flags, says):
    refused("train", "text.txt", *TINY, *flags, "--out_dir", "good", says=(says,))


def test_the_config_json_written_is_strict_json(good):
    json.loads((good / "config.json").read_text(), parse_constant=lambda name: pytest.fail(f"{name} in config.json"))


def test_train_and_arith_never_write_into_data_runs(refused, tmp_path, monkeypatch):
    monkeypatch.setenv("GROKGPT_ROOT", str(tmp_path))
    (tmp_path / "data" / "runs" / "sentence_s1_29322681").mkdir(parents=True)
    refused("train", "text.txt", *TINY, "--out_dir", "data/runs/sentence_s1_29322681", says=("data/runs",))
    refused("arith", "--prime", 7, "--op", "+", *TINY, "--out_dir", "data/runs/new", says=("data/runs",))


def test_symlinked_and_working_folder_out_dirs_are_refused_before_training(good, refused, tmp_path):
    (tmp_path / "link").symlink_to(good)
    refused("train", "text.txt", *TINY, "--out_dir", "link", says=("symbolic link",))
    (tmp_path / "sub").mkdir()
    refused("train", "text.txt", *TINY, "--out_dir", ".", says=("working folder",))


def test_sets_and_bounds_are_one_line_naming_the_flag(trained, refused, tmp_path):
    model = trained / "ckpt" / "model.pt"
    refused("arith", "--prime", 2, "--op", "/", says=("at least 3",))
    refused("data", "--protocol", "seed", "--samples", 100_000_000, "--out", "x", says=("--samples",))
    refused("data", "--protocol", "seed", "--samples", 0, "--out", "x", says=("--samples",))
    refused("sample", model, "--prompt", "I", "--steps", 1_000_000_000, says=("--steps",))
    refused("sample", model, "--prompt", "I", "--steps", 3, "--temperature", "1e-300", says=("--temperature",))
    refused("sample", model, "--prompt", "-3/5=", says=("--flag=VALUE",))


@pytest.mark.parametrize("info", [{"answer_tokens": "abc"}, {"ops": 5}, {"task": "poetry"}, {"p": "97"}])
def test_checkpoint_info_fields_are_checked_on_load(refused, tmp_path, info):
    state = torch.load(GROKKING, weights_only=True)
    torch.save({**state, "info": {**state["info"], **info}}, tmp_path / "crafted.pt")
    refused("sample", tmp_path / "crafted.pt", "--prompt", "3/5=", says=("damaged", "info"))


def test_text_files_with_a_byte_order_mark_are_read_and_binary_ones_named(trained, grokgpt, refused, tmp_path):
    (tmp_path / "bom.txt").write_text("I\n", encoding="utf-8-sig")
    done = grokgpt("sample", trained / "ckpt" / "model.pt", "--prompts-file", "bom.txt", "--steps", 3)
    assert done.returncode == 0 and done.stdout.startswith("I"), done.stderr
    (tmp_path / "binary.txt").write_bytes(b"\xff\xfe\x00\x81")
    refused("sample", trained / "ckpt" / "model.pt", "--prompts-file", "binary.txt", says=("binary.txt", "UTF-8"))
    (tmp_path / "mod7").mkdir()
    (tmp_path / "mod7/train_mod7.txt").write_text("1+2=3\n8+9=3\n")
    refused("arith", "mod7", "--prime", 7, says=("train_mod7.txt:2", "above the modulus"))


def _flags(command: str) -> list[tuple[str, str, argparse.Action]]:
    """(flag, field, action) for every flag generated from a config field of command, aliases included."""
    sub = next(a for a in cli.build_parser([])._actions if isinstance(a, argparse._SubParsersAction))
    actions = [a for a in sub.choices[command]._actions if "." in (a.dest or "")]
    return [(flag, a.dest.split(".", 1)[1], a) for a in actions for flag in a.option_strings]


BAD = {"int": "-1", "float": "nan"}  # every int field is refused below 0, every float when not finite; a str: "bogus"


@pytest.mark.parametrize(
    "command, flag, field, action",
    [(c, *f) for c in ("train", "arith", "data") for f in _flags(c) if not isinstance(f[2], argparse.BooleanOptionalAction)],
    ids=lambda v: v if isinstance(v, str) else "",
)  # fmt: skip
def test_every_out_of_range_flag_is_named_as_typed(refused, command, flag, field, action):
    value = ["0.5", "2"] if action.nargs == "+" else BAD.get(getattr(action.type, "__name__", "str"), "bogus")
    where = ["--out", "x"] if command == "data" else ["--out_dir", "data/runs/x"]  # a value let through is refused too
    err = refused(command, flag, *([value] if isinstance(value, str) else value), *where, says=(flag,)).stderr
    if flag != f"--{field}":  # an alias (--max_iters) or another name (--data_seed): the field is not named
        assert not re.search(rf"(?<![\w-]){field}\b", err), err


@pytest.mark.parametrize(
    "argv, says",
    [
        (["arith", "--prime", "4"], "--prime 4: division needs"),  # a message that named no field names the flag
        (["arith", "--preset", "addsub", "--op", "/", "--prime", "2"], "--op /, --prime 2:"),  # refused together
        (["arith", "mod7", "--op", "+"], "--op cannot apply to mod7"),
        (["sample", GROKKING, "--prompt", "3/5=", "--seed", str(2**64)], "--seed must be from 0"),
        (["sample", GROKKING, "--prompt", "3/5=", "--temperature", "inf"], "--temperature"),
    ],
)
def test_out_of_range_messages_name_the_flag_and_value(refused, argv, says):
    refused(*argv, says=(says,))
