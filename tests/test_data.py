import pytest

from grokgpt import data, textfiles
from grokgpt.data import ModularConfig, SentenceConfig


@pytest.mark.parametrize("p", [97, 113])
def test_table_identities(p):
    eqs = data.table(p, "+-/")
    assert len(eqs) == 2 * p * p + p * (p - 1)
    for a, op, b, c in eqs:
        assert 0 <= c < p
        if op == "+":
            assert (a + b - c) % p == 0
        elif op == "-":
            assert (c + b - a) % p == 0
        else:
            assert b != 0 and c * b % p == a


def test_leak_free_split_is_a_disjoint_partition_and_seeded():
    eqs = data.table(97, "+-")
    splits = data.split_leak_free(eqs, (0.4, 0.4, 0.2), seed=0)
    keys = {s: {(a, op, b) for a, op, b, _ in rows} for s, rows in splits.items()}
    assert sum(map(len, keys.values())) == len(eqs) == len(set.union(*keys.values()))
    assert not keys["train"] & keys["val"] and not keys["train"] & keys["test"] and not keys["val"] & keys["test"]
    assert [len(splits[s]) for s in ("train", "val", "test")] == [7527, 7527, 3764]
    assert data.split_leak_free(eqs, (0.4, 0.4, 0.2), seed=0) == splits
    assert data.split_leak_free(eqs, (0.4, 0.4, 0.2), seed=1) != splits


def test_seed_protocol_format_and_ranges():
    splits = data.sample_with_replacement_seed_protocol(97, n=5000, seed=0)
    assert [len(splits[s]) for s in ("train", "val", "test")] == [2000, 2000, 1000]
    for a, op, b, c in (e for rows in splits.values() for e in rows):
        assert 0 <= a <= 97 and 1 <= b <= 97 and op in "+-" and c == data.OPS[op](a, b, 97)
    assert data.sample_with_replacement_seed_protocol(97, n=5000, seed=0) == splits


def test_text_files_round_trip(tmp_path):
    splits = data.split_leak_free(data.table(7, "/"), (0.5, 0.5), seed=0)
    paths = textfiles.write_split_files(splits, tmp_path / "mod7", "mod7")
    assert [p.name for p in paths] == ["train_mod7.txt", "val_mod7.txt"]
    assert paths[0].read_text().splitlines()[0].count("=") == 1
    assert textfiles.read_split_files(tmp_path / "mod7", p=7) == splits


def test_malformed_line_is_named_with_file_and_line(tmp_path):
    (tmp_path / "train_x.txt").write_text("1+2=3\n1+2=4\n")
    with pytest.raises(ValueError, match=r"train_x.txt:2: 1\+2=4 is not true mod 7"):
        textfiles.read_split_files(tmp_path, p=7)
    (tmp_path / "train_x.txt").write_text("1+2=3\n1 plus 2\n")
    with pytest.raises(ValueError, match=r"train_x.txt:2: not an equation"):
        textfiles.read_split_files(tmp_path)


@pytest.mark.parametrize(
    "kw, message",
    [
        ({"p": 91, "ops": "/"}, "not prime"),
        ({"p": 1, "ops": "+"}, "from 2 to"),
        ({"p": data.MAX_MODULUS + 1, "ops": "+"}, f"from 2 to {data.MAX_MODULUS}"),
        ({"fractions": (0.5, 0.4)}, "sum to 1"),
        ({"ops": "*"}, "operations"),
        ({"tokens": "bytes"}, "tokens"),
    ],
)
def test_modular_config_rejects_nonsense(kw, message):
    with pytest.raises(ValueError, match=message):
        ModularConfig(**kw)


def test_number_rows_score_only_the_answer():
    ds = data.modular(ModularConfig(p=97, ops="/", fractions=(0.5, 0.5)))
    rows = ds.splits["train"]
    assert rows.x.shape == (4656, 4) and ds.block_size == 4 and ds.start == 3
    assert (rows.y[:, :3] == -1).all() and rows.answer[:, 3].all() and not rows.answer[:, :3].any()
    a, op, b, eq = rows.x[0].tolist()
    assert (op, eq) == (97, 98) and rows.y[0, 3] * b % 97 == a


