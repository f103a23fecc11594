"""The command line, as a user types it: the seed's flags, one-line errors with exit code 2, nothing lost."""

import pytest
from conftest import ROOT

SENTENCE = "I love machine learning"
SEED_FLAGS = ["--n_layer", 1, "--n_head", 2, "--n_embd", 32, "--block_size", 16, "--batch_size", 1]


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A checkpoint trained through the CLI with the seed's flags (fewer iterations: it memorises by ~300)."""
    import subprocess
    import sys

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
    done = cli("sample", ROOT / "checkpoints" / "01_overfit.pt", "--prompt", "I", "--steps", 22)
    assert done.returncode == 0 and done.stdout == SENTENCE + "\n"


def test_several_prompts_answer_in_order(trained, cli, tmp_path):
    (tmp_path / "prompts.txt").write_text("I love\n\nI love machine\n")
    done = cli("sample", trained / "ckpt" / "model.pt", "--prompt", "I", "--prompts-file", "prompts.txt", "--steps", 3)
    assert done.returncode == 0
    assert done.stdout.splitlines() == ["I lo", "I love ma", "I love machine le"]


def test_every_command_explains_its_flags(cli):
    for command in ("train", "sample", "data", "arith"):
        done = cli(command, "--help")
        assert done.returncode == 0 and "--" in done.stdout
    assert "--n_layer" in cli("train", "--help").stdout and "--prompts-file" in cli("sample", "--help").stdout


def _fails_in_one_line(done, *needles):
    assert done.returncode == 2, done.stdout + done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in done.stderr, done.stderr
    for needle in needles:
        assert needle in lines[0], lines[0]


def test_bad_text_and_sizes(cli, tmp_path):
    (tmp_path / "empty.txt").write_text("\n")
    (tmp_path / "text.txt").write_text(SENTENCE)
    (tmp_path / "afile").write_text("x")
    _fails_in_one_line(cli("train", "missing.txt"), "missing.txt")
    _fails_in_one_line(cli("train", "empty.txt"), "empty")
    _fails_in_one_line(cli("train", "text.txt", "--n_embd", 33, "--n_head", 2), "divisible")
    _fails_in_one_line(cli("train", "text.txt", "--block_size", 0), "block_size")
    _fails_in_one_line(cli("train", "text.txt", "--max_iters", -5), "max_iters")
    _fails_in_one_line(cli("train", "text.txt", "--max_iters", 10, "--out_dir", "afile"), "afile", "is a file")
    assert (tmp_path / "afile").read_text() == "x"


def test_bad_prompts_and_checkpoints(trained, cli, tmp_path):
    model = trained / "ckpt" / "model.pt"
    _fails_in_one_line(cli("sample", model, "--prompt", "Ix!", "--steps", 3), "'!'", "'x'")
    _fails_in_one_line(cli("sample", model, "--steps", 3), "prompt")
    _fails_in_one_line(cli("sample", model, "--prompt", "I"), "--steps")
    _fails_in_one_line(cli("sample", tmp_path / "none.pt", "--prompt", "I", "--steps", 3), "no checkpoint")
    (tmp_path / "cut.pt").write_bytes(model.read_bytes()[:2000])
    _fails_in_one_line(cli("sample", tmp_path / "cut.pt", "--prompt", "I", "--steps", 3), "truncated")
    (tmp_path / "text.pt").write_text("I love machine learning")
    _fails_in_one_line(cli("sample", tmp_path / "text.pt", "--prompt", "I", "--steps", 3), "not a readable checkpoint")


def test_a_failed_train_keeps_the_previous_checkpoint(trained, cli):
    before = (trained / "ckpt" / "model.pt").read_bytes()
    _fails_in_one_line(cli("train", "text.txt", "--n_embd", 33, "--out_dir", "ckpt", cwd=trained), "divisible")
    assert (trained / "ckpt" / "model.pt").read_bytes() == before


# ----------------------------------------------------------------------------------------------------------------
# Modular arithmetic


