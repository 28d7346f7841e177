"""Neural language models in numpy: MLP (Bengio 2003), RNN, LSTM, Transformer.

Layers live one family per module (each with forward and analytic backward);
every model is a :class:`~nextword.model.DistributionModel` (``language_model``:
scoring in one forward pass, generation through the one loop and sampler of
every model), with one training loop (``training``), one checkpoint format
(``checkpoint``) and ``nextword train --model ...`` (``cli``).

>>> from nextword.neural import TrainingConfig, TransformerLanguageModel
>>> lm = TransformerLanguageModel.fit(["to be or not to be"] * 10, dim=16, heads=2, layers=1,
...     block_size=8, training=TrainingConfig(steps=3, batch_size=2), progress=False)
>>> len(lm.predict(["to"], k=3))
3
"""

from nextword.neural.language_model import NeuralLanguageModel
from nextword.neural.mlp import MLPLanguageModel
from nextword.neural.recurrent import LSTMLanguageModel, RNNLanguageModel
from nextword.neural.training import TrainingConfig, TrainingHistory, train
from nextword.neural.transformer import TransformerLanguageModel

__all__ = [
    "LSTMLanguageModel",
    "MLPLanguageModel",
    "NeuralLanguageModel",
    "RNNLanguageModel",
    "TrainingConfig",
    "TrainingHistory",
    "TransformerLanguageModel",
    "train",
]
