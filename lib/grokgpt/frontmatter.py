"""The report's hand-written text: its title, the question, the abstract (sentences written here, numbers from the
notebooks' facts), the introduction, how to reproduce it, and the references. `document` assembles the report
around them.
"""

from __future__ import annotations

from grokgpt import report

TITLE = "grokgpt: a tiny GPT that overfits, learns modular arithmetic, and groks modular division"

QUESTION = (
    "**The question.** Can a GPT small enough for a laptop CPU *grok* modular division (fit its training equations "
    "early, generalise to the unseen ones thousands of steps later), where the seed report failed? And what makes "
    "grokking happen, and how fast: weight decay, the amount of data, warmup, or a gradient filter?"
)


def abstract(facts: dict[str, dict]) -> str:
    """The abstract: hand-written sentences, one bullet each, with the headline numbers of the notebook it
    summarises; a sentence whose notebook has no numbers yet is left out."""
    f1, f2, f3, f4, f5 = (
        facts.get(k, {}) for k in ("01_overfit", "02_data", "03_warmup", "04_grokking", "05_ablations")
    )
    said = []
    numeric = lambda f, *keys: all(isinstance(f.get(k), int | float) and f[k] == f[k] for k in keys)  # noqa: E731
    f4 = f4 if numeric(f4, "median_big", "delay_big", "median_small", "delay_small") else {}
    f5 = (
        f5
        if numeric(f5, "exponent", "seed_prediction")
        else {k: v for k, v in f5.items() if k.startswith(("wd_", "critical_")) or k == "seed_size"}
    )
    if f4:
        said.append(
            f"A {f4['n_layer']}-layer GPT memorises {f4['task']} within a few hundred steps and generalises much "
            f"later: at training fraction {f4['fraction_big']:g} validation held 99% from step "
            f"{f4['median_big']:,.0f} (median of {f4['runs_big']} seeds), {f4['delay_big']:.2g}× after train reached "
            f"99%; at {f4['fraction_small']:g}, from step {f4['median_small']:,.0f}, {f4['delay_small']:.2g}× later. "
            "Its embedding ends on a few Fourier frequencies (Nanda et al. 2023)."
        )
    if f5.get("wd_held"):
        at = f" at training fraction {f5['wd_fraction']:g}" if "wd_fraction" in f5 else ""
        later = "".join(f", and at {w:g} from step {m:,.0f} (median) given {f5['wd_long_budget']:,}"
                        for w, m in f5.get("wd_slower", []))  # fmt: skip
        still = " and ".join(f"{w:g}" for w in f5.get("wd_open", []))
        opened = f", and weight decay {still} had not grokked within {f5['wd_budget']:,} steps" if still else ""
        said.append(
            f"With one layer{at}, grokking held in every run at weight decay "
            f"{' and '.join(f'{w:g}' for w in f5['wd_held'])} within {f5['wd_budget']:,} steps{later}; heavier decay "
            f"underfits{opened}."
        )
    if f5.get("seed_prediction"):
        lo, hi = f5["seed_interval"]
        said.append(
            f"The steps to grok grow as fraction^{f5['exponent']:.2g}; extrapolated to the seed report's "
            f"{f5['seed_size']} equations that is about {report.rounded(f5['seed_prediction'])} steps (95% bootstrap "
            f"{report.rounded(lo)}–{report.rounded(hi)}): too wide to answer its question."
        )
    if numeric(f5, "critical_below", "seed_size"):
        scratch = (
            f", and no run from scratch on {f5['critical_scratch_open']:,} or fewer held within "
            f"{f5['critical_scratch_steps']:,} steps"
            if numeric(f5, "critical_scratch_open", "critical_scratch_steps")
            else ""
        )
        said.append(
            f"Ungrokking points to the answer: a grokked network trained on {f5['critical_below']:,} or fewer of "
            f"its own equations loses its general solution (validation ends at {f5['critical_val']}){scratch}: by "
            f"Varma et al. (2023), the seed report's run on {f5['seed_size']} equations needed more equations, not "
            "more steps."
        )
    if f2 and f3:
        said.append(
            f"The seed report's sampling puts {f2['leak']} of its held-out rows in train; on a leak-free split "
            f"a ± b mod p reaches 99% test accuracy in {f3['good']} of {f3['runs']} runs (the seed report: {f3['theirs']})."
        )
    if f1.get("recited"):
        said.append('A 1-layer GPT recites "I love machine learning" from "I".')
    bullets = "\n".join(f"- {sentence}" for sentence in said)
    return "**Abstract.**\n\n" + (bullets or "No runs yet: `make runs` computes them.")