def test_data_writes_both_protocols(cli, tmp_path):
    done = cli("data", "--prime", 97, "--out", "data/mod97")
    assert done.returncode == 0 and done.stdout.split() == [
        f"data/mod97/{s}_mod97.txt" for s in ("train", "val", "test")
    ]
    assert len((tmp_path / "data/mod97/train_mod97.txt").read_text().splitlines()) == 7527
    done = cli("data", "--prime", 113, "--protocol", "seed", "--out", "seed113")
    assert done.returncode == 0 and len((tmp_path / "seed113/test_seed113.txt").read_text().splitlines()) == 1000


def test_arith_trains_on_files_and_sample_answers(cli, tmp_path):
    assert cli("data", "--prime", 7, "--out", "mod7").returncode == 0
    done = cli("arith", "mod7", "--prime", 7, "--n_layer", 1, "--n_embd", 16, "--max_iters", 5, "--out_dir", "ckpt")
    assert done.returncode == 0, done.stderr
    done = cli("sample", "ckpt/model.pt", "--prompt", "5+6=", "--prompt", "0-1=")
    lines = done.stdout.splitlines()  # 5 steps teach nothing: only the form of the answer is checked
    assert done.returncode == 0 and [line[:4] for line in lines] == ["5+6=", "0-1="] and all(len(x) == 5 for x in lines)
    _fails_in_one_line(cli("sample", "ckpt/model.pt", "--prompt", "7+1="), "residues 0..6")
    _fails_in_one_line(cli("sample", "ckpt/model.pt", "--prompt", "3/2="), "+ -")


def test_the_seed_command_for_division_parses_and_runs(cli):
    done = cli(
        "arith",
        "--op",
        "/",
        "--prime",
        97,
        "--n_layer",
        2,
        "--max_iters",
        3,
        "--eval_interval",
        100,
        "--batch_size",
        32,
        "--device",
        "cpu",
    )
    assert done.returncode == 0 and "saved ckpt/model.pt" in done.stdout, done.stderr


def test_bad_arithmetic_input(cli, tmp_path):
    _fails_in_one_line(cli("data", "--prime", 91, "--ops", "/", "--out", "x"), "not prime")
    _fails_in_one_line(cli("data", "--prime", 1, "--out", "x"), "from 2 to")
    _fails_in_one_line(cli("data", "--prime", 7, "--fractions", 0.5, 0.4, "--out", "x"), "sum to 1")
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad/train_bad.txt").write_text("1+2=3\n1+2=5\n")
    _fails_in_one_line(cli("arith", "bad", "--prime", 7), "train_bad.txt:2")
    _fails_in_one_line(cli("arith", "--op", "/", "--prime", 91), "not prime")


@pytest.mark.parametrize("p", [97, 113])
def test_committed_warmup_checkpoints_answer_their_test_split(cli, tmp_path, p):
    test = (ROOT / f"data/mod{p}/test_mod{p}.txt").read_text().splitlines()[:500]
    (tmp_path / "prompts.txt").write_text("".join(line.split("=")[0] + "=\n" for line in test))
    done = cli("sample", ROOT / f"checkpoints/03_warmup_p{p}.pt", "--prompts-file", "prompts.txt")
    assert done.returncode == 0
    answers = done.stdout.splitlines()
    assert len(answers) == len(test) and sum(a == t for a, t in zip(answers, test, strict=True)) >= 0.99 * len(test)


def test_committed_grokking_checkpoint_divides(cli):
    done = cli("sample", ROOT / "checkpoints/04_grokking.pt", "--prompt", "3/5=", "--prompt", "96/96=")
    assert done.returncode == 0 and done.stdout.splitlines() == ["3/5=20", "96/96=1"]
    _fails_in_one_line(cli("sample", ROOT / "checkpoints/04_grokking.pt", "--prompt", "3/0="), "division by 0")
    _fails_in_one_line(cli("sample", ROOT / "checkpoints/04_grokking.pt", "--prompt", "98/5="), "residues")
