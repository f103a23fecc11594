"""grokgpt: a tiny GPT that overfits a sentence, learns modular arithmetic and groks modular division."""

from grokgpt.data import ModularConfig, SentenceConfig
from grokgpt.model import GPT, GPTConfig
from grokgpt.train import TrainConfig

__all__ = ["GPT", "GPTConfig", "ModularConfig", "SentenceConfig", "TrainConfig"]