def test_char_rows_score_the_answer_and_its_end_mark():
    splits = {"train": [(12, "+", 85, 0), (3, "+", 5, 8)], "val": [(96, "+", 96, 95)]}
    ds = data.arithmetic(splits, 97, tokens="char")
    tok, rows = ds.tokenizer, ds.splits["train"]
    assert tok.decode(rows.x[0].tolist()) == "12+85=0" + "\n" * (ds.block_size - 7)
    assert tok.decode(rows.y[0][rows.answer[0]].tolist()) == "0\n"
    assert tok.decode(rows.y[1][rows.answer[1]].tolist()) == "8\n"
    assert (rows.y[~rows.answer] == -1).all() and ds.start == 3
    seed_way = data.arithmetic(splits, 97, tokens="char", loss_on="all")
    assert seed_way.start == 0 and (seed_way.splits["train"].y[0] != -1).sum() == 7


def test_sentence_rows_follow_generation():
    ds = data.sentence(SentenceConfig("I love machine learning", block_size=16))
    rows = ds.splits["train"]
    assert rows.x.shape == (7, 16)
    assert rows.answer[0].all() and rows.answer[1:, -1].all() and rows.answer[1:].sum() == 6
    assert ds.tokenizer.decode(rows.x[0].tolist()) == "I love machine l"
    short = data.sentence(SentenceConfig("abc", block_size=16))
    assert short.block_size == 2 and len(short.splits["train"]) == 1


@pytest.mark.parametrize(
    "prompt, message",
    [("3/0=", "division by 0"), ("97/5=", "residues"), ("3*5=", "form"), ("3+5=", "trained on /")],
)
def test_check_prompt(prompt, message):
    with pytest.raises(ValueError, match=message):
        data.check_prompt(prompt, 97, "/")
    data.check_prompt("3/5=", 97, "/")


def test_is_prime():
    assert [n for n in range(30) if data.is_prime(n)] == [2, 3, 5, 7, 11, 13, 17, 19, 23, 29]


def test_each_operation_is_one_record_from_which_the_table_the_format_names_and_fourier_order_derive():
    from grokgpt import fourier, operations, runs

    p = 7
    for symbol, op in operations.OPERATIONS.items():
        rows = data.table(p, symbol)
        assert {b for _, _, b, _ in rows} == set(range(1 if op.nonzero_b else 0, p))  # b ≠ 0 from the record
        assert all(c == op.apply(a, b, p) for a, _, b, c in rows)
        line = data.format_equation(*rows[-1])
        assert textfiles.EQUATION.match(line) and data.check_prompt(line.split("=")[0] + "=", p, symbol) is None
        order = fourier.residue_order(p, symbol)
        assert sorted(order) == (list(range(1, p)) if op.fourier == "log" else list(range(p)))
    assert not textfiles.EQUATION.match("3*5=1") and operations.SYMBOLS == "+-/" == data.ARITH_CHARS[10:13]
    assert operations.label("/", 97) == "a / b mod 97" and operations.label("+-") == "a + b, a − b"
    names = {ops: runs.Spec(ModularConfig(p=97, ops=ops), runs.TrainConfig(1, 1, 1e-3, 0.0, 1), runs.GPTConfig(1, 1, 8)).name
             for ops in ("+", "-", "/", "+-")}  # fmt: skip
    assert [n.split("_p97")[0] for n in names.values()] == ["add", "sub", "div", "addsub"]
    with pytest.raises(ValueError, match="division needs a prime"):
        data.check_modulus(9, "+/")


def test_every_operation_needs_a_prime_modulus():
    with pytest.raises(ValueError, match="must be prime; 4 is not"):
        data.check_modulus(4, "+-")
    data.check_modulus(2, "+")  # 2 is prime: a / b alone needs p >= 3