INTRODUCTION = """# Introduction

This report redoes, and completes, a course report on a tiny GPT: **the seed report**
(`seed/000_3330def70f78d4a1.txt`), which overfitted one sentence, learned modular addition and subtraction, and
tried, without success, to make a 2-layer GPT grok modular division. Where this text says "seed" alone it means a
*random seed* (the integer that fixes a run's data shuffle, initialisation and batch order); "the seed report" is
always the course report. Every experiment of the seed report has a section here, and every number is computed
from runs stored in `data/runs/`.

Terms used throughout:

- **The paper preset**: the setting in which grokking was reported (Power et al. 2022; Nanda et al. 2023): 2
  layers, 4 heads, width 128, AdamW at learning rate 10⁻³ with weight decay 1 and betas (0.9, 0.98), batch 512,
  10 warmup steps. The model follows Karpathy's nanoGPT.
- **Reached**: the first evaluation at ≥ 99% accuracy on a split. **Held**: the first evaluation from which
  accuracy stays ≥ 99% to the end of the run, with the run going on for at least `stop_after` steps after it.
- **Delay**: the held validation step ÷ the step at which train accuracy reached 99%.
- **Censored**: a run that ended without validation holding; it stays in every count as "> its last step".
- **Kaplan–Meier median**: the median over runs that counts a censored run as "not yet" up to its last step; there
  is none when more than half of the runs are censored.
- **Outcome** of a setting: held (every run), some, underfit (train never reached 99%), rising (validation still
  climbing at the end), did not grok (a finding, under the rule of Section 5) or beyond its budget.

Grokking was found by Power et al. (2022); Nanda et al. (2023) explained the mechanism with Fourier features and
progress measures; Liu et al. (2022) tied it to weight decay and the weight norm; Thilak et al. (2022) described
the late "slingshot" spikes of Adam; Lee et al. (2024) proposed the Grokfast filter; Varma et al. (2023) explained
it by a critical training-set size; Prieto et al. (2025) tied late failures to floating-point precision."""

REFERENCES = """# References

- Power, A., Burda, Y., Edwards, H., Babuschkin, I., Misra, V. (2022). *Grokking: generalization beyond overfitting
  on small algorithmic datasets.* arXiv:2201.02177.
- Nanda, N., Chan, L., Lieberum, T., Smith, J., Steinhardt, J. (2023). *Progress measures for grokking via
  mechanistic interpretability.* ICLR 2023, arXiv:2301.05217.
- Liu, Z., Michaud, E. J., Tegmark, M. (2022). *Omnigrok: grokking beyond algorithmic data.* arXiv:2210.01117.
- Lee, J., Kang, B. G., Kim, K., Lee, K. M. (2024). *Grokfast: accelerated grokking by amplifying slow
  gradients.* arXiv:2405.20233.
- Varma, V., Shah, R., Kenton, Z., Kramár, J., Kumar, R. (2023). *Explaining grokking through circuit
  efficiency.* arXiv:2309.02390.
- Thilak, V., Littwin, E., Zhai, S., Saremi, O., Paiss, R., Susskind, J. (2022). *The slingshot mechanism: an
  empirical study of adaptive optimizers and the grokking phenomenon.* arXiv:2206.04817.
- Prieto, L., Barsbey, M., Mediano, P., Birdal, T. (2025). *Grokking at the edge of numerical stability.*
  arXiv:2501.04697.
- Karpathy, A. *nanoGPT.* https://github.com/karpathy/nanoGPT."""


REPRODUCE = """# Reproducing this report

```bash
make report        # a fresh clone: install, run the five notebooks on the committed runs, export this report
make runs          # compute every run of the registry that data/runs/ lacks (FORCE=1: all of them again)
make verify N=3    # retrain 3 random committed runs and compare their metrics with the committed ones, exactly
make test          # the library, the CLI, and every notebook with tiny parameters
```

Every setting lives in `lib/grokgpt/experiments.py`; each run's `config.json` records it with the torch version,
thread count and device the run used, and `make verify` retrains with that thread count (a run's trajectory
depends on it). The README gives the measured times of each command on a 2-core CPU."""
